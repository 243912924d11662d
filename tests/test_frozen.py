"""End-to-end specifications of the lock file: reproducible builds without credentials, staleness, frozen builds
and remembered failures. Real `mkdocs build` runs in a subprocess against the Azure OpenAI emulator."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mkdocs_ai_docstrings._internal.lock import LockFile
from tests.conftest import TEST_KEY, BuildResult, Site, build, build_env, make_site
from tests.emulator import AzureEmulator
from tests.test_build import CORE_SOURCE, TINY_PACKAGE, TINY_PAGES, UNDOCUMENTED, assert_built, marked_ids, site_objects

LOCK = "ai-docstrings.lock"


def fresh_checkout(site: Site, target: Path) -> Site:
    """A copy of the project as a clone would have it: no cache, no built site."""
    shutil.copytree(site.root, target, ignore=shutil.ignore_patterns(".cache", "site", "tiktoken-cache"))
    return Site(target)


def frozen_lines(output: str) -> dict[str, str]:
    """The frozen build's failure lines: reason by object path (each object named on one line)."""
    found = re.findall(r"^ERROR\s+-\s+ai-docstrings \(frozen\): ([\w.]+): (.+)$", output, flags=re.MULTILINE)
    assert len(found) == len({path for path, _ in found}), output
    return dict(found)


def lock_records(site: Site) -> dict[str, str]:
    """Fingerprint of each record of the site's lock file."""
    return {path: record.fingerprint for path, record in LockFile.load(site.root / LOCK).records.items()}


@pytest.fixture
def written(tmp_path: Path, emulator: AzureEmulator) -> tuple[Site, BuildResult]:
    """The tiny site built once with credentials: every missing docstring generated and locked."""
    site = make_site(tmp_path / "project", TINY_PACKAGE, TINY_PAGES)
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert_built(result)
    assert set(lock_records(site)) == UNDOCUMENTED
    return site, result


def test_fresh_checkout_without_credentials_builds_byte_identical_api_pages(
    tmp_path: Path, written: tuple[Site, BuildResult]
) -> None:
    site, first = written
    lock_before = (site.root / LOCK).read_bytes()
    clone = fresh_checkout(site, tmp_path / "clone")
    second = build(clone, build_env(None, tmp_path))
    assert_built(second)
    assert first.pages().keys() == second.pages().keys()
    assert first.pages()["index.html"].count("ai-generated") > 0
    for page, html in first.pages().items():
        assert second.pages()[page] == html, page
    assert marked_ids(second) == marked_ids(first) == UNDOCUMENTED
    assert second.report is not None and second.report["totals"]["requests"] == 0
    assert set(second.statuses().values()) == {"cached"}
    assert (clone.root / LOCK).read_bytes() == lock_before  # reproducing changes nothing


def test_the_cache_serves_answers_without_credentials(tmp_path: Path, emulator: AzureEmulator) -> None:
    site = make_site(tmp_path / "project", TINY_PACKAGE, TINY_PAGES, plugin_options={"lock_file": False})
    first = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert_built(first)
    offline = build(site, build_env(None, tmp_path))
    assert_built(offline)
    assert not (site.root / LOCK).exists()
    assert set(offline.statuses().values()) == {"cached"}
    assert offline.report is not None and offline.report["totals"]["cache_hits"] == len(UNDOCUMENTED)
    assert offline.pages()["index.html"] == first.pages()["index.html"]


def test_a_body_edit_regenerates_exactly_that_object_and_a_comment_edit_nothing(
    tmp_path: Path, emulator: AzureEmulator, written: tuple[Site, BuildResult]
) -> None:
    site, _ = written
    before = lock_records(site)
    site.write_source("tinypkg/core.py", CORE_SOURCE.replace("return a + b", "return b + a + 0"))
    edited = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert_built(edited)
    assert edited.requests == 1
    assert edited.statuses()["tinypkg.core.add"] == "generated"
    after = lock_records(site)
    assert {path for path in before if before[path] != after[path]} == {"tinypkg.core.add"}
    commented = CORE_SOURCE.replace("return a + b", "return b + a + 0").replace(
        "        self.value += step\n", "        # one step at a time\n        self.value  +=  step\n\n"
    )
    site.write_source("tinypkg/core.py", commented)
    again = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert_built(again)
    assert again.requests == 0
    assert lock_records(site) == after


