"""Hand-written mutants (table_mutants.txt) of what mutmut 3 leaves alone: module-level tables (currency
exponents, status tables, account codes, error codes) and `@property` bodies. Each mutant is applied to a copy of
the code, the fast unit tests run against it, and it must make them fail.

    python tools/mutation/table_mutants.py [-j 2] [-k substring]

Every `old` text must occur exactly once in its file, so a mutant that no longer fits the code fails loudly
instead of silently testing nothing. Exits 1 when a mutant survives or does not apply.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "webapp/domain"
MUTANTS_FILE = Path(__file__).with_suffix(".txt")


@dataclass
class Mutant:
    module: str  # file name under webapp/domain/
    name: str
    edits: list[tuple[str, str]]  # (old, new); old occurs exactly once


def load(path: Path = MUTANTS_FILE) -> list[Mutant]:
    """Parse the mutants file: `## module`, then per mutant `# name` and `- old` / `+ new` lines."""
    mutants: list[Mutant] = []
    module, name, edits, old = "", "", [], None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        text = line[2:].replace("\\n", "\n")
        if line.startswith("## "):
            module = line[3:].strip()
        elif line.startswith("# ") and module:
            name, edits = line[2:].strip(), []
            mutants.append(Mutant(module, name, edits))
        elif line.startswith("- ") and name:
            old = text
        elif (line.startswith("+ ") or line == "+") and old is not None:
            edits.append((old, text))
            old = None
        elif line.strip() and module:
            raise ValueError(f"{path.name}:{number}: cannot read {line!r}")
    for mutant in mutants:
        if not mutant.edits:
            raise ValueError(f"{path.name}: mutant {mutant.name!r} changes nothing")
    return mutants


def _test_args() -> list[str]:
    """The same fast unit tests `mutmut run` uses (pyproject.toml [tool.mutmut])."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return list(config["pytest_add_cli_args_test_selection"])


_IMPORT = re.compile(r"from webapp\.domain(?:\.(\w+))? import (\([^)]*\)|[^\n]+)")


def _imported(path: Path) -> set[str]:
    """The domain modules a file imports (`from webapp.domain.x import …` or `from webapp.domain import x`)."""
    names: set[str] = set()
    for module, imported in _IMPORT.findall(path.read_text()):
        names |= {module} if module else {(n.split() or [""])[0] for n in imported.strip("()").split(",")}
    return {f"{n}.py" for n in names if n}


def tests_for(module: str) -> list[str]:
    """The selected unit test files that import `module` or a domain module built on it (the others cannot fail)."""
    users, grew = {module}, True
    while grew:
        before = len(users)
        users |= {p.name for p in (ROOT / DOMAIN).glob("*.py") if _imported(p) & users}
        grew = len(users) > before
    args = _test_args()
    ignored = {ROOT / a.split("=", 1)[1] for a in args if a.startswith("--ignore=")}
    files = [p for a in args if not a.startswith("-") for p in sorted((ROOT / a).rglob("test_*.py"))]
    return [str(p.relative_to(ROOT)) for p in files
            if not any(p == i or i in p.parents for i in ignored) and _imported(p) & users]


def _copy_tree(target: Path) -> None:
    """A minimal copy in which `webapp.domain` resolves to the copy (pytest puts its rootdir first on sys.path)."""
    shutil.copytree(
        ROOT / "tests", target / "tests", ignore=shutil.ignore_patterns("__pycache__", "e2e", "integration")
    )
    shutil.copytree(ROOT / DOMAIN, target / DOMAIN, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("webapp/__init__.py", "config.py", "pyproject.toml"):
        shutil.copy2(ROOT / name, target / name)


def _run_tests(tree: Path, tests: list[str]) -> tuple[int, str]:
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header", *tests]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(tree)}
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=300, check=False)
    return done.returncode, done.stdout


def _apply(tree: Path, mutant: Mutant) -> str:
    path = tree / DOMAIN / mutant.module
    original = path.read_text()
    text = original
    for old, new in mutant.edits:
        if text.count(old) != 1:
            raise LookupError(f"{mutant.module}: {old!r} occurs {text.count(old)} times")
        text = text.replace(old, new)
    path.write_text(text)
    return original


def _check(tree: Path, mutant: Mutant) -> str:
    path = tree / DOMAIN / mutant.module
    try:
        original = _apply(tree, mutant)
    except LookupError as exc:
        return f"does not apply: {exc}"
    try:
        code, _ = _run_tests(tree, tests_for(mutant.module))
    finally:
        path.write_text(original)
    return "killed" if code == 1 else "survived" if code == 0 else f"error (pytest exit {code})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("-k", default="", help="only mutants whose module or name contains this")
    parser.add_argument("--file", type=Path, default=MUTANTS_FILE, help="mutants file (default: %(default)s)")
    args = parser.parse_args()
    mutants = [mu for mu in load(args.file) if args.k in f"{mu.module} {mu.name}"]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="table-mutants-") as scratch:
        trees = [Path(scratch) / str(i) for i in range(max(1, args.jobs))]
        for tree in trees:
            _copy_tree(tree)
        code, output = _run_tests(trees[0], _test_args())
        if code != 0:
            print(output[-3000:])
            print("the unmutated copy fails its tests: fix that first")
            return 2
        free = list(trees)

        def check(mutant: Mutant) -> str:
            tree = free.pop()
            try:
                return _check(tree, mutant)
            finally:
                free.append(tree)

        by_module: dict[str, list[int]] = {}
        print(f"{len(mutants)} hand-written mutants, {len(trees)} at a time")
        with ThreadPoolExecutor(max_workers=len(trees)) as pool:
            for mutant, result in zip(mutants, pool.map(check, mutants), strict=True):
                by_module.setdefault(mutant.module, [0, 0])[result == "killed"] += 1
                mark = {"killed": "killed  ", "survived": "SURVIVED"}.get(result, "PROBLEM ")
                detail = "" if result in ("killed", "survived") else f": {result}"
                print(f"{mark} {mutant.module:<22} {mutant.name}{detail}", flush=True)
    print(f"\n{'module':<22} {'mutants':>8} {'killed':>7}")
    for module, (alive, killed) in sorted(by_module.items()):
        print(f"{module:<22} {alive + killed:>8} {killed:>7}")
    killed_total = sum(k for _, k in by_module.values())
    print(f"hand-written mutants: {killed_total}/{len(mutants)} killed in {time.monotonic() - started:.0f} s")
    return 0 if killed_total == len(mutants) else 1


if __name__ == "__main__":
    sys.exit(main())
