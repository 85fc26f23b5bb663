"""Watch the log records a PUBHandler publishes: ``python -m mqcore.log URL``.

Prints each record as ``topic | message``.  ``--topic`` subscribes to a
prefix (match a PUBHandler's root_topic), ``--timestamp`` adds local time,
``--align`` pads the topic parts into columns, ``--color`` colours by level
(needs colorama).  Runs until interrupted.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Sequence

import mqcore


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser("ZMQ Log Watcher")
    parser.add_argument("zmq_pub_url", type=str, help="URL to a ZMQ publisher socket.")
    parser.add_argument("-t", "--topic", type=str, default="",
                        help="Only receive messages that start with this topic.")
    parser.add_argument("--timestamp", action="store_true",
                        help="Append local time to the log messages.")
    parser.add_argument("--separator", type=str, default=" | ",
                        help="String to print between topic and message.")
    parser.add_argument("--dateformat", type=str, default="%Y-%d-%m %H:%M",
                        help="Set alternative date format for use with --timestamp.")
    parser.add_argument("--align", action="store_true", default=False,
                        help="Try to align messages by the width of their topics.")
    parser.add_argument("--color", action="store_true", default=False,
                        help="Color the output based on the error level. Requires colorama.")
    return parser


def _colors(enabled: bool) -> dict[str, str]:
    if not enabled:
        return {}
    import colorama

    colorama.init()
    fore = colorama.Fore
    return {
        "DEBUG": fore.LIGHTCYAN_EX,
        "INFO": fore.LIGHTWHITE_EX,
        "WARNING": fore.YELLOW,
        "ERROR": fore.LIGHTRED_EX,
        "CRITICAL": fore.LIGHTRED_EX,
        "__RESET__": fore.RESET,
    }


class _Aligner:
    """Pads each dotted topic part to the widest seen so far at its position."""

    def __init__(self) -> None:
        self.widths: list[int] = []

    def __call__(self, parts: list[str]) -> str:
        parts = parts + [" "] * (len(self.widths) - len(parts))
        for index, part in enumerate(parts):
            if index == len(self.widths):
                self.widths.append(0)
            self.widths[index] = max(self.widths[index], len(part))
        return ".".join(part.ljust(self.widths[i]) for i, part in enumerate(parts))


def _line(topic: bytes, msg: bytes, args: argparse.Namespace, colors: dict, align: _Aligner | None) -> str:
    text_topic = topic.decode("utf8").strip()
    parts = text_topic.split(".")
    # With a root topic the level is the second part, else the first.
    level = parts[0] if len(parts) == 1 else parts[1]
    shown = align(parts) if align else text_topic
    stamp = datetime.now().strftime(args.dateformat) + " " if args.timestamp else ""
    return (f"{stamp}{colors.get(level, '')}{shown}{args.separator}"
            f"{msg.decode('utf8').strip()}{colors.get('__RESET__', '')}")


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    colors = _colors(args.color)
    align = _Aligner() if args.align else None
    ctx = mqcore.Context()
    sub = ctx.socket(mqcore.SUB)
    sub.subscribe(args.topic.encode("utf8"))
    sub.connect(args.zmq_pub_url)
    try:
        while True:
            # Poll in slices so that Ctrl-C is noticed promptly.
            if sub.poll(10, mqcore.POLLIN):
                topic, msg = sub.recv_multipart()
                print(_line(topic, msg, args, colors, align), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        sub.close(linger=0)
        ctx.term()
        if args.color:
            print(colors["__RESET__"])


if __name__ == "__main__":
    main()
