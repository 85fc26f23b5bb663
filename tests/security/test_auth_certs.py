"""Certificate files and key generation, checked against pyzmq's readers."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import sys

import pytest

from ._zap import auth_module, z85

_KEYGEN_TIMEOUT_S = 60


def test_create_certificates_writes_both_halves(zmq, tmp_path):
    certs = auth_module(zmq, "certs")
    public_path, secret_path = certs.create_certificates(tmp_path, "server", {"name": "srv"})
    assert public_path == os.path.join(tmp_path, "server.key")
    assert secret_path == os.path.join(tmp_path, "server.key_secret")

    public, no_secret = certs.load_certificate(public_path)
    assert no_secret is None
    public_again, secret = certs.load_certificate(secret_path)
    assert public_again == public
    assert len(public) == len(secret) == 40
    assert len(z85(zmq).decode(public)) == 32

    secret_text = open(secret_path, encoding="utf8").read()
    assert "    name = srv\n" in secret_text
    assert "name = srv" not in open(public_path, encoding="utf8").read()


def test_certificate_layout_matches_pyzmq(zmq, tmp_path):
    """Section names, indentation and quoting exactly as pyzmq writes them."""
    certs = auth_module(zmq, "certs")
    public_path, secret_path = certs.create_certificates(tmp_path, "c", {b"k": b"v"})
    public, secret = certs.load_certificate(secret_path)
    body = [line for line in open(secret_path, encoding="utf8") if not line.startswith("#")]
    assert body == [
        "\n",
        "metadata\n",
        "    k = v\n",
        "curve\n",
        f'    public-key = "{public.decode()}"\n',
        f'    secret-key = "{secret.decode()}"\n',
    ]
    lines = open(public_path, encoding="utf8").read().splitlines()
    assert lines[0].startswith("#   ****  Generated on ")
    assert lines[1] == "#   ZeroMQ CURVE Public Certificate"


def test_generated_pair_belongs_together(zmq, pyzmq, tmp_path):
    if not pyzmq.has("curve"):
        pytest.fail("the reference pyzmq must have CURVE")
    certs = auth_module(zmq, "certs")
    _, secret_path = certs.create_certificates(tmp_path, "pair")
    public, secret = certs.load_certificate(secret_path)
    assert pyzmq.curve_public(secret) == public


def test_pyzmq_reads_our_certificates(zmq, pyzmq, tmp_path):
    import zmq.auth as pyzmq_auth  # the reference implementation

    ours = auth_module(zmq, "certs")
    public_path, secret_path = ours.create_certificates(tmp_path, "ours")
    assert pyzmq_auth.load_certificate(secret_path) == ours.load_certificate(secret_path)
    assert pyzmq_auth.load_certificate(public_path) == ours.load_certificate(public_path)
    assert pyzmq_auth.load_certificates(str(tmp_path)) == ours.load_certificates(tmp_path)


def test_we_read_pyzmq_certificates(zmq, pyzmq, tmp_path):
    import zmq.auth as pyzmq_auth

    ours = auth_module(zmq, "certs")
    public_path, secret_path = pyzmq_auth.create_certificates(str(tmp_path), "theirs", {"a": "b"})
    assert ours.load_certificate(secret_path) == pyzmq_auth.load_certificate(secret_path)
    assert ours.load_certificate(public_path)[1] is None
    assert ours.load_certificates(str(tmp_path)) == pyzmq_auth.load_certificates(str(tmp_path))


def test_load_certificates_reads_only_public_files(zmq, tmp_path):
    certs = auth_module(zmq, "certs")
    keys = set()
    for name in ("a", "b", "c"):
        public_path, _ = certs.create_certificates(tmp_path, name)
        keys.add(certs.load_certificate(public_path)[0])
    (tmp_path / "notes.txt").write_text("public-key = \"ignored\"\n")
    assert certs.load_certificates(tmp_path) == dict.fromkeys(keys, True)


def test_load_certificate_accepts_single_quotes_and_tabs(zmq, tmp_path):
    certs = auth_module(zmq, "certs")
    path = tmp_path / "hand.key"
    path.write_text("# written by hand\ncurve\n\tpublic-key = 'ABC'\n")
    assert certs.load_certificate(path) == (b"ABC", None)


def test_load_certificate_errors(zmq, tmp_path):
    certs = auth_module(zmq, "certs")
    with pytest.raises(OSError):
        certs.load_certificate(tmp_path / "missing.key")
    empty = tmp_path / "empty.key"
    empty.write_text("metadata\ncurve\n")
    with pytest.raises(ValueError):
        certs.load_certificate(empty)
    with pytest.raises(OSError):
        certs.load_certificates(tmp_path / "no-such-dir")


def test_certs_names_are_exported_from_auth(zmq):
    auth = auth_module(zmq)
    for name in ("create_certificates", "load_certificate", "load_certificates",
                 "Authenticator", "CURVE_ALLOW_ANY"):
        assert hasattr(auth, name), name
    assert auth.CURVE_ALLOW_ANY == "*"


def _keygen(zmq, *args):
    # The child imports the package under test (the in-tree build, or the
    # installed one under -P), from outside the checkout: `python -m` puts
    # its working directory first on sys.path, where the checkout's mqcore/
    # may have no compiled core.
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(zmq.__file__)))
    result = subprocess.run(
        [sys.executable, "-m", f"{zmq.__name__}.curve_keygen", *args],
        capture_output=True, text=True, timeout=_KEYGEN_TIMEOUT_S,
        cwd=tempfile.gettempdir(), env=dict(os.environ, PYTHONPATH=package_root),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_curve_keygen_prints_a_pair(zmq, pyzmq):
    lines = _keygen(zmq).splitlines()
    assert lines[0] == "== CURVE PUBLIC KEY =="
    assert lines[2] == "" and lines[3] == "== CURVE SECRET KEY =="
    public, secret = lines[1], lines[4]
    assert len(public) == len(secret) == 40
    assert pyzmq.curve_public(secret.encode()) == public.encode()


def test_curve_keygen_json_and_secret(zmq, pyzmq):
    pair = json.loads(_keygen(zmq, "--json"))
    assert sorted(pair) == ["public", "secret"]
    derived = json.loads(_keygen(zmq, "--json", "--secret", pair["secret"]))
    assert derived == pair
