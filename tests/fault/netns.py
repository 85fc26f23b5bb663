"""Simulated hosts for the fault tests: a network namespace joined to the
test's own namespace by a veth pair, whose link the test can cut and
restore while messages flow.

Layout (one per test, names unique per run)::

    test process (this namespace)              namespace mqt-<pid>-<tag>
    mqh<tag>  169.254.X.Y+1/30  <-- veth -->  mqp<tag>  169.254.X.Y+2/30

The addresses are IPv4 link-local, on a /30 not used by any interface here,
so traffic only ever crosses the veth.  The link is cut on the namespace's
side (``ip link set dev mqp<tag> down``): our end then loses its carrier but
keeps its route, so packets to the peer are dropped on the veth rather
than routed elsewhere, and TCP stalls (no RST, no FIN) -- the case only
heartbeats can detect.  ``blackhole()`` does the same with the link up,
by routing each end's address into a blackhole on the other side.

Needs root and iproute2 (``ip``); ``netns_unavailable()`` says why not
where namespaces cannot be made, and the tests skip then.  Namespaces are
deleted at teardown, and ones left behind by a killed run (their pid is
gone) are swept when the next run starts.
"""

from __future__ import annotations

import ipaddress
import os
import random
import shutil
import subprocess
import time
import uuid

from .procs import ProcGroup

NS_PREFIX = "mqt-"

_probe_result = None


def _ip(*args, check=True, timeout=10):
    # Not under the sanitizers' preload (tools/sanitize.sh): they are for
    # our code, and iproute2 has findings of its own.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=timeout, env=env)
    if check and r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def netns_unavailable():
    """None when namespaces and veth pairs can be made here, else why not."""
    global _probe_result
    if _probe_result is not None:
        return _probe_result or None
    reason = ""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        reason = "network namespaces need root"
    elif shutil.which("ip") is None:
        reason = "iproute2 ('ip') is not installed"
    else:
        name = f"{NS_PREFIX}{os.getpid()}-probe{uuid.uuid4().hex[:4]}"
        try:
            r = _ip("netns", "add", name, check=False)
            if r.returncode != 0:
                reason = f"cannot create a network namespace: {r.stderr.strip()}"
            else:
                tag = uuid.uuid4().hex[:6]
                r = _ip("link", "add", f"mqh{tag}", "type", "veth", "peer", "name", f"mqp{tag}",
                        "netns", name, check=False)
                if r.returncode != 0:
                    reason = f"cannot create a veth pair: {r.stderr.strip()}"
        finally:
            _ip("netns", "del", name, check=False)
    _probe_result = reason
    return reason or None


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_namespaces():
    """Deletes namespaces, and our ends of their links, left by test runs
    whose process is gone.  (A deleted namespace can outlive its name for
    minutes while the kernel still holds its orphaned TCP sockets, and our
    veth end with it: that is deleted by name.)"""
    r = _ip("netns", "list", check=False)
    live_tags = set()
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if not name.startswith(NS_PREFIX):
            continue
        try:
            pid_text, tag = name[len(NS_PREFIX):].split("-", 1)
            pid = int(pid_text)
        except ValueError:
            continue
        if _pid_alive(pid):
            live_tags.add(tag)
        else:
            _ip("netns", "del", name, check=False)
    r = _ip("-o", "link", "show", "type", "veth", check=False)
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        ifname = parts[1].rstrip(":").split("@", 1)[0]
        if ifname.startswith("mqh") and ifname[3:] not in live_tags:
            _ip("link", "del", "dev", ifname, check=False)


def _used_ipv4_networks():
    r = _ip("-4", "-o", "addr", "show", check=False)
    nets = []
    for line in r.stdout.splitlines():
        parts = line.split()
        if "inet" in parts:
            nets.append(ipaddress.ip_interface(parts[parts.index("inet") + 1]).network)
    r = _ip("-4", "route", "show", "table", "all", check=False)
    for line in r.stdout.splitlines():
        first = line.split()[0] if line.split() else ""
        if first in ("unreachable", "blackhole", "prohibit", "local", "broadcast"):
            first = line.split()[1] if len(line.split()) > 1 else ""
        try:
            net = ipaddress.ip_network(first, strict=False)
        except ValueError:
            continue
        if net.prefixlen > 0:
            nets.append(net)
    return nets


def _free_link_local_30():
    """A 169.254.0.0/16 /30 overlapping nothing configured here (avoiding
    169.254.169.0/24, where clouds keep their metadata service)."""
    used = _used_ipv4_networks()
    rng = random.Random()
    for _ in range(200):
        third = rng.randrange(1, 255)
        if third == 169:
            continue
        net = ipaddress.ip_network(f"169.254.{third}.{rng.randrange(0, 256, 4)}/30")
        if not any(net.overlaps(u) for u in used):
            return net
    raise RuntimeError("no free 169.254.x.y/30 found")


