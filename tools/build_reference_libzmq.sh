#!/usr/bin/env bash
# Builds the reference peer for the multicast and draft-type tests: libzmq
# 4.3.4 from Debian's source package (zeromq3, with Debian's patches),
# configured with the draft API, OpenPGM and libsodium, which neither
# pyzmq's wheels nor Debian's libzmq5 offer together.
#
#   tools/build_reference_libzmq.sh [prefix]
#
# The prefix defaults to $MQCORE_REFERENCE_LIBZMQ or
# ~/.cache/mqcore/libzmq-4.3.4-draft-pgm; a finished build there is reused.
# The tests find the library at <prefix>/lib/libzmq.so (tests/reference/).
# Needs root for apt-get (a deb-src entry and the build tools are added when
# missing), about three minutes on two cores.
set -euo pipefail
prefix="${1:-${MQCORE_REFERENCE_LIBZMQ:-$HOME/.cache/mqcore/libzmq-4.3.4-draft-pgm}}"
if [ -e "$prefix/.complete" ]; then
    echo "reference libzmq: reusing $prefix" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive

# apt-get source wants a deb-src line for every suite the binaries come from.
if ! grep -rqs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -e "$f" ] || continue
        sed 's/^Types: deb$/Types: deb-src/' "$f" >"/etc/apt/sources.list.d/mqcore-src-$(basename "$f")"
    done
    if [ -e /etc/apt/sources.list ]; then
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >/etc/apt/sources.list.d/mqcore-src.list
    fi
    updated=0
else
    updated=1
fi
need=()
for p in dpkg-dev autoconf automake libtool pkg-config g++ make libpgm-dev libsodium-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ "$updated" = 0 ] || [ ${#need[@]} -gt 0 ]; then
    apt-get update -q >/dev/null
fi
if [ ${#need[@]} -gt 0 ]; then
    apt-get install -y -q "${need[@]}" >/dev/null
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/mqcore-refzmq.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source -q zeromq3=4.3.4 >/dev/null 2>&1 || apt-get source -q zeromq3 >/dev/null
cd zeromq3-*/
echo "reference libzmq: building $(basename "$PWD") into $prefix" >&2
./autogen.sh >/dev/null 2>&1
# Debian's rules configure with PGM and libsodium; drafts are added here.
./configure -q --prefix="$prefix" --enable-drafts --with-pgm --with-libsodium \
    --disable-Werror --without-docs --disable-static >/dev/null
make -j"$(nproc)" src/libzmq.la >/dev/null 2>&1 || make src/libzmq.la
make install-libLTLIBRARIES install-includeHEADERS >/dev/null
touch "$prefix/.complete"
echo "reference libzmq: done, $prefix/lib/libzmq.so" >&2
