"""Packaging metadata: a license shipped, authors, URLs, classifiers, one
version source, and an sdist that carries the tests and examples.

These read the source tree the tests live in (its pyproject.toml and
setup.py), so they check the checkout that is being tested.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tarfile
import tempfile

import mqcore

try:
    import tomllib
except ImportError:  # Python < 3.11: the test extra installs tomli
    import tomli as tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _pyproject() -> dict:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)


def _source_version() -> str:
    """The literal in mqcore/_version.py, read without importing it."""
    with open(os.path.join(ROOT, "mqcore", "_version.py")) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "__version__":
            return node.value.value
    raise AssertionError("no __version__ in mqcore/_version.py")


def test_license_file_and_metadata_agree():
    with open(os.path.join(ROOT, "LICENSE")) as f:
        text = f.read()
    assert text.startswith("BSD 3-Clause License")
    project = _pyproject()["project"]
    assert project["license"] == {"text": "BSD-3-Clause"}
    assert "License :: OSI Approved :: BSD License" in project["classifiers"]


def test_authors_urls_and_classifiers():
    project = _pyproject()["project"]
    assert project["authors"] and all(author.get("name") for author in project["authors"])
    assert {"Homepage", "Source", "Issues"} <= set(project["urls"])
    classifiers = project["classifiers"]
    # Every Python version claimed by requires-python and cibuildwheel.
    for minor in range(9, 15):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert project["requires-python"] == ">=3.9"


def test_one_version_source():
    config = _pyproject()
    assert "version" not in config["project"]
    assert "version" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "mqcore._version.__version__"
    }
    assert mqcore.__version__ == _source_version()


def test_sdist_contains_tests_examples_and_license():
    with tempfile.TemporaryDirectory() as tmp:
        # setup.py must run from the project root; the products go to tmp.
        done = subprocess.run(
            [sys.executable, "setup.py", "-q", "egg_info", "--egg-base", tmp,
             "sdist", "--dist-dir", tmp],
            cwd=ROOT, capture_output=True, text=True, timeout=240,
        )
        assert done.returncode == 0, done.stderr
        [name] = [n for n in os.listdir(tmp) if n.endswith(".tar.gz")]
        with tarfile.open(os.path.join(tmp, name)) as tar:
            members = tar.getnames()
            top = f"mqcore-{_source_version()}"
            pkg_info = tar.extractfile(f"{top}/PKG-INFO").read().decode()
    files = {m.split("/", 1)[1] for m in members if "/" in m}
    for required in (
        "LICENSE", "README.md", "pyproject.toml", "setup.py", "src/_core.pyx",
        "mqcore/_version.py", "mqcore/_shim/zmq/__init__.py",
        "tests/conftest.py", "tests/compat/test_packaging.py",
        "examples/pipeline.py", "bench/compare.py", "fuzz/zmtp_model.py",
    ):
        assert required in files, required
    assert not [f for f in files if f.endswith((".so", ".pyc")) or f == "src/_core.c"]
    assert f"Version: {_source_version()}\n" in pkg_info
    assert "License: BSD-3-Clause\n" in pkg_info
    assert "License-File: LICENSE" in pkg_info
