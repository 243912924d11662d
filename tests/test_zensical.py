"""`zensical build` with only the griffe extension configured (Zensical runs no MkDocs plugin), and the same site
under `mkdocs build` and `properdocs build`: the same figures."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import BUILDERS, build_env, build_with, error_lines, extension_site
from tests.emulator import AzureEmulator
from tests.test_build import TINY_PACKAGE, TINY_PAGES, UNDOCUMENTED, marked_ids, rendered_objects


def test_zensical_build_fills_marks_styles_and_reports_beside_the_config_file(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    site = extension_site(tmp_path / "root", TINY_PACKAGE, TINY_PAGES, {"examples": False})  # one request an object
    result = build_with("zensical", site, build_env(emulator, tmp_path), cwd=elsewhere)
    assert result.returncode == 0, result.output
    html = result.pages()["index.html"]
    objects = rendered_objects(html)
    assert {key for key, obj in objects.items() if obj.marked} == UNDOCUMENTED
    assert html.count("<style data-ai-docstrings-style") == len(UNDOCUMENTED)
    assert result.statuses() == dict.fromkeys(UNDOCUMENTED, "generated")
    assert (site.root / "ai-docstrings.lock").is_file()
    assert (site.root / ".cache" / "ai-docstrings").is_dir()
    assert list(elsewhere.iterdir()) == []
    # The summary reaches the log although Zensical shows no Python log of its own.
    assert f"6 generated, 0 from cache, 0 skipped, 0 failed. {len(UNDOCUMENTED)} request(s)" in result.output
    assert f"Report: {site.site_dir / 'ai-docstrings.json'}" in result.output
    # The coverage page is there too, styled although no plugin put the stylesheet into the site.
    assert "<style data-ai-docstrings-style" in result.pages()["ai-docstrings-coverage.html"]


def test_zensical_build_with_strict_and_a_failing_object_exits_1_with_one_error_line_and_no_traceback(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    site = extension_site(tmp_path / "root", TINY_PACKAGE, TINY_PAGES, {"strict": True, "token_budget": 1000})
    result = build_with("zensical", site, build_env(emulator, tmp_path))
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output
    [line] = error_lines(result.output)
    assert "ai-docstrings (strict): 6 object(s) not documented: tinypkg.core.add (budget)" in line
    # The site, the report and the summary are complete although the build fails.
    assert "index.html" in result.pages()
    assert result.report is not None and {o["reason"] for o in result.report["objects"]} == {"budget"}
    assert "6 skipped, 0 failed" in result.output


def test_a_failing_coverage_gate_fails_zensical_build_with_one_line(tmp_path: Path, emulator: AzureEmulator) -> None:
    site = extension_site(tmp_path / "root", TINY_PACKAGE, TINY_PAGES, {"fail_under_human": 80})
    result = build_with("zensical", site, build_env(emulator, tmp_path))
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output
    [line] = error_lines(result.output)
    assert line.endswith("ai-docstrings: human docstring coverage 33.33% is under fail_under_human 80%")
    assert result.statuses() == dict.fromkeys(UNDOCUMENTED, "generated")  # the answers are kept


def test_pages_zensical_generates_itself_are_in_scope(tmp_path: Path, emulator: AzureEmulator) -> None:
    # Zensical's native `api-autonav` writes one page per module that no file holds; the page on disk shows no
    # member, so only what the handler collects tells that `tinypkg.core` and its members are rendered.
    site = extension_site(
        tmp_path / "root",
        TINY_PACKAGE,
        {"index.md": "# Home\n\n::: tinypkg\n    options:\n      members: false\n"},
    )
    text = site.config_file.read_text(encoding="utf-8")
    autonav = {"api-autonav": {"modules": ["src/tinypkg"]}}
    site.config_file.write_text(text.replace("plugins: [", f"plugins: [{json.dumps(autonav)}, "), encoding="utf-8")
    result = build_with("zensical", site, build_env(emulator, tmp_path))
    assert result.returncode == 0, result.output
    assert "reference/tinypkg/core/index.html" in result.pages()
    assert result.statuses() == dict.fromkeys(UNDOCUMENTED, "generated")
    assert marked_ids(result) == UNDOCUMENTED


def test_the_same_site_gives_the_same_figures_under_every_builder(tmp_path: Path, emulator: AzureEmulator) -> None:
    figures = {}
    for builder in BUILDERS:
        site = extension_site(tmp_path / builder, TINY_PACKAGE, TINY_PAGES)
        result = build_with(builder, site, build_env(emulator, tmp_path), emulator=emulator)
        assert result.returncode == 0, f"{builder}: {result.output}"
        assert result.report is not None, f"{builder}: {result.output}"
        totals = result.report["totals"]
        figures[builder] = {
            "statuses": result.statuses(),
            "marked": marked_ids(result),
            "styled": result.pages()["index.html"].count("<style data-ai-docstrings-style"),
            "requests": result.requests,
            "coverage": result.report["coverage"]["totals"],
            "counts": (totals["requests"], totals["cache_hits"], totals["cache_misses"]),
        }
    assert figures["mkdocs"]["statuses"] == dict.fromkeys(UNDOCUMENTED, "generated")
    assert figures["mkdocs"]["marked"] == UNDOCUMENTED
    assert figures["properdocs"] == figures["mkdocs"]
    assert figures["zensical"] == figures["mkdocs"]
