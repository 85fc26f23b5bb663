"""Compatibility tests: pyzmq's wider API (module paths, tornado, gevent, ...)."""
