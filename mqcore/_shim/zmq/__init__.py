"""Stand-in ``zmq`` for processes started under ``python -m mqcore run``.

Importing it turns mqcore's switch on and hands back mqcore as ``zmq``: the
import system returns whatever ``sys.modules["zmq"]`` holds once this
module has run.
"""

import sys

import mqcore

# Replace this module first, so install() does not take it for pyzmq.
sys.modules[__name__] = mqcore
mqcore.install(children=True)
