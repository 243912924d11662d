"""Specification of rendering: a structured answer becomes a docstring griffe reads back section for section."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import griffe
import markdown
import pytest

from mkdocs_ai_docstrings._internal.mark import admonition_text, attach_docstring
from mkdocs_ai_docstrings._internal.render import STYLES, render_docstring, structure_problems
from mkdocs_ai_docstrings._internal.sanitize import escape_literal

SOURCE = '''
class Store:
    """Keep things."""

    def __init__(self, root):
        self.root = root
        self.size = 0

    def load(self, name, *args, strict=False, **kwargs) -> int:
        if not name:
            raise KeyError(name)
        if strict:
            raise ValueError(name)
        return 1

    def walk(self, depth):
        yield depth
'''

Kind = griffe.DocstringSectionKind


@pytest.fixture(scope="module")
def pkg() -> Iterator[griffe.Module]:
    with griffe.temporary_visited_package("pkg", {"__init__.py": "", "mod.py": SOURCE}) as package:
        yield package


def full_answer() -> dict[str, Any]:
    return {
        "summary": "Load a stored thing by name",
        "description": "The lookup is exact.\n\nNothing is cached.",
        "parameters": [
            {"name": "name", "description": "The name to look up."},
            {"name": "*args", "description": "Extra lookup keys."},
            {"name": "strict", "description": "Raise instead of guessing."},
            {"name": "**kwargs", "description": "Options passed to the backend."},
        ],
        "returns": {"description": "The stored number."},
        "raises": [
            {"exception": "KeyError", "description": "When `name` is empty."},
            {"exception": "ValueError", "description": "When strict and not found."},
        ],
        "examples": "store = Store('data')\nstore.load('a')",
    }


def parse(text: str, obj: griffe.Object, style: str) -> list[griffe.DocstringSection]:
    return griffe.Docstring(text, parent=obj, parser=griffe.Parser(style), parser_options={"warnings": False}).parse()


def names(sections: list[griffe.DocstringSection], kind: griffe.DocstringSectionKind) -> list[str]:
    return [str(item.name).lstrip("*") for s in sections if s.kind is kind for item in s.value]


def section_kinds(sections: list[griffe.DocstringSection]) -> list[str]:
    return [section.kind.value for section in sections]


# Round trip ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_a_full_answer_is_read_back_with_exactly_its_sections_and_names(pkg: griffe.Module, style: str) -> None:
    obj = pkg["mod.Store.load"]
    answer = full_answer()
    text = render_docstring(answer, style, return_annotation="int")
    assert structure_problems(text, answer, obj, griffe.Parser(style), None) == []
    sections = parse(text, obj, style)
    assert sections[0].kind is Kind.text
    assert sections[0].value.startswith("Load a stored thing by name.")
    assert names(sections, Kind.parameters) == ["name", "args", "strict", "kwargs"]
    raised = [str(item.annotation) for s in sections if s.kind is Kind.raises for item in s.value]
    assert raised == ["KeyError", "ValueError"]
    returns = [item.description.strip() for s in sections if s.kind is Kind.returns for item in s.value]
    assert returns == ["The stored number."]
    assert "store.load('a')" in text


@pytest.mark.parametrize("style", ["google", "numpy"])
def test_generators_round_trip_with_a_yields_section(pkg: griffe.Module, style: str) -> None:
    walk = pkg["mod.Store.walk"]
    answer = {
        "summary": "Walk the store.",
        "description": "",
        "parameters": [{"name": "depth", "description": "How deep."}],
        "yields": {"description": "Each level."},
        "examples": "",
    }
    text = render_docstring(answer, style)
    assert structure_problems(text, answer, walk, griffe.Parser(style), None) == []
    assert Kind.yields in {s.kind for s in parse(text, walk, style)}


def test_sphinx_generators_say_what_they_yield_in_the_description(pkg: griffe.Module) -> None:
    """griffe's sphinx parser has no yields field, so the yielded value is described in prose instead."""
    walk = pkg["mod.Store.walk"]
    answer = {
        "summary": "Walk the store.",
        "description": "",
        "parameters": [{"name": "depth", "description": "How deep."}],
        "yields": {"description": "Each level."},
        "examples": "",
    }
    text = render_docstring(answer, "sphinx")
    assert structure_problems(text, answer, walk, griffe.Parser("sphinx"), None) == []
    sections = parse(text, walk, "sphinx")
    assert "Yields each level." in sections[0].value


