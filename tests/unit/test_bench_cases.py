"""bench/: the case matrix and the --mechanism option (no speed is asserted here)."""

import os
import sys

import pytest

BENCH_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "bench")
sys.path.insert(0, BENCH_DIR)

import _common as common  # noqa: E402
import compare  # noqa: E402
import lat  # noqa: E402
import thr  # noqa: E402


def test_curve_cases_are_named_and_selectable():
    names = [c.name for c in compare.select_cases(compare.all_cases(), "curve")]
    assert names == ["thr/curve/tcp/64B", "thr/curve/tcp/1KiB", "thr/curve/tcp/64KiB",
                     "thr/curve/tcp/1MiB", "thr/curve/ipc/64B", "thr/curve/ipc/1KiB",
                     "thr/curve/ipc/64KiB", "thr/curve/ipc/1MiB",
                     "lat/curve/tcp/1B", "lat/curve/tcp/1KiB"]


def test_null_case_names_are_unchanged():
    names = {c.name for c in compare.all_cases()}
    assert {"thr/tcp/64B", "thr/ipc/1MiB/zc", "lat/reqrep/tcp/1B"} <= names
    assert [c.name for c in compare.select_cases(compare.all_cases(), "thr/tcp/64B")] == ["thr/tcp/64B"]


def test_curve_case_passes_the_mechanism_on():
    case = compare.Case("thr", "tcp", 64, mechanism="curve")
    argv = case.argv("mqcore", quick=False, io_timeout_ms=1000)
    assert argv[-2:] == ["--mechanism", "curve"]
    assert "--mechanism" not in compare.Case("thr", "tcp", 64).argv("mqcore", False, 1000)
    # CURVE costs more per message, so its counts are smaller than NULL's.
    assert case.count(False) < compare.Case("thr", "tcp", 64).count(False)


def test_peer_gets_the_client_side_of_the_keys():
    # A Z85 key may start with '-': it must not be taken for an option.
    security = common.Security("curve", b"-" + b"s" * 39, b"S" * 40, b"c" * 40, b"C" * 40)
    args = thr.parse_args(["--role", "sender", "--transport", "tcp"] + security.peer_args())
    peer = common.Security.from_peer_args(args.mechanism, args.curve_keys)
    assert (peer.server_public, peer.client_public, peer.client_secret) == \
        (security.server_public, security.client_public, security.client_secret)
    assert peer.server_secret is None


@pytest.mark.parametrize("script", [thr, lat])
def test_curve_leaves_inproc_out(script, capsys):
    assert script.parse_args(["--mechanism", "curve"]).transport == ["tcp", "ipc"]
    with pytest.raises(SystemExit):
        script.parse_args(["--mechanism", "curve", "--transport", "inproc"])
    assert "inproc" in capsys.readouterr().err


@pytest.mark.parametrize("mechanism", common.MECHANISMS)
def test_thr_runs_over_each_mechanism(mechanism):
    zmq = common.load_impl("mqcore")
    results = []
    thr.run_case(zmq, "mqcore", "pushpull", "tcp", 64, 200, False, 5000, results.append,
                 mechanism)
    assert len(results) == 1 and "error" not in results[0], results
    assert results[0]["mechanism"] == mechanism
