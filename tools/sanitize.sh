#!/usr/bin/env bash
# Runs the test suite (or the pytest arguments given) against a build of the
# core made with AddressSanitizer and UndefinedBehaviorSanitizer, and fails
# if either reports anything, in the test process or in any process it
# starts.
#
#   tools/sanitize.sh                      # the whole suite
#   tools/sanitize.sh tests/fault -x       # any pytest arguments
#
# The build is made in a scratch copy of the working tree, so the checkout
# and the installed mqcore are left as they are. Needs gcc's libasan and
# libubsan (Debian: libgcc-12-dev, there with gcc).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/mqcore-san.XXXXXX")"
trap 'rm -rf "$work"' EXIT
logs="$work/reports"
mkdir -p "$work/tree" "$logs"

# Tracked and new (not ignored) files: what the suite would test.
(cd "$root" && git ls-files -z -co --exclude-standard | xargs -0 cp --parents -t "$work/tree")

cd "$work/tree"
echo "sanitize: building the core with -fsanitize=address,undefined" >&2
MQCORE_SANITIZE=address,undefined python3 setup.py -q build_ext --inplace >"$work/build.log" 2>&1 \
    || { cat "$work/build.log" >&2; exit 1; }

# Python is not built with ASan, so its runtime must be loaded first.
asan="$(gcc -print-file-name=libasan.so)"
ubsan="$(gcc -print-file-name=libubsan.so)"
export LD_PRELOAD="$asan $ubsan${LD_PRELOAD:+ $LD_PRELOAD}"
# Leak checking is off: CPython itself leaves memory behind at exit. A
# refused allocation returns NULL (the core handles it) instead of ending
# the process, and allocations over 4 GiB are refused: ASan writes the
# shadow of a whole block when it hands it out, so the gigabytes a hostile
# peer merely announces would become resident. A small quarantine keeps the
# memory the tests measure close to what an ordinary build uses.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1:max_allocation_size_mb=4096:quarantine_size_mb=16:log_path=$logs/asan:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan:${UBSAN_OPTIONS:-}"
export PYTHONMALLOC=malloc   # let ASan see every allocation
export MQCORE_SANITIZED=1    # tests that measure RSS scale their bounds

status=0
# Without -P the scratch tree's mqcore/ (with its sanitized core) comes first.
python3 -m pytest -p no:cacheprovider "${@:-tests}" || status=$?

# A log holding only warnings (a refused huge allocation, which the core
# handles) is not a report; an error or runtime-error summary is.
reports="$(grep -l -e "SUMMARY: " -e "ERROR: " "$logs"/* 2>/dev/null || true)"
if [ -n "$reports" ]; then
    echo "sanitize: reports follow" >&2
    for f in $reports; do echo "== $f" >&2; cat "$f" >&2; done
    exit 1
fi
exit "$status"
