"""Builds a copy of mqcore whose core is instrumented for libFuzzer, so that
atheris sees coverage and comparisons inside the C code of the engine, not
only in the Python of the targets.

    python fuzz/build_instrumented.py          # -> fuzz/.inst/mqcore
    MQCORE_FUZZ_BUILD=fuzz/.inst python fuzz/fuzz_frames.py ...
    python fuzz/build_instrumented.py --asan   # -> fuzz/.inst-asan, also AddressSanitizer

Needs clang (Debian: `apt-get install clang`). The extension is compiled
with libFuzzer's coverage hooks (inline 8-bit counters, PC table, comparison
tracing: what -fsanitize=fuzzer-no-link gives, less stack-depth), and clang's
libFuzzer runtime is made into fuzz/.inst/libfuzzer_rt.so; fuzzlib preloads
it (LD_PRELOAD) when MQCORE_FUZZ_BUILD is set, so atheris runs on that
libFuzzer, which sees both the Python coverage and the core's. The copy
lives beside the sources: the in-place build and the installed package are
left alone.
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    asan = "--asan" in sys.argv
    out = os.path.join(HERE, ".inst-asan" if asan else ".inst")
    clang = shutil.which("clang")
    if clang is None:
        sys.exit("clang not found: apt-get install clang (or fuzz the ordinary build)")
    env = dict(os.environ)
    env["CC"] = clang
    env["LDSHARED"] = clang + " -shared"
    # What -fsanitize=fuzzer-no-link turns on, less stack-depth tracing,
    # whose thread-local counter atheris' libFuzzer does not export.
    env["CFLAGS"] = "-fsanitize-coverage=inline-8bit-counters,pc-table,trace-cmp -g"
    if asan:
        env["CFLAGS"] += " -fsanitize=address -fno-omit-frame-pointer"
        env["LDSHARED"] += " -fsanitize=address -shared-libasan"
    subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--force",
         "--build-lib", out, "--build-temp", out + "-tmp"],
        cwd=ROOT, env=env, check=True)
    # The package's Python files beside the instrumented core.
    pkg = os.path.join(out, "mqcore")
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, "mqcore")):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        rel = os.path.relpath(dirpath, os.path.join(ROOT, "mqcore"))
        os.makedirs(os.path.join(pkg, rel), exist_ok=True)
        for f in filenames:
            if f.endswith(".py") or f == "py.typed":
                shutil.copy2(os.path.join(dirpath, f), os.path.join(pkg, rel, f))
    # libFuzzer as a shared library to preload: atheris then drives it
    # instead of its own copy, and the core's hooks resolve against it.
    rt = subprocess.run([clang, "--print-file-name=libclang_rt.fuzzer_no_main-x86_64.a"],
                        capture_output=True, text=True, check=True).stdout.strip()
    if not os.path.isabs(rt):
        sys.exit("clang's libFuzzer runtime is missing: apt-get install libclang-rt-dev (or clang)")
    fuzzer_rt = os.path.join(out, "libfuzzer_rt.so")
    subprocess.run([clang, "-shared", "-fPIC", "-o", fuzzer_rt,
                    "-Wl,--whole-archive", rt, "-Wl,--no-whole-archive", "-lstdc++", "-lpthread"],
                   check=True)
    preload = [fuzzer_rt]
    if asan:
        # After libFuzzer: the ASan runtime has weak coverage hooks of its
        # own, which must not win (fuzzlib turns off ASan's check that it
        # comes first).
        asan_rt = subprocess.run([clang, "--print-file-name=libclang_rt.asan-x86_64.so"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        preload.append(asan_rt)
    with open(os.path.join(out, "preload"), "w") as f:
        f.write("\n".join(preload) + "\n")
    print("instrumented mqcore in", pkg)


if __name__ == "__main__":
    main()
