"""Specification of the public surface: the package root exports what users configure or catch, and nothing else."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import mkdocs_ai_docstrings

PUBLIC = {
    "AIDocstringsExtension",  # listed under mkdocstrings' handler options
    "AIDocstringsPlugin",  # the MkDocs plugin `ai-docstrings`
    "Settings",  # every option, with its default
    "SettingsError",  # a wrong option
    "ConfigurationError",  # a connection that cannot be set up
    "AI_LABEL",  # the label that marks an AI-written docstring
}
REFERENCE = Path(__file__).parent.parent / "docs" / "reference.md"


def test_the_root_exports_exactly_what_users_configure_or_catch() -> None:
    assert set(mkdocs_ai_docstrings.__all__) == PUBLIC
    assert len(mkdocs_ai_docstrings.__all__) == len(PUBLIC)  # no name listed twice


def test_every_public_name_is_importable_from_the_root() -> None:
    module = importlib.import_module("mkdocs_ai_docstrings")
    for name in PUBLIC:
        assert getattr(module, name) is not None, name


def test_internals_are_not_reachable_from_the_root() -> None:
    for name in ("ChatClient", "TokenLedger", "BuildSession", "cache_key", "discover", "AnswerCache", "Connection"):
        assert not hasattr(mkdocs_ai_docstrings, name), name


def test_the_error_types_are_what_a_build_script_can_catch() -> None:
    assert issubclass(mkdocs_ai_docstrings.SettingsError, ValueError)
    assert issubclass(mkdocs_ai_docstrings.ConfigurationError, Exception)
    assert mkdocs_ai_docstrings.Settings.from_options().enabled is True


def test_every_public_name_and_only_those_are_documented_in_the_reference() -> None:
    documented = re.findall(r"^::: mkdocs_ai_docstrings\.(\w+)\s*$", REFERENCE.read_text(encoding="utf-8"), re.M)
    assert sorted(documented) == sorted(PUBLIC)


def test_the_plugin_entry_point_and_the_extension_path_name_the_root() -> None:
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert 'ai-docstrings = "mkdocs_ai_docstrings:AIDocstringsPlugin"' in pyproject
    from mkdocs_ai_docstrings._internal.plugin import EXTENSION_PATH

    module, _, name = EXTENSION_PATH.rpartition(".")
    assert module == "mkdocs_ai_docstrings" and name in PUBLIC
