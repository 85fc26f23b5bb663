# The fast read path: a socket's thread blocked in a receive reads the
# connection's fd itself, with no hop through the io thread.
#
# Normally a message goes fd -> (epoll wakes the io thread) -> engine ->
# pipe -> (ACTIVATE_READ wakes the socket's thread). On a request/reply
# round trip the first of those wake-ups is most of what mqcore adds to the
# kernel's own cost. So an engine that has decoded everything it read and
# sits at a frame boundary *opens* the pipe's read path (fastr_t in
# pipe.pxi: the fd, the session and the engine's take function); a socket
# about to sleep in a receive on its only pipe then sleeps on that fd as
# well as on its mailbox (fastr_wait), and when the fd wakes it, runs the
# engine's take under the path's flag: one read into the engine's own
# buffer, frames decoded by the engine's decoder and written into the pipe,
# as the io thread would have done.
#
# Exclusion: the io thread closes the path (flag, fd = -1) whenever it
# enters the session (an fd event, a command, a timer) and opens it again
# when it leaves with the engine's input idle (session_read_on). The
# socket's thread touches the engine's input and the pipe's writing side
# only while it holds the flag with the path open, so exactly one thread
# owns them at any time and the flag orders each handover.
#
# Who reads first: data wakes both the socket's thread (poll) and the io
# thread (epoll). The io thread, finding the path lent (the socket sleeps on
# the fd), waits up to FASTR_DEFER_NS for the socket's thread to take it;
# when it did, there is nothing left for the io thread to do (what the read
# left behind keeps the fd readable, and epoll reports it again). A socket's
# thread that is slow to run loses only the shortcut: the io thread reads,
# the message comes through the pipe as usual.
#
# What the socket's thread does not handle it leaves to the engine and
# closes the path: a command frame (PING, subscriptions...), a frame the
# pipe has no room for, a decoding error, a frame not complete yet. It then
# wakes the session with ACTIVATE_WRITE (s.in_resume), whose restart_input
# decodes what is buffered as if the io thread had read it. End of file
# (and an error, after which the socket reads as at its end) stays for the
# io thread's own read to find.

cdef enum:
    FASTR_DEFER_NS = 50000      # how long the io thread lets a woken socket go first

    # fastr_wait's result bits (0: timed out)
    FASTR_SIGNALLED = 1         # the mailbox has commands
    FASTR_ACTIVATE = 2          # frames went into the pipe while its reader slept
    FASTR_WOKEN = 4             # the fd woke the socket
    FASTR_TOOK = 8              # ... and frames were read there


ctypedef int (*fastr_take_fn)(fastr_t *fr) noexcept nogil


# ---------------------------------------------------------------- io thread

cdef void fastr_open(fastr_t *fr, int fd, void *sess, fastr_take_fn take) noexcept nogil:
    """[io thread] The engine's input is idle: the socket may read fd."""
    mq_spin_lock(&fr.lock)
    fr.fd = fd
    fr.sess = sess
    fr.take = take
    mq_spin_unlock(&fr.lock)


cdef void fastr_close(fastr_t *fr) noexcept nogil:
    """[io thread] Waits out a take in progress; from now on only the io
    thread touches the engine's input and the pipe's writing side."""
    mq_spin_lock(&fr.lock)
    fr.fd = -1
    fr.sess = NULL
    mq_spin_unlock(&fr.lock)


cdef bint fastr_yield(fastr_t *fr) noexcept nogil:
    """[io thread] The fd is readable. True when the socket's thread, which
    was sleeping on it, came for it within FASTR_DEFER_NS: the io thread
    has nothing to do. Waits yielding its CPU, which may be the one the
    socket's thread needs (both pinned to one CPU: as fast as a plain
    socket; spinning instead made unpinned round trips 3x slower on a
    2-core VM)."""
    cdef long long t0
    if not mq_int_load(&fr.lent):
        return False
    t0 = mq_now_ns()
    while mq_int_load(&fr.lent):
        if mq_now_ns() - t0 > FASTR_DEFER_NS:
            return False
        sched_yield()
    return True


# ---------------------------------------------------------------- socket's thread

cdef int fastr_wait(fastr_t *fr, mq_sig_t *sig, int timeout_ms) noexcept nogil:
    """[end 0's owner, which found nothing to receive] Sleeps on its
    mailbox and, when the path is open, on the connection's fd; takes what
    the fd brought. FASTR_* bits, 0 on timeout, -1 on a signal (EINTR)."""
    cdef int fd, ready
    cdef int took = 0
    if not mq_spin_trylock(&fr.lock):
        return mq_sig_wait(sig, timeout_ms)     # the io thread is in: as usual
    fd = fr.fd
    if fd >= 0:
        mq_int_store(&fr.lent, 1)
    mq_spin_unlock(&fr.lock)
    if fd < 0:
        return mq_sig_wait(sig, timeout_ms)
    ready = mq_sig_wait_fd(sig, fd, timeout_ms)
    mq_spin_lock(&fr.lock)
    mq_int_store(&fr.lent, 0)
    if ready > 0 and (ready & 2) and fr.fd >= 0:
        took = fr.take(fr) | FASTR_WOKEN
    mq_spin_unlock(&fr.lock)
    if ready < 0:
        return -1
    return (ready & FASTR_SIGNALLED) | took
