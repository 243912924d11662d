"""`properdocs build` (the maintained MkDocs 1.x fork) of a tiny site with only the griffe extension configured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import build_env, make_site
from tests.emulator import AzureEmulator
from tests.test_build import TINY_PACKAGE, TINY_PAGES, UNDOCUMENTED, rendered_objects

PROPERDOCS = str(Path(sys.executable).with_name("properdocs"))


def _properdocs_build(root: Path, options: dict[str, Any], env: dict[str, str]) -> tuple[int, str, Path]:
    site = make_site(
        root,
        TINY_PACKAGE,
        TINY_PAGES,
        handler_options={"extensions": [{"mkdocs_ai_docstrings": options}]},
        plugins_order=("mkdocstrings",),
        theme="material",  # ProperDocs ships no theme of its own
    )
    completed = subprocess.run(
        [PROPERDOCS, "build", "-f", str(site.config_file)],
        cwd=root.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return completed.returncode, completed.stdout + completed.stderr, site.root


def test_properdocs_build_fills_marks_styles_and_reports(tmp_path: Path, emulator: AzureEmulator) -> None:
    code, output, root = _properdocs_build(tmp_path / "root", {}, build_env(emulator, tmp_path))
    assert code == 0, output
    html = (root / "site" / "index.html").read_text(encoding="utf-8")
    assert {key for key, obj in rendered_objects(html).items() if obj.marked} == UNDOCUMENTED
    assert html.count("<style data-ai-docstrings-style") == len(UNDOCUMENTED)
    report = json.loads((root / "site" / "ai-docstrings.json").read_text(encoding="utf-8"))
    assert {item["path"]: item["status"] for item in report["objects"]} == dict.fromkeys(UNDOCUMENTED, "generated")
    assert (root / "ai-docstrings.lock").is_file()


def test_properdocs_build_with_strict_and_a_failing_object_exits_non_zero_without_a_traceback(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    options = {"strict": True, "token_budget": 3000}
    code, output, _ = _properdocs_build(tmp_path / "root", options, build_env(emulator, tmp_path))
    assert code != 0, output
    assert "ai-docstrings (strict):" in output
    assert "Traceback" not in output