def test_without_credentials_a_stale_record_is_shown_with_a_note_or_left_out(
    tmp_path: Path, written: tuple[Site, BuildResult]
) -> None:
    site, _ = written
    site.write_source("tinypkg/core.py", CORE_SOURCE.replace("return a + b", "return b - a"))
    shown = build(site, build_env(None, tmp_path))
    assert_built(shown)
    objects = site_objects(shown)
    assert objects["tinypkg.core.add"].marked and "ai-stale" in objects["tinypkg.core.add"].labels
    assert any("may be out of date" in body for _, body in objects["tinypkg.core.add"].admonitions)
    assert not any("ai-stale" in objects[path].labels for path in UNDOCUMENTED - {"tinypkg.core.add"})
    assert any("stale" in note and "tinypkg.core.add" in note for note in shown.report["notes"])
    assert "tinypkg.core.add" in shown.output.split("AI docstrings: 6 object(s) without")[1]
    config = site.config_file.read_text().replace(
        '"ai-docstrings": {"examples": false}', '"ai-docstrings": {"examples": false, "stale": "omit"}'
    )
    site.config_file.write_text(config)
    omitted = build(site, build_env(None, tmp_path))
    assert_built(omitted)
    assert marked_ids(omitted) == UNDOCUMENTED - {"tinypkg.core.add"}
    assert omitted.statuses()["tinypkg.core.add"] == "skipped"


def test_frozen_build_makes_no_request_and_fails_naming_each_missing_or_stale_object(
    tmp_path: Path, emulator: AzureEmulator, written: tuple[Site, BuildResult]
) -> None:
    site, _ = written
    unchanged = build(site, build_env(emulator, tmp_path, AI_DOCSTRINGS_FROZEN="1"), emulator=emulator)
    assert_built(unchanged)
    assert unchanged.requests == 0
    site.write_source("tinypkg/core.py", CORE_SOURCE.replace("return a + b", "return b - a"))
    frozen = build(site, build_env(emulator, tmp_path, AI_DOCSTRINGS_FROZEN="1"), emulator=emulator)
    assert frozen.returncode != 0
    assert frozen.requests == 0
    assert frozen_lines(frozen.output) == {
        "tinypkg.core.add": "stale lock record (the code changed since it was written)"
    }
    # A new public function has no record, and its module's outline (what the module docstring sums up) changed.
    site.write_source("tinypkg/core.py", CORE_SOURCE + "\n\ndef brand_new(x):\n    return x\n")
    added = build(site, build_env(emulator, tmp_path, AI_DOCSTRINGS_FROZEN="1"), emulator=emulator)
    assert added.returncode != 0 and added.requests == 0
    lines = frozen_lines(added.output)
    assert lines == {"tinypkg.core.brand_new": "no lock record", "tinypkg.core": lines["tinypkg.core"]}
    assert lines["tinypkg.core"].startswith("stale lock record")
    assert "Traceback" not in frozen.output + added.output


def test_the_frozen_option_fails_the_same_way(tmp_path: Path, emulator: AzureEmulator) -> None:
    site = make_site(tmp_path / "project", TINY_PACKAGE, TINY_PAGES, plugin_options={"frozen": True})
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert result.returncode != 0 and result.requests == 0
    assert frozen_lines(result.output) == dict.fromkeys(UNDOCUMENTED, "no lock record")


def test_answers_that_fail_the_checks_are_not_asked_again_until_retry_failed(tmp_path: Path) -> None:
    with AzureEmulator(api_key="test-key", fault_rates={"malformed_json": 1.0}) as emulator:
        site = make_site(tmp_path / "project", TINY_PACKAGE, TINY_PAGES, plugin_options={"max_attempts": 1})
        env = build_env(emulator, tmp_path)
        first = build(site, env, emulator=emulator)
        assert_built(first)
        assert set(first.statuses().values()) == {"failed"}
        assert first.requests == 2 * len(UNDOCUMENTED)  # the answer and its one repair attempt
        second = build(site, env, emulator=emulator)
        assert_built(second)
        assert second.requests == 0
        assert all("remembered" in item["reason"] for item in second.report["objects"])
        retried = build(site, build_env(emulator, tmp_path, AI_DOCSTRINGS_RETRY_FAILED="1"), emulator=emulator)
        assert retried.requests == 2 * len(UNDOCUMENTED)


