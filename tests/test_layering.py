"""The core's layering, checked from its sources.

src/_core.pyx includes the .pxi files lowest layer first, and says that a
lower layer never uses a higher one. These tests keep that true: a file may
call only functions defined in itself or in files included before it; a
higher layer reaches a lower one's callers through function pointers (rows,
ops tables, hooks), never by name. And the facts that have one home stay
there: socket-type numbers in proto/ (and the rows in base/socket_types),
scheme strings in transport/.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

# A top-level function definition: `cdef [inline] <type> name(`, `def name(`,
# `cpdef ... name(`; the name is the last identifier before the parenthesis.
DEF_RE = re.compile(r"^(?:cdef|cpdef|def)\s+(?!class\b|struct\b|enum\b|extern\b|union\b)[^(=:]*?(\w+)\s*\(")


def included_files() -> list[Path]:
    """The .pxi files in the order _core.pyx includes them."""
    text = (SRC / "_core.pyx").read_text()
    return [SRC / name for name in re.findall(r'^include "([^"]+)"', text, re.M)]


def code_tokens(path: Path) -> list[tokenize.TokenInfo]:
    """The file's tokens without comments and strings (docstrings included)."""
    text = path.read_text()
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return [t for t in tokens if t.type not in (tokenize.COMMENT, tokenize.STRING)]


def defined_functions(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        m = DEF_RE.match(line)
        if m:
            names.add(m.group(1))
    return names


def called_names(path: Path) -> list[tuple[str, int]]:
    """(name, line) for every `name(` that is a call by name: not a method
    or field (`x.name(`), not the definition itself."""
    toks = code_tokens(path)
    calls = []
    for i in range(1, len(toks) - 1):
        t = toks[i]
        if t.type != tokenize.NAME or toks[i + 1].string != "(":
            continue
        before = toks[i - 1].string
        if before in (".", "def", "class"):
            continue
        if DEF_RE.match(t.line) and DEF_RE.match(t.line).group(1) == t.string:
            continue
        calls.append((t.string, t.start[0]))
    return calls


def same_top_layer(a: Path, b: Path) -> bool:
    """api/ is the Python face: its classes (Context, Socket, Frame, ...)
    refer to one another both ways, and nothing below calls into it."""
    return a.relative_to(SRC).parts[0] == b.relative_to(SRC).parts[0] == "api"


def test_include_order_is_complete():
    """Every .pxi under src/ is included exactly once, so the order below
    covers the whole core."""
    files = included_files()
    assert len(files) == len(set(files))
    on_disk = {p for p in SRC.rglob("*.pxi")}
    assert set(files) == on_disk


def test_no_file_calls_a_function_of_a_later_file():
    files = included_files()
    home: dict[str, int] = {}
    for index, path in enumerate(files):
        for name in defined_functions(path):
            home.setdefault(name, index)
    violations = []
    for index, path in enumerate(files):
        for name, line in called_names(path):
            where = home.get(name)
            if where is not None and where > index and not same_top_layer(path, files[where]):
                violations.append(
                    f"{path.relative_to(SRC)}:{line} calls {name}() "
                    f"from the later {files[where].relative_to(SRC)}")
    assert not violations, "\n".join(violations)


def test_the_checker_sees_an_upward_call(tmp_path):
    """The check itself would fail on a violation: a lower file calling a
    function that a later one defines is reported."""
    low = tmp_path / "low.pxi"
    high = tmp_path / "high.pxi"
    low.write_text("cdef int low_fn(int x) noexcept nogil:\n    return high_fn(x) + 1\n")
    high.write_text("cdef inline int high_fn(int x) noexcept nogil:\n    # low_fn(x) in a comment\n"
                    "    return x\n")
    assert "high_fn" in defined_functions(high)
    assert ("high_fn", 2) in called_names(low)
    assert not any(name == "low_fn" for name, _ in called_names(high))


def _code_lines(path: Path):
    """(line number, code) with comments dropped."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        code = line.split("#", 1)[0]
        if code.strip():
            yield number, code


SCHEME_RE = re.compile(r"""b?["'](tcp|ipc|inproc|udp|pgm|epgm|ws|wss|tipc|vmci|norm)(://)?["']""")
TYPE_NUMBER_RE = re.compile(r"\btype\s*(==|!=)\s*\d|\btype\s+(not\s+)?in\s*\(\s*\d|socket_type\s*(==|!=)\s*\d")


@pytest.mark.parametrize("kind", ["scheme", "type-number"])
def test_facts_stay_in_their_layer(kind):
    """Scheme names only in transport/, socket-type numbers only in proto/
    (and the facts table in base/socket_types.pxi)."""
    pattern = SCHEME_RE if kind == "scheme" else TYPE_NUMBER_RE
    allowed = ("transport",) if kind == "scheme" else ("proto",)
    found = []
    for path in included_files():
        rel = path.relative_to(SRC)
        if rel.parts[0] in allowed or rel.as_posix() == "base/socket_types.pxi":
            continue
        for number, code in _code_lines(path):
            if pattern.search(code):
                found.append(f"{rel}:{number}: {code.strip()}")
    assert not found, "\n".join(found)
