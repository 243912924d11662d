"""End-to-end specifications of option errors: real `mkdocs build` runs with one bad option each.

Under the plugin a bad option fails the build with exactly one error line naming it (no traceback); under the
standalone griffe extension it is one error line and the site is built without generation. The report lands
inside the site with the site's permissions.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Site, build, build_env, error_lines, make_site
from tests.emulator import AzureEmulator

PACKAGE = {
    "cfgpkg/__init__.py": '"""A package for configuration tests."""\n',
    "cfgpkg/ops.py": "def double(x: int) -> int:\n    return 2 * x\n",
}
PAGES = {"index.md": "# API\n\n::: cfgpkg.ops\n"}
NAN = "__nan__"
"""Stands for YAML's `.nan`, which the JSON the site writer emits cannot spell."""


def site_with(tmp_path: Path, plugin_options: dict[str, Any] | None = None, **kwargs: Any) -> Site:
    site = make_site(tmp_path / "site-root", PACKAGE, PAGES, plugin_options, **kwargs)
    text = site.config_file.read_text(encoding="utf-8").replace(f'"{NAN}"', ".nan")
    site.config_file.write_text(text, encoding="utf-8")
    return site


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"temperature": 50}, "ai-docstrings: option 'temperature' must be between 0 and 2, got 50"),
        ({"request_timeout": NAN}, "ai-docstrings: option 'request_timeout' must be a finite number, got nan"),
        ({"rpm": 0.001}, "ai-docstrings: option 'rpm' must be at least 1, got 0.001"),
        ({"tpm": 1}, "ai-docstrings: option 'tpm' must be at least max_input_tokens + max_completion_tokens = 3200"),
        (
            {"max_completion_tokens": 10**9},
            "ai-docstrings: option 'max_completion_tokens' must be between 1 and 128000",
        ),
        ({"prices": {"my-model": {"input": 1.0}}}, "ai-docstrings: option 'prices' must be {model: {input, "),
        ({"user_prompt_file": "prompts/missing.txt"}, "ai-docstrings: option 'user_prompt_file': "),
        ({"report_file": "../../x.json"}, "ai-docstrings: option 'report_file' must be a relative path inside"),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else "",
)
def test_a_bad_plugin_option_fails_the_build_with_one_error_line_naming_it(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    site = site_with(tmp_path, options)
    result = build(site, build_env(None, tmp_path), timeout=60)
    assert result.returncode != 0
    assert "Traceback" not in result.output, result.output
    lines = error_lines(result.output)
    assert len(lines) == 1, result.output
    assert lines[0].split(" -  ", 1)[1].startswith(message), result.output


def test_a_prompt_template_with_an_unknown_variable_names_the_file_variable_and_allowed_ones(tmp_path: Path) -> None:
    site = site_with(tmp_path, {"user_prompt_file": "prompts/user.txt"})
    (site.root / "prompts").mkdir()
    (site.root / "prompts" / "user.txt").write_text("Document $path with $source\n$context\n", encoding="utf-8")
    result = build(site, build_env(None, tmp_path), timeout=60)
    assert result.returncode != 0
    assert "Traceback" not in result.output
    assert [line.split(" -  ", 1)[1] for line in error_lines(result.output)] == [
        f"ai-docstrings: option 'user_prompt_file': {site.root / 'prompts' / 'user.txt'} uses unknown variable(s) "
        "$source; allowed: $context, $kind, $path"
    ]


def test_prompt_files_are_read_relative_to_mkdocs_yml_whatever_the_current_folder(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    site = site_with(tmp_path, {"user_prompt_file": "prompts/user.txt"})
    (site.root / "prompts").mkdir()
    (site.root / "prompts" / "user.txt").write_text("CUSTOM TEMPLATE for $path\n\n$context\n", encoding="utf-8")
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
    assert completed.returncode == 0, completed.stdout + completed.stderr
    users = [m["content"] for r in emulator.requests for m in r.body["messages"] if m["role"] == "user"]
    assert users and all(text.startswith("CUSTOM TEMPLATE for cfgpkg.ops") for text in users)


def test_a_bad_standalone_extension_option_is_one_error_line_and_the_site_is_built_without_generation(
    tmp_path: Path,
) -> None:
    pages = {"index.md": "# API\n\n::: cfgpkg.ops\n", "more.md": "# More\n\n::: cfgpkg\n"}
    cache_dir = tmp_path / "ext-cache"
    site = make_site(
        tmp_path / "site-root",
        PACKAGE,
        pages,
        handler_options={"extensions": [{"mkdocs_ai_docstrings": {"cache_dir": str(cache_dir), "concurrency": 0}}]},
        plugins_order=("mkdocstrings",),
    )
    result = build(site, build_env(None, tmp_path), timeout=60)
    assert result.returncode == 0, result.output
    assert "Traceback" not in result.output
    assert [line.split(" -  ", 1)[1] for line in error_lines(result.output)] == [
        "ai-docstrings extension: option 'concurrency' must be between 1 and 64, got 0; no docstring is generated"
    ]
    assert 'id="cfgpkg.ops"' in (site.site_dir / "index.html").read_text(encoding="utf-8")
    assert not (cache_dir / "ai-docstrings.json").exists()
    strict = build(site, build_env(None, tmp_path), "--strict", timeout=60)
    assert strict.returncode != 0
    assert "Traceback" not in strict.output


def test_the_report_is_written_inside_the_site_with_the_sites_permissions(tmp_path: Path) -> None:
    site = site_with(tmp_path, {"report_file": "reports/ai.json"})
    result = build(site, build_env(None, tmp_path), timeout=60)
    assert result.returncode == 0, result.output
    report = site.site_dir / "reports" / "ai.json"
    page = site.site_dir / "index.html"
    assert report.is_file()
    assert stat.S_IMODE(report.stat().st_mode) == stat.S_IMODE(page.stat().st_mode)
    assert not [p for p in report.parent.iterdir() if p.name.endswith(".tmp")]
    if os.name == "posix":
        assert stat.S_IMODE(report.stat().st_mode) & 0o044  # readable by others, as the pages are under umask 022
