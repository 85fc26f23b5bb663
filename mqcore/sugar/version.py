"""``zmq.sugar.version``: version numbers, as mqcore reports them."""

from mqcore import pyzmq_version, pyzmq_version_info, zmq_version, zmq_version_info
from mqcore._version import __version__

# pyzmq sets this to the git revision of development builds; releases have "".
__revision__: str = ""

__all__ = [
    "zmq_version",
    "zmq_version_info",
    "pyzmq_version",
    "pyzmq_version_info",
    "__version__",
    "__revision__",
]
