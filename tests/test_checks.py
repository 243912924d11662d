"""Specification of the grounding checks of a model answer against the code."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import griffe
import pytest

from mkdocs_ai_docstrings._internal.checks import (
    check_answer,
    completeness,
    drop_ungrounded,
    find_references,
    is_restatement,
    resolve_reference,
)
from mkdocs_ai_docstrings._internal.facts import CodeFacts, code_facts
from mkdocs_ai_docstrings._internal.schema import answer_schema, validate_answer

MODULES = {
    "__init__.py": "",
    "errors.py": "class ParseError(ValueError):\n    pass\n",
    "util.py": "def clean(text):\n    return text.strip()\n",
    "core.py": """
import json
from datetime import datetime
from pkg.util import clean
from pkg.errors import ParseError

def parse_timestamp(text, *args, strict=True, **options):
    if not text:
        raise ParseError(text)
    return datetime.fromisoformat(clean(text))

class Reader:
    limit = 3

    def __init__(self, path):
        self.path = path

    def read(self, size):
        return self.path
""",
}


@pytest.fixture(scope="module")
def pkg() -> Iterator[griffe.Module]:
    with griffe.temporary_visited_package("pkg", MODULES) as package:
        yield package


@pytest.fixture
def parse(pkg: griffe.Module) -> griffe.Object:
    return pkg["core.parse_timestamp"]


def grounded_answer() -> dict[str, Any]:
    return {
        "summary": "Parse an ISO 8601 timestamp into a timezone-aware datetime.",
        "description": "The text is cleaned with `clean` first; see `Reader` for files.",
        "parameters": [
            {"name": "text", "description": "The timestamp, e.g. `2024-01-01`."},
            {"name": "*args", "description": "Ignored."},
            {"name": "strict", "description": "Reject partial dates when `True`."},
            {"name": "**options", "description": "Ignored."},
        ],
        "returns": {"description": "A `datetime.datetime`."},
        "raises": [{"exception": "ParseError", "description": "When `text` is empty."}],
        "examples": "parse_timestamp('2024-01-01')",
    }


# References ------------------------------------------------------------------------------------------------------


def test_find_references_keeps_identifier_like_names_only() -> None:
    text = 'Use `name`, `mod.name`, `run()`, `load(path)`, ``Double``, `*args`; not `"utf-8"`, `1.5`, `x + 1`, `for`.'
    assert find_references(text) == ["name", "mod.name", "run", "load", "Double", "args"]


def test_find_references_keeps_true_false_none_but_not_other_keywords() -> None:
    assert find_references("`None`, `True`, `False`, `return`, `lambda`") == ["None", "True", "False"]


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("text", "pkg.core.parse_timestamp(text)"),
        ("options", "pkg.core.parse_timestamp(options)"),
        ("clean", "pkg.util.clean"),
        ("ParseError", "pkg.errors.ParseError"),
        ("Reader.read", "pkg.core.Reader.read"),
        ("pkg.errors.ParseError", "pkg.errors.ParseError"),
        ("json.loads", "json.loads"),
        ("datetime", "datetime.datetime"),
        ("ValueError", "ValueError"),
        ("None", "None"),
        ("str.join", "str.join"),
        ("frobnicate", None),
        ("pkg.errors.Missing", None),
        ("str.frobnicate", None),
        ("self.path", None),
    ],
)
def test_resolve_reference_in_a_function_scope(parse: griffe.Object, name: str, path: str | None) -> None:
    assert resolve_reference(name, parse) == path


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("size", "pkg.core.Reader.read(size)"),
        ("self.path", "pkg.core.Reader.path"),
        ("self.limit", "pkg.core.Reader.limit"),
        ("limit", "pkg.core.Reader.limit"),
        ("self", "pkg.core.Reader"),
        ("self.nothing", None),
    ],
)
def test_resolve_reference_in_a_method_scope(pkg: griffe.Module, name: str, path: str | None) -> None:
    assert resolve_reference(name, pkg["core.Reader.read"]) == path


def test_a_class_resolves_its_init_parameters(pkg: griffe.Module) -> None:
    assert resolve_reference("path", pkg["core.Reader"]) == "pkg.core.Reader(path)"


# Restatement -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("summary", "name", "parameters", "expected"),
    [
        ("Get user name.", "get_user_name", (), True),
        ("Gets the user's name.", "get_user_name", (), True),
        ("Returns the name of the given user.", "get_user_name", ("user",), True),
        ("The HTTP server class.", "HTTPServer", (), True),
        ("Parses.", "parse", (), True),
        ("Parse an ISO 8601 timestamp into a timezone-aware datetime.", "parse_timestamp", (), False),
        ("Fetch the user's display name from the directory service.", "get_user_name", (), False),
        ("Serve static files over HTTP with caching.", "HTTPServer", (), False),
    ],
)
def test_is_restatement(summary: str, name: str, parameters: tuple[str, ...], expected: bool) -> None:
    assert is_restatement(summary, name, parameters) is expected


# check_answer ----------------------------------------------------------------------------------------------------


def test_a_grounded_complete_answer_has_no_problems(parse: griffe.Object) -> None:
    assert check_answer(grounded_answer(), code_facts(parse), parse) == []


def test_check_answer_reports_every_ungrounded_or_missing_part(parse: griffe.Object) -> None:
    answer = {
        "summary": "Parse timestamp.",
        "description": "Calls `frobnicate` on `text`.",
        "parameters": [
            {"name": "text", "description": "The text."},
            {"name": "args", "description": "Extra values."},
            {"name": "timeout", "description": "Invented."},
        ],
        "yields": {"description": "Nothing really."},
        "raises": [{"exception": "KeyError", "description": "Invented."}],
        "attributes": [{"name": "cache", "description": "Invented."}],
        "examples": "",
    }
    problems = {(problem.kind, problem.detail) for problem in check_answer(answer, code_facts(parse), parse)}
    assert {kind for kind, _ in problems} == {
        "restatement",
        "unknown_parameter",
        "missing_parameter",
        "missing_returns",
        "unexpected_yields",
        "unknown_exception",
        "unknown_attribute",
        "unresolved_reference",
    }
    assert ("unknown_parameter", "parameter 'timeout' is not in the signature of parse_timestamp") in problems
    missing = sorted(detail for kind, detail in problems if kind == "missing_parameter")
    assert missing == ["parameter '**options' is not documented", "parameter 'strict' is not documented"]
    assert [detail for kind, detail in problems if kind == "unresolved_reference"] == [
        "`frobnicate` does not name anything in the scope of pkg.core.parse_timestamp"
    ]


def test_returns_on_a_function_without_value_and_empty_summary_are_reported(pkg: griffe.Module) -> None:
    init = pkg["core.Reader.__init__"]
    answer = {"summary": " ", "parameters": [{"name": "path", "description": "File."}], "returns": {"description": "x"}}
    kinds = [problem.kind for problem in check_answer(answer, code_facts(init), init)]
    assert kinds == ["empty_summary", "unexpected_returns"]


# drop_ungrounded -------------------------------------------------------------------------------------------------


def test_drop_ungrounded_removes_invented_items_and_keeps_real_ones(parse: griffe.Object) -> None:
    answer = grounded_answer()
    answer["parameters"] += [{"name": "timeout", "description": "Invented."}, {"name": "text", "description": "Again."}]
    answer["parameters"][1]["name"] = "args"
    answer["raises"].append({"exception": "KeyError", "description": "Invented."})
    answer["attributes"] = [{"name": "cache", "description": "Invented."}]
    answer["yields"] = {"description": "Invented."}
    answer["description"] = "Calls `frobnicate()` and `clean`, formats with `x + 1`."
    original = copy.deepcopy(answer)

    repaired, dropped = drop_ungrounded(answer, code_facts(parse), parse)

    assert answer == original, "the input is left untouched"
    assert [item["name"] for item in repaired["parameters"]] == ["text", "*args", "strict", "**options"]
    assert repaired["raises"] == [{"exception": "ParseError", "description": "When `text` is empty."}]
    assert "attributes" not in repaired
    assert "yields" not in repaired
    assert repaired["returns"] == {"description": "A `datetime.datetime`."}
    assert repaired["description"] == "Calls frobnicate() and `clean`, formats with `x + 1`."
    assert [problem.kind for problem in dropped] == [
        "unknown_parameter",
        "unknown_parameter",
        "unknown_exception",
        "unknown_attribute",
        "unexpected_yields",
        "unresolved_reference",
    ]
    assert check_answer(repaired, code_facts(parse), parse) == []


def test_drop_ungrounded_output_validates_against_the_schema(parse: griffe.Object) -> None:
    facts = code_facts(parse)
    answer = grounded_answer()
    del answer["examples"]  # the docstring request's answer has none: the example has a request of its own
    answer["parameters"].append({"name": "verbose", "description": "Invented."})
    answer["raises"].append({"exception": "pkg.errors.ParseError", "description": "Spelled by path."})
    assert validate_answer(answer, answer_schema(facts)) != []
    repaired, _ = drop_ungrounded(answer, facts, parse)
    assert validate_answer(repaired, answer_schema(facts)) == []


def test_drop_ungrounded_removes_returns_where_the_code_returns_nothing(pkg: griffe.Module) -> None:
    init = pkg["core.Reader.__init__"]
    answer = {"summary": "Open a reader on a file path.", "returns": {"description": "Nothing."}}
    repaired, dropped = drop_ungrounded(answer, code_facts(init), init)
    assert repaired == {"summary": "Open a reader on a file path."}
    assert [problem.kind for problem in dropped] == ["unexpected_returns"]


def test_drop_ungrounded_does_not_invent_missing_items(parse: griffe.Object) -> None:
    answer = {"summary": "Parse an ISO 8601 timestamp into a datetime.", "parameters": []}
    repaired, dropped = drop_ungrounded(answer, code_facts(parse), parse)
    assert repaired == answer
    assert dropped == []


# completeness ----------------------------------------------------------------------------------------------------


def test_completeness_of_a_full_answer(parse: griffe.Object) -> None:
    # summary, description, parameters, returns, raises, examples.
    assert completeness(grounded_answer(), code_facts(parse)) == (6, 6)


def test_completeness_counts_a_list_section_only_when_every_name_is_covered(parse: griffe.Object) -> None:
    answer = grounded_answer()
    answer["parameters"] = answer["parameters"][:2]
    answer["examples"] = ""
    answer["description"] = ""
    assert completeness(answer, code_facts(parse)) == (3, 6)
    assert completeness(answer, code_facts(parse), example_worth=False) == (3, 5)


def test_completeness_of_a_class_and_of_a_generator() -> None:
    cls = CodeFacts(kind="class", parameters=("path",), attributes=("limit", "path"))
    answer = {
        "summary": "Read records from a file.",
        "description": "",
        "parameters": [{"name": "path", "description": "File to read."}],
        "attributes": [{"name": "limit", "description": "Maximum."}],
    }
    # summary, description, parameters, attributes; examples are for functions and methods.
    assert completeness(answer, cls) == (2, 4)
    generator = CodeFacts(kind="function", is_generator=True)
    assert completeness({"summary": "Count up forever.", "yields": {"description": "Numbers."}}, generator) == (2, 3)
