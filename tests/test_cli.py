"""Specification of the `mkdocs-ai-docstrings` command line: help, version, and paths relative to mkdocs.yml."""

from __future__ import annotations

import argparse
import io
import re
from contextlib import redirect_stdout
from importlib.metadata import version
from pathlib import Path

import pytest

from mkdocs_ai_docstrings._internal import cli
from mkdocs_ai_docstrings._internal.cache import AnswerCache
from mkdocs_ai_docstrings._internal.lock import LockFile, LockRecord
from mkdocs_ai_docstrings._internal.options_table import BEGIN, END, options_table
from tests.conftest import make_site

PACKAGE = {"clipkg/__init__.py": '"""A package."""\n\n\ndef add(a, b):\n    return a + b\n'}


def run(*argv: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(list(argv)) == 0
    return out.getvalue()


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"mkdocs-ai-docstrings {version('mkdocs-ai-docstrings')}"


def test_every_subcommand_has_a_summary_a_description_and_examples() -> None:
    parser = cli.build_parser()
    summaries = {a.dest: a.help for a in parser._subparsers._group_actions[0]._choices_actions}  # type: ignore[union-attr]
    assert set(summaries) == {"plan", "review", "apply", "cache", "options", "batch"}
    for name, sub in subcommands().items():
        assert summaries[name], name
        assert sub.description, name
        assert sub.epilog and sub.epilog.startswith("examples:\n") and f"mkdocs-ai-docstrings {name}" in sub.epilog


def test_every_flag_and_argument_has_help() -> None:
    for name, sub in subcommands().items():
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest}"


def test_a_command_group_from_another_module_is_one_registrar(monkeypatch: pytest.MonkeyPatch) -> None:
    def register(commands: argparse._SubParsersAction) -> None:  # what another module provides
        commands.add_parser("hello", help="say hello").set_defaults(run=lambda args: print("hello") or 0)

    monkeypatch.setattr(cli, "REGISTRARS", [*cli.REGISTRARS, register])
    assert run("hello") == "hello\n"


def test_options_prints_the_table_and_writes_it_into_a_readme(tmp_path: Path) -> None:
    assert run("options").strip() == options_table()
    readme = tmp_path / "README.md"
    readme.write_text(f"# Tool\n\n{BEGIN}\n| old | table |\n{END}\n\nMore.\n", encoding="utf-8")
    run("options", "--write", str(readme))
    assert readme.read_text(encoding="utf-8") == f"# Tool\n\n{BEGIN}\n{options_table()}\n{END}\n\nMore.\n"


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A current folder that is not the site's."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_cache_paths_are_relative_to_the_config_file_from_any_folder(tmp_path: Path, elsewhere: Path) -> None:
    site = make_site(tmp_path / "site", PACKAGE, plugin_options={"cache_dir": "build/answers"})
    cache = AnswerCache(site.root / "build" / "answers")
    cache.put("k1", {"path": "clipkg.add", "answer": {"summary": "Add."}})
    cache.close()

    stats = run("cache", "stats", "-f", str(site.config_file))
    assert stats == f"1 cached answer(s) in {site.root / 'build' / 'answers'}\n"
    assert run("cache", "invalidate", "clipkg.*", "-f", str(site.config_file)).startswith("invalidated 1 answer(s)")
    assert list(elsewhere.iterdir()) == []  # nothing was created in the current folder


def test_the_extension_options_are_read_when_there_is_no_plugin(tmp_path: Path, elsewhere: Path) -> None:
    site = make_site(
        tmp_path / "site",
        PACKAGE,
        handler_options={"extensions": [{"mkdocs_ai_docstrings": {"cache_dir": "ext-cache"}}]},
        plugins_order=("mkdocstrings",),
    )
    assert run("cache", "stats", "-f", str(site.config_file)).endswith(f"in {site.root / 'ext-cache'}\n")


def test_review_reads_and_writes_the_lock_file_beside_the_config_file(tmp_path: Path, elsewhere: Path) -> None:
    site = make_site(tmp_path / "site", PACKAGE, plugin_options={"lock_file": "locks/ai.lock"})
    lock = LockFile.load(site.root / "locks" / "ai.lock")
    lock.put(LockRecord(path="clipkg.add", kind="function", fingerprint="f", style="google", text="Add two numbers."))
    lock.write()

    listing = run("review", "-f", str(site.config_file))
    assert listing.startswith("clipkg.add (function, pending")
    assert "return a + b" in listing  # the object's code, found through the handler's paths
    run("review", "-f", str(site.config_file), "--all")
    assert LockFile.load(site.root / "locks" / "ai.lock").records["clipkg.add"].review == "accepted"
    assert list(elsewhere.iterdir()) == []


def test_a_site_without_the_plugin_or_the_extension_is_one_line(tmp_path: Path, elsewhere: Path) -> None:
    site = make_site(tmp_path / "site", PACKAGE, plugins_order=("mkdocstrings",))
    with pytest.raises(SystemExit, match="neither the `ai-docstrings` plugin nor the `mkdocs_ai_docstrings` extension"):
        cli.main(["review", "-f", str(site.config_file)])


def test_a_wrong_option_in_the_site_names_the_file_and_the_option(tmp_path: Path, elsewhere: Path) -> None:
    site = make_site(tmp_path / "site", PACKAGE, plugin_options={"concurrency": 0})
    with pytest.raises(SystemExit, match=re.escape("mkdocs.yml: option 'concurrency' must be between 1 and 64, got 0")):
        cli.main(["cache", "stats", "-f", str(site.config_file)])
