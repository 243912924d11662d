"""`zensical build` of a tiny site with only the griffe extension configured (Zensical runs no MkDocs plugin)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import build_env, make_site
from tests.emulator import AzureEmulator
from tests.test_build import TINY_PACKAGE, TINY_PAGES, UNDOCUMENTED, rendered_objects

ZENSICAL = str(Path(sys.executable).with_name("zensical"))


def _zensical_build(root: Path, options: dict[str, Any], env: dict[str, str], cwd: Path) -> tuple[int, str, Path]:
    site = make_site(
        root,
        TINY_PACKAGE,
        TINY_PAGES,
        handler_options={"extensions": [{"mkdocs_ai_docstrings": options}]},
        plugins_order=("mkdocstrings",),
        theme="material",
    )
    completed = subprocess.run(
        [ZENSICAL, "build", "-f", str(site.config_file)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return completed.returncode, completed.stdout + completed.stderr, site.root


def test_zensical_build_fills_marks_styles_and_reports_beside_the_config_file(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code, output, root = _zensical_build(tmp_path / "root", {}, build_env(emulator, tmp_path), elsewhere)
    assert code == 0, output
    html = (root / "site" / "index.html").read_text(encoding="utf-8")
    objects = rendered_objects(html)
    assert {key for key, obj in objects.items() if obj.marked} == UNDOCUMENTED
    assert html.count("<style data-ai-docstrings-style") == len(UNDOCUMENTED)
    report = json.loads((root / "site" / "ai-docstrings.json").read_text(encoding="utf-8"))
    assert {item["path"]: item["status"] for item in report["objects"]} == dict.fromkeys(UNDOCUMENTED, "generated")
    assert (root / "ai-docstrings.lock").is_file()
    assert (root / ".cache" / "ai-docstrings").is_dir()
    assert list(elsewhere.iterdir()) == []
    # The summary reaches the log although Zensical shows no Python log of its own.
    assert f"6 generated, 0 from cache, 0 skipped, 0 failed. {len(UNDOCUMENTED)} request(s)" in output
    assert f"Report: {root / 'site' / 'ai-docstrings.json'}" in output


def test_zensical_build_with_strict_and_a_failing_object_exits_non_zero(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    options = {"strict": True, "token_budget": 3000}
    code, output, root = _zensical_build(tmp_path / "root", options, build_env(emulator, tmp_path), tmp_path)
    assert code != 0, output
    assert "ai-docstrings (strict):" in output
    report = json.loads((root / "site" / "ai-docstrings.json").read_text(encoding="utf-8"))
    assert any(item["reason"] == "budget" for item in report["objects"])
