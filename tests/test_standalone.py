"""The griffe extension alone (no MkDocs plugin): one budget, report and summary per build; paths from the config file;
`strict` fails the build without `--strict`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import build, build_env, error_lines, extension_site, make_site
from tests.emulator import AzureEmulator
from tests.test_build import STYLE_PACKAGE, TINY_PACKAGE, TINY_PAGES, UNDOCUMENTED, marked_ids

TWO_PACKAGES = {**TINY_PACKAGE, **STYLE_PACKAGE}
TWO_PAGES = {"index.md": "# API\n\n::: tinypkg.core\n\n::: stylepkg.ops\n"}
BUDGET = 4000
"""Enough for most of `tinypkg` alone, and for all of `stylepkg` alone: not for both."""


def _summaries(output: str) -> list[str]:
    return [line for line in output.splitlines() if "object(s) without a human docstring" in line]


def test_one_budget_one_report_and_one_summary_for_every_package_of_the_build(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    site = extension_site(tmp_path / "root", TWO_PACKAGES, TWO_PAGES, {"token_budget": BUDGET}, theme="mkdocs")
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert result.returncode == 0, result.output
    assert emulator.billed_total_tokens <= BUDGET
    report = result.report
    assert report is not None, result.output
    paths = {item["path"] for item in report["objects"]}
    assert paths == UNDOCUMENTED | {"stylepkg.ops.scale", "stylepkg.ops.clamp"}
    # The second package draws on what the first one left: with a budget of its own it would fit whole.
    assert any(item["reason"] == "budget" for item in report["objects"] if item["path"].startswith("stylepkg."))
    assert report["totals"]["total_tokens"] == emulator.billed_total_tokens
    assert report["totals"]["budget_remaining"] == BUDGET - emulator.billed_total_tokens
    [summary] = _summaries(result.output)
    assert summary.endswith(f"Report: {site.site_dir / 'ai-docstrings.json'}")


def test_cache_lock_and_report_follow_the_config_file_not_the_working_directory(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    site = extension_site(tmp_path / "root", TINY_PACKAGE, TINY_PAGES, {}, theme="mkdocs")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-f", str(site.config_file)],
        cwd=elsewhere,
        env=build_env(emulator, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert list(elsewhere.iterdir()) == []
    assert (site.root / ".cache" / "ai-docstrings").is_dir()
    assert (site.root / "ai-docstrings.lock").is_file()
    report = json.loads((site.site_dir / "ai-docstrings.json").read_text(encoding="utf-8"))
    assert {item["path"]: item["status"] for item in report["objects"]} == dict.fromkeys(UNDOCUMENTED, "generated")


def test_strict_fails_the_build_with_one_error_line_without_the_cli_flag(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    site = extension_site(
        tmp_path / "root", TINY_PACKAGE, TINY_PAGES, {"token_budget": BUDGET, "strict": True}, theme="mkdocs"
    )
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert result.returncode != 0
    assert "Traceback" not in result.output
    strict_errors = [line for line in error_lines(result.output) if "ai-docstrings (strict)" in line]
    assert len(strict_errors) == 1, result.output
    assert "(budget)" in strict_errors[0]
    # The report was written before the build stopped, and names the objects left out.
    assert result.report is not None
    left_out = {item["path"] for item in result.report["objects"] if item["reason"] == "budget"}
    assert left_out and left_out <= UNDOCUMENTED
    assert all(path in strict_errors[0] for path in left_out)


def test_a_second_build_of_the_same_site_reads_everything_from_the_lock(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    site = extension_site(tmp_path / "root", TINY_PACKAGE, TINY_PAGES, {}, theme="mkdocs")
    first = build(site, build_env(emulator, tmp_path), emulator=emulator)
    second = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert first.returncode == second.returncode == 0, second.output
    assert second.requests == 0
    assert marked_ids(second) == UNDOCUMENTED
    assert second.pages() == first.pages()


def test_without_the_plugin_every_marker_carries_the_stylesheet_and_human_docstrings_do_not(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    site = extension_site(tmp_path / "root", TINY_PACKAGE, TINY_PAGES, {}, theme="mkdocs")
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert result.returncode == 0, result.output
    html = result.pages()["index.html"]
    markers = re.findall(
        r'<details class="ai-generated" open>\s*<summary>AI-generated</summary>\s*(<style[^>]*>)', html
    )
    assert markers == ['<style data-ai-docstrings-style="">'] * len(UNDOCUMENTED)
    assert html.count("<style data-ai-docstrings-style") == len(UNDOCUMENTED)
    style = html.split("<style data-ai-docstrings-style", 1)[1].split("</style>", 1)[0]
    assert "small.doc-label-ai-generated" in style and "details.ai-generated" in style


GEN_SCRIPT = """\
import mkdocs_gen_files

for module in ("tinypkg", "tinypkg.core"):
    path = "reference/" + module.replace(".", "/") + ".md"
    with mkdocs_gen_files.open(path, "w") as page:
        page.write("## ::: " + module + "\\n")
with mkdocs_gen_files.open("reference/SUMMARY.md", "w") as nav:
    nav.write("* [tinypkg](tinypkg.md)\\n* [core](tinypkg/core.md)\\n")
"""


@pytest.mark.parametrize("with_plugin", [True, False], ids=["plugin", "extension-only"])
def test_pages_generated_by_gen_files_are_in_scope(tmp_path: Path, emulator: AzureEmulator, with_plugin: bool) -> None:
    gen = {"gen-files": {"scripts": ["gen_ref.py"]}}
    order: tuple[Any, ...] = ("ai-docstrings", "mkdocstrings") if with_plugin else ("mkdocstrings",)
    site = make_site(
        tmp_path / "root",
        TINY_PACKAGE,
        {"index.md": "# Home\n\n::: tinypkg\n    options:\n      members: false\n"},  # on disk: no member
        handler_options={} if with_plugin else {"extensions": ["mkdocs_ai_docstrings"]},
        plugins_order=order,
        extra_config={"nav": ["index.md", {"API": "reference/"}]},
    )
    text = site.config_file.read_text(encoding="utf-8")
    site.config_file.write_text(
        text.replace("plugins: [", f'plugins: [{json.dumps(gen)}, "literate-nav", '), encoding="utf-8"
    )
    (site.root / "gen_ref.py").write_text(GEN_SCRIPT, encoding="utf-8")
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert result.returncode == 0, result.output
    assert result.statuses() == dict.fromkeys(UNDOCUMENTED, "generated")
    assert marked_ids(result) == UNDOCUMENTED


@pytest.mark.parametrize(
    "page",
    ["# API\n\n:::tinypkg\n\n:::tinypkg.core\n", "# API\n\n## ::: tinypkg\n\n### :::tinypkg.core\n"],
    ids=[":::pkg", "## ::: pkg"],
)
def test_every_block_syntax_mkdocstrings_accepts_is_in_scope(
    tmp_path: Path, emulator: AzureEmulator, page: str
) -> None:
    site = extension_site(tmp_path / "root", TINY_PACKAGE, {"index.md": page}, theme="mkdocs")
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert result.returncode == 0, result.output
    assert result.statuses() == dict.fromkeys(UNDOCUMENTED, "generated")
    assert marked_ids(result) == UNDOCUMENTED
