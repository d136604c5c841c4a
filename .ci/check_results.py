"""Fail CI when end-to-end tests were skipped or PostgreSQL was not exercised.

Reads the JUnit XML that pytest wrote and checks:
- at least one end-to-end test ran, and none was skipped;
- integration tests ran against PostgreSQL (ids ending in [postgresql...]) and SQLite, and passed.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def main(path: str) -> int:
    cases = ET.parse(path).getroot().iter("testcase")  # noqa: S314 - our own pytest report
    e2e_run = e2e_skipped = postgres_passed = sqlite_passed = 0
    problems: list[str] = []
    for case in cases:
        name = f"{case.get('classname')}.{case.get('name')}"
        skipped = case.find("skipped") is not None
        failed = case.find("failure") is not None or case.find("error") is not None
        if name.startswith("tests.e2e."):
            if skipped:
                e2e_skipped += 1
                problems.append(f"end-to-end test skipped: {name}")
            else:
                e2e_run += 1
        if "[postgresql" in name and not skipped and not failed:
            postgres_passed += 1
        if "[sqlite" in name and not skipped and not failed:
            sqlite_passed += 1
    if e2e_run == 0:
        problems.append("no end-to-end test ran")
    if postgres_passed == 0:
        problems.append("no test passed against PostgreSQL")
    if sqlite_passed == 0:
        problems.append("no test passed against SQLite")
    print(f"e2e run: {e2e_run}, e2e skipped: {e2e_skipped}, PostgreSQL passed: {postgres_passed}, "
          f"SQLite passed: {sqlite_passed}")
    for problem in problems:
        print(f"CI check failed: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
