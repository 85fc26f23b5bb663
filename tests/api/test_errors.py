"""Exception classes, error numbers and texts, checked against pyzmq's."""

import errno
import pickle

import pytest

from mqcore import constants, error
from mqcore.error import (
    Again,
    ContextTerminated,
    InterruptedSystemCall,
    NotDone,
    ZMQBaseError,
    ZMQBindError,
    ZMQError,
    ZMQVersionError,
    error_for,
    strerror,
)

zmq = pytest.importorskip("zmq", reason="pyzmq is the reference for error texts")

# Numbers whose text and exception class must agree with pyzmq.
ERRNOS = [
    constants.EAGAIN,
    constants.EINVAL,
    constants.EFAULT,
    constants.ENOTSUP,
    constants.EADDRINUSE,
    constants.EHOSTUNREACH,
    constants.EPROTONOSUPPORT,
    constants.EFSM,
    constants.ENOCOMPATPROTO,
    constants.ETERM,
    constants.EMTHREAD,
    errno.EINTR,
    errno.ENOENT,
    errno.EMFILE,
]


class TestHierarchy:
    def test_base_classes(self):
        assert issubclass(ZMQError, ZMQBaseError)
        assert issubclass(ZMQBaseError, Exception)
        for subclass in (Again, ContextTerminated, InterruptedSystemCall):
            assert issubclass(subclass, ZMQError)
        assert issubclass(InterruptedSystemCall, InterruptedError)
        assert issubclass(ZMQBindError, ZMQBaseError)
        assert issubclass(NotDone, ZMQBaseError)
        assert issubclass(ZMQVersionError, NotImplementedError)

    def test_same_shape_as_pyzmq(self):
        """Each class has pyzmq's bases, by name."""
        for name in ("ZMQError", "Again", "ContextTerminated", "InterruptedSystemCall",
                     "ZMQBindError", "NotDone", "ZMQVersionError"):
            ours = [c.__name__ for c in getattr(error, name).__mro__]
            theirs = [c.__name__ for c in getattr(zmq.error, name).__mro__]
            assert ours == theirs


class TestStrerror:
    def test_zeromq_only_texts(self):
        assert strerror(constants.EFSM) == "Operation cannot be accomplished in current state"
        assert strerror(constants.ETERM) == "Context was terminated"
        assert strerror(constants.ENOCOMPATPROTO) == (
            "The protocol is not compatible with the socket type"
        )
        assert strerror(constants.EMTHREAD) == "No thread available"

    def test_matches_pyzmq_for_every_number(self):
        """All errno values, the whole HAUSNUMERO block, and an unknown one."""
        hausnumero = 156384712
        numbers = [*range(0, 200), *range(hausnumero, hausnumero + 60), 12345678]
        differ = {n: (strerror(n), zmq.strerror(n)) for n in numbers if strerror(n) != zmq.strerror(n)}
        assert differ == {}

    def test_ehostunreach_uses_libzmq_wording(self):
        assert strerror(constants.EHOSTUNREACH) == "Host unreachable"


class TestZMQError:
    @pytest.mark.parametrize("number", ERRNOS)
    def test_errno_and_text(self, number):
        exc = ZMQError(number)
        assert exc.errno == number
        assert exc.strerror == strerror(number)
        assert str(exc) == str(zmq.ZMQError(number))
        assert repr(exc) == repr(zmq.ZMQError(number))

    def test_message_overrides_text(self):
        exc = ZMQError(constants.EINVAL, "bad thing")
        assert exc.errno == constants.EINVAL
        assert str(exc) == "bad thing"

    def test_text_instead_of_number(self):
        exc = ZMQError("just a message")
        assert exc.errno is None
        assert str(exc) == "just a message"
        assert str(exc) == str(zmq.ZMQError("just a message"))

    def test_no_arguments(self):
        exc = ZMQError()
        assert exc.errno is None
        assert isinstance(str(exc), str)

    def test_strerror_is_writable(self):
        """Socket.bind appends the address to strerror, as pyzmq does."""
        exc = ZMQError(constants.EADDRINUSE)
        exc.strerror += " (addr='inproc://x')"
        assert str(exc).endswith("(addr='inproc://x')")

    def test_pickle_round_trip(self):
        for exc in (ZMQError(constants.EINVAL), ZMQError(constants.EFSM, "custom"), Again()):
            copy = pickle.loads(pickle.dumps(exc))
            assert type(copy) is type(exc)
            assert copy.errno == exc.errno
            assert str(copy) == str(exc)


class TestSubclasses:
    @pytest.mark.parametrize(
        "cls, number",
        [(Again, constants.EAGAIN), (ContextTerminated, constants.ETERM),
         (InterruptedSystemCall, errno.EINTR)],
    )
    def test_fixed_errno(self, cls, number):
        for exc in (cls(), cls(number), cls("ignored", "ignored")):
            assert exc.errno == number
        assert cls().strerror == strerror(number)
        assert cls().errno == getattr(zmq, cls.__name__)().errno

    def test_again_text_matches_pyzmq(self):
        assert str(Again()) == str(zmq.Again())
        assert repr(Again()) == repr(zmq.Again())
        assert str(ContextTerminated()) == str(zmq.ContextTerminated())

    def test_interrupted_text_says_it_should_be_retried(self):
        text = str(InterruptedSystemCall())
        assert text.startswith(strerror(errno.EINTR))
        assert "retried" in text

    def test_caught_as_zmqerror_with_errno(self):
        """The idiom of pyzmq programs: catch ZMQError, look at errno."""
        with pytest.raises(ZMQError) as info:
            raise Again()
        assert info.value.errno == constants.EAGAIN


class TestErrorFor:
    @pytest.mark.parametrize(
        "number, cls",
        [
            (constants.EAGAIN, Again),
            (constants.ETERM, ContextTerminated),
            (errno.EINTR, InterruptedSystemCall),
            (constants.EFSM, ZMQError),
            (constants.EINVAL, ZMQError),
            (constants.EHOSTUNREACH, ZMQError),
        ],
    )
    def test_class_for_errno(self, number, cls):
        exc = error_for(number)
        assert type(exc) is cls
        assert exc.errno == number
        assert exc.strerror == strerror(number)

    def test_returns_an_instance_to_raise(self):
        with pytest.raises(Again):
            raise error_for(constants.EAGAIN)

    def test_message(self):
        assert str(error_for(constants.EINVAL, "no such option")) == "no such option"
        assert str(error_for(constants.EAGAIN, "queue full")) == "queue full"

    def test_same_classes_as_pyzmq_check_rc(self):
        """pyzmq's own errno -> class rule gives the same class names."""
        for number in ERRNOS:
            with pytest.raises(zmq.ZMQError) as info:
                zmq.error._check_rc(-1, errno=number)
            assert type(error_for(number)).__name__ == type(info.value).__name__


class TestOtherErrors:
    def test_version_error(self):
        exc = ZMQVersionError("5.0", "Frobnication")
        assert str(exc) == "Frobnication requires libzmq >= 5.0, have 4.3.5"
        assert exc.min_version == "5.0"
        assert exc.version == "4.3.5"

    def test_check_version(self):
        error._check_version((4, 3), "Old feature")
        with pytest.raises(ZMQVersionError):
            error._check_version((9,), "Future feature")

    def test_bind_error_and_not_done(self):
        assert str(ZMQBindError("no port")) == "no port"
        assert isinstance(NotDone(), ZMQBaseError)
