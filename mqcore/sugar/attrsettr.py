"""``zmq.sugar.attrsettr``: the mixin that maps ``obj.linger = 0`` to options.

A class that mixes in AttributeSetter and defines ``set(opt, value)`` and
``get(opt)`` gets attribute access to every upper-case constant: setting
``obj.sndhwm`` calls ``set(SNDHWM, value)``, reading it calls ``get``.
Attributes the class itself declares (in a class ``__dict__`` or
annotations, or already in the instance) are ordinary attributes.
"""

from __future__ import annotations

import errno
from typing import Any, Union

from mqcore import constants

OptValT = Union[str, bytes, int]


def _declared(obj: object, key: str) -> bool:
    """True if ``key`` is an ordinary attribute of ``obj`` or its classes."""
    if key in getattr(obj, "__dict__", {}):
        return True
    return any(
        key in cls.__dict__ or key in cls.__dict__.get("__annotations__", {})
        for cls in type(obj).__mro__
    )


def _option(obj: object, key: str) -> int:
    """The option constant named ``key`` (any case), or AttributeError."""
    upper = key.upper()
    try:
        return getattr(constants, upper)
    except AttributeError:
        raise AttributeError(f"{type(obj).__name__} has no such option: {upper}") from None


class AttributeSetter:
    """Mixin: attribute access to options through ``self.set``/``self.get``."""

    def __setattr__(self, key: str, value: Any) -> None:
        if _declared(self, key):
            object.__setattr__(self, key, value)
            return
        opt = _option(self, key)
        self._set_attr_opt(key.upper(), opt, value)

    def __getattr__(self, key: str) -> OptValT:
        # Only reached when normal lookup failed, so ``key`` is an option name.
        if key.startswith("__"):
            raise AttributeError(key)
        opt = _option(self, key)
        from mqcore.error import ZMQError

        try:
            return self._get_attr_opt(key.upper(), opt)
        except ZMQError as exc:
            # A write-only option: AttributeError keeps hasattr() and
            # Mock(spec=...) working, as pyzmq arranges.
            if exc.errno in (errno.EINVAL, errno.EFAULT):
                raise AttributeError(f"{key} attribute is write-only") from None
            raise

    def _set_attr_opt(self, name: str, opt: int, value: Any) -> None:
        """How an option attribute is set; subclasses may override."""
        self.set(opt, value)

    def _get_attr_opt(self, name: str, opt: int) -> OptValT:
        """How an option attribute is read; subclasses may override."""
        return self.get(opt)

    def get(self, option: int) -> OptValT:
        """Read an option; subclasses provide it."""
        raise NotImplementedError("override in subclass")

    def set(self, option: int, value: Any) -> None:
        """Set an option; subclasses provide it."""
        raise NotImplementedError("override in subclass")


__all__ = ["AttributeSetter"]
