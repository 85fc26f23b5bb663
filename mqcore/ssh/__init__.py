"""``zmq.ssh``: connect sockets through ssh tunnels (see ``tunnel``)."""

from mqcore.ssh.tunnel import *  # noqa: F403
