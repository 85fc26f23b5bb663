"""Logging over a PUB socket, as pyzmq's ``zmq.log.handlers``.

``PUBHandler`` sends each record as a two-frame message ``[topic, text]``.
The topic is ``root_topic.LEVEL[.subtopic]``: a SUB socket chooses what it
hears by subscribing to a prefix (``b"app.ERROR"``).  A message logged as
``"sub.topic::text"`` carries ``sub.topic`` as subtopic and ``text`` as body.

    handler = PUBHandler("tcp://127.0.0.1:12345")
    handler.root_topic = "app"
    logging.getLogger().addHandler(handler)
"""

from __future__ import annotations

import logging
from copy import copy
from typing import Any, Final

from mqcore.constants import SocketType
from mqcore.context import Context
from mqcore.socket import Socket

# Separates a subtopic from the message text in a logged string.
TOPIC_DELIM: Final = "::"

_DETAILED = "%(levelname)s %(filename)s:%(lineno)d - %(message)s\n"


def _default_formatters() -> dict[int, logging.Formatter | None]:
    """pyzmq's per-level formats: INFO is bare, the others say where."""
    return {
        logging.DEBUG: logging.Formatter(_DETAILED),
        logging.INFO: logging.Formatter("%(message)s\n"),
        logging.WARNING: logging.Formatter(_DETAILED),
        logging.ERROR: logging.Formatter(
            "%(levelname)s %(filename)s:%(lineno)d - %(message)s - %(exc_info)s\n"
        ),
        logging.CRITICAL: logging.Formatter(_DETAILED),
    }


class PUBHandler(logging.Handler):
    """A logging handler that publishes records on a PUB socket.

    ``interface_or_socket`` is a PUB socket (used as is) or an address, for
    which a PUB socket is made on ``context`` (a new Context by default)
    and bound.
    """

    def __init__(
        self,
        interface_or_socket: str | Socket,
        context: Context | None = None,
        root_topic: str = "",
    ) -> None:
        logging.Handler.__init__(self)
        self.root_topic = root_topic
        self.formatters = _default_formatters()
        if isinstance(interface_or_socket, Socket):
            self.socket = interface_or_socket
            self.ctx = self.socket.context
        else:
            self.ctx = context or Context()
            self.socket = self.ctx.socket(SocketType.PUB)
            self.socket.bind(interface_or_socket)

    @property
    def root_topic(self) -> str:
        """The first part of every topic ("" for none)."""
        return self._root_topic

    @root_topic.setter
    def root_topic(self, value: str) -> None:
        self.setRootTopic(value)

    def setRootTopic(self, root_topic: str | bytes) -> None:
        """Set the topic prefix; bytes are decoded as UTF-8."""
        if isinstance(root_topic, bytes):
            root_topic = root_topic.decode("utf8")
        self._root_topic = root_topic

    def setFormatter(self, fmt: logging.Formatter | None, level: int = logging.NOTSET) -> None:
        """Use ``fmt`` for ``level``, or for every level if none is given."""
        levels = list(self.formatters) if level == logging.NOTSET else [level]
        for each in levels:
            self.formatters[each] = fmt

    def format(self, record: logging.LogRecord) -> str:
        """Format ``record`` with its level's formatter."""
        formatter = self.formatters.get(record.levelno) or logging.Formatter()
        return formatter.format(record)

    def _topic(self, record: logging.LogRecord, subtopic: str) -> bytes:
        parts = [self.root_topic] if self.root_topic else []
        parts.append(record.levelname)
        if subtopic:
            parts.append(subtopic)
        return ".".join(parts).encode("utf8", "replace")

    def emit(self, record: logging.LogRecord) -> None:
        """Publish ``[topic, formatted text]``."""
        subtopic = ""
        if TOPIC_DELIM in str(record.msg):
            # Split at the first delimiter, as pyzmq does; copy the record so
            # that other handlers still see the original.
            subtopic, text = str(record.msg).split(TOPIC_DELIM, 1)
            record = copy(record)
            record.msg = text
        try:
            body = self.format(record).encode("utf8")
        except Exception:
            self.handleError(record)
            return
        self.socket.send_multipart([self._topic(record, subtopic), body])


class TopicLogger(logging.Logger):
    """A Logger whose methods take a topic before the message.

    ``logger.info("db.query", "took %d ms", 12)`` logs
    ``"db.query::took 12 ms"``, which a PUBHandler publishes under the
    subtopic ``db.query``.
    """

    def log(self, level: int, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:
        """Log ``msg % args`` at ``level`` under ``topic``."""
        logging.Logger.log(self, level, f"{topic}{TOPIC_DELIM}{msg}", *args, **kwargs)


def _with_topic(method_name: str) -> Any:
    """A TopicLogger method: the Logger one, with the topic joined in front."""
    method = getattr(logging.Logger, method_name)

    def logged(self: TopicLogger, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:
        method(self, f"{topic}{TOPIC_DELIM}{msg}", *args, **kwargs)

    logged.__name__ = method_name
    return logged


for _name in ("debug", "info", "warn", "warning", "error", "exception", "critical", "fatal"):
    if hasattr(logging.Logger, _name):
        setattr(TopicLogger, _name, _with_topic(_name))
del _name

__all__ = ["PUBHandler", "TopicLogger", "TOPIC_DELIM"]
