"""The lock file on the example site (weatherkit), against the emulator, measured end to end.

1. builds `example_site` with credentials (writes `ai-docstrings.lock`);
2. copies the project without `.cache/` and `site/` and builds it with no endpoint and no key: counts the HTML
   pages and how many are byte-identical, and compares the AI-marked entries;
3. edits the body of the first function with a lock record: a frozen build (exit code, failure lines), then a build with credentials (requests);
4. adds a comment and reformats that function: requests of the next build.

Results are printed as `key: value` lines.

Usage:
    python bench/lock_reproduce.py
"""

from __future__ import annotations

import ast
import shutil

from _site import built_example_site

from mkdocs_ai_docstrings._internal.lock import LockFile
from tests.conftest import Site, build, build_env
from tests.test_build import marked_ids


def main() -> None:
    with built_example_site("ai-lock-bench-") as built:
        tmp, site, first, emulator = built.tmp, built.site, built.first, built.emulator
        print(f"first_build_requests: {first.requests}")
        print(f"lock_records: {(site.root / 'ai-docstrings.lock').read_text().count(chr(10) + '[')}")
        clone = Site(tmp / "clone")
        shutil.copytree(site.root, clone.root, ignore=shutil.ignore_patterns(".cache", "site"))
        offline = build(clone, build_env(None, tmp))
        same = sum(1 for page, html in first.pages().items() if offline.pages().get(page) == html)
        print(f"offline_build_rc: {offline.returncode}")
        print(f"html_pages: {len(first.pages())}")
        print(f"html_pages_byte_identical: {same}")
        print(f"marked_entries_first_offline: {len(marked_ids(first))} {len(marked_ids(offline))}")
        print(f"marked_entries_equal: {marked_ids(first) == marked_ids(offline)}")

        records = LockFile.load(site.root / "ai-docstrings.lock").records
        target = next(r for _, r in sorted(records.items()) if r.kind == "function")
        module, name = target.path.rsplit(".", 1)
        file = site.root / "src" / (module.replace(".", "/") + ".py")
        if not file.exists():
            file = site.root / "src" / module.replace(".", "/") / "__init__.py"
        source = file.read_text(encoding="utf-8")
        node = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == name)
        lines = source.splitlines(keepends=True)
        indent = " " * node.body[-1].col_offset
        edited_lines = [*lines[: node.end_lineno], f"{indent}_unused = None\n", *lines[node.end_lineno :]]
        file.write_text("".join(edited_lines), encoding="utf-8")
        print(f"edited_function: {target.path}")
        frozen = build(site, build_env(emulator, tmp, AI_DOCSTRINGS_FROZEN="1"), emulator=emulator)
        print(f"frozen_build_rc: {frozen.returncode}")
        print(f"frozen_build_requests: {frozen.requests}")
        for line in frozen.output.splitlines():
            if "ai-docstrings (frozen)" in line:
                print(f"frozen_line: {line}")
        regenerated = build(site, build_env(emulator, tmp), emulator=emulator)
        print(f"body_edit_requests: {regenerated.requests}")
        commented = [*lines[: node.end_lineno], f"{indent}# a comment\n\n{indent}_unused  =  None\n"]
        file.write_text("".join([*commented, *lines[node.end_lineno :]]), encoding="utf-8")
        again = build(site, build_env(emulator, tmp), emulator=emulator)
        print(f"comment_edit_requests: {again.requests}")


if __name__ == "__main__":
    main()