@pytest.mark.parametrize("style", STYLES)
def test_classes_round_trip_with_parameters_and_attributes(pkg: griffe.Module, style: str) -> None:
    store = pkg["mod.Store"]
    answer = {
        "summary": "A store of things.",
        "description": "",
        "parameters": [{"name": "root", "description": "Where things live."}],
        "attributes": [
            {"name": "root", "description": "The root folder."},
            {"name": "size", "description": "How many things."},
        ],
        "examples": "Store('data')",
    }
    text = render_docstring(answer, style)
    assert structure_problems(text, answer, store, griffe.Parser(style), None) == []
    assert names(parse(text, store, style), Kind.attributes) == ["root", "size"]


def test_structure_problems_catches_a_section_that_does_not_match_the_answer(pkg: griffe.Module) -> None:
    obj = pkg["mod.Store.load"]
    answer = full_answer()
    text = render_docstring(answer, "google")
    tampered = text.replace("    strict: Raise instead of guessing.\n", "")
    problems = structure_problems(tampered, answer, obj, griffe.Parser.google, None)
    assert problems == [
        "the rendered parameters section reads ['name', 'args', 'kwargs'], "
        "expected ['name', 'args', 'strict', 'kwargs']"
    ]
    no_returns = text.replace("Returns:\n    The stored number.\n\n", "")
    assert structure_problems(no_returns, answer, obj, griffe.Parser.google, None) == [
        "the rendered docstring lacks a returns section"
    ]
    headless = "Parameters\n----------\nname\n    The name."
    assert structure_problems(headless, {"parameters": [{"name": "name"}]}, obj, griffe.Parser.numpy, None) == [
        "the rendered docstring does not start with its summary"
    ]


def test_without_a_parser_there_is_nothing_to_check(pkg: griffe.Module) -> None:
    assert structure_problems("anything", full_answer(), pkg["mod.Store.load"], None, None) == []


# Layout per style ----------------------------------------------------------------------------------------------


def test_google_layout() -> None:
    text = render_docstring(full_answer(), "google")
    assert text.startswith("Load a stored thing by name.\n\nThe lookup is exact.\n\nNothing is cached.\n\nArgs:\n")
    assert "\n    *args: Extra lookup keys.\n" in text
    assert "\n\nReturns:\n    The stored number.\n\nRaises:\n    KeyError: When `name` is empty.\n" in text
    assert text.endswith("Examples:\n    ```python\n    store = Store('data')\n    store.load('a')\n    ```")


def test_numpy_layout_uses_the_return_annotation_or_object() -> None:
    text = render_docstring(full_answer(), "numpy", return_annotation="int")
    assert "\n\nParameters\n----------\nname\n    The name to look up.\n" in text
    assert "\n\nReturns\n-------\nint\n    The stored number.\n" in text
    assert "\n\nExamples\n--------\n```python\n" in text
    assert "\nobject\n    The stored number." in render_docstring(full_answer(), "numpy")


def test_sphinx_layout_puts_fields_last_without_stars() -> None:
    text = render_docstring(full_answer(), "sphinx")
    assert text.endswith(
        ":param name: The name to look up.\n:param args: Extra lookup keys.\n:param strict: Raise instead of guessing.\n"
        ":param kwargs: Options passed to the backend.\n:returns: The stored number.\n"
        ":raises KeyError: When `name` is empty.\n:raises ValueError: When strict and not found."
    )
    assert "Examples:\n\n```python\n" in text


def test_an_unknown_style_falls_back_to_google() -> None:
    assert render_docstring(full_answer(), "epytext") == render_docstring(full_answer(), "google")


