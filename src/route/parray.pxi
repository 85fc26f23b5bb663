# An array of pipe ends whose first `active` items are the usable ones
# (libzmq's array_t as lb/fq use it). Each end stores its own position, so
# activating, deactivating and removing are O(1) swaps. `which` picks the
# position field: an end can sit in the load-balancer and the fair-queue at
# once, with different activity in each.

cdef enum:
    PA_LB = 0
    PA_FQ = 1

cdef struct parray_t:
    pipe_end_t **items
    int n
    int cap
    int active
    int cur
    int which


cdef inline int *pa_index(parray_t *a, pipe_end_t *e) noexcept nogil:
    if a.which == PA_LB:
        return &e.lb_index
    return &e.fq_index


cdef inline void pa_swap(parray_t *a, int i, int j) noexcept nogil:
    cdef pipe_end_t *t
    if i == j:
        return
    t = a.items[i]
    a.items[i] = a.items[j]
    a.items[j] = t
    pa_index(a, a.items[i])[0] = i
    pa_index(a, a.items[j])[0] = j


cdef int pa_reserve(parray_t *a) noexcept nogil:
    """Room for one more end. ENOMEM without memory."""
    cdef pipe_end_t **grown
    if a.n < a.cap:
        return 0
    grown = <pipe_end_t **>mq_realloc(a.items, sizeof(pipe_end_t *) * (a.cap * 2 + 8))
    if grown == NULL:
        return ENOMEM
    a.items = grown
    a.cap = a.cap * 2 + 8
    return 0


cdef int pa_add_active(parray_t *a, pipe_end_t *e) noexcept nogil:
    """ENOMEM (a unchanged) without memory."""
    if pa_reserve(a) != 0:
        return ENOMEM
    a.items[a.n] = e
    pa_index(a, e)[0] = a.n
    a.n += 1
    pa_swap(a, a.n - 1, a.active)
    a.active += 1
    return 0


cdef inline bint pa_contains(parray_t *a, pipe_end_t *e) noexcept nogil:
    cdef int i = pa_index(a, e)[0]
    return i >= 0 and i < a.n and a.items[i] == e


cdef void pa_activate(parray_t *a, pipe_end_t *e) noexcept nogil:
    cdef int i
    if not pa_contains(a, e):
        return
    i = pa_index(a, e)[0]
    if i >= a.active:
        pa_swap(a, i, a.active)
        a.active += 1


cdef void pa_deactivate(parray_t *a, pipe_end_t *e) noexcept nogil:
    cdef int i
    if not pa_contains(a, e):
        return
    i = pa_index(a, e)[0]
    if i < a.active:
        a.active -= 1
        pa_swap(a, i, a.active)
        if a.cur >= a.active:
            a.cur = 0


cdef void pa_remove(parray_t *a, pipe_end_t *e) noexcept nogil:
    if not pa_contains(a, e):
        return
    pa_deactivate(a, e)
    pa_swap(a, pa_index(a, e)[0], a.n - 1)
    a.n -= 1
    pa_index(a, e)[0] = -1
    if a.cur >= a.active:
        a.cur = 0
