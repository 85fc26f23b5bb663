"""The ZAP handler (Authenticator) answering requests sent straight to it.

A REQ socket plays the part of a secure socket's ZAP client; the test
feeds each request to ``handle_zap_message`` and checks the reply frames
against pyzmq's policy.  Runs against pyzmq too (MQCORE_TEST_IMPL=zmq).
"""

from __future__ import annotations

import logging

import pytest

from ._zap import ask, auth_module, request, status, z85, zap_client

PUBLIC_A = b"A" * 32  # any 32 bytes do as a client key for the handler


@pytest.fixture
def auth(zmq, ctx):
    authenticator = auth_module(zmq).Authenticator(ctx)
    authenticator.start()
    yield authenticator
    authenticator.stop()


@pytest.fixture
def req(zmq, ctx, auth):
    sock = zap_client(zmq, ctx)
    yield sock
    sock.close()


def test_reply_has_six_frames_and_echoes_request_id(auth, req):
    reply = ask(auth, req, request(request_id=b"req-42"))
    assert reply == [b"1.0", b"req-42", b"200", b"OK", b"anonymous", b""]


def test_null_is_allowed_until_a_policy_says_otherwise(auth, req):
    assert status(ask(auth, req, request(b"NULL"))) == (b"200", b"OK", b"anonymous")


def test_plain_without_passwords_is_refused(auth, req):
    reply = ask(auth, req, request(b"PLAIN", [b"admin", b"secret"]))
    assert status(reply) == (b"400", b"No passwords defined", b"")


@pytest.mark.parametrize(
    "domain, username, password, expected",
    [
        (b"", b"admin", b"secret", (b"200", b"OK", b"admin")),
        (b"*", b"admin", b"secret", (b"200", b"OK", b"admin")),
        (b"", b"admin", b"wrong", (b"400", b"Invalid password", b"")),
        (b"", b"nobody", b"secret", (b"400", b"Invalid username", b"")),
        (b"elsewhere", b"admin", b"secret", (b"400", b"Invalid domain", b"")),
        (b"global", b"ops", b"pw", (b"200", b"OK", b"ops")),
    ],
)
def test_plain_passwords_per_domain(auth, req, domain, username, password, expected):
    auth.configure_plain("*", {"admin": "secret"})
    auth.configure_plain("global", {"ops": "pw"})
    reply = ask(auth, req, request(b"PLAIN", [username, password], domain=domain))
    assert status(reply) == expected


def test_configure_plain_with_no_passwords_changes_nothing(auth, req):
    auth.configure_plain("*", {"admin": "secret"})
    auth.configure_plain("*", None)
    auth.configure_plain("*", {})
    assert auth.passwords == {"*": {"admin": "secret"}}


def test_allow_list_admits_only_listed_addresses(auth, req):
    auth.allow("10.0.0.1", "10.0.0.2")
    assert status(ask(auth, req, request(address=b"10.0.0.2")))[0] == b"200"
    reply = ask(auth, req, request(address=b"127.0.0.1"))
    assert status(reply) == (b"400", b"Address not allowed", b"")


def test_allowed_address_must_still_authenticate_plain(auth, req):
    auth.allow("127.0.0.1")
    auth.configure_plain("*", {"admin": "secret"})
    assert status(ask(auth, req, request(b"PLAIN", [b"admin", b"bad"])))[0] == b"400"
    assert status(ask(auth, req, request(b"PLAIN", [b"admin", b"secret"])))[0] == b"200"


def test_deny_list_refuses_only_listed_addresses(auth, req):
    auth.deny("10.0.0.9")
    reply = ask(auth, req, request(address=b"10.0.0.9"))
    assert status(reply) == (b"400", b"Address denied", b"")
    assert status(ask(auth, req, request(address=b"10.0.0.8")))[0] == b"200"


def test_denied_address_is_refused_even_with_good_password(auth, req):
    auth.deny("127.0.0.1")
    auth.configure_plain("*", {"admin": "secret"})
    reply = ask(auth, req, request(b"PLAIN", [b"admin", b"secret"]))
    assert status(reply) == (b"400", b"Address denied", b"")


def test_allow_and_deny_cannot_be_mixed(auth):
    auth.allow("10.0.0.1")
    with pytest.raises(ValueError):
        auth.deny("10.0.0.2")
    other = type(auth)(auth.context)
    other.deny("10.0.0.2")
    with pytest.raises(ValueError):
        other.allow("10.0.0.1")


def test_unknown_mechanism_needs_an_allowed_address(auth, req):
    assert status(ask(auth, req, request(b"OTHER")))[:2] == (b"400", b"NO ACCESS")
    auth.allow("127.0.0.1")
    assert status(ask(auth, req, request(b"OTHER")))[:2] == (b"200", b"OK")


