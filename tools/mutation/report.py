"""Per-module mutation scores and the surviving mutants of the last `mutmut run`.

Reads mutmut 3's result files (`mutants/**/*.py.meta`), so every module mutmut mutated is reported, including
modules added after this script was written. A mutant counts as killed when a test failed, timed out or the
type checker refused it; "no tests" counts as survived (no test looks at that code at all).

    python tools/mutation/report.py [--min-score 90] [--diffs]

Exits 1 when a module scores below --min-score.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

KILLED = {1, 3, 36, 37, 24, -24, 152, 255}  # mutmut's exit codes for killed, timeout, caught by type check
NOT_RUN = {None, 34}  # not checked, skipped


def load(root: Path) -> dict[str, dict[str, int | None]]:
    """{module path: {mutant name: exit code}} for every mutated module under `root`."""
    results = {}
    for meta in sorted(root.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if codes:
            results[str(meta.relative_to(root))[: -len(".meta")]] = codes
    return results


def summarise(codes: dict[str, int | None]) -> tuple[Counter[str], list[str]]:
    counts: Counter[str] = Counter()
    survivors = []
    for name, code in codes.items():
        if code in NOT_RUN:
            counts["not run"] += 1
        elif code in KILLED:
            counts["killed"] += 1
        else:
            counts["survived"] += 1
            survivors.append(name)
    return counts, sorted(survivors, key=_natural)


def _diff(name: str, module: str) -> str:
    """The mutant's change as a unified diff, indented under its name."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant  # imported late: it reads the mutmut config

    lines = get_diff_for_mutant(name, path=module).splitlines()
    return "\n".join(f"      {line}" for line in lines if not line.startswith(("---", "+++")))


def _natural(name: str) -> tuple[str, int]:
    stem, _, number = name.rpartition("_")
    return stem, int(number) if number.isdigit() else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("mutants"))
    parser.add_argument("--min-score", type=float, default=0.0, help="fail if a module scores below this (%%)")
    parser.add_argument("--diffs", action="store_true", help="print each survivor's diff (mutmut show)")
    args = parser.parse_args()
    results = load(args.root)
    if not results:
        print(f"no mutmut results under {args.root}/: run `mutmut run` first", file=sys.stderr)
        return 2
    failing = []
    print(f"{'module':<40} {'mutants':>8} {'killed':>7} {'survived':>9} {'score':>7}")
    all_survivors = []
    for module, codes in results.items():
        counts, survivors = summarise(codes)
        checked = counts["killed"] + counts["survived"]
        score = 100.0 * counts["killed"] / checked if checked else 100.0
        note = f"  ({counts['not run']} not run)" if counts["not run"] else ""
        print(f"{module:<40} {len(codes):>8} {counts['killed']:>7} {counts['survived']:>9} {score:>6.1f}%{note}")
        all_survivors += [(module, name) for name in survivors]
        if score < args.min_score:
            failing.append(module)
    print(f"\nsurviving mutants ({len(all_survivors)}):")
    for module, name in all_survivors:
        print(f"  {name}")
        if args.diffs:
            print(_diff(name, module))
    if failing:
        print(f"\nbelow {args.min_score:g}%: {', '.join(failing)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
