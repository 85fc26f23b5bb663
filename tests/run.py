"""Runs the test suite against the installed mqcore, on every Python the
package supports:

    pip install ".[test]" && python tests/run.py [pytest arguments]

Running this file (rather than ``python -m pytest``) is what keeps the
checkout's ``mqcore/``, which has no compiled core, off ``sys.path``:
Python puts the script's directory, ``tests/``, first on ``sys.path``, where
``-m`` would put the current directory. ``python -P -m pytest`` does the
same, but ``-P`` exists only from Python 3.11. Without arguments pytest runs
the ``testpaths`` of pyproject.toml (``tests``) from the checkout root.
"""

import importlib.util
import sys


def main() -> int:
    import pytest

    spec = importlib.util.find_spec("mqcore")
    where = spec.origin if spec is not None else "not installed"
    print(f"tests/run.py: mqcore under test: {where}", flush=True)
    return pytest.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