def test_curve_certificate_directory(zmq, auth, req, tmp_path):
    auth_mod = auth_module(zmq)
    public_path, _ = auth_mod.create_certificates(str(tmp_path), "client")
    public_z85, _ = auth_mod.load_certificate(public_path)
    key = z85(zmq).decode(public_z85)
    auth.configure_curve(domain="*", location=str(tmp_path))

    reply = ask(auth, req, request(b"CURVE", [key]))
    assert status(reply) == (b"200", b"OK", public_z85)
    reply = ask(auth, req, request(b"CURVE", [PUBLIC_A]))
    assert status(reply) == (b"400", b"Unknown key", b"")
    reply = ask(auth, req, request(b"CURVE", [key], domain=b"other"))
    assert status(reply) == (b"400", b"Unknown domain", b"")


def test_curve_without_configuration_is_refused(auth, req):
    reply = ask(auth, req, request(b"CURVE", [PUBLIC_A]))
    assert status(reply) == (b"400", b"Unknown domain", b"")


def test_curve_allow_any(zmq, auth, req):
    auth.configure_curve(domain="*", location=auth_module(zmq).CURVE_ALLOW_ANY)
    assert auth.allow_any
    reply = ask(auth, req, request(b"CURVE", [PUBLIC_A], domain=b"whatever"))
    assert status(reply) == (b"200", b"OK", z85(zmq).encode(PUBLIC_A))


def test_curve_missing_directory_is_logged_not_raised(auth, req, tmp_path, caplog):
    with caplog.at_level(logging.ERROR, logger="zmq.auth"):
        auth.configure_curve("*", str(tmp_path / "absent"))
    assert "Failed to load CURVE certs" in caplog.text
    assert status(ask(auth, req, request(b"CURVE", [PUBLIC_A])))[0] == b"400"


class _Provider:
    def __init__(self, good, is_async=False):
        self.good = good
        self.is_async = is_async
        self.calls = []

    def callback(self, domain, key):
        self.calls.append((domain, key))
        verdict = key == self.good
        if not self.is_async:
            return verdict

        async def later():
            return verdict

        return later()


@pytest.mark.parametrize("is_async", [False, True])
def test_curve_callback(zmq, auth, req, is_async):
    good = z85(zmq).encode(PUBLIC_A)
    provider = _Provider(good, is_async)
    auth.configure_curve_callback("*", provider)
    assert status(ask(auth, req, request(b"CURVE", [PUBLIC_A]))) == (b"200", b"OK", good)
    assert status(ask(auth, req, request(b"CURVE", [b"B" * 32])))[:2] == (b"400", b"Unknown key")
    assert provider.calls[0] == ("*", good)
    reply = ask(auth, req, request(b"CURVE", [PUBLIC_A], domain=b"x"))
    assert status(reply)[:2] == (b"400", b"Unknown domain")


def test_curve_user_id_can_be_overridden(zmq, ctx):
    class Named(auth_module(zmq).Authenticator):
        def curve_user_id(self, client_public_key):
            return "client-" + str(len(client_public_key))

    named = Named(ctx)
    named.start()
    try:
        named.configure_curve("*", auth_module(zmq).CURVE_ALLOW_ANY)
        req = zap_client(zmq, ctx)
        assert status(ask(named, req, request(b"CURVE", [PUBLIC_A])))[2] == b"client-32"
        req.close()
    finally:
        named.stop()


def test_default_curve_user_id_is_z85_text(zmq, auth):
    assert auth.curve_user_id(PUBLIC_A) == z85(zmq).encode(PUBLIC_A).decode()


def test_gssapi_principal_becomes_user_id(auth, req):
    auth.configure_gssapi()
    assert status(ask(auth, req, request(b"GSSAPI", [b"alice@REALM"]))) == (b"200", b"OK", b"alice@REALM")


def test_bad_version_is_refused(auth, req):
    reply = ask(auth, req, request(version=b"2.0"))
    assert status(reply) == (b"400", b"Invalid version", b"")


def test_too_few_frames_is_refused(auth, req):
    reply = ask(auth, req, [b"1.0", b"9", b"", b"127.0.0.1"])
    assert reply[1] == b"9"
    assert status(reply) == (b"400", b"Not enough frames", b"")


@pytest.mark.parametrize(
    "mechanism, credentials",
    [(b"PLAIN", [b"only-user"]), (b"CURVE", []), (b"CURVE", [b"a", b"b"]), (b"GSSAPI", [])],
)
def test_wrong_credential_count_is_refused(auth, req, mechanism, credentials):
    auth.configure_plain("*", {"admin": "secret"})
    reply = ask(auth, req, request(mechanism, credentials))
    assert status(reply) == (b"400", b"Invalid credentials", b"")


def test_logs_to_zmq_auth_logger(auth, req, caplog):
    with caplog.at_level(logging.DEBUG, logger="zmq.auth"):
        ask(auth, req, request())
    assert any(r.name == "zmq.auth" for r in caplog.records)


def test_custom_logger_and_default_context(zmq):
    log = logging.getLogger("test.auth.custom")
    authenticator = auth_module(zmq).Authenticator(log=log)
    assert authenticator.log is log
    assert authenticator.context is zmq.Context.instance()
    assert authenticator.zap_socket is None
