"""Every module path pyzmq programs import exists in the implementation
under test, with pyzmq's public names (and the public attributes of its
public classes), except the documented exclusions below."""

from __future__ import annotations

import importlib
import inspect

import pytest

from ._modhelpers import run_python, submodule

# pyzmq modules whose names programs use (relative to the package).
MODULES = [
    "",
    "backend",
    "sugar",
    "sugar.context",
    "sugar.socket",
    "sugar.frame",
    "sugar.poll",
    "sugar.tracker",
    "sugar.version",
    "sugar.attrsettr",
    "sugar.stopwatch",
    "devices",
    "devices.basedevice",
    "devices.monitoredqueue",
    "devices.monitoredqueuedevice",
    "devices.proxydevice",
    "devices.proxysteerabledevice",
    "utils.strtypes",
    "utils.garbage",
    "utils.interop",
    "utils.win32",
    "utils.jsonapi",
    "utils.z85",
    "utils.monitor",
    "log.handlers",
    "decorators",
    "ssh",
    "ssh.tunnel",
    "ssh.forward",
]

# Names that only make sense for pyzmq's binding to libzmq's C library, or
# that pyzmq exports by accident.  Keyed by module ("" is the top level).
EXCLUDED = {
    # Compiler flags for Cython extensions that link libzmq itself.
    "": {"get_includes", "get_library_dirs", "Enum", "IntEnum", "IntFlag"},
}

# Public attributes of pyzmq classes that do not apply: shadowing a
# pyczmq (CZMQ binding) object is about a C pointer of another library.
EXCLUDED_ATTRS = {"shadow_pyczmq"}

# The core classes' own attributes are compared by the behaviour tests
# (tests/compat/test_behaviour*); here only the classes these modules add.
CORE_CLASSES = {
    "Socket", "SyncSocket", "Context", "SyncContext", "Frame", "Message",
    "MessageTracker", "Poller",
}


def _public_names(module) -> set[str]:
    """``__all__``, or the classes and functions the module itself defines."""
    if hasattr(module, "__all__"):
        return set(module.__all__)
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", None) == module.__name__
    }


def _public_attrs(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p or "top")
def test_module_has_pyzmq_names(zmq, path):
    reference = importlib.import_module("zmq." + path if path else "zmq")
    ours = submodule(zmq, path)
    wanted = _public_names(reference) - EXCLUDED.get(path, set())
    missing = sorted(name for name in wanted if not hasattr(ours, name))
    assert not missing, f"{ours.__name__} lacks {missing}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p or "top")
def test_module_classes_have_pyzmq_attributes(zmq, path):
    reference = importlib.import_module("zmq." + path if path else "zmq")
    ours = submodule(zmq, path)
    gaps = {}
    for name in _public_names(reference) - EXCLUDED.get(path, set()) - CORE_CLASSES:
        theirs = getattr(reference, name)
        if not inspect.isclass(theirs) or issubclass(theirs, BaseException):
            continue
        lacking = _public_attrs(theirs) - _public_attrs(getattr(ours, name)) - EXCLUDED_ATTRS
        # Upper-case names on Socket/Context are options, reached through
        # __getattr__ (checked by the option tests), not class attributes.
        lacking = {attr for attr in lacking if not attr.isupper()}
        if lacking:
            gaps[name] = sorted(lacking)
    assert not gaps, f"{ours.__name__}: {gaps}"


def test_utils_jsonapi_attribute_and_z85_import(zmq):
    # A fresh process: after ``import <impl>`` jsonapi is an attribute of
    # utils (as pyzmq's import leaves it); z85 comes with ``from utils import``.
    code = (
        f"import {zmq.__name__} as z; from {zmq.__name__}.utils import z85;"
        "print(z85.encode(b'1234').decode(), z.utils.jsonapi.loads(b'[7]')[0])"
    )
    done = run_python(zmq, ["-c", code])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["f!$Kw", "7"]


def test_package_attributes_are_the_submodules(zmq):
    # ``import zmq`` gives zmq.backend, zmq.sugar, zmq.utils as pyzmq does.
    for name in ("backend", "sugar", "utils"):
        assert getattr(zmq, name) is submodule(zmq, name)
