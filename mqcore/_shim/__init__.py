"""A directory put on PYTHONPATH by ``mqcore.install(children=True)``.

It holds a ``zmq`` package whose import switches the importing process to
mqcore, so that child processes (subprocess, multiprocessing's spawn) of a
program run with ``python -m mqcore run`` use mqcore too, with no ``.pth``
file or site change.  Nothing imports this package itself.
"""
