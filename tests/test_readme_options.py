"""Specification of the README's options table: written from the one declaration of the options, never by hand."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from mkdocs_ai_docstrings import Settings
from mkdocs_ai_docstrings._internal.options_table import BEGIN, END, option_docstrings, options_table, replace_table

README = Path(__file__).parent.parent / "README.md"
FIX = "regenerate it with `mkdocs-ai-docstrings options --write README.md`"


def readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def listed_options(table: str) -> list[str]:
    return re.findall(r"^\| `(\w+)` \|", table, re.M)


def test_the_readme_lists_every_option_once_and_no_other() -> None:
    names = [field.name for field in dataclasses.fields(Settings)]
    listed = listed_options(readme_table())
    assert [name for name in names if name not in listed] == [], f"missing from the README: {FIX}"
    assert [name for name in listed if name not in names] == [], f"not an option: {FIX}"
    assert len(listed) == len(set(listed))


def test_the_readme_table_is_the_generated_one() -> None:
    # Defaults, types and ranges come from Settings and CONSTRAINTS: a changed default fails here too.
    assert readme_table() == options_table(), FIX


def test_each_row_shows_the_type_the_range_and_the_default() -> None:
    rows = {name: row for row in options_table().splitlines() for name in listed_options(row)}
    assert rows["concurrency"] == (
        "| `concurrency` | an integer, between 1 and 64 | `4` | Most requests in flight; timeouts and queueing lower it "
        "during the build, successes raise it back. |"
    )
    assert "| a number or null, at least 1 | `null` |" in rows["rpm"]
    assert "| one of 'azure', 'openai' | `azure` |" in rows["provider"]
    assert "| true or false \\| a string" not in rows["lock_file"]  # words, never a raw `bool | str`
    assert "| `[]` |" in rows["include"]


def test_every_option_has_a_docstring_to_show_as_its_meaning() -> None:
    docs = option_docstrings()
    assert [field.name for field in dataclasses.fields(Settings) if not docs.get(field.name)] == []


def test_a_row_removed_from_the_readme_is_noticed() -> None:
    text = README.read_text(encoding="utf-8")
    broken = re.sub(r"^\| `improve` \|.*\n", "", text, flags=re.M)
    assert broken != text
    table = broken.split(BEGIN, 1)[1].split(END, 1)[0]
    assert "improve" not in listed_options(table)
    assert replace_table(broken) == text  # regenerating restores it


def test_a_text_without_the_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="no options table"):
        replace_table("# README without a table\n")
