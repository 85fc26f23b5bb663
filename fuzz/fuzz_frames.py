"""Target: the incremental frame decoder (decoder_feed, as the engine runs
it over each read).

Input: [MAXMSGSIZE choice][split] then a stream of frames. Short and long
sizes, flags with reserved bits, sizes over MAXMSGSIZE and absurd ones.
Checks: the frames and the error equal the model's whatever the split; an
error is only ever ZMQError EMSGSIZE/EPROTO/ENOMEM; a decoded frame
re-encodes (canonically) to bytes that decode to the same frame; what is
still owed to a body never exceeds its declared size."""
import errno
import fuzzlib
from fuzzlib import ZMQError, _core, model

TARGET = "frames"
ERRORS = {errno.EMSGSIZE: "EMSGSIZE", errno.EPROTO: "EPROTO", errno.ENOMEM: "ENOMEM"}


def decode(pieces, maxmsgsize):
    d = _core._FuzzDecoder(maxmsgsize)
    frames = []
    for p in pieces:
        got, err = d.feed_until_error(p)
        frames += got
        if err:
            assert err in ERRORS, err
            return frames, ERRORS[err], d
    return frames, None, d


def TestOneInput(data):
    if len(data) < 2:
        return
    maxmsgsize = fuzzlib.MAXMSGSIZES[data[0] % len(fuzzlib.MAXMSGSIZES)]
    stream = bytes(data[2:])
    want, want_err = model.decode_frames(stream, maxmsgsize)
    frames, err, d = decode(fuzzlib.chunks(stream, data[1]), maxmsgsize)
    ctx = (stream[:200], maxmsgsize, data[1])
    if isinstance(want_err, tuple):
        # A size malloc may or may not reserve: ENOMEM, or waiting for it.
        assert err in (None, "ENOMEM"), ctx + (err,)
        if err is None:
            assert d.body_missing <= want_err[1], ctx
    else:
        assert err == want_err, ctx + (err, want_err)
    assert frames == want, ctx + (frames[:5], want[:5])
    whole, whole_err, _ = decode([stream], maxmsgsize)
    # (Whether malloc takes a huge size can change between two tries.)
    same_err = whole_err == err or isinstance(want_err, tuple)
    assert whole == frames and same_err, ctx + ("split changed the outcome",)
    try:
        plain, plain_err = _core._Decoder(maxmsgsize).feed(stream), None
    except ZMQError as e:       # the one error type, with the same errno
        plain, plain_err = None, ERRORS.get(e.errno, e)
    if not isinstance(want_err, tuple):
        assert plain_err == err and (err or plain == frames), ctx + (plain_err,)
    assert sum(len(b) for _, b in frames) <= len(stream)
    for flags, body in frames:
        assert maxmsgsize < 0 or len(body) <= maxmsgsize
        more, command = bool(flags & model.MSG_MORE), bool(flags & model.MSG_COMMAND)
        wire = _core._encode_frame(body, more=more, command=command)
        assert wire == model.encode_frame(body, more, command), (body, flags)
        again, again_err, _ = decode([wire], -1)
        assert again == [(flags, body)] and again_err is None, (body, flags)


if __name__ == "__main__":
    fuzzlib.main(TestOneInput, TARGET)
