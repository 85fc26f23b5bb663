"""Print a new CURVE key pair: ``python -m mqcore.curve_keygen``.

As ``python -m zmq.curve_keygen``: both keys Z85-encoded (always printable),
``--json`` prints them as {"public": ..., "secret": ...}, and
``--secret KEY`` prints the public key belonging to an existing secret key
instead of making a new pair.
"""

from __future__ import annotations

import argparse
import json
import sys

from mqcore.auth._keys import keypair, public_of


def _parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m mqcore.curve_keygen", description=__doc__
    )
    parser.add_argument("--json", action="store_true", help="output keys as JSON dict")
    parser.add_argument("--secret", type=str, help="specify secret key to derive a public key")
    return parser.parse_args(argv)


def _main(argv=None) -> None:
    opts = _parse_args(argv)
    if opts.secret:
        secret = opts.secret
        public = public_of(secret.encode()).decode()
    else:
        public_b, secret_b = keypair()
        public, secret = public_b.decode(), secret_b.decode()
    if opts.json:
        json.dump({"public": public, "secret": secret}, sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")
        return
    # libzmq's curve_keygen layout, minus its disclaimer.
    print("== CURVE PUBLIC KEY ==")
    print(public)
    print()
    print("== CURVE SECRET KEY ==")
    print(secret)


if __name__ == "__main__":
    _main()