def test_transient_failures_are_asked_again_next_build(tmp_path: Path) -> None:
    with AzureEmulator(api_key="test-key", fault_rates={"500": 1.0}) as emulator:
        options = {"max_attempts": 1, "include": ["tinypkg.core.add"]}
        site = make_site(tmp_path / "project", TINY_PACKAGE, TINY_PAGES, plugin_options=options)
        env = build_env(emulator, tmp_path)
        first = build(site, env, emulator=emulator)
        assert first.statuses()["tinypkg.core.add"] == "failed"
        second = build(site, env, emulator=emulator)
        assert second.requests == first.requests >= 1


def test_improve_mode_sections_are_reproduced_without_credentials(tmp_path: Path, emulator: AzureEmulator) -> None:
    package = {
        "ipkg/__init__.py": '"""Improve-mode package."""\n',
        "ipkg/ops.py": (
            '"""Operations."""\n\n\ndef clamp(value: float, low: float = 0.0) -> float:\n'
            '    """Keep `value` at or above `low`, whatever it was."""\n    return max(low, value)\n'
        ),
    }
    site = make_site(tmp_path / "project", package, {"index.md": "::: ipkg.ops\n"}, plugin_options={"improve": True})
    first = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert_built(first)
    assert first.statuses()["ipkg.ops.clamp"] == "generated"
    assert LockFile.load(site.root / LOCK).records["ipkg.ops.clamp"].mode == "improve"
    clone = fresh_checkout(site, tmp_path / "clone")
    second = build(clone, build_env(None, tmp_path))
    assert_built(second)
    assert "AI-added" in first.pages()["index.html"]
    assert second.pages() == first.pages()


