"""`properdocs build` (the maintained MkDocs 1.x fork) of a tiny site with only the griffe extension configured."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import build_env, build_with, error_lines, extension_site
from tests.emulator import AzureEmulator
from tests.test_build import TINY_PACKAGE, TINY_PAGES, UNDOCUMENTED, rendered_objects


def test_properdocs_build_fills_marks_styles_and_reports(tmp_path: Path, emulator: AzureEmulator) -> None:
    site = extension_site(tmp_path / "root", TINY_PACKAGE, TINY_PAGES)
    result = build_with("properdocs", site, build_env(emulator, tmp_path))
    assert result.returncode == 0, result.output
    html = result.pages()["index.html"]
    assert {key for key, obj in rendered_objects(html).items() if obj.marked} == UNDOCUMENTED
    assert html.count("<style data-ai-docstrings-style") == len(UNDOCUMENTED)
    assert result.statuses() == dict.fromkeys(UNDOCUMENTED, "generated")
    assert (site.root / "ai-docstrings.lock").is_file()


def test_properdocs_build_with_strict_and_a_failing_object_exits_non_zero_with_one_error_line(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    site = extension_site(tmp_path / "root", TINY_PACKAGE, TINY_PAGES, {"strict": True, "token_budget": 1000})
    result = build_with("properdocs", site, build_env(emulator, tmp_path))
    assert result.returncode != 0, result.output
    assert "Traceback" not in result.output
    [line] = [line for line in error_lines(result.output) if "ai-docstrings" in line]
    assert "ai-docstrings (strict): 6 object(s) not documented" in line
