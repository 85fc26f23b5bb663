"""What a program's version check sees: zmq's name, then whether
``zmq.__version__`` is the pyzmq version (the one circusd compares)."""

import zmq

print(zmq.__name__, zmq.__version__ == zmq.pyzmq_version(), zmq.pyzmq_version_info() >= (13, 1))
