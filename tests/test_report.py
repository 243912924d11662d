"""Specification of the build report: outcomes, counts, totals, the JSON file and the log summary."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from mkdocs_ai_docstrings._internal.report import BuildReport, ObjectOutcome, Reason, ReportPathError, Status


def sample_report() -> BuildReport:
    report = BuildReport(model="gpt-4o-mini", connection="azure https://x", token_counter="tiktoken:o200k_base")
    report.add(
        ObjectOutcome(
            "pkg.b",
            "function",
            "generated",
            prompt_tokens=600,
            completion_tokens=80,
            total_tokens=680,
            requests=1,
            cost=0.0001,
            completeness=(3, 4),
            references=(1, 2),
            redactions=2,
            repairs=["dropped invented parameter 'x'"],
        )
    )
    report.add(ObjectOutcome("pkg.a", "class", "cached", completeness=(2, 2), references=(1, 1)))
    report.add(ObjectOutcome("pkg.c", "method", "skipped", reason="budget"))
    report.add(ObjectOutcome("pkg.d", "method", "skipped", reason="budget"))
    report.add(ObjectOutcome("pkg.e", "function", "failed", reason="content filter: hate", repairs=["x"]))
    totals = report.totals
    totals.requests, totals.prompt_tokens, totals.completion_tokens, totals.total_tokens = 3, 1800, 240, 2040
    totals.cache_hits, totals.cache_misses, totals.cost = 1, 4, 0.0003
    return report


# Counts and quality --------------------------------------------------------------------------------------------


def test_counts_cover_every_status_even_when_zero() -> None:
    assert BuildReport().counts() == {"generated": 0, "cached": 0, "planned": 0, "skipped": 0, "failed": 0}
    assert sample_report().counts() == {"generated": 1, "cached": 1, "planned": 0, "skipped": 2, "failed": 1}


def test_statuses_and_reasons_are_enums_that_serialize_to_their_plain_strings(tmp_path: Path) -> None:
    report = BuildReport(dry_run=True)
    report.add(ObjectOutcome("pkg.a", "function", "planned", estimated_tokens=900))
    report.add(ObjectOutcome("pkg.b", "function", Status.SKIPPED, reason=Reason.BUDGET))
    report.add(ObjectOutcome("pkg.c", "function", Status.SKIPPED, reason=Reason.NOT_CONFIGURED.with_detail("no key")))
    assert report.outcomes["pkg.a"].status is Status.PLANNED
    assert report.outcomes["pkg.b"].reason_kind is Reason.BUDGET
    assert report.outcomes["pkg.c"].reason_kind is Reason.NOT_CONFIGURED
    data = json.loads(report.write(tmp_path / "report.json").read_text())
    assert [(o["status"], o["reason"]) for o in data["objects"]] == [
        ("planned", None),
        ("skipped", "budget"),
        ("skipped", "not configured: no key"),
    ]
    assert data["counts"]["planned"] == 1
    assert "1 planned" in report.summary()


def test_the_latest_outcome_for_a_path_wins() -> None:
    report = BuildReport()
    report.add(ObjectOutcome("pkg.f", "function", "skipped", reason="budget"))
    report.add(ObjectOutcome("pkg.f", "function", "generated"))
    assert report.counts() == {"generated": 1, "cached": 0, "planned": 0, "skipped": 0, "failed": 0}
    assert report.outcomes["pkg.f"].reason is None


def test_quality_totals_are_computed_over_published_docstrings() -> None:
    report = sample_report()
    report.quality()
    totals = report.totals
    assert totals.completeness == round(5 / 6, 4)
    assert totals.reference_resolution == round(2 / 3, 4)
    assert totals.redactions == 2
    assert totals.repaired == 1  # the failed object's repairs do not count
    assert totals.rejected == 1


def test_quality_is_unknown_without_published_docstrings() -> None:
    report = BuildReport()
    report.add(ObjectOutcome("pkg.f", "function", "failed", reason="timeout: 60 s", completeness=(1, 2)))
    report.quality()
    assert report.totals.completeness is None
    assert report.totals.reference_resolution is None


# JSON ----------------------------------------------------------------------------------------------------------

TOTAL_KEYS = {
    "requests",
    "possibly_billed_tokens",
    "connection_failures",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cache_hits",
    "cache_misses",
    "cost",
    "budget",
    "budget_remaining",
    "retries",
    "rate_limited",
    "server_errors",
    "timeouts",
    "mean_latency_s",
    "redactions",
    "repaired",
    "rejected",
    "completeness",
    "reference_resolution",
    "examples_checked",
    "examples_run",
    "examples_passed",
    "examples_repaired",
    "examples_dropped",
}
OBJECT_KEYS = {
    "path",
    "possibly_billed_tokens",
    "canonical_path",
    "lock",
    "kind",
    "status",
    "reason",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "requests",
    "estimated_tokens",
    "cost",
    "redactions",
    "repairs",
    "completeness",
    "references",
    "truncated_context",
    "examples_checked",
    "examples_run",
    "examples_passed",
    "examples_repaired",
    "examples_dropped",
}


def test_to_dict_has_the_documented_shape() -> None:
    data = sample_report().to_dict()
    assert set(data) == {
        "tool",
        "model",
        "connection",
        "dry_run",
        "token_counter",
        "counts",
        "totals",
        "notes",
        "objects",
    }
    assert data["tool"] == "mkdocs-ai-docstrings"
    assert data["model"] == "gpt-4o-mini"
    assert data["connection"] == "azure https://x"
    assert data["dry_run"] is False
    assert data["token_counter"] == "tiktoken:o200k_base"
    assert data["counts"] == {"generated": 1, "cached": 1, "planned": 0, "skipped": 2, "failed": 1}
    assert set(data["totals"]) >= TOTAL_KEYS
    assert data["totals"]["total_tokens"] == 2040
    assert data["totals"]["completeness"] == round(5 / 6, 4)
    assert [item["path"] for item in data["objects"]] == ["pkg.a", "pkg.b", "pkg.c", "pkg.d", "pkg.e"]
    assert all(set(item) == OBJECT_KEYS for item in data["objects"])
    assert data["objects"][1]["completeness"] == (3, 4)
    assert data["objects"][4]["reason"] == "content filter: hate"


def test_write_creates_folders_and_writes_pretty_json_ending_with_a_newline(tmp_path: Path) -> None:
    target = tmp_path / "site" / "nested" / "ai-docstrings.json"
    assert sample_report().write(target) == target
    text = target.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert text.startswith('{\n  "tool": "mkdocs-ai-docstrings"')
    data = json.loads(text)
    assert data["objects"][1]["completeness"] == [3, 4]
    assert list(target.parent.iterdir()) == [target]  # no temporary file left behind


def test_write_keeps_non_ascii_text_readable(tmp_path: Path) -> None:
    report = BuildReport()
    report.add(ObjectOutcome("pkg.f", "function", "failed", reason="refused: «non» — 拒否"))
    target = report.write(tmp_path / "r.json")
    assert "«non» — 拒否" in target.read_text(encoding="utf-8")


def test_write_replaces_an_old_report_and_leaves_it_intact_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "ai-docstrings.json"
    sample_report().write(target)
    BuildReport(model="other").write(target)
    assert json.loads(target.read_text(encoding="utf-8"))["model"] == "other"
    broken = BuildReport(model="broken")
    broken.add(ObjectOutcome("pkg.f", "function", "generated", cost=object()))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        broken.write(target)
    assert json.loads(target.read_text(encoding="utf-8"))["model"] == "other"


def test_the_written_report_is_the_report_with_one_object_per_line(tmp_path: Path) -> None:
    report = sample_report()
    text = report.write(tmp_path / "ai-docstrings.json").read_text(encoding="utf-8")

    assert json.loads(text) == json.loads(json.dumps(report.to_dict()))
    paths = [o["path"] for o in report.to_dict()["objects"]]
    lines = text.splitlines()
    assert len(paths) > 1
    assert [next(i for i, line in enumerate(lines) if f'"path": "{path}"' in line) for path in paths] == [
        lines.index('  "objects": [') + 1 + n for n in range(len(paths))
    ]  # each object on a line of its own, in order: a diff shows which objects changed


def test_write_relative_to_a_root_stays_inside_it(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    assert sample_report().write("reports/ai.json", root=site) == (site / "reports" / "ai.json").resolve()
    for escape in ("../x.json", str(tmp_path / "x.json"), "reports/../../x.json"):
        with pytest.raises(ReportPathError, match="would be outside"):
            sample_report().write(escape, root=site)
    assert not (tmp_path / "x.json").exists()


@pytest.mark.skipif(not hasattr(os, "symlink") or os.name != "posix", reason="needs POSIX symlinks")
def test_write_refuses_a_link_inside_the_root_that_points_outside(tmp_path: Path) -> None:
    site, outside = tmp_path / "site", tmp_path / "outside"
    site.mkdir()
    outside.mkdir()
    (site / "reports").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ReportPathError):
        sample_report().write("reports/ai.json", root=site)
    assert list(outside.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_write_gives_the_report_the_mode_of_new_files_under_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    previous = os.umask(umask)
    try:
        target = sample_report().write(tmp_path / "ai-docstrings.json")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == mode


# Summary -------------------------------------------------------------------------------------------------------


def test_the_summary_gives_counts_tokens_cost_and_cache_figures() -> None:
    summary = sample_report().summary()
    assert "5 object(s) without a human docstring: 1 generated, 1 from cache, 2 skipped, 1 failed." in summary
    assert "3 request(s), 1800 prompt + 240 completion = 2040 tokens" in summary
    assert "cost $0.0003" in summary
    assert "(2040 billed tokens per generated docstring)" in summary  # one generated object carries the spending
    assert "cache 1 hit(s) / 4 miss(es)" in summary
    assert "budget" not in summary.split("Not generated")[0]


def test_the_summary_mentions_the_budget_when_one_is_set() -> None:
    report = sample_report()
    report.totals.budget, report.totals.budget_remaining = 5000, 2960
    assert "budget 5000 (2960 left)" in report.summary()


def test_an_unknown_cost_is_said_to_be_unknown() -> None:
    report = sample_report()
    report.totals.cost = None
    summary = report.summary()
    assert "cost unknown" in summary
    assert "$" not in summary


def test_the_summary_groups_reasons_and_adds_retries_quality_and_notes() -> None:
    report = sample_report()
    report.totals.retries, report.totals.rate_limited = 4, 3
    report.notes.append("Requests stopped: auth.")
    summary = report.summary()
    assert "Not generated: 2 × budget, 1 × content filter." in summary
    assert "4 retries, 3 throttled (429)." in summary
    assert "2 secret(s) redacted from prompts." in summary
    assert "Completeness 83%, references resolved 67%, 1 repaired, 1 rejected." in summary
    assert summary.endswith(" Requests stopped: auth.")


def test_a_quiet_build_has_a_short_summary() -> None:
    summary = BuildReport().summary()
    assert summary.startswith("AI docstrings: 0 object(s) without a human docstring")
    assert "retries" not in summary
    assert "Not generated" not in summary
    assert "per generated docstring" not in summary
    assert "Completeness" not in summary