class NetnsHost:
    """A namespace ("the other host") and the veth link that joins it to us.

    ``addr`` is the peer's address (inside the namespace), ``local_addr``
    ours.  ``down()``/``up()`` cut and restore the link; ``close()`` deletes
    everything (also done by the fixture at teardown)."""

    def __init__(self):
        sweep_stale_namespaces()
        tag = uuid.uuid4().hex[:6]
        self.name = f"{NS_PREFIX}{os.getpid()}-{tag}"
        self.host_if = f"mqh{tag}"
        self.peer_if = f"mqp{tag}"
        self._made_ns = False
        self._made_link = False
        self._blackholed = False
        self.procs = ProcGroup()
        try:
            _ip("netns", "add", self.name)
            self._made_ns = True
            _ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.peer_if,
                "netns", self.name)
            self._made_link = True
            for attempt in range(5):
                net = _free_link_local_30()
                hosts = list(net.hosts())
                self.local_addr, self.addr = str(hosts[0]), str(hosts[1])
                r = _ip("addr", "add", f"{self.local_addr}/30", "dev", self.host_if, check=False)
                if r.returncode == 0:
                    break
            else:
                raise RuntimeError(f"cannot address {self.host_if}: {r.stderr.strip()}")
            _ip("-n", self.name, "addr", "add", f"{self.addr}/30", "dev", self.peer_if)
            _ip("-n", self.name, "link", "set", "dev", "lo", "up")
            _ip("-n", self.name, "link", "set", "dev", self.peer_if, "up")
            _ip("link", "set", "dev", self.host_if, "up")
            self.wait_carrier(True)
        except BaseException:
            self.close()
            raise

    def start(self, code, args=(), env=None, reads_stdin=False):
        """A child process running inside the namespace (see procs.Proc)."""
        return self.procs.start(code, args, netns=self.name, env=env, reads_stdin=reads_stdin)

    # -- link control
    def down(self):
        """Cut the link: packets either way are dropped, TCP stalls."""
        _ip("-n", self.name, "link", "set", "dev", self.peer_if, "down")

    def up(self):
        _ip("-n", self.name, "link", "set", "dev", self.peer_if, "up")
        self.wait_carrier(True)

    def blackhole(self, on):
        """Cut (or restore) the path while both ends keep their carrier:
        each side routes the other's address into a blackhole, so packets
        are dropped silently and TCP stalls without any link event."""
        verb = "add" if on else "del"
        if on == self._blackholed:
            return
        _ip("route", verb, "blackhole", f"{self.addr}/32")
        _ip("-n", self.name, "route", verb, "blackhole", f"{self.local_addr}/32")
        self._blackholed = on

    def wait_carrier(self, up, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            r = _ip("-o", "link", "show", "dev", self.host_if, check=False)
            has = "LOWER_UP" in r.stdout and "NO-CARRIER" not in r.stdout
            if has == up or time.monotonic() > deadline:
                return has == up
            time.sleep(0.02)

    def route_multicast(self, group):
        """Routes one multicast group over the veth on both sides, so that
        multicast between the two ends needs nothing else of either
        namespace's routing (the routes go with the link)."""
        _ip("route", "add", f"{group}/32", "dev", self.host_if)
        _ip("-n", self.name, "route", "add", f"{group}/32", "dev", self.peer_if)

    def wait_ipv6_link_local(self, timeout=10.0):
        """Waits until both ends of the veth have their IPv6 link-local
        address out of duplicate address detection (the kernel gives each
        one when the link comes up; until DAD is done it cannot be a
        source), for IPv6 multicast over the link by interface name."""
        deadline = time.monotonic() + timeout
        while True:
            ours = _ip("-6", "-o", "addr", "show", "dev", self.host_if, "scope", "link", check=False)
            theirs = _ip("-n", self.name, "-6", "-o", "addr", "show", "dev", self.peer_if,
                         "scope", "link", check=False)
            ready = [r.stdout for r in (ours, theirs)
                     if "fe80::" in r.stdout and "tentative" not in r.stdout]
            if len(ready) == 2:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"no IPv6 link-local address on the veth: {ours.stdout!r} "
                                   f"{theirs.stdout!r}")
            time.sleep(0.05)

    # -- addresses
    def tcp(self, port):
        """A tcp endpoint on the peer's side of the link."""
        return f"tcp://{self.addr}:{port}"

    def close(self):
        self.procs.close()
        if self._blackholed:
            # Not tied to the veth: it would outlive the link.
            _ip("route", "del", "blackhole", f"{self.addr}/32", check=False)
            self._blackholed = False
        if self._made_ns:
            _ip("netns", "del", self.name, check=False)
            self._made_ns = False
        if self._made_link:
            # Deleting the namespace deletes the pair; make sure of it.
            if _ip("link", "show", "dev", self.host_if, check=False).returncode == 0:
                _ip("link", "del", "dev", self.host_if, check=False)
            self._made_link = False