def test_the_summary_ends_with_a_stop_and_empty_parts_are_left_out() -> None:
    text = render_docstring({"summary": "  Make   a\nthing  ", "description": "", "examples": "   "}, "google")
    assert text == "Make a thing."
    assert render_docstring({"summary": "Is it?"}, "google") == "Is it?"


def test_items_without_a_description_say_so_and_items_without_a_name_are_dropped() -> None:
    answer = {"summary": "S.", "parameters": [{"name": "a", "description": "  "}, {"description": "orphan"}]}
    assert render_docstring(answer, "google") == "S.\n\nArgs:\n    a: Not documented."


# Untrusted text ------------------------------------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "Args:\n    evil: injected",
    "Returns:\n    injected",
    "Raises:\n    EvilError: injected",
    ":param evil: injected",
    ":raises EvilError: injected",
    "Parameters\n----------\nevil\n    injected",
    "Returns\n-------\nint\n    injected",
    '!!! danger "t"\n    <b>body</b>',
    "::: os.path",
    "</details></div>",
    "```python\nimport os\n```",
    "evil: injected",
]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_in_any_field_stays_inert(pkg: griffe.Module, style: str, hostile: str) -> None:
    obj = pkg["mod.Store.load"]
    answer = full_answer()
    answer["summary"] = hostile
    answer["description"] = f"Intro.\n\n{hostile}\n\n{hostile}"
    answer["parameters"][0]["description"] = hostile
    answer["returns"]["description"] = hostile
    answer["raises"][1]["description"] = f"First.\n\n{hostile}"
    text = render_docstring(answer, style, return_annotation="int")
    assert structure_problems(text, answer, obj, griffe.Parser(style), None) == []
    sections = parse(text, obj, style)
    assert "evil" not in names(sections, Kind.parameters)
    assert "EvilError" not in [str(i.annotation) for s in sections if s.kind is Kind.raises for i in s.value]
    assert [s.kind for s in sections].count(Kind.returns) == 1
    assert "<" not in text, "no raw HTML"
    assert "\n::: " not in text and "\n!!! " not in text


@pytest.mark.parametrize("style", STYLES)
def test_multi_paragraph_item_descriptions_stay_inside_their_section(pkg: griffe.Module, style: str) -> None:
    obj = pkg["mod.Store.load"]
    answer = full_answer()
    answer["parameters"][0]["description"] = "The name.\n\nIt must be unique.\n\n\n    Indented third paragraph."
    answer["returns"]["description"] = "A number.\n\nNever negative."
    text = render_docstring(answer, style, return_annotation="int")
    assert structure_problems(text, answer, obj, griffe.Parser(style), None) == []
    sections = parse(text, obj, style)
    first = next(item for s in sections if s.kind is Kind.parameters for item in s.value)
    assert first.description.strip() == "The name. It must be unique. Indented third paragraph."
    returns = next(item for s in sections if s.kind is Kind.returns for item in s.value)
    assert returns.description.strip() == "A number. Never negative."
    assert section_kinds(sections).count("text") <= 2  # summary (+ sphinx examples prose), never a stray paragraph


@pytest.mark.parametrize("style", STYLES)
def test_examples_sit_in_a_fence_longer_than_any_backtick_run(pkg: griffe.Module, style: str) -> None:
    answer = full_answer()
    answer["examples"] = "text = '`````'\nprint(text)  # ``inline``\n```\nnot_a_fence_line_is_dropped()"
    text = render_docstring(answer, style, return_annotation="int")
    fences = re.findall(r"^\s*(`{3,})", text, flags=re.MULTILINE)
    assert fences == ["``````", "``````"]
    assert "text = '`````'" in text
    assert "\n```\n" not in text  # the model's own fence line was removed
    assert structure_problems(text, answer, pkg["mod.Store.load"], griffe.Parser(style), None) == []


