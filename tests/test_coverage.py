"""Specifications of the coverage figures, the coverage page and the coverage gates (real builds, emulated API)."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mkdocs_ai_docstrings._internal.coverage import Coverage, ModuleFigures, anchors_in_site, gate_failures
from mkdocs_ai_docstrings._internal.settings import Settings, SettingsError
from tests.conftest import BuildResult, build, build_env, make_site
from tests.emulator import AzureEmulator
from tests.test_build import TINY_PACKAGE, TINY_PAGES, UNDOCUMENTED, assert_built, marked_ids

PAGE = "ai-docstrings-coverage.html"
HUMAN = {"tinypkg", "tinypkg.core.greet", "tinypkg.core.Counter.reset"}
"""The tiny package's objects in scope documented by people (`__init__` is special: out of scope)."""


def page_rows(result: BuildResult, page: str = PAGE) -> dict[str, list[int]]:
    """Module -> [objects, people, AI reviewed, AI not reviewed, undocumented] as the coverage page shows them."""
    text = (result.site_dir / page).read_text(encoding="utf-8")
    rows = re.findall(r"<tr><td><code>([^<]+)</code></td>((?:<td>\d+</td>){5})</tr>", text)
    return {html.unescape(name): [int(n) for n in re.findall(r"\d+", cells)] for name, cells in rows}


def page_links(result: BuildResult, page: str = PAGE) -> dict[str, str]:
    text = (result.site_dir / page).read_text(encoding="utf-8")
    return {
        html.unescape(label): html.unescape(href)
        for href, label in re.findall(r'<a href="([^"]+)"><code>([^<]+)</code>', text)
    }


def test_report_and_page_count_people_ai_and_nothing_per_module(tmp_path: Path, emulator: AzureEmulator) -> None:
    site = make_site(tmp_path / "project", TINY_PACKAGE, TINY_PAGES)
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert_built(result)
    coverage = result.report["coverage"]
    assert coverage["totals"] == {
        "human": 3,
        "ai_reviewed": 0,
        "ai_unreviewed": 6,
        "undocumented": 0,
        "ai": 6,
        "total": 9,
    }
    assert coverage["percent"] == {"human": 33.33, "total": 100.0, "ai": 66.67}
    modules = {m["module"]: m for m in coverage["modules"]}
    assert set(modules) == {"tinypkg", "tinypkg.core"}
    assert set(modules["tinypkg.core"]["ai_entries"]) == UNDOCUMENTED == marked_ids(result)
    # the page shows the report's numbers, module by module
    rows = page_rows(result)
    for name, m in modules.items():
        assert rows[name] == [m["total"], m["human"], m["ai_reviewed"], m["ai_unreviewed"], m["undocumented"]]
    # every AI-written entry links to its heading
    links = page_links(result)
    assert set(links) == UNDOCUMENTED
    for path, href in links.items():
        page, _, anchor = href.partition("#")
        assert anchor == path
        assert f'id="{path}"' in (result.site_dir / page).read_text(encoding="utf-8")


def test_reviewed_and_undocumented_objects_are_counted_apart(tmp_path: Path, emulator: AzureEmulator) -> None:
    site = make_site(tmp_path / "project", TINY_PACKAGE, TINY_PAGES, plugin_options={"coverage_page": "stats/cov.html"})
    assert_built(build(site, build_env(emulator, tmp_path), emulator=emulator))
    lock = site.root / "ai-docstrings.lock"
    text = lock.read_text()
    for path in ("tinypkg.core.add", "tinypkg.core.scale"):
        head = f'["{path}"]\n'
        before, _, after = text.partition(head)
        text = before + head + after.replace('review = "pending"', 'review = "accepted"', 1)
    lock.write_text(text)
    offline = build(site, build_env(None, tmp_path))
    assert_built(offline)
    totals = offline.report["coverage"]["totals"]
    assert (totals["ai_reviewed"], totals["ai_unreviewed"], totals["human"]) == (2, 4, 3)
    assert page_rows(offline, "stats/cov.html")["tinypkg.core"] == [8, 2, 2, 4, 0]
    assert page_links(offline, "stats/cov.html")["tinypkg.core.add"].startswith("../")


