# Timers of an io thread: an intrusive binary min-heap of deadlines.
#
# A timer_t is embedded in the object it belongs to (a session, an engine, a
# listener) and holds its deadline, its slot in the heap and what to call when
# it is due. The heap only holds pointers to armed timers, so the loop's cost
# per wake-up is O(1) to find the next deadline and O(log n) per timer that
# fires: idle connections cost nothing until one of their deadlines comes
# (scanning every session on each wake let a crowd of idle, half-open
# connections slow everyone else's traffic down).
#
# Deadlines that move on every read or write (the heartbeat's "no traffic
# since our PING" deadline) are not moved in the heap: their owner keeps the
# real deadline in a field and re-checks it in the fire callback, re-arming
# if it moved later. The heap sees one operation per heartbeat, not per write.
#
# Arming never fails: when the heap cannot grow (out of memory) the timer
# waits on a short overflow list that each run retries and checks, so a
# deadline is never lost (and an allocation failure costs one connection
# nothing but a little latency).
#
# Only the io thread that owns the heap touches it and its timers.

cdef struct timer_t
ctypedef void (*timer_fire_fn)(timer_t *t, long long now) noexcept nogil

cdef enum:
    TIMER_IDLE = -1             # index of a timer that is not armed
    TIMER_OVERFLOW = -2         # armed, waiting on the overflow list
    TIMERS_FIRST_CAP = 64
    MQ_TIMEOUT_MAX = 2147483647

cdef struct timer_t:
    long long deadline          # ms (mq_now_ms clock) while armed
    int index                   # heap slot, TIMER_IDLE or TIMER_OVERFLOW
    void *owner                 # what the callback works on
    timer_fire_fn fire          # called once when due, the timer already disarmed
    timer_t *overflow_next

cdef struct timers_t:
    timer_t **heap
    int n
    int cap
    timer_t *overflow           # armed timers the heap had no room for


cdef inline void timer_init(timer_t *t, void *owner, timer_fire_fn fire) noexcept nogil:
    t.deadline = -1
    t.index = TIMER_IDLE
    t.owner = owner
    t.fire = fire
    t.overflow_next = NULL


cdef inline bint timer_armed(const timer_t *t) noexcept nogil:
    return t.index != TIMER_IDLE


cdef inline void timers_place(timers_t *tm, timer_t *t, int i) noexcept nogil:
    tm.heap[i] = t
    t.index = i


cdef void timers_sift_up(timers_t *tm, int i) noexcept nogil:
    cdef timer_t *t = tm.heap[i]
    cdef int parent
    while i > 0:
        parent = (i - 1) >> 1
        if tm.heap[parent].deadline <= t.deadline:
            break
        timers_place(tm, tm.heap[parent], i)
        i = parent
    timers_place(tm, t, i)


cdef void timers_sift_down(timers_t *tm, int i) noexcept nogil:
    cdef timer_t *t = tm.heap[i]
    cdef int child
    while True:
        child = 2 * i + 1
        if child >= tm.n:
            break
        if child + 1 < tm.n and tm.heap[child + 1].deadline < tm.heap[child].deadline:
            child += 1
        if t.deadline <= tm.heap[child].deadline:
            break
        timers_place(tm, tm.heap[child], i)
        i = child
    timers_place(tm, t, i)


cdef bint timers_grow(timers_t *tm) noexcept nogil:
    cdef int cap = tm.cap * 2 if tm.cap else TIMERS_FIRST_CAP
    cdef timer_t **heap = <timer_t **>mq_realloc(tm.heap, cap * sizeof(timer_t *))
    if heap == NULL:
        return False
    tm.heap = heap
    tm.cap = cap
    return True


cdef void timers_overflow_remove(timers_t *tm, timer_t *t) noexcept nogil:
    cdef timer_t **link = &tm.overflow
    while link[0] != NULL:
        if link[0] == t:
            link[0] = t.overflow_next
            break
        link = &link[0].overflow_next
    t.overflow_next = NULL
    t.index = TIMER_IDLE


