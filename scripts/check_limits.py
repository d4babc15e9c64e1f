#!/usr/bin/env python3
"""Checks the project's code-size limits over the Python sources (standard library only).

- no source file over --max-file-lines physical lines (default 400);
- no function or method over --max-function-lines lines (default 60), measured from the `def`
  line (decorators not counted) to its last line; nested functions are counted on their own;
- with --duplicates-max N, no more than N duplicate pairs as counted by the external
  `duplicates` command (skipped, with a note, where it is not on PATH).

Usage: python scripts/check_limits.py [--report] [--duplicates-max N] [folder ...]
(folders default to services and shared, relative to the repo root; exit 1 and one line per
violation when any, exit 0 always with --report, which prints the counts only)
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDERS = ("services", "shared")
SKIP_PARTS = frozenset({".venv", "node_modules", "__pycache__", "static"})
PAIRS_RE = re.compile(r"^(\d+) pairs?\b")
NO_DUPLICATES_RE = re.compile(r"^no duplicates\b", re.IGNORECASE)
DUPLICATES_TIMEOUT = 300


@dataclass(frozen=True)
class Violation:
    path: str
    line: int  # 0 for a whole-file violation
    message: str

    def render(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass
class Findings:
    long_files: list[Violation]
    long_functions: list[Violation]
    unparsed: list[Violation]

    def all_sorted(self) -> list[Violation]:
        found = self.long_files + self.long_functions + self.unparsed
        return sorted(found, key=lambda v: (v.path, v.line, v.message))


def iter_python_files(root: Path, folders: Sequence[str]) -> Iterator[Path]:
    """Every *.py file below the folders (relative to root), skipping vendored/generated paths."""
    for folder in folders:
        base = root / folder
        candidates = [base] if base.is_file() else sorted(base.rglob("*.py"))
        for path in candidates:
            if path.suffix != ".py" or not path.is_file():
                continue
            parts = Path(folder).parts + path.relative_to(base).parts
            if SKIP_PARTS.intersection(parts):
                continue
            yield path


def display_path(path: Path, root: Path) -> str:
    """The path relative to root where it lies below it, else as given."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def long_functions(tree: ast.AST, path: str, limit: int) -> list[Violation]:
    """Every function or method (nested ones too, each on its own) longer than limit lines."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        if length > limit:
            message = f"function {node.name} is {length} lines (limit {limit})"
            found.append(Violation(path, node.lineno, message))
    return found


def check_file(path: Path, shown: str, findings: Findings, max_file: int, max_function: int) -> None:
    """Adds this file's violations to findings."""
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = len(text.splitlines())
    if lines > max_file:
        findings.long_files.append(Violation(shown, 0, f"{lines} lines (limit {max_file})"))
    try:
        tree = ast.parse(text, filename=shown)
    except SyntaxError as exc:
        findings.unparsed.append(Violation(shown, exc.lineno or 0, f"cannot parse: {exc.msg}"))
        return
    findings.long_functions.extend(long_functions(tree, shown, max_function))


def scan(root: Path, folders: Sequence[str], max_file: int, max_function: int) -> Findings:
    findings = Findings([], [], [])
    for path in iter_python_files(root, folders):
        check_file(path, display_path(path, root), findings, max_file, max_function)
    return findings


def parse_pair_count(first_line: str) -> int | None:
    """The pair count from the first line `duplicates` prints, or None where it cannot be read.

    The command prints e.g. `156 pairs of places (142 files read), each sharing ...`,
    `1 pair of places (...)` or `No duplicates (142 files read)`."""
    line = first_line.strip()
    if NO_DUPLICATES_RE.match(line):
        return 0
    match = PAIRS_RE.match(line)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class DuplicatesResult:
    count: int | None  # None: not checked, or the output could not be read
    ok: bool
    notes: list[str]


def run_duplicates(root: Path, limit: int) -> DuplicatesResult:
    """Runs `duplicates` over root and compares its pair count with limit."""
    exe = shutil.which("duplicates")
    if exe is None:
        return DuplicatesResult(None, True, ["check_limits: duplicates not on PATH, duplicate-pair limit not checked"])
    command = [exe, "--repo", str(root), "--most", "200"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=DUPLICATES_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return DuplicatesResult(None, False, [f"check_limits: duplicates failed: {exc}"])
    out_lines = done.stdout.splitlines()
    first = out_lines[0] if out_lines else ""
    count = parse_pair_count(first)
    notes = [f"duplicates: {line}" for line in out_lines[1:] if line.startswith("incomplete:")]
    if count is None:
        notes.insert(0, f"check_limits: cannot read the duplicates pair count from: {first or '(no output)'}")
        return DuplicatesResult(None, False, notes)
    return DuplicatesResult(count, count <= limit, notes)


def summary(findings: Findings, args: argparse.Namespace, dups: DuplicatesResult | None) -> str:
    text = (
        f"check_limits: {len(findings.long_files)} files over {args.max_file_lines} lines, "
        f"{len(findings.long_functions)} functions over {args.max_function_lines} lines"
    )
    if findings.unparsed:
        text += f", {len(findings.unparsed)} files not parsed"
    if dups is not None and dups.count is not None:
        text += f", {dups.count} duplicate pairs (limit {args.duplicates_max})"
    elif dups is not None:
        text += ", duplicate pairs not checked" if dups.ok else ", duplicate pairs unknown"
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Check the project's code-size limits.")
    parser.add_argument("folders", nargs="*", default=list(DEFAULT_FOLDERS), help="folders relative to --root")
    parser.add_argument("--root", type=Path, default=ROOT, help="repo root (default: parent of scripts/)")
    parser.add_argument("--max-file-lines", type=int, default=400)
    parser.add_argument("--max-function-lines", type=int, default=60)
    parser.add_argument("--duplicates-max", type=int, default=None, help="also limit `duplicates` pairs to N")
    parser.add_argument("--report", action="store_true", help="print the counts only and always exit 0")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    root: Path = args.root
    missing = [folder for folder in args.folders if not (root / folder).exists()]
    if missing:
        print(f"check_limits: no such folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    findings = scan(root, args.folders, args.max_file_lines, args.max_function_lines)
    dups = None if args.duplicates_max is None else run_duplicates(root, args.duplicates_max)
    if not args.report:
        for violation in findings.all_sorted():
            print(violation.render())
    for note in dups.notes if dups else []:
        print(note)
    print(summary(findings, args, dups))
    if args.report:
        return 0
    failed = bool(findings.all_sorted()) or (dups is not None and not dups.ok)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
