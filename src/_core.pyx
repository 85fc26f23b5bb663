# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, embedsignature=True
"""mqcore's core: message parts, lock-free pipes, io threads, the ZMTP
engine, transports, routing and socket types, compiled as one extension.

The files below are included in dependency order: a lower layer never uses
a higher one (base -> pipe -> wire -> io/engine/transport -> route -> proto
-> api)."""

cimport cython
from libc.stdlib cimport malloc, calloc, realloc, free, abort, getenv, rand
from libc.string cimport memcpy, memmove, memset, memcmp, strlen, strcmp, strncpy, strchr, memchr
from libc.stdint cimport uint32_t, uint64_t, int64_t

from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBuffer_FillInfo, PyBUF_SIMPLE, PyBUF_ANY_CONTIGUOUS, PyBUF_WRITABLE
from cpython.exc cimport PyErr_CheckSignals

from includes.mq_c cimport *

include "base/errors.pxi"
include "base/socket_types.pxi"
include "base/options.pxi"
include "base/pool.pxi"
include "base/msg.pxi"
include "base/msgq.pxi"
include "pipe/ypipe.pxi"
include "pipe/mailbox.pxi"
include "pipe/pipe.pxi"
include "monitor.pxi"
include "wire/codec.pxi"
include "wire/pgm_codec.pxi"
include "wire/pgm_rx.pxi"
include "wire/pgm_peers.pxi"
include "mech/mechanism.pxi"
include "mech/null.pxi"
include "mech/plain.pxi"
include "mech/sodium.pxi"
include "mech/curve.pxi"
include "io/timers.pxi"
include "io/io_thread.pxi"
include "transport/transport.pxi"
include "transport/tcp.pxi"
include "transport/ipc.pxi"
include "transport/inproc.pxi"
include "transport/udp.pxi"
include "transport/pgm.pxi"
include "engine/engine.pxi"
include "engine/zap_slot.pxi"
include "engine/stream_out.pxi"
include "engine/fast_write.pxi"
include "engine/fast_read.pxi"
include "engine/session.pxi"
include "engine/zmtp_engine.pxi"
include "engine/zap.pxi"
include "engine/raw_engine.pxi"
include "engine/udp_engine.pxi"
include "engine/pgm_engine.pxi"
include "engine/listener.pxi"
include "route/parray.pxi"
include "route/trie.pxi"
include "proto/socket_base.pxi"
include "route/lb.pxi"
include "route/fq.pxi"
include "proto/reqrep.pxi"
include "proto/pubsub.pxi"
include "proto/stream.pxi"
include "proto/draft.pxi"
include "proto/radiodish.pxi"
include "proto/types.pxi"
include "proxy.pxi"
include "api/frame.pxi"
include "api/context.pxi"
include "api/endpoint.pxi"
include "api/socket.pxi"
include "api/options.pxi"
include "api/poll.pxi"
include "api/misc.pxi"
include "api/proxy.pxi"
include "api/testing.pxi"