def test_a_failing_gate_fails_the_build_with_one_line_naming_figure_and_threshold(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    options = {"fail_under_human": 80, "max_ai_share": 70, "fail_under_total": 100}
    site = make_site(tmp_path / "project", TINY_PACKAGE, TINY_PAGES, plugin_options=options)
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert result.returncode != 0
    lines = [line for line in result.output.splitlines() if "fail_under_human" in line]
    assert len(lines) == 1, result.output
    assert "ai-docstrings: human docstring coverage 33.33% is under fail_under_human 80%" in lines[0]
    assert "max_ai_share" not in result.output and "fail_under_total" not in result.output  # 66.67 <= 70, 100 >= 100
    assert (site.root / "ai-docstrings.lock").exists()  # the answers are kept for the next build
    passing = site.config_file.read_text().replace('"fail_under_human": 80', '"fail_under_human": 30')
    site.config_file.write_text(passing)
    assert_built(build(site, build_env(emulator, tmp_path), emulator=emulator))


def test_the_page_can_be_turned_off(tmp_path: Path, emulator: AzureEmulator) -> None:
    site = make_site(tmp_path / "project", TINY_PACKAGE, TINY_PAGES, plugin_options={"coverage_page": False})
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert_built(result)
    assert not (result.site_dir / PAGE).exists()
    assert result.report["coverage"]["totals"]["total"] == 9


def test_figures_agree_with_interrogate_on_the_same_objects(tmp_path: Path, emulator: AzureEmulator) -> None:
    interrogate = Path(sys.executable).parent / "interrogate"
    if not interrogate.exists():
        pytest.skip("interrogate is not installed")
    site = make_site(tmp_path / "project", TINY_PACKAGE, TINY_PAGES, plugin_options={"enabled": False})
    result = build(site, build_env(None, tmp_path))
    assert_built(result)
    ours = result.report["coverage"]["totals"]
    # interrogate's scope made the same: no __init__ methods (-i), no private (-p) or magic (-m) ones.
    run = subprocess.run(
        [str(interrogate), "-c", "/dev/null", "-i", "-p", "-m", "-vv", "--fail-under", "0", "tinypkg"],
        cwd=site.src,
        capture_output=True,
        text=True,
        check=False,
    )
    total = re.search(r"\|\s*TOTAL\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|", run.stdout)
    assert total is not None, run.stdout
    assert [int(n) for n in total.groups()] == [ours["total"], ours["undocumented"], ours["human"]]


@pytest.mark.parametrize(
    ("options", "line"),
    [
        ({"fail_under_human": 62.5}, "ai-docstrings: human docstring coverage 50% is under fail_under_human 62.5%"),
        ({"fail_under_total": 90}, "ai-docstrings: docstring coverage (human + AI) 75% is under fail_under_total 90%"),
        ({"max_ai_share": 20}, "ai-docstrings: AI-written share 25% is over max_ai_share 20%"),
    ],
)
def test_each_gate_names_its_figure_and_threshold(options: dict[str, float], line: str) -> None:
    coverage = Coverage({"m": ModuleFigures("m", human=4, ai_reviewed=1, ai_unreviewed=1, undocumented=2)})
    assert gate_failures(coverage, Settings.from_options(options)) == [line]
    assert gate_failures(coverage, Settings()) == []


def test_gate_thresholds_are_percentages() -> None:
    with pytest.raises(SettingsError, match="fail_under_human' must be between 0 and 100"):
        Settings.from_options({"fail_under_human": 120})
    with pytest.raises(SettingsError, match="coverage_page"):
        Settings.from_options({"coverage_page": "/etc/page.html"})


def test_links_point_at_the_first_page_whose_id_attribute_names_the_entry(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "a.html").write_text('<div data-id="pkg.f"></div><p xml:id="pkg.g"></p>', encoding="utf-8")
    (tmp_path / "api" / "b.html").write_text('<h2 id="pkg.f">f</h2>\n<h3\tid="pkg.g&amp;h">', encoding="utf-8")
    (tmp_path / "c.html").write_text('<h2 id="pkg.f">again</h2>', encoding="utf-8")

    links = anchors_in_site(tmp_path, {"pkg.f", "pkg.g&h", "pkg.absent"})

    assert links == {"pkg.f": "api/b.html", "pkg.g&h": "api/b.html"}
