"""jupyter_client drives an ipykernel kernel: execute, interrupt, shut down.

Prints one line: this process's zmq, the kernel's zmq (the kernel reports
``sys.modules['zmq'].__name__`` itself: under the switch it is a child
process that must get mqcore too), the execution's status, stdout and
execute_result, the interrupted cell's error name, the shutdown reply's
status and whether the kernel is still alive afterwards.
"""

import time

import zmq
from jupyter_client.manager import start_new_kernel

TIMEOUT_S = 20
CHECK = "import sys; print('kernel-zmq', sys.modules['zmq'].__name__); 6 * 7"
SLEEPER = "import time\nprint('sleeping', flush=True)\ntime.sleep(60)"


def shell_reply(kc, msg_id):
    """The shell reply to msg_id."""
    while True:
        reply = kc.get_shell_msg(timeout=TIMEOUT_S)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"]


def iopub_until_idle(kc, msg_id, stop_on_stream=False):
    """Stdout text and execute_result values that msg_id produced on iopub,
    up to the kernel going idle (or to the first stdout, if asked)."""
    out, results = [], []
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT_S)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream" and content["name"] == "stdout":
            out.append(content["text"])
            if stop_on_stream:
                break
        elif kind == "execute_result":
            results.append(content["data"]["text/plain"])
        elif kind == "status" and content["execution_state"] == "idle":
            break
    return "".join(out), results


def wait_dead(km):
    deadline = time.monotonic() + TIMEOUT_S
    while km.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    return km.is_alive()


def main():
    km, kc = start_new_kernel(kernel_name="python3", startup_timeout=TIMEOUT_S)
    try:
        msg_id = kc.execute(CHECK)
        status = shell_reply(kc, msg_id)["status"]
        out, results = iopub_until_idle(kc, msg_id)
        kernel_zmq = out.split()[1]

        # Interrupt a running cell, once it has surely started.
        msg_id = kc.execute(SLEEPER)
        iopub_until_idle(kc, msg_id, stop_on_stream=True)
        km.interrupt_kernel()
        interrupted = shell_reply(kc, msg_id).get("ename")

        # A clean shutdown: the kernel answers and exits by itself.
        kc.shutdown()
        shutdown = kc.control_channel.get_msg(timeout=TIMEOUT_S)["content"]["status"]
        alive = wait_dead(km)
    finally:
        kc.stop_channels()
        if km.is_alive():
            km.shutdown_kernel(now=True)
    print(zmq.__name__, kernel_zmq, status, out.split()[0], results[0], interrupted,
          shutdown, alive)


if __name__ == "__main__":
    main()
