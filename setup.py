"""Builds mqcore's one extension, mqcore._core, from src/_core.pyx."""
import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))

extra_compile_args = ["-O2", "-Wno-unused-function", "-Wno-unreachable-code"]
if sys.platform.startswith("linux"):
    extra_compile_args.append("-pthread")

extensions = [
    Extension(
        "mqcore._core",
        ["src/_core.pyx"],
        include_dirs=[os.path.join("src", "c"), "src"],
        extra_compile_args=extra_compile_args,
        extra_link_args=["-pthread"] if sys.platform.startswith("linux") else [],
    )
]

setup(
    ext_modules=cythonize(
        extensions,
        include_path=["src"],
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "embedsignature": True,
        },
        annotate=bool(os.environ.get("MQCORE_ANNOTATE")),
    ),
)