def review(site: Site, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `mkdocs-ai-docstrings review` on the site in a subprocess."""
    command = [sys.executable, "-m", "mkdocs_ai_docstrings._internal.cli", "review", "-f", str(site.config_file)]
    return subprocess.run([*command, *args], cwd=site.root, capture_output=True, text=True, timeout=60, check=False)


def test_review_lists_pending_records_with_their_code_and_accepts_or_rejects_by_glob(
    tmp_path: Path, written: tuple[Site, BuildResult]
) -> None:
    site, _ = written
    listing = review(site)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.count(", pending, ") == len(UNDOCUMENTED)
    add_entry = listing.stdout.split("tinypkg.core.add (function, pending")[1].split("\n\n")[0]
    assert "| def add(a: int, b: int) -> int:" in add_entry and "|     return a + b" in add_entry
    changed = review(site, "--accept", "tinypkg.core.add", "tinypkg.core.Counter.*", "--reject", "tinypkg.core.scale")
    assert changed.returncode == 0, changed.stderr
    states = {path: record.review for path, record in LockFile.load(site.root / LOCK).records.items()}
    assert states == {
        "tinypkg.core": "pending",
        "tinypkg.core.Counter": "pending",
        "tinypkg.core.Counter.doubled": "accepted",
        "tinypkg.core.Counter.increment": "accepted",
        "tinypkg.core.add": "accepted",
        "tinypkg.core.scale": "rejected",
    }
    assert review(site).stdout.count(", pending, ") == 2


def test_publish_accepted_shows_only_reviewed_text_and_the_marker_says_so(
    tmp_path: Path, written: tuple[Site, BuildResult]
) -> None:
    site, _ = written
    assert review(site, "--accept", "tinypkg.core.add", "--reject", "tinypkg.core.scale").returncode == 0
    everything = build(site, build_env(None, tmp_path))
    assert_built(everything)
    objects = site_objects(everything)
    assert marked_ids(everything) == UNDOCUMENTED - {"tinypkg.core.scale"}  # rejected: left undocumented
    assert any("A maintainer reviewed it." in body for _, body in objects["tinypkg.core.add"].admonitions)
    assert any("No maintainer has reviewed it yet." in body for _, body in objects["tinypkg.core.Counter"].admonitions)
    config = site.config_file.read_text().replace(
        '"ai-docstrings": {"examples": false}', '"ai-docstrings": {"examples": false, "publish": "accepted"}'
    )
    site.config_file.write_text(config)
    accepted = build(site, build_env(None, tmp_path))
    assert_built(accepted)
    assert marked_ids(accepted) == {"tinypkg.core.add"}
    statuses = accepted.statuses()
    assert statuses["tinypkg.core.Counter"] == "skipped"
    reasons = {item["path"]: item["reason"] for item in accepted.report["objects"]}
    assert reasons["tinypkg.core.Counter"].startswith("waiting for review")


@pytest.mark.parametrize("style", ["google", "numpy", "sphinx"])
def test_every_summary_table_row_of_an_ai_written_object_carries_the_marker(
    tmp_path: Path, emulator: AzureEmulator, style: str
) -> None:
    site = make_site(
        tmp_path / "project", TINY_PACKAGE, TINY_PAGES, handler_options={"summary": True, "docstring_style": style}
    )
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert_built(result)
    rows = re.findall(r'<tr class="doc-section-item">.*?</tr>', result.pages()["index.html"], flags=re.DOTALL)
    summary_rows: dict[str, str] = {}
    for row in rows:
        link = re.search(r'<a class="autorefs autorefs-internal"[^>]*href="#([\w.]+)"', row)
        if link and "doc-md-description" in row:
            summary_rows.setdefault(link.group(1), row)
    marker = '<span class="ai-generated">AI</span>'
    ai_rows = {path for path, row in summary_rows.items() if marker in row}
    # Every AI-written object listed in a summary table is marked there; human ones (greet, reset) are not.
    assert ai_rows == UNDOCUMENTED & set(summary_rows)
    assert {"tinypkg.core.add", "tinypkg.core.Counter", "tinypkg.core.Counter.increment"} <= ai_rows
    assert summary_rows["tinypkg.core.greet"].count("ai-generated") == 0


def test_a_malformed_record_costs_one_warning_and_the_build_goes_on(
    tmp_path: Path, written: tuple[Site, BuildResult]
) -> None:
    site, _ = written
    lock = site.root / LOCK
    text = lock.read_text(encoding="utf-8")
    assert TEST_KEY not in text and "api_key" not in text
    lines = text.splitlines(keepends=True)
    broken = next(number for number, line in enumerate(lines, start=1) if line.startswith('["tinypkg.core.add"]'))
    lines[broken] = 'kind = "function\n'  # an unterminated string inside the record of `add`
    lock.write_text("".join(lines), encoding="utf-8")
    result = build(site, build_env(None, tmp_path))
    assert_built(result)
    warnings = [line for line in result.output.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1 and f"{LOCK}:{broken}: malformed record skipped" in warnings[0], warnings
    # The other records are published from the lock; `add` comes from the cache, and its record is written again.
    assert marked_ids(result) == UNDOCUMENTED
    assert lock.read_text(encoding="utf-8") == text


def test_records_of_objects_now_documented_by_people_are_dropped_and_excluded_ones_kept(
    tmp_path: Path, written: tuple[Site, BuildResult]
) -> None:
    site, _ = written
    human = CORE_SOURCE.replace("    return a + b", '    """Add two integers, the human way."""\n    return a + b')
    site.write_source("tinypkg/core.py", human)
    config = site.config_file.read_text()
    site.config_file.write_text(
        config.replace(
            '"ai-docstrings": {"examples": false}', '"ai-docstrings": {"examples": false, "exclude": ["*.scale"]}'
        )
    )
    result = build(site, build_env(None, tmp_path))
    assert_built(result)
    assert set(lock_records(site)) == UNDOCUMENTED - {"tinypkg.core.add"}
    assert "tinypkg.core.add" not in marked_ids(result)