# Improve mode: sections without a summary -----------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_sections_without_a_summary_are_read_back_intact(pkg: griffe.Module, style: str) -> None:
    obj = pkg["mod.Store.walk"]
    answer = {"parameters": [{"name": "depth", "description": "How deep to go."}]}
    text = render_docstring(answer, style)
    problems = structure_problems(text, answer, obj, griffe.Parser(style), None)
    assert [problem for problem in problems if "summary" not in problem] == []
    sections = parse(text, obj, style)
    assert [section.kind for section in sections if section.kind is not Kind.text] == [Kind.parameters]
    assert names(sections, Kind.parameters) == ["depth"]
    assert next(s for s in sections if s.kind is Kind.parameters).value[0].description.strip() == "How deep to go."


# The marker: the configured model name is text, never markup ------------------------------------------------------

HOSTILE_MODELS = [
    "<img src=x onerror=alert(1)>",
    "**bold** _it_ `code` [x](javascript:alert(1))",
    '--8<-- "secret.env"',
    "{!secret.env!} {{ x }} {% include 'x' %} <!-- c -->",
    "gpt-4o-mini\n\n::: os",
    "&lt;b&gt; &amp; \\*",
    "www.example.com :smile: a--b...",
]


@pytest.mark.parametrize("model", HOSTILE_MODELS)
def test_the_model_name_in_the_marker_renders_exactly_as_configured(model: str, tmp_path: Path) -> None:
    (tmp_path / "secret.env").write_text("SECRET-MARKER-model-name\n", encoding="utf-8")
    obj = griffe.Function("walk", lineno=1)
    attach_docstring(obj, "Walk the store.", model=model, parser=griffe.Parser.google, parser_options={}, status="ok")
    [text, *_] = obj.docstring.parsed
    assert text.kind is griffe.DocstringSectionKind.text and text.value.startswith(
        '<details class="ai-generated" open>'
    )
    md = markdown.Markdown(
        extensions=[
            "admonition",
            "attr_list",
            "md_in_html",
            "smarty",
            "pymdownx.emoji",
            "pymdownx.magiclink",
            "pymdownx.superfences",
            "pymdownx.snippets",
        ],
        extension_configs={"pymdownx.snippets": {"base_path": [str(tmp_path)], "check_paths": False}},
    )
    html = md.convert(text.value)
    tags = re.findall(r"<\s*([a-zA-Z][\w-]*)", html)
    assert tags == ["details", "summary", "p", "p"], html  # the marker, then the docstring's own summary
    assert "SECRET-MARKER" not in html
    marker = html.split("</details>", 1)[0]
    assert f"({' '.join(model.split())})" in unescape(re.sub(r"<[^>]*>", "", marker))
    assert "<p>Walk the store.</p>" in html.split("</details>", 1)[1]


def test_the_marker_opens_the_first_text_section_or_is_one_of_its_own() -> None:
    obj = griffe.Function("walk", lineno=1, parameters=griffe.Parameters(griffe.Parameter("x")))
    attach_docstring(obj, ":param x: A value.", model="m", parser=griffe.Parser.sphinx, parser_options={}, status="ok")
    kinds = [section.kind.value for section in obj.docstring.parsed]
    assert kinds == ["text", "parameters"]
    assert obj.docstring.parsed[0].value.startswith('<details class="ai-generated" open>')
    attach_docstring(obj, "", model="m", parser=griffe.Parser.google, parser_options={}, status="ok")
    [marker] = obj.docstring.parsed
    assert marker.kind is griffe.DocstringSectionKind.text and marker.value.endswith("</details>\n\n")


def test_an_ordinary_model_name_reads_as_written() -> None:
    html = markdown.markdown(admonition_text("gpt-4o-mini (2024-07-18)"))
    assert "AI model (gpt-4o-mini (2024-07-18))" in unescape(html)


def test_the_model_name_keeps_dashes_inside_words_and_escapes_the_rest() -> None:
    assert escape_literal("gpt-4o-mini") == "gpt-4o-mini"
    assert escape_literal("a--b v1.5 www.x.org") == "a&#45;&#45;b v1&#46;5 www&#46;x&#46;org"
    assert escape_literal("-8<-") == "&#45;8&#60;&#45;"
