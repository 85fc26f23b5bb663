"""Target: the traffic phase of a connection: data frames and commands
(PING with TTL and context, PONG, SUBSCRIBE, CANCEL, ERROR, unknown ones,
commands with MORE or reserved flag bits).

Input: [socket type][options][split][outgoing] then frames sent after a
valid greeting and a READY the socket type accepts (both made here). The
real session must deliver, answer (PONG) and refuse exactly as the model
says, with HWM backpressure and MAXMSGSIZE as the options byte chose. The
outgoing byte makes the socket send meanwhile (large bodies, multipart,
many messages) to a peer that reads nothing until the end: its frames must
come out whole and in order, with answers only between them.""" 
import fuzzlib
from fuzzlib import model

TARGET = "commands"

# A peer type each socket type accepts.
PEER = {0: 0, 1: 2, 2: 1, 3: 4, 4: 3, 5: 6, 6: 5, 7: 8, 8: 7, 9: 10, 10: 9,
        11: 11, 12: 13, 13: 12, 19: 19, 20: 20}


def prefix(cfg):
    return model.greeting() + model.ready_frame(PEER[cfg.socket_type], b"peer-id")


def TestOneInput(data):
    if len(data) < 4:
        return
    cfg = fuzzlib.Config(data[0], data[1])
    if cfg.maxmsgsize >= 0 and cfg.maxmsgsize < 30:
        cfg.maxmsgsize = -1         # the READY itself must pass
    fuzzlib.check_engine(cfg, prefix(cfg) + bytes(data[4:]), data[2], fuzzlib.outgoing(data[3]))


if __name__ == "__main__":
    fuzzlib.main(TestOneInput, TARGET)
