"""``zmq.log``: logging over PUB/SUB (``handlers``) and a watcher
(``python -m mqcore.log``)."""
