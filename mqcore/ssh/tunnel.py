"""Connect sockets through ssh tunnels, as pyzmq's ``zmq.ssh.tunnel``.

``tunnel_connection(sock, "tcp://10.0.0.5:5555", "user@gateway")`` opens a
tunnel from a free local port through ``gateway`` to 10.0.0.5:5555 (as the
gateway sees it) and connects ``sock`` to the local end.

Two ways to make the tunnel:

- OpenSSH (the default except on Windows): the ``ssh`` command, driven by
  pexpect so that a password can be typed or given.  An existing control
  master for the server is reused (``ssh -O forward``).
- paramiko (``paramiko=True``; the default on Windows): a child process
  that forwards the port with paramiko.  paramiko is optional: without it
  the paramiko functions raise ImportError saying so.

Errors are explicit: a tunnel whose ssh exits with an error raises
RuntimeError with ssh's output; an unknown host key raises SSHException.
"""

from __future__ import annotations

import atexit
import os
import re
import socket
import sys
import warnings
from getpass import getpass, getuser
from multiprocessing import Process
from typing import Any

try:
    with warnings.catch_warnings():
        # paramiko's crypto backends warn about deprecations on import.
        warnings.simplefilter("ignore", DeprecationWarning)
        import paramiko
except ImportError:
    paramiko = None

    class SSHException(Exception):
        """An ssh-level failure (paramiko's class when paramiko is installed)."""

else:
    SSHException = paramiko.ssh_exception.SSHException

try:
    import pexpect
except ImportError:
    pexpect = None


class MaxRetryExceeded(Exception):
    """ssh kept prompting (or saying nothing) for too long."""


# How many short waits for ssh's first prompt or exit before giving up.
_MAX_RETRY = 10
_PROMPT_WAIT_S = 0.1
_PASSWORD_PROMPT = re.compile(rb"pass(word|phrase)", re.IGNORECASE)
_NEW_HOST_KEY = "Are you sure you want to continue connecting"


