"""The socket option table: every option libzmq 4.3 numbers, once.

One row per option says everything both sides need:

- ``mqcore.constants`` builds ``SocketOption`` and ``OPTION_TYPES`` from it
  (the names, numbers and value types pyzmq programs see);
- the core (``src/base/options.pxi``) reads it at import into a C array
  indexed by number (kind, range, where it lives in ``options_t``), so that
  ``Socket.set``/``get`` are one generic path, and builds the defaults of a
  new socket from the ``default`` column.

Columns:

``type``
    the value type as pyzmq names it: ``int`` (C int), ``int64``, ``bytes``
    or ``fd``.
``field``
    the ``options_t`` member that holds it (bytes: ``field`` plus
    ``field_len``); ``None`` for options that hold no setting (read-only
    facts, or ones the core handles by hand, see ``special``).
``default``
    its value on a new socket (LINGER: the socket type's row overrides it);
    a read-only option without a field always reads as this.
``low``, ``high``
    the values ``set`` accepts (bytes: the lengths); anything else is EINVAL.
``step``
    the stored value is rounded down to a multiple of it (HEARTBEAT_TTL
    travels in tenths of a second).
``invert``
    the option is ``1 - field`` (IPV4ONLY is the other side of IPV6).
``access``
    ``"rw"``, ``"r"`` (read-only) or ``"w"`` (write-only: ``get`` is EINVAL,
    as in libzmq).
``per_type``
    only some socket types take it: those whose row in
    ``src/proto/types.pxi`` lists its name. Others get EINVAL.
``special``
    set or read by a case of its own in ``src/api/options.pxi`` (it acts on
    the socket rather than storing a value: SUBSCRIBE, FD, ...).
``mechanism``
    the security mechanism that owns the option (``"PLAIN"``, ``"CURVE"``):
    its row in ``src/mech/`` sets and reads it (choosing the mechanism and
    the role as libzmq does). Refused (EINVAL) when that mechanism is not
    built, as CURVE without libsodium.
``implemented``
    ``False``: known to libzmq but not built here (multicast, security
    mechanisms, VMCI, ...). ``set`` refuses it with EINVAL rather than store
    a setting nothing would read, and ``get`` does the same.

This module imports nothing from mqcore, so that ``constants`` and the core
can both read it.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Union

INT_MAX = 2**31 - 1
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
ID_MAX = 255  # routing ids and ZAP domains: 1..255 bytes


class Option(NamedTuple):
    name: str
    number: int
    type: str = "int"
    field: Optional[str] = None
    default: Union[int, bytes, None] = None
    low: int = 0
    high: int = INT_MAX
    step: int = 1
    invert: bool = False
    access: str = "rw"
    per_type: bool = False
    special: bool = False
    mechanism: Optional[str] = None
    implemented: bool = True


def _int(name, number, field, default, low=-1, high=INT_MAX, **kw):
    """An int setting kept in options_t."""
    return Option(name, number, "int", field, default, low, high, **kw)


def _flag(name, number, field, default=0, **kw):
    """A 0/1 setting kept in options_t."""
    return Option(name, number, "int", field, default, 0, 1, **kw)


def _type_flag(name, number, field, default=0, access="w"):
    """A 0/1 setting that only some socket types take (write-only, as libzmq)."""
    return Option(name, number, "int", field, default, 0, 1, access=access, per_type=True)


def _read_only(name, number, type="int", default=None, **kw):
    """A value the socket reports; set is EINVAL. With a default and no
    special case, it always reads as that default."""
    special = default is None
    return Option(name, number, type, None, default, access="r", special=special, **kw)


def _absent(name, number, type="int"):
    """An option libzmq has that mqcore does not build: refused."""
    return Option(name, number, type, implemented=False)


OPTIONS: tuple[Option, ...] = (
    _absent("HWM", 1),
    Option("AFFINITY", 4, "int64", "affinity", 0, INT64_MIN, INT64_MAX),
    Option("ROUTING_ID", 5, "bytes", "routing_id", b"", 1, ID_MAX),
    Option("SUBSCRIBE", 6, "bytes", access="w", per_type=True, special=True),
    Option("UNSUBSCRIBE", 7, "bytes", access="w", per_type=True, special=True),
    _int("RATE", 8, "rate", 100, low=1),  # multicast (pgm): kbit/s
    _int("RECOVERY_IVL", 9, "recovery_ivl", 10000, low=0),
    _int("SNDBUF", 11, "sndbuf", -1),
    _int("RCVBUF", 12, "rcvbuf", -1),
    _read_only("RCVMORE", 13),
    _read_only("FD", 14, "fd"),
    _read_only("EVENTS", 15),
    _read_only("TYPE", 16),
    _int("LINGER", 17, "linger", -1),  # per type: SOCKTYPES[t].default_linger
    _int("RECONNECT_IVL", 18, "reconnect_ivl", 100),
    _int("BACKLOG", 19, "backlog", 100, low=0),
    _int("RECONNECT_IVL_MAX", 21, "reconnect_ivl_max", 0, low=0),
    Option("MAXMSGSIZE", 22, "int64", "maxmsgsize", -1, -1, INT64_MAX),
    _int("SNDHWM", 23, "sndhwm", 1000, low=0),
    _int("RCVHWM", 24, "rcvhwm", 1000, low=0),
    _int("MULTICAST_HOPS", 25, "multicast_hops", 1, low=1),
    _int("RCVTIMEO", 27, "rcvtimeo", -1),
    _int("SNDTIMEO", 28, "sndtimeo", -1),
    _flag("IPV4ONLY", 31, "ipv6", 1, invert=True),
    _read_only("LAST_ENDPOINT", 32, "bytes"),
    _type_flag("ROUTER_MANDATORY", 33, "router_mandatory"),
    _int("TCP_KEEPALIVE", 34, "tcp_keepalive", -1, high=1),
    _int("TCP_KEEPALIVE_CNT", 35, "tcp_keepalive_cnt", -1),
    _int("TCP_KEEPALIVE_IDLE", 36, "tcp_keepalive_idle", -1),
    _int("TCP_KEEPALIVE_INTVL", 37, "tcp_keepalive_intvl", -1),
    _absent("TCP_ACCEPT_FILTER", 38, "bytes"),
    _flag("IMMEDIATE", 39, "immediate"),
    _type_flag("XPUB_VERBOSE", 40, "xpub_verbose"),
    _absent("ROUTER_RAW", 41),
    _flag("IPV6", 42, "ipv6"),
    # Security. MECHANISM reads the mechanism the other options selected
    # (0 NULL, 1 PLAIN, 2 CURVE); the PLAIN and CURVE options choose it and
    # the role, as libzmq's do (src/mech/plain.pxi, curve.pxi).
    Option("MECHANISM", 43, "int", "mechanism", 0, access="r"),
    Option("PLAIN_SERVER", 44, "int", default=0, low=0, high=1, mechanism="PLAIN"),
    Option("PLAIN_USERNAME", 45, "bytes", default=b"", high=ID_MAX, mechanism="PLAIN"),
    Option("PLAIN_PASSWORD", 46, "bytes", default=b"", high=ID_MAX, mechanism="PLAIN"),
    # CURVE (src/mech/curve.pxi): refused without libsodium (PyNaCl). The
    # keys take 32 bytes or 40 Z85 characters and, as in libzmq through
    # pyzmq, cannot be read back.
    Option("CURVE_SERVER", 47, "int", default=0, low=0, high=1, mechanism="CURVE"),
    Option("CURVE_PUBLICKEY", 48, "bytes", high=41, access="w", mechanism="CURVE"),
    Option("CURVE_SECRETKEY", 49, "bytes", high=41, access="w", mechanism="CURVE"),
    Option("CURVE_SERVERKEY", 50, "bytes", high=41, access="w", mechanism="CURVE"),
    _type_flag("PROBE_ROUTER", 51, "probe_router"),
    _type_flag("REQ_CORRELATE", 52, "req_correlate"),
    _type_flag("REQ_RELAXED", 53, "req_relaxed"),
    _flag("CONFLATE", 54, "conflate"),
    # Kept and read back: with no ZAP handler, NULL goes on without ZAP.
    Option("ZAP_DOMAIN", 55, "bytes", "zap_domain", b"", 0, ID_MAX),
    _type_flag("ROUTER_HANDOVER", 56, "router_handover"),
    _int("TOS", 57, "tos", 0, low=0),
    _absent("IPC_FILTER_PID", 58),
    _absent("IPC_FILTER_UID", 59),
    _absent("IPC_FILTER_GID", 60),
    Option("CONNECT_ROUTING_ID", 61, "bytes", low=1, high=ID_MAX, access="w", per_type=True, special=True),
    _read_only("GSSAPI_SERVER", 62, default=0),
    _absent("GSSAPI_PRINCIPAL", 63, "bytes"),
    _absent("GSSAPI_SERVICE_PRINCIPAL", 64, "bytes"),
    _read_only("GSSAPI_PLAINTEXT", 65, default=0),
    _int("HANDSHAKE_IVL", 66, "handshake_ivl", 30000, low=0),
    _absent("SOCKS_PROXY", 68, "bytes"),
    _type_flag("XPUB_NODROP", 69, "xpub_nodrop"),
    # libzmq lists BLOCKY with the socket options, but it is a context option.
    _absent("BLOCKY", 70),
    _type_flag("XPUB_MANUAL", 71, "xpub_manual"),
    Option("XPUB_WELCOME_MSG", 72, "bytes", high=INT_MAX, access="w", per_type=True, special=True),
    _type_flag("STREAM_NOTIFY", 73, "stream_notify", default=1),
    _type_flag("INVERT_MATCHING", 74, "invert_matching", access="rw"),
    _int("HEARTBEAT_IVL", 75, "heartbeat_ivl", 0, low=0),
    _int("HEARTBEAT_TTL", 76, "heartbeat_ttl", 0, low=0, high=6553599, step=100),
    _int("HEARTBEAT_TIMEOUT", 77, "heartbeat_timeout", -1),
    _type_flag("XPUB_VERBOSER", 78, "xpub_verboser"),
    _int("CONNECT_TIMEOUT", 79, "connect_timeout", 0, low=0),
    _int("TCP_MAXRT", 80, "tcp_maxrt", 0, low=0),
    _read_only("THREAD_SAFE", 81),
    _int("MULTICAST_MAXTPDU", 84, "multicast_maxtpdu", 1500, low=1),
    _absent("VMCI_BUFFER_SIZE", 85, "int64"),
    _absent("VMCI_BUFFER_MIN_SIZE", 86, "int64"),
    _absent("VMCI_BUFFER_MAX_SIZE", 87, "int64"),
    _absent("VMCI_CONNECT_TIMEOUT", 88),
    _absent("USE_FD", 89),
    _absent("GSSAPI_PRINCIPAL_NAMETYPE", 90),
    _absent("GSSAPI_SERVICE_PRINCIPAL_NAMETYPE", 91),
    _absent("BINDTODEVICE", 92, "bytes"),
    # Draft options.
    _flag("ZAP_ENFORCE_DOMAIN", 93, "zap_enforce_domain"),
    _absent("LOOPBACK_FASTPATH", 94),
    _absent("METADATA", 95, "bytes"),
    _flag("MULTICAST_LOOP", 96, "multicast_loop", 1),
    _absent("ROUTER_NOTIFY", 97),
    _absent("XPUB_MANUAL_LAST_VALUE", 98),
    _absent("SOCKS_USERNAME", 99, "bytes"),
    _absent("SOCKS_PASSWORD", 100, "bytes"),
    _absent("IN_BATCH_SIZE", 101),
    _absent("OUT_BATCH_SIZE", 102),
    _absent("WSS_KEY_PEM", 103, "bytes"),
    _absent("WSS_CERT_PEM", 104, "bytes"),
    _absent("WSS_TRUST_PEM", 105, "bytes"),
    _absent("WSS_HOSTNAME", 106, "bytes"),
    _absent("WSS_TRUST_SYSTEM", 107),
    _type_flag("ONLY_FIRST_SUBSCRIBE", 108, "only_first_subscribe"),
    _absent("RECONNECT_STOP", 109),
    _absent("HELLO_MSG", 110, "bytes"),
    _absent("DISCONNECT_MSG", 111, "bytes"),
    _absent("PRIORITY", 112),
    _absent("BUSY_POLL", 113),
    _absent("HICCUP_MSG", 114, "bytes"),
    _type_flag("XSUB_VERBOSE_UNSUBSCRIBE", 115, "xsub_verbose_unsubscribe"),
    _read_only("TOPICS_COUNT", 116),  # the pub/sub types (row fact counts_topics)
    _absent("NORM_MODE", 117),
    _absent("NORM_UNICAST_NACK", 118),
    _absent("NORM_BUFFER_SIZE", 119),
    _absent("NORM_SEGMENT_SIZE", 120),
    _absent("NORM_BLOCK_SIZE", 121),
    _absent("NORM_NUM_PARITY", 122),
    _absent("NORM_NUM_AUTOPARITY", 123),
    _absent("NORM_PUSH", 124),
)

# Old names libzmq keeps for the options above: alias -> name.
ALIASES: dict[str, str] = {
    "IDENTITY": "ROUTING_ID",
    "CONNECT_RID": "CONNECT_ROUTING_ID",
    "DELAY_ATTACH_ON_CONNECT": "IMMEDIATE",
    "FAIL_UNROUTABLE": "ROUTER_MANDATORY",
    "ROUTER_BEHAVIOR": "ROUTER_MANDATORY",
}

BY_NAME: dict[str, Option] = {o.name: o for o in OPTIONS}
BY_NUMBER: dict[int, Option] = {o.number: o for o in OPTIONS}


def _check_table() -> None:
    """Fails at import on a table that contradicts itself."""
    assert len(BY_NAME) == len(OPTIONS) and len(BY_NUMBER) == len(OPTIONS), "duplicate option"
    assert all(0 < o.number < 128 for o in OPTIONS), "the core's array holds numbers below 128"
    for o in OPTIONS:
        assert o.type in ("int", "int64", "bytes", "fd"), o
        assert o.access in ("rw", "r", "w"), o
        assert o.low <= o.high and o.step >= 1, o
        assert not (o.special and o.mechanism), f"{o.name}: one owner"
        held_by_field = o.implemented and not o.special and o.mechanism is None
        if held_by_field and "r" in o.access and o.field is None:
            assert o.access == "r" and o.default is not None, f"{o.name}: reads nothing"
        if held_by_field and "w" in o.access:
            assert o.field is not None, f"{o.name}: set stores nowhere"
    for alias, name in ALIASES.items():
        assert name in BY_NAME and alias not in BY_NAME, alias


_check_table()
