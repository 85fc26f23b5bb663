"""PGM (pgm://, raw IP protocol 113) and EPGM (epgm://, PGM in UDP) against
the reference libzmq's OpenPGM, both ways, for PUB/SUB and XPUB/XSUB.

Each scenario (tests/interop/pgm_peer.py) runs in a network namespace of
its own (`unshare -n`, root), on 127.0.0.1 with multicast switched on for
that namespace's loopback: OpenPGM refuses an interface without it, and
the host's own loopback is left alone. Loss on purpose comes from test
hooks in our engine (_core._pgm_test_hooks): our receiver drops chosen
ODATA once (libzmq's source must repair them from its window after our
NAKs), or our source skips sending chosen ODATA once (libzmq's receiver
must NAK them and get our RDATA). The counters say the repairs really
went through NAK, NCF and RDATA."""
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest
from fault.procs import child_env   # the mqcore under test: installed, sanitized or in place

pytestmark = pytest.mark.skipif(
    (os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore") != "mqcore",
    reason="uses mqcore's PGM test hooks")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEER = os.path.join(ROOT, "tests", "interop", "pgm_peer.py")
_groups = itertools.count(1)


def run(scenario, scheme="epgm"):
    """The scenario's JSON result; the group and port are unique per call."""
    assert os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"), \
        "PGM tests need root, unshare and ip (network namespaces, raw sockets)"
    n = next(_groups)
    group = f"239.192.{(os.getpid() % 200) + 1}.{n}"
    port = str(7000 + (os.getpid() % 500) * 20 + n)
    # 127.0.0.2: a second source's NLA (two_sources)
    setup = ("ip link set lo up && ip link set lo multicast on && "
             "ip addr add 127.0.0.2/8 dev lo && exec \"$@\"")
    r = subprocess.run(["unshare", "-n", "sh", "-c", setup, "sh", sys.executable, PEER,
                        scenario, scheme, group, port],
                       capture_output=True, text=True, timeout=90, env=child_env(),
                       cwd=tempfile.gettempdir())
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    assert r.returncode == 0 and lines, f"{scenario} failed ({r.returncode}):\n{r.stderr[-3000:]}"
    return json.loads(lines[-1])


@pytest.fixture(autouse=True)
def _reference_built(ref):
    """The reference libzmq exists (the fixture builds it when missing)."""


@pytest.mark.parametrize("scheme", ["epgm", "pgm"])
def test_libzmq_pub_to_our_sub(scheme):
    r = run("ref_to_ours", scheme)
    assert r["got"] == r["want"]
    assert r["counts"]["losses"] == 0


def test_libzmq_pub_to_our_xsub():
    r = run("ref_to_ours_xsub")
    assert r["got"] == r["want"]


@pytest.mark.parametrize("scheme", ["epgm", "pgm"])
def test_our_pub_to_libzmq_sub(scheme):
    r = run("ours_to_ref", scheme)
    assert r["got"] == r["want"]


def test_our_xpub_to_libzmq_sub_is_subscribed_to_all_silently():
    r = run("ours_to_ref_xpub")
    assert r["got"] == r["want"]
    # libzmq attaches a pgm pipe subscribed to everything without telling
    # the XPUB's user: nothing to read.
    assert r["xpub_saw"] == ["error: Again('Resource temporarily unavailable')"]


def test_our_receiver_naks_and_libzmq_repairs():
    r = run("ref_to_ours_loss")
    c = r["counts"]
    assert r["got"] == r["want"]
    assert c["dropped"] == 5
    assert c["naks_sent"] >= 5 and c["rdata_received"] == 5
    assert c["losses"] == 0


def test_libzmq_receiver_naks_and_our_source_repairs():
    r = run("ours_to_ref_loss")
    c = r["counts"]
    assert r["got"] == r["want"]
    assert c["skipped"] == 5
    assert c["naks_received"] >= 1 and c["rdata_sent"] >= 5


def test_loss_beyond_the_window_drops_the_whole_message_and_resumes():
    r = run("beyond_window")
    want = [m for m in r["want"] if m[0][1] != "big-head"]
    assert r["got"][:len(want)] == want
    assert r["got"][len(want):] == ["error: Again('Resource temporarily unavailable')"]
    assert r["counts"]["losses"] >= 1 and r["counts"]["dropped"] >= 1


def test_late_joiner_starts_at_a_message_boundary():
    r = run("late_join")
    assert (r["whole"], r["n"], r["ordered"]) == (True, 30, True)
    assert r["counts"]["sources"] == 1 and r["counts"]["losses"] == 0


@pytest.mark.parametrize("scheme", ["epgm", "pgm"])
def test_mqcore_to_mqcore_repairs_loss_both_ways(scheme):
    r = run("ours_to_ours", scheme)
    c = r["counts"]
    assert r["got"] == r["want"]
    assert c["skipped"] == 2 and c["dropped"] == 2
    assert c["naks_received"] >= 1 and c["rdata_received"] >= 4 and c["losses"] == 0


@pytest.mark.parametrize("scheme", ["epgm", "pgm"])
def test_receiver_asks_a_quiet_source_for_an_spm_before_naking(scheme):
    """Data before any SPM (a source that sends none unasked): the receiver
    sends an SPMR for the NLA, the source answers with an SPM, and only
    then do NAKs go out (RFC 3208 13.6); all the loss is repaired."""
    r = run("ours_to_ours_spmr", scheme)
    c = r["counts"]
    assert r["got"] == r["want"]
    assert c["spmrs_sent"] >= 1 and c["spmrs_received"] >= 1
    assert c["naks_received"] >= 1 and c["rdata_received"] >= 4 and c["losses"] == 0


def test_our_sub_follows_two_libzmq_sources_on_one_group():
    r = run("two_ref_sources")
    assert r["per_source"] == {"src0": True, "src1": True}
    assert r["bad"] == [] and r["n"] == 120
    assert r["counts"]["sources"] == 2 and r["counts"]["losses"] == 0


def test_our_sub_follows_our_source_and_libzmqs_and_repairs_each():
    """Loss from both sources: each gets the NAKs for its own packets."""
    r = run("ours_and_ref_sources")
    c = r["counts"]
    assert r["per_source"] == {"src0": True, "src1": True}
    assert r["bad"] == [] and r["n"] == 120
    assert c["sources"] == 2 and c["dropped"] == 4 and c["rdata_received"] == 4
    assert c["naks_received"] >= 1 and c["rdata_sent"] >= 2 and c["losses"] == 0
