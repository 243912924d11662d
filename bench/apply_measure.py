"""`apply` on the example site (weatherkit), against the emulator, measured end to end.

1. builds `example_site` with credentials (writes `ai-docstrings.lock`); counts `ruff --select D1` and interrogate
   (`-i -p -m`) findings and the report's coverage;
2. runs `mkdocs-ai-docstrings apply`; checks every file parses, keeps its comments and its docstring-free AST;
3. counts ruff D1 and interrogate again, rebuilds without credentials, counts AI-marked entries and lock records.

Results are printed as `key: value` lines.

Usage:
    python bench/apply_measure.py
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from _site import built_example_site

from mkdocs_ai_docstrings._internal.lock import LockFile
from tests.conftest import build, build_env
from tests.test_apply import comments, run_apply, without_docstrings
from tests.test_build import marked_ids

BIN = Path(sys.executable).parent


def ruff_d1(src: Path) -> int:
    run = subprocess.run(
        [str(BIN / "ruff"), "check", "--no-cache", "--isolated", "--select", "D1", "--output-format", "concise", "."],
        cwd=src,
        capture_output=True,
        text=True,
        check=False,
    )
    return len(re.findall(r"D1\d\d", run.stdout))


def interrogate(src: Path) -> str:
    if not (BIN / "interrogate").exists():
        return "not installed"
    run = subprocess.run(
        [str(BIN / "interrogate"), "-c", "/dev/null", "-i", "-p", "-m", "-vv", "--fail-under", "0", "."],
        cwd=src,
        capture_output=True,
        text=True,
        check=False,
    )
    total = re.search(r"\|\s*TOTAL\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|", run.stdout)
    return f"total={total[1]} missing={total[2]} covered={total[3]}" if total else "unparsed"


def main() -> None:
    with built_example_site("ai-apply-bench-") as built:
        tmp, site, first = built.tmp, built.site, built.first
        print(f"lock_records: {len(LockFile.load(site.root / 'ai-docstrings.lock').records)}")
        print(f"marked_before: {len(marked_ids(first))}")
        print(f"coverage_before: {first.report['coverage']['totals']}")
        print(f"ruff_d1_before: {ruff_d1(site.src)}")
        print(f"interrogate_before: {interrogate(site.src)}")
        files = sorted(site.src.rglob("*.py"))
        before = {path: path.read_text() for path in files}
        output = run_apply(site.root)
        print(f"apply: {output.strip().splitlines()[-1]}")
        print(f"apply_skipped: {sum(1 for line in output.splitlines() if line.startswith('skipped '))}")
        changed = [path for path in files if path.read_text() != before[path]]
        same_code = all(without_docstrings(path.read_text()) == without_docstrings(before[path]) for path in files)
        same_comments = all(comments(path.read_text()) == comments(before[path]) for path in files)
        print(f"files_changed: {len(changed)}")
        print(f"code_unchanged_except_docstrings: {same_code}")
        print(f"comments_kept: {same_comments}")
        print(f"ruff_d1_after: {ruff_d1(site.src)}")
        print(f"interrogate_after: {interrogate(site.src)}")
        second = build(site, build_env(None, tmp))
        print(f"rebuild_rc: {second.returncode}")
        print(f"marked_after: {len(marked_ids(second))}")
        print(f"lock_records_after: {len(LockFile.load(site.root / 'ai-docstrings.lock').records)}")
        print(f"coverage_after: {second.report['coverage']['totals']}")


if __name__ == "__main__":
    main()
