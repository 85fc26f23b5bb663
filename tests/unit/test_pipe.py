"""Pipe high-water marks and credit (SOCKETS.md 1.2)."""
from mqcore import _core

ACTIVATE_READ, ACTIVATE_WRITE, PIPE_TERM = 1, 2, 3


def test_writer_stops_at_hwm():
    p = _core._PipeProbe(10, 10)
    assert p.write(25) == 10
    assert p.write(1) == 0


def test_hwm_zero_means_no_limit():
    p = _core._PipeProbe(0, 0)
    assert p.write(50_000) == 50_000
    assert p.read(60_000) == 50_000


def test_credit_comes_back_every_lwm_messages_with_one_command():
    p = _core._PipeProbe(10, 10)
    assert p.lwm == 5
    assert p.write(11) == 10                  # the 11th parks the writer
    assert p.read(4) == 4
    assert p.writer_commands() == []          # below the low-water mark
    assert p.read(1) == 1
    assert p.writer_commands() == [ACTIVATE_WRITE]
    assert p.write(10) == 5


def test_no_command_when_the_writer_never_parked():
    p = _core._PipeProbe(10, 10)
    p.write(5)
    p.read(5)
    assert p.writer_commands() == []


def test_multipart_counts_once_and_is_invisible_until_complete():
    p = _core._PipeProbe(2, 2)
    assert p.write(3, more=True) == 3         # frames of one unfinished message
    assert p.read(1) == 0                     # nothing published yet
    assert p.write(1) == 1                    # the last frame completes it
    assert p.read(10) == 4
    assert p.write(5) == 2


def test_reader_asleep_gets_one_wakeup_per_batch():
    p = _core._PipeProbe(0, 0)
    assert p.read(1) == 0                     # drained: the reader sleeps
    p.write(3)
    assert p.reader_commands() == [ACTIVATE_READ]
    p.write(3)
    assert p.reader_commands() == []          # awake until it drains again


def test_closing_the_writer_delivers_what_was_sent_then_ends():
    p = _core._PipeProbe(0, 0)
    p.write(3)
    p.close_writer()
    assert PIPE_TERM in p.reader_commands()
    assert p.read(10) == 3
