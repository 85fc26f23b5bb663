"""Decorators that give a function a Context or Socket and close it after,
as pyzmq's ``zmq.decorators``:

    @context()
    @socket(mqcore.PUSH)
    def work(ctx, push):
        ...

The object is passed as an extra trailing positional argument, or as the
keyword named by ``name`` (``@socket("push", mqcore.PUSH)`` or
``@socket(mqcore.PUSH, name="push")``).  A socket decorator takes its
context from a keyword argument ``context`` (renamed by ``context_name``),
else from the first Context among the positional arguments, else
``Context.instance()``.  Other decorator arguments go to the constructor
(``Context(...)`` or ``ctx.socket(...)``).
"""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable, TypeVar

from mqcore.context import Context

_F = TypeVar("_F", bound=Callable[..., Any])


def _split_name(args: tuple, kwargs: dict) -> tuple[str | None, tuple, dict]:
    """Take the keyword name from ``name=`` or a leading str argument."""
    if isinstance(kwargs.get("name"), str):
        return kwargs.pop("name"), args, kwargs
    if args and isinstance(args[0], str):
        return args[0], args[1:], kwargs
    return None, args, kwargs


def _call_with(func: Callable, obj: Any, name: str | None, args: tuple, kwargs: dict) -> Any:
    """Call ``func`` with ``obj`` added by keyword ``name`` or positionally."""
    if name is None:
        return func(*args, obj, **kwargs)
    if name in kwargs:
        raise TypeError(f"{func.__name__}() got multiple values for argument '{name}'")
    return func(*args, **{**kwargs, name: obj})


def context(*dec_args: Any, **dec_kwargs: Any) -> Callable[[_F], _F]:
    """Decorator: call the function with a new Context, destroyed after.

    ``name`` (or a leading str) passes it by keyword; other arguments go to
    ``Context(...)``.
    """
    name, ctx_args, ctx_kwargs = _split_name(dec_args, dict(dec_kwargs))

    def decorator(func: _F) -> _F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with Context(*ctx_args, **ctx_kwargs) as ctx:
                return _call_with(func, ctx, name, args, kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def _find_context(context_name: str, args: tuple, kwargs: dict) -> Context:
    """The context a socket decorator uses at call time (see module doc)."""
    candidate = kwargs.get(context_name)
    if isinstance(candidate, Context):
        return candidate
    for arg in args:
        if isinstance(arg, Context):
            return arg
    return Context.instance()


def socket(*dec_args: Any, **dec_kwargs: Any) -> Callable[[_F], _F]:
    """Decorator: call the function with a new socket, closed after.

    The first non-name argument is the socket type; ``name`` and
    ``context_name`` are as in the module doc; the rest go to
    ``ctx.socket(...)``.
    """
    name, sock_args, sock_kwargs = _split_name(dec_args, dict(dec_kwargs))
    context_name = sock_kwargs.pop("context_name", "context")

    def decorator(func: _F) -> _F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ctx = _find_context(context_name, args, kwargs)
            with ctx.socket(*sock_args, **sock_kwargs) as sock:
                return _call_with(func, sock, name, args, kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


__all__ = ["context", "socket"]
