"""The opt-in switch: make ``import zmq`` (and ``zmq.<anything>``) give mqcore.

``mqcore.install()`` puts a finder first on ``sys.meta_path`` that answers
every import of ``zmq`` or ``zmq.X`` with the module ``mqcore`` or
``mqcore.X`` -- the same module objects, so ``zmq.Context is
mqcore.Context`` and a library that does ``import zmq`` runs on mqcore
unedited.  A ``zmq.X`` that mqcore lacks fails with ModuleNotFoundError
rather than falling through to pyzmq: mixing the two would pass mqcore
sockets to pyzmq code.

``install(children=True)`` also puts a shim directory (``mqcore/_shim``,
whose ``zmq`` package calls ``install`` again) on PYTHONPATH, so child
Python processes inherit the switch; ``python -m mqcore run`` does that.
A child started with ``-E`` or ``-I`` ignores PYTHONPATH and so uses pyzmq.

While the switch is on, ``zmq.__version__`` (that is, ``mqcore.__version__``)
is the pyzmq version whose API mqcore provides: programs that ``import zmq``
compare it with the pyzmq release they need (circusd refuses to start on
mqcore's own ``0.1.0``).  mqcore's own version stays in
``mqcore._version.__version__`` and the package metadata, and ``uninstall``
puts it back.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType

_ALIAS = "zmq"
_TARGET = "mqcore"


def _target_name(fullname: str) -> str | None:
    """``mqcore[.X]`` for ``zmq[.X]``; None for any other name."""
    if fullname == _ALIAS:
        return _TARGET
    if fullname.startswith(_ALIAS + "."):
        return _TARGET + fullname[len(_ALIAS):]
    return None


class _AliasLoader(importlib.abc.Loader):
    """Loads ``zmq.X`` by importing ``mqcore.X`` and handing that module out."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        # The import system keeps existing __name__/__spec__ on the returned
        # module, so mqcore's modules are shared, not copied or renamed.
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: ``create_module`` returned a loaded module."""


class ZmqAliasFinder(importlib.abc.MetaPathFinder):
    """Answers imports of ``zmq`` and ``zmq.*`` with mqcore's modules."""

    def find_spec(self, fullname: str, path=None, target=None):
        target_name = _target_name(fullname)
        if target_name is None:
            return None
        if importlib.util.find_spec(target_name) is None:
            raise ModuleNotFoundError(
                f"No module named {fullname!r} (mqcore has no {target_name!r})",
                name=fullname,
            )
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(target_name))


def _foreign_zmq_loaded() -> list[str]:
    """Names of already-imported zmq modules that are not mqcore's."""
    return [
        name
        for name, module in list(sys.modules.items())
        if _target_name(name) is not None
        and module is not None
        and not getattr(module, "__name__", "").startswith(_TARGET)
    ]


def shim_dir() -> str:
    """The directory whose ``zmq`` package turns the switch on in a child."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "_shim")


def _prepend_pythonpath(*dirs: str) -> None:
    """Put ``dirs`` first on PYTHONPATH (for child processes), once each."""
    current = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join(
        list(dirs) + [p for p in current if p not in dirs]
    )


def install(children: bool = False) -> None:
    """Make later ``import zmq`` / ``import zmq.X`` give mqcore's modules.

    With ``children=True`` child Python processes get the switch too (via
    PYTHONPATH).  Raises RuntimeError if pyzmq was imported before: its
    objects would already be in use.  Calling it again does nothing more.
    """
    foreign = _foreign_zmq_loaded()
    if foreign:
        raise RuntimeError(
            "mqcore.install() must run before pyzmq is imported; already loaded: "
            + ", ".join(sorted(foreign))
        )
    if not any(isinstance(finder, ZmqAliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, ZmqAliasFinder())
    _report_pyzmq_version()
    if children:
        # The directory holding mqcore too: the child may not find it otherwise
        # (e.g. mqcore found through the parent's script directory).
        package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        _prepend_pythonpath(shim_dir(), package_parent)


def _report_pyzmq_version() -> None:
    """``zmq.__version__`` as pyzmq's, for the programs the switch serves."""
    package = importlib.import_module(_TARGET)
    package.__version__ = package.pyzmq_version()


def _restore_own_version() -> None:
    """``mqcore.__version__`` back to mqcore's own release."""
    from mqcore import _version

    importlib.import_module(_TARGET).__version__ = _version.__version__


def uninstall() -> None:
    """Turn the switch off for later imports (already imported names stay)."""
    _restore_own_version()
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, ZmqAliasFinder)]
    for name in [n for n in sys.modules if _target_name(n) is not None]:
        del sys.modules[name]
    shim = shim_dir()
    parts = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if shim in parts:
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in parts if p != shim)
