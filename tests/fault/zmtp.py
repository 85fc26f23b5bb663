"""ZMTP 3.1 (NULL mechanism) for raw clients and servers in the fault tests."""

import socket
import struct


def greeting():
    return b"\xff" + b"\x00" * 7 + b"\x01\x7f\x03\x01" + b"NULL".ljust(20, b"\x00") + b"\x00" * 32


def command(name, data=b""):
    body = bytes([len(name)]) + name + data
    return b"\x04" + bytes([len(body)]) + body


def ready(socket_type):
    return command(b"READY", b"\x0bSocket-Type" + struct.pack(">I", len(socket_type)) + socket_type)


def frame(data):
    if len(data) > 255:
        return b"\x02" + struct.pack(">Q", len(data)) + data
    return b"\x00" + bytes([len(data)]) + data


def read_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise EOFError(f"closed after {len(out)} of {n} bytes")
        out += chunk
    return out


def read_frame(sock):
    flags = read_exact(sock, 1)[0]
    size = struct.unpack(">Q", read_exact(sock, 8))[0] if flags & 0x02 else read_exact(sock, 1)[0]
    return flags, read_exact(sock, size)


def closed_by_peer(sock, timeout):
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