def select_random_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports that were free a moment ago.

    All ``n`` sockets are held open together so the ports differ, then
    closed: another program may take one before it is used.
    """
    sockets = []
    try:
        for _ in range(n):
            sock = socket.socket()
            sockets.append(sock)
            sock.bind(("", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _split_server(server: str) -> tuple[str, str, int]:
    """``user@host:port`` as (user, host, port), with the defaults filled in."""
    username, _, hostport = server.rpartition("@")
    host, _, port = hostport.partition(":")
    return username or getuser(), host, int(port) if port else 22


def _ssh_env() -> dict[str, str]:
    # Without SSH_ASKPASS, ssh prompts on the pty pexpect gives it.
    env = os.environ.copy()
    env.pop("SSH_ASKPASS", None)
    return env


def _default_paramiko(use_paramiko: bool | None) -> bool:
    return sys.platform == "win32" if use_paramiko is None else use_paramiko


def try_passwordless_ssh(server: str, keyfile: str | None, paramiko: bool | None = None) -> bool:
    """True if ssh to ``server`` works without a password (keys or agent)."""
    if _default_paramiko(paramiko):
        return _try_passwordless_paramiko(server, keyfile)
    return _try_passwordless_openssh(server, keyfile)


def _require_pexpect() -> None:
    if pexpect is None:
        raise ImportError("pexpect unavailable, use paramiko")


def _first_prompt(child: Any) -> str:
    """Wait for ssh to exit or prompt; "eof" or "password".

    Raises SSHException for an unknown host key (never accepted silently)
    and MaxRetryExceeded if ssh does neither in time.
    """
    for _ in range(_MAX_RETRY):
        try:
            index = child.expect([_NEW_HOST_KEY, _PASSWORD_PROMPT], timeout=_PROMPT_WAIT_S)
        except pexpect.TIMEOUT:
            continue
        except pexpect.EOF:
            return "eof"
        if index == 0:
            raise SSHException("The authenticity of the host can't be established.")
        return "password"
    raise MaxRetryExceeded(f"Failed after {_MAX_RETRY} attempts")


def _try_passwordless_openssh(server: str, keyfile: str | None) -> bool:
    _require_pexpect()
    cmd = f"ssh -f {server}" + (f" -i {keyfile}" if keyfile else "") + " exit"
    child = pexpect.spawn(cmd, env=_ssh_env())
    return _first_prompt(child) == "eof"


def _require_paramiko() -> None:
    if paramiko is None:
        where = (
            "Paramiko is required for ssh tunneled connections on Windows."
            if sys.platform == "win32"
            else "use OpenSSH."
        )
        raise ImportError(f"Paramiko unavailable, {where}")


def _paramiko_client() -> Any:
    client = paramiko.SSHClient()
    try:
        client.load_host_keys(os.path.expanduser("~/.ssh/known_hosts"))
    except FileNotFoundError:
        pass
    # pyzmq's switch for accepting unknown hosts (e.g. "AutoAdd", "Warning").
    policy_name = os.environ.get("PYZMQ_PARAMIKO_HOST_KEY_POLICY")
    if policy_name:
        client.set_missing_host_key_policy(getattr(paramiko, f"{policy_name}Policy")())
    return client


def _try_passwordless_paramiko(server: str, keyfile: str | None) -> bool:
    _require_paramiko()
    username, host, port = _split_server(server)
    client = _paramiko_client()
    try:
        client.connect(host, port, username=username, key_filename=keyfile, look_for_keys=True)
    except paramiko.AuthenticationException:
        return False
    client.close()
    return True


def tunnel_connection(
    socket: Any,
    addr: str,
    server: str,
    keyfile: str | None = None,
    password: str | None = None,
    paramiko: bool | None = None,
    timeout: int = 60,
) -> Any:
    """Connect ``socket`` to ``addr`` through an ssh tunnel via ``server``.

    Returns the tunnel: the ssh pid (OpenSSH) or the forwarding Process
    (paramiko).
    """
    new_url, tunnel = open_tunnel(
        addr, server, keyfile=keyfile, password=password, paramiko=paramiko, timeout=timeout
    )
    socket.connect(new_url)
    return tunnel


def open_tunnel(
    addr: str,
    server: str,
    keyfile: str | None = None,
    password: str | None = None,
    paramiko: bool | None = None,
    timeout: int = 60,
) -> tuple[str, Any]:
    """Open a tunnel to the tcp ``addr`` via ``server``; (local url, tunnel)."""
    local_port = select_random_ports(1)[0]
    _transport, _, hostport = addr.partition("://")
    remote_ip, _, remote_port = hostport.rpartition(":")
    make = paramiko_tunnel if _default_paramiko(paramiko) else openssh_tunnel
    tunnel = make(
        local_port,
        int(remote_port),
        server,
        remoteip=remote_ip,
        keyfile=keyfile,
        password=password,
        timeout=timeout,
    )
    return f"tcp://127.0.0.1:{local_port}", tunnel


def _ssh_base(server: str, keyfile: str | None) -> tuple[str, str]:
    """The ``ssh`` command prefix (key, port) and the bare server name."""
    cmd = "ssh " + (f"-i {keyfile}" if keyfile else "")
    if ":" in server:
        server, port = server.split(":")
        cmd += f" -p {port}"
    return cmd, server


def _forward_via_master(ssh: str, server: str, forward: str) -> int | None:
    """Add the forward to a running control master; its pid, or None."""
    output, status = pexpect.run(f"{ssh} -O check {server}", withexitstatus=True)
    if status:
        return None
    pid = int(output[output.find(b"(pid=") + 5 : output.find(b")")])
    cmd = f"{ssh} -O forward {forward} {server}"
    _output, status = pexpect.run(cmd, withexitstatus=True)
    if status:
        return None
    atexit.register(pexpect.run, cmd.replace("-O forward", "-O cancel", 1))
    return pid


def openssh_tunnel(
    lport: int,
    rport: int,
    server: str,
    remoteip: str = "127.0.0.1",
    keyfile: str | None = None,
    password: str | None = None,
    timeout: int = 60,
) -> int:
    """Forward 127.0.0.1:lport to remoteip:rport (as ``server`` sees it) with ssh.

    The ssh process stays for ``timeout`` seconds waiting for a first
    connection, then for as long as the tunnel is used.  Returns its pid.
    A password is asked for (or ``password`` sent) if ssh prompts.
    """
    _require_pexpect()
    ssh, server = _ssh_base(server, keyfile)
    forward = f"-L 127.0.0.1:{lport}:{remoteip}:{rport}"
    pid = _forward_via_master(ssh, server, forward)
    if pid is not None:
        return pid
    cmd = f"{ssh} -f -S none {forward} {server} sleep {timeout}"
    child = pexpect.spawn(cmd, env=_ssh_env())
    rejected = False
    for _ in range(_MAX_RETRY):
        if _first_prompt(child) == "eof":
            child.close()
            if child.exitstatus:
                said = (child.before or b"").decode("utf8", "replace").strip()
                raise RuntimeError(f"tunnel '{cmd}' failed to start: {said}")
            return child.pid
        if rejected:
            print("Password rejected, try again")
            password = None
        if password is None:
            password = getpass(f"{server}'s password: ")
        child.sendline(password)
        rejected = True
    raise MaxRetryExceeded(f"Failed after {_MAX_RETRY} attempts")


def paramiko_tunnel(
    lport: int,
    rport: int,
    server: str,
    remoteip: str = "127.0.0.1",
    keyfile: str | None = None,
    password: str | None = None,
    timeout: int = 60,
) -> Process:
    """Forward 127.0.0.1:lport to remoteip:rport via ``server`` with paramiko.

    Runs the forwarding in a daemon child process, which is returned.
    ``timeout`` is accepted for symmetry with openssh_tunnel.
    """
    _require_paramiko()
    if password is None and not _try_passwordless_paramiko(server, keyfile):
        password = getpass(f"{server}'s password: ")
    process = Process(
        target=_paramiko_tunnel,
        args=(lport, rport, server, remoteip),
        kwargs={"keyfile": keyfile, "password": password},
        daemon=True,
    )
    process.start()
    return process


def _paramiko_tunnel(
    lport: int,
    rport: int,
    server: str,
    remoteip: str,
    keyfile: str | None = None,
    password: str | None = None,
) -> None:
    """The paramiko tunnel's child process: connect, then forward forever."""
    from mqcore.ssh.forward import forward_tunnel

    username, host, port = _split_server(server)
    client = paramiko.SSHClient()
    client.load_system_host_keys()
    client.set_missing_host_key_policy(paramiko.WarningPolicy())
    try:
        client.connect(host, port, username=username, key_filename=keyfile,
                       look_for_keys=True, password=password)
    except Exception as exc:
        print(f"*** Failed to connect to {host}:{port}: {exc!r}")
        sys.exit(1)
    try:
        forward_tunnel(lport, remoteip, rport, client.get_transport())
    except KeyboardInterrupt:
        print("SIGINT: Port forwarding stopped cleanly")
        sys.exit(0)
    except Exception as exc:
        print(f"Port forwarding stopped uncleanly: {exc}")
        sys.exit(255)


# pyzmq's name for the platform's default tunnel function.
ssh_tunnel = paramiko_tunnel if sys.platform == "win32" else openssh_tunnel

__all__ = [
    "tunnel_connection",
    "ssh_tunnel",
    "openssh_tunnel",
    "paramiko_tunnel",
    "try_passwordless_ssh",
]
