# The fast write path: the socket's own thread writes a message to an idle
# connection's fd, with no hop through the io thread.
#
# Normally a message goes socket -> pipe -> (ACTIVATE_READ wakes the io
# thread) -> engine -> write(). When the engine has nothing left to write
# and has found the pipe empty, that hop is all the message pays for, and on
# a small machine it is most of a round trip. So the engine then *opens* the
# pipe's fast path (fastw_t in pipe.pxi: the fd and its empty out buffer),
# and the socket, when it finishes a message that is the only one not yet
# taken by the session, frames it into that buffer and writes it itself.
#
# Exactly one thread touches the fd's output and the out buffer at a time:
# the spin flag `lock`. The socket only try-locks (never waits: busy means
# "take the pipe"); the io thread closes the path (lock, fd = -1, unlock)
# before it does anything with the out buffer or the fd, so it waits at most
# for one non-blocking write. Closing happens at the start of every engine
# write, before a PONG is queued, at unplug, and before the fd is closed;
# opening only at the end of an engine write that emptied everything.
#
# Order: the socket writes directly only when every message it sent before
# was taken from the pipe by the session (msgs_written - msgs_read == 1,
# the one being this message), and those taken were written out (the path
# is open only then: a take happens inside an engine write, which closed it
# and reopens it only once the buffer is empty). A short write leaves the
# rest in the engine's out buffer, closes the path itself and wakes the
# engine (ACTIVATE_READ), which writes that rest before anything else.
#
# Only for the first send on a pipe since the socket received a message
# (the caller decides: see sock_flush_pipe). That is a request/reply
# rhythm, where the hop costs a round trip its latency. A stream of sends
# goes through the io thread, which packs many messages into one write:
# written one by one from the caller's thread, a 64 B stream was 30-90%
# slower.
#
# Narrow on purpose: the ZMTP engine with a mechanism that does not wrap
# frames (NULL, PLAIN), plain data frames only (no subscriptions or
# commands), no CONFLATE, at most FAST_MAX_FRAMES frames of at most
# COPY_MAX bytes each.

cdef enum:
    FAST_MAX_FRAMES = 8


cdef void fastw_open(fastw_t *fw, int fd, stream_out_t *out) noexcept nogil:
    """[io thread] The engine is idle with an empty out buffer."""
    mq_spin_lock(&fw.lock)
    fw.fd = fd
    fw.out = out
    mq_spin_unlock(&fw.lock)


cdef void fastw_close(fastw_t *fw) noexcept nogil:
    """[io thread] From now on only the io thread writes the fd and the
    out buffer (which may hold the rest of a short fast write)."""
    mq_spin_lock(&fw.lock)
    fw.fd = -1
    fw.out = NULL
    mq_spin_unlock(&fw.lock)


cdef size_t fastw_encode(msg_t **frames, int n, unsigned char *buf) noexcept nogil:
    """Frames n messages' parts as the engine's fill would (data frames,
    MORE on all but the last). 0 when one of them is not for this path."""
    cdef size_t len = 0
    cdef int i
    cdef msg_t *m
    for i in range(n):
        m = frames[i]
        if m.flags & ~MSG_MORE or m.size > COPY_MAX:
            return 0
        if (i < n - 1) != ((m.flags & MSG_MORE) != 0):
            return 0
    for i in range(n):
        m = frames[i]
        len += frame_header(buf + len, ZMTP_MORE if m.flags & MSG_MORE else 0, m.size)
        if m.size:
            memcpy(buf + len, msg_data(m), m.size)
            len += m.size
    return len


cdef int fastw_send(pipe_end_t *e) noexcept nogil:
    """[e's owner, a socket] e's newest message is complete and not flushed
    yet. Writes it to the connection directly when the fast path is open
    and nothing sent before it is still queued; it is then taken out of the
    pipe. 1: written whole; 2: written in part, the engine writes the rest;
    0: not done, flush as usual."""
    cdef fastw_t *fw = &e.pipe.fw
    cdef msg_t *frames[FAST_MAX_FRAMES]
    cdef stream_out_t *out
    cdef int n
    cdef size_t len
    cdef ssize_t w
    cdef iovec iov
    cdef bint short_write = False
    if mq_int_load_relaxed(&fw.fd) < 0:
        return 0                        # a hint; checked again under the lock
    if e.more_out or e.msgs_written - mq_u64_load(&e.peer.msgs_read) != 1:
        return 0
    n = ypipe_unflushed(e.outq, frames, FAST_MAX_FRAMES)
    if n <= 0:
        return 0
    if not mq_spin_trylock(&fw.lock):
        return 0                        # the io thread is at it: take the pipe
    if fw.fd < 0:
        mq_spin_unlock(&fw.lock)
        return 0
    out = <stream_out_t *>fw.out
    len = fastw_encode(frames, n, out.buf)
    if len == 0:
        mq_spin_unlock(&fw.lock)
        return 0
    iov.iov_base = out.buf
    iov.iov_len = len
    w = mq_writev(fw.fd, &iov, 1)
    if w != <ssize_t>len:
        # Full socket (or an error the engine will meet on its next
        # write): the rest waits in the out buffer, the engine's again.
        out.pos = w if w > 0 else 0
        out.len = len
        fw.fd = -1
        fw.out = NULL
        short_write = True
    mq_spin_unlock(&fw.lock)
    ypipe_unwrite_all(e.outq)
    e.msgs_written -= 1
    if short_write:
        pipe_send_command(e.peer, CMD_ACTIVATE_READ, 0)
        return 2
    return 1
