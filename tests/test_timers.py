"""The io thread's timers (src/io/timers.pxi): an intrusive binary min-heap.
Timers fire earliest first, cancel and re-arm move them, a callback may
re-arm its own timer, and thousands of timers keep the heap's invariants;
the next deadline is the heap's top."""
import os
import random

import pytest

pytestmark = pytest.mark.skipif(
    (os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore") != "mqcore",
    reason="drives mqcore's io timers through its test-only entry points")

from mqcore import _core  # noqa: E402


def test_timers_fire_in_deadline_order():
    t = _core._Timers(5)
    for i, d in enumerate([50, 10, 40, 20, 30]):
        t.arm(i, d)
    t.check()
    assert t.next_deadline() == 10
    assert t.run(25) == [1, 3]
    assert t.next_deadline() == 30
    assert t.run(100) == [4, 2, 0]
    assert t.next_deadline() == -1
    assert t.timeout() == -1
    assert not any(t.armed(i) for i in range(5))


def test_nothing_fires_before_its_deadline():
    t = _core._Timers(2)
    t.arm(0, 100)
    t.arm(1, 100)
    assert t.run(99) == []
    assert sorted(t.run(100)) == [0, 1]


def test_cancel_removes_a_timer_wherever_it_is():
    t = _core._Timers(4)
    for i in range(4):
        t.arm(i, 10 * (i + 1))
    t.cancel(0)          # the top
    t.cancel(2)          # the middle
    t.cancel(2)          # twice: nothing
    t.check()
    assert t.size == 2
    assert t.run(1000) == [1, 3]


def test_rearm_moves_a_timer_earlier_or_later():
    t = _core._Timers(3)
    t.arm(0, 10)
    t.arm(1, 20)
    t.arm(2, 30)
    t.arm(0, 40)         # later
    t.arm(2, 5)          # earlier
    t.check()
    assert t.size == 3
    assert t.run(100) == [2, 1, 0]


def test_arm_earlier_never_moves_a_timer_later():
    t = _core._Timers(1)
    t.arm_earlier(0, 50)
    t.arm_earlier(0, 80)
    assert t.deadline(0) == 50
    t.arm_earlier(0, 20)
    assert t.deadline(0) == 20


def test_a_callback_may_rearm_its_own_timer():
    t = _core._Timers(2)
    t.rearm_on_fire(0, 10)
    t.arm(0, 0)
    t.arm(1, 25)
    assert t.run(0) == [0]
    assert t.deadline(0) == 10
    # The callback re-arms for `now` + 10: once per run, never in a loop.
    assert t.run(30) == [0, 1]
    assert t.deadline(0) == 40
    t.rearm_on_fire(0, 0)
    t.cancel(0)
    assert t.next_deadline() == -1


def test_thousands_of_timers_keep_the_heap_ordered():
    rng = random.Random(7)
    n = 5000
    t = _core._Timers(n)
    deadlines = {}
    for i in range(n):
        deadlines[i] = rng.randrange(1_000_000)
        t.arm(i, deadlines[i])
    t.check()
    for i in rng.sample(range(n), 1500):
        t.cancel(i)
        del deadlines[i]
    for i in rng.sample(sorted(deadlines), 1500):
        deadlines[i] = rng.randrange(1_000_000)
        t.arm(i, deadlines[i])
    t.check()
    assert t.size == len(deadlines)
    assert t.next_deadline() == min(deadlines.values())
    fired = t.run(500_000)
    t.check()
    assert [deadlines[i] for i in fired] == sorted(d for d in deadlines.values() if d <= 500_000)
    rest = t.run(10 ** 9)
    assert len(fired) + len(rest) == len(deadlines)
    assert [deadlines[i] for i in rest] == sorted(d for d in deadlines.values() if d > 500_000)
    assert t.size == 0


def test_the_timeout_is_zero_once_something_is_due():
    t = _core._Timers(1)
    t.arm(0, 0)          # long past on the monotonic clock
    assert t.timeout() == 0
