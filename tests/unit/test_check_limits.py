"""scripts/check_limits.py: the file and function size limits, exit codes, --report, and the
parsing of the `duplicates` count line (the command itself is not run here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_limits.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_limits", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_limits"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


check_limits = _load()


def _function(name: str, lines: int, indent: str = "") -> str:
    """A function of exactly `lines` lines, the def line included."""
    body = "".join(f"{indent}    x{i} = {i}\n" for i in range(lines - 2))
    return f"{indent}def {name}() -> int:\n{body}{indent}    return 0\n"


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _run(root: Path, *extra: str) -> int:
    return check_limits.main(["--root", str(root), "pkg", *extra])


def test_file_over_the_limit_is_reported_at_the_limit_not(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "pkg/long.py", "x = 1\n" * 401)
    _write(tmp_path, "pkg/ok.py", "x = 1\n" * 400)
    assert _run(tmp_path) == 1
    out = capsys.readouterr().out.splitlines()
    assert "pkg/long.py: 401 lines (limit 400)" in out
    assert not any(line.startswith("pkg/ok.py") for line in out)
    assert out[-1] == "check_limits: 1 files over 400 lines, 0 functions over 60 lines"


def test_function_over_the_limit_is_reported_at_the_limit_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, "pkg/funcs.py", _function("long", 61) + "\n\n" + _function("ok", 60))
    assert _run(tmp_path) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "pkg/funcs.py:1: function long is 61 lines (limit 60)",
        "check_limits: 0 files over 400 lines, 1 functions over 60 lines",
    ]


def test_nested_function_is_counted_on_its_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inner = _function("inner", 61, indent="    ")
    _write(tmp_path, "pkg/nested.py", "def outer() -> None:\n" + inner + "    inner()\n")
    assert _run(tmp_path) == 1
    out = capsys.readouterr().out.splitlines()
    assert "pkg/nested.py:1: function outer is 63 lines (limit 60)" in out
    assert "pkg/nested.py:2: function inner is 61 lines (limit 60)" in out
    assert out[-1].endswith("2 functions over 60 lines")


def test_methods_and_async_functions_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    method = _function("method", 61, indent="    ").replace("def ", "async def ", 1)
    _write(tmp_path, "pkg/cls.py", "class C:\n" + method)
    assert _run(tmp_path) == 1
    assert "pkg/cls.py:2: function method is 61 lines (limit 60)" in capsys.readouterr().out


def test_decorators_are_not_counted(tmp_path: Path) -> None:
    decorated = "import functools\n\n\n" + "@functools.cache\n" * 5 + _function("f", 60)
    _write(tmp_path, "pkg/deco.py", decorated)
    assert _run(tmp_path) == 0


def test_clean_tree_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "pkg/a.py", _function("f", 10))
    assert _run(tmp_path) == 0
    assert capsys.readouterr().out == "check_limits: 0 files over 400 lines, 0 functions over 60 lines\n"


def test_report_exits_zero_with_violations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "pkg/long.py", "x = 1\n" * 401 + _function("f", 61))
    assert _run(tmp_path, "--report") == 0
    assert capsys.readouterr().out == "check_limits: 1 files over 400 lines, 1 functions over 60 lines\n"


def test_limits_are_configurable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "pkg/a.py", _function("f", 11))
    assert _run(tmp_path, "--max-file-lines", "5", "--max-function-lines", "10") == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "pkg/a.py: 11 lines (limit 5)",
        "pkg/a.py:1: function f is 11 lines (limit 10)",
        "check_limits: 1 files over 5 lines, 1 functions over 10 lines",
    ]


def test_skipped_folders_and_sorted_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for skipped in (".venv", "node_modules", "__pycache__", "static"):
        _write(tmp_path, f"pkg/{skipped}/long.py", "x = 1\n" * 401)
    _write(tmp_path, "pkg/b.py", "x = 1\n" * 401)
    _write(tmp_path, "pkg/a/z.py", "x = 1\n" * 401)
    assert _run(tmp_path) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:-1] == ["pkg/a/z.py: 401 lines (limit 400)", "pkg/b.py: 401 lines (limit 400)"]


@pytest.mark.parametrize(
    ("line", "count"),
    [
        (
            "156 pairs of places (142 files read), each sharing runs of 6 or more identical or"
            " same-shape lines (101 by shape alone, 14 of those marked boilerplate)",
            156,
        ),
        ("1 pair of places (2 files read), each sharing runs of 6 or more identical lines", 1),
        ("No duplicates (142 files read)", 0),
        ("no duplicates (1 file read)", 0),
        ("incomplete: no such folder: /nowhere", None),
        ("", None),
        ("pairs: 12", None),
    ],
)
def test_parse_pair_count(line: str, count: int | None) -> None:
    assert check_limits.parse_pair_count(line) == count
