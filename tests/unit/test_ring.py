"""The lock-free SPSC ring (ypipe) across two real threads."""
from mqcore import _core


def test_two_threads_move_millions_of_messages_in_order():
    checked, wakeups = _core._ring_stress(3_000_000)
    assert checked == 3_000_000
    # The reader slept and was woken; batching means far fewer wake-ups
    # than messages.
    assert 0 < wakeups < 3_000_000 // 16 + 1


def test_small_runs_still_complete():
    for n in (1, 2, 255, 256, 257, 1000):
        assert _core._ring_stress(n)[0] == n
