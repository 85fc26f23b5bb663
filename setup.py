"""Builds mqcore's one extension, mqcore._core, from src/_core.pyx."""
import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))

extra_compile_args = ["-O2", "-Wno-unused-function", "-Wno-unreachable-code"]
extra_link_args = []
if sys.platform.startswith("linux"):
    extra_compile_args.append("-pthread")
    extra_link_args.append("-pthread")

# MQCORE_SANITIZE=address,undefined builds the core with those sanitizers
# (tools/sanitize.sh runs the test suite on such a build). Frame pointers and
# -O1 keep the reports' stacks readable; UBSan stops at its first report so
# that a test cannot pass over one.
SANITIZE = os.environ.get("MQCORE_SANITIZE", "").strip()
if SANITIZE:
    flags = [f"-fsanitize={SANITIZE}", "-fno-omit-frame-pointer", "-g"]
    if "undefined" in SANITIZE:
        flags.append("-fno-sanitize-recover=undefined")
    extra_compile_args = [a for a in extra_compile_args if a != "-O2"] + ["-O1"] + flags
    extra_link_args += flags

extensions = [
    Extension(
        "mqcore._core",
        ["src/_core.pyx"],
        include_dirs=[os.path.join("src", "c"), "src"],
        extra_compile_args=extra_compile_args,
        extra_link_args=extra_link_args,
    )
]

# What Cython is told for every build of the core.
CYTHON_OPTIONS = dict(
    include_path=["src"],
    compiler_directives={
        "language_level": 3,
        "boundscheck": False,
        "wraparound": False,
        "cdivision": True,
        "embedsignature": True,
    },
    annotate=bool(os.environ.get("MQCORE_ANNOTATE")),
)


class CythonizingBuildExt(build_ext):
    """Runs Cython when an extension is built, and only then: metadata,
    egg_info and sdist neither need Cython nor regenerate src/_core.c.
    (Cython's own build_ext does the same: cythonize, then compile the
    generated C in place of the .pyx.)"""

    def build_extension(self, ext):
        from Cython.Build import cythonize

        (generated,) = cythonize([ext], **CYTHON_OPTIONS)
        ext.sources = generated.sources
        super().build_extension(ext)


setup(ext_modules=extensions, cmdclass={"build_ext": CythonizingBuildExt})