cdef void timer_cancel(timers_t *tm, timer_t *t) noexcept nogil:
    """Disarms t (nothing when it is not armed). O(log n)."""
    cdef int i = t.index
    cdef timer_t *last
    if i == TIMER_IDLE:
        return
    if i == TIMER_OVERFLOW:
        timers_overflow_remove(tm, t)
        return
    t.index = TIMER_IDLE
    tm.n -= 1
    if i == tm.n:
        return
    last = tm.heap[tm.n]
    timers_place(tm, last, i)
    if i > 0 and tm.heap[(i - 1) >> 1].deadline > last.deadline:
        timers_sift_up(tm, i)
    else:
        timers_sift_down(tm, i)


cdef void timer_arm(timers_t *tm, timer_t *t, long long deadline) noexcept nogil:
    """Arms t for `deadline` (ms), moving it if it was armed already.
    O(log n); never fails (see the overflow list above)."""
    cdef long long old = t.deadline
    if t.index >= 0:
        t.deadline = deadline
        if deadline < old:
            timers_sift_up(tm, t.index)
        elif deadline > old:
            timers_sift_down(tm, t.index)
        return
    if t.index == TIMER_OVERFLOW:
        t.deadline = deadline
        return
    t.deadline = deadline
    if tm.n == tm.cap and not timers_grow(tm):
        t.index = TIMER_OVERFLOW
        t.overflow_next = tm.overflow
        tm.overflow = t
        return
    tm.n += 1
    timers_place(tm, t, tm.n - 1)
    timers_sift_up(tm, tm.n - 1)


cdef inline void timer_arm_earlier(timers_t *tm, timer_t *t, long long deadline) noexcept nogil:
    """Arms t for `deadline` unless it is armed for an earlier time already:
    for owners that keep their real deadlines in fields and re-check them
    when the timer fires."""
    if t.index == TIMER_IDLE or deadline < t.deadline:
        timer_arm(tm, t, deadline)


cdef long long timers_next_deadline(timers_t *tm) noexcept nogil:
    """The earliest armed deadline, -1 when none. O(1) (plus the overflow
    list, which is empty unless memory ran out)."""
    cdef long long best = tm.heap[0].deadline if tm.n else -1
    cdef timer_t *t = tm.overflow
    while t != NULL:
        if best < 0 or t.deadline < best:
            best = t.deadline
        t = t.overflow_next
    return best


cdef int timers_timeout(timers_t *tm) noexcept nogil:
    """How long the poller may sleep (ms): -1 forever, 0 something is due."""
    cdef long long best = timers_next_deadline(tm)
    cdef long long now
    if best < 0:
        return -1
    now = mq_now_ms()
    if best <= now:
        return 0
    if best - now > MQ_TIMEOUT_MAX:
        return MQ_TIMEOUT_MAX      # a far deadline must not wrap to "forever" or "now"
    return <int>(best - now)


cdef void timers_run_overflow(timers_t *tm, long long now) noexcept nogil:
    # Rare (memory ran out): move what the heap has room for now into it,
    # then fire what is due among the rest, one at a time from the head (a
    # callback may arm or cancel any of them).
    cdef timer_t *t = tm.overflow
    cdef timer_t *nx
    while t != NULL:
        nx = t.overflow_next
        if tm.n < tm.cap or timers_grow(tm):
            timers_overflow_remove(tm, t)
            timer_arm(tm, t, t.deadline)
        t = nx
    while True:
        t = tm.overflow
        while t != NULL and t.deadline > now:
            t = t.overflow_next
        if t == NULL:
            return
        timers_overflow_remove(tm, t)
        t.fire(t, now)


cdef int timers_run(timers_t *tm, long long now) noexcept nogil:
    """Fires every timer due at `now`, earliest first; returns how many.
    A callback may arm or cancel any timer, its own included."""
    cdef timer_t *t
    cdef int fired = 0
    if tm.overflow != NULL:
        timers_run_overflow(tm, now)
    while tm.n and tm.heap[0].deadline <= now:
        t = tm.heap[0]
        timer_cancel(tm, t)
        t.fire(t, now)
        fired += 1
    return fired


cdef void timers_free(timers_t *tm) noexcept nogil:
    free(tm.heap)
    tm.heap = NULL
    tm.n = 0
    tm.cap = 0
    tm.overflow = NULL
