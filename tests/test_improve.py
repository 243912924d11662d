"""Specification of improve mode: human docstrings gain only the sections they lack, after an "AI-added" marker.

Each test drives discovery and the generator directly (no MkDocs build) against the Azure OpenAI emulator.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import griffe
import pytest

from mkdocs_ai_docstrings import AI_LABEL, Settings
from mkdocs_ai_docstrings._internal.discovery import discover
from mkdocs_ai_docstrings._internal.generator import fill
from mkdocs_ai_docstrings._internal.report import ObjectOutcome
from mkdocs_ai_docstrings._internal.session import BuildSession
from tests.conftest import TEST_KEY
from tests.emulator import AzureEmulator

SOURCE = {
    "__init__.py": '''"""Numbers, scaled."""


def scale(values, factor, offset=0):
    """Scale values.

    Args:
        values: The numbers.
    """
    return [v * factor + offset for v in values]


def echo(a):
    """Give a value back unchanged.

    Args:
        a: The value.

    Returns:
        The same value.
    """
    return a


def shout(text):
    """Print the text in capitals, loudly."""
    print(text.upper())
''',
}

SCALE_TEXT = "Scale values.\n\nArgs:\n    values: The numbers."
Kind = griffe.DocstringSectionKind


class Loader:
    """The two loader attributes the generator reads: the site's docstring parser and its options."""

    docstring_parser = griffe.Parser.google
    docstring_options: dict[str, Any] = {}  # noqa: RUF012


@pytest.fixture
def pkg() -> Iterator[griffe.Module]:
    with griffe.temporary_visited_package("numbers_pkg", SOURCE, docstring_parser="google") as package:
        yield package


def run_build(pkg: griffe.Module, emulator: AzureEmulator, cache_dir: Path, **options: Any) -> dict[str, ObjectOutcome]:
    """Discover and generate for `pkg` like one build; return the outcomes by path."""
    session = BuildSession(
        Settings.from_options({"cache_dir": str(cache_dir), **options}),
        environ={"AZURE_OPENAI_ENDPOINT": emulator.url, "AZURE_OPENAI_API_KEY": TEST_KEY},
    )
    try:
        candidates = discover(pkg, session.settings)
        outcomes = fill(session, pkg, candidates, Loader())
    finally:
        session.finish()
    return {outcome.path: outcome for outcome in outcomes}


def sections_of(obj: griffe.Object) -> list[tuple[str, Any]]:
    """Each parsed section as (kind, names) for items, (kind, title) for admonitions, else (kind, text)."""
    summary = []
    for section in obj.docstring.parsed:
        if section.kind in (Kind.parameters, Kind.raises, Kind.attributes):
            summary.append((section.kind.value, [str(item.name) for item in section.value]))
        elif section.kind is Kind.returns:
            summary.append(("returns", [bool(item.description.strip()) for item in section.value]))
        elif section.kind is Kind.admonition:
            summary.append(("admonition", section.title))
        else:
            summary.append((section.kind.value, section.value))
    return summary


def schemas_sent(emulator: AzureEmulator) -> list[dict[str, Any]]:
    schemas = []
    for request in emulator.requests:
        body = request.body if isinstance(request.body, dict) else json.loads(request.body)
        response_format = body.get("response_format") or {}
        if "json_schema" in response_format:
            schemas.append(response_format["json_schema"]["schema"])
        for tool in body.get("tools") or []:
            schemas.append(tool["function"]["parameters"])
    return schemas


def test_only_the_missing_parameters_and_returns_are_added_after_an_ai_added_marker(
    pkg: griffe.Module, emulator: AzureEmulator, tmp_path: Path
) -> None:
    outcomes = run_build(pkg, emulator, tmp_path, improve=True)
    assert outcomes["numbers_pkg.scale"].status == "generated"
    scale = pkg["scale"]
    assert scale.docstring.value == SCALE_TEXT  # the authors' text is untouched
    assert sections_of(scale) == [
        ("text", "Scale values."),
        ("parameters", ["values"]),
        ("admonition", "AI-added"),
        ("parameters", ["factor", "offset"]),
        ("returns", [True]),
    ]
    admonition = scale.docstring.parsed[2]
    assert admonition.value.kind == AI_LABEL
    assert "gpt-4o-mini" in admonition.value.contents
    assert scale.labels == {"ai-improved"}
    assert scale.extra["ai_docstrings"] == {"status": "improved", "model": "gpt-4o-mini"}


def test_a_docstring_lacking_only_parameters_gets_no_returns_section(
    pkg: griffe.Module, emulator: AzureEmulator, tmp_path: Path
) -> None:
    run_build(pkg, emulator, tmp_path, improve=True)
    shout = pkg["shout"]
    assert shout.docstring.value == "Print the text in capitals, loudly."
    assert sections_of(shout) == [
        ("text", "Print the text in capitals, loudly."),
        ("admonition", "AI-added"),
        ("parameters", ["text"]),
    ]


def test_the_model_is_asked_only_for_the_missing_sections(
    pkg: griffe.Module, emulator: AzureEmulator, tmp_path: Path
) -> None:
    run_build(pkg, emulator, tmp_path, improve=True, include_modules=False)
    schemas = schemas_sent(emulator)
    assert len(schemas) == 2
    asked = sorted(
        (sorted(schema["properties"]), schema["properties"]["parameters"]["required"])  # keyed by name
        for schema in schemas
    )
    assert asked == [(["parameters"], ["text"]), (["parameters", "returns"], ["factor", "offset"])]


def test_complete_human_docstrings_are_left_alone(pkg: griffe.Module, emulator: AzureEmulator, tmp_path: Path) -> None:
    before = sections_of(pkg["echo"])
    outcomes = run_build(pkg, emulator, tmp_path, improve=True)
    assert "numbers_pkg.echo" not in outcomes
    assert sections_of(pkg["echo"]) == before
    assert not pkg["echo"].labels


def test_improve_is_off_by_default_so_human_docstrings_are_untouched(
    pkg: griffe.Module, emulator: AzureEmulator, tmp_path: Path
) -> None:
    outcomes = run_build(pkg, emulator, tmp_path)
    assert set(outcomes) == set()  # the module has a docstring, every function a human one
    assert len(emulator.requests) == 0
    scale = pkg["scale"]
    assert scale.docstring.value == SCALE_TEXT
    assert sections_of(scale) == [("text", "Scale values."), ("parameters", ["values"])]
    assert not scale.labels
    assert "ai_docstrings" not in scale.extra


def test_an_improved_docstring_comes_from_the_cache_on_the_next_build(emulator: AzureEmulator, tmp_path: Path) -> None:
    with griffe.temporary_visited_package("numbers_pkg", SOURCE, docstring_parser="google") as first:
        run_build(first, emulator, tmp_path, improve=True)
        expected = sections_of(first["scale"])
    requests = len(emulator.requests)
    with griffe.temporary_visited_package("numbers_pkg", SOURCE, docstring_parser="google") as second:
        outcomes = run_build(second, emulator, tmp_path, improve=True)
        assert outcomes["numbers_pkg.scale"].status == "cached"
        assert sections_of(second["scale"]) == expected
        assert second["scale"].labels == {"ai-improved"}
    assert len(emulator.requests) == requests
