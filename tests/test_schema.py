"""Specification of the answer schema: shaped by the object's code, strict-mode compatible, and validated."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import griffe
import pytest

from mkdocs_ai_docstrings._internal.facts import CodeFacts, code_facts
from mkdocs_ai_docstrings._internal.schema import (
    answer_schema,
    from_wire,
    improve_schema,
    validate_answer,
    wire_schema,
)

FUNCTION = CodeFacts(
    kind="function", parameters=("path", "*args", "**options"), returns_value=True, raises=("OSError",)
)
GENERATOR = CodeFacts(kind="function", parameters=("n",), is_generator=True)
CLASS = CodeFacts(kind="class", parameters=("width",), attributes=("width", "area"))
MODULE = CodeFacts(kind="module")
PROPERTY = CodeFacts(kind="property", returns_value=True)


def objects_in(schema: Any) -> Iterator[dict[str, Any]]:
    """Every sub-schema of type object, the root included."""
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            yield schema
        for value in schema.values():
            yield from objects_in(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from objects_in(value)


def item_enum(schema: dict[str, Any], key: str, name_key: str = "name") -> list[str]:
    return schema["properties"][key]["items"]["properties"][name_key]["enum"]


# Shape ---------------------------------------------------------------------------------------------------------


def test_every_schema_asks_for_a_summary_and_a_description() -> None:
    for facts in (FUNCTION, GENERATOR, CLASS, MODULE, PROPERTY):
        properties = answer_schema(facts)["properties"]
        assert properties["summary"]["type"] == "string"
        assert properties["description"]["type"] == "string"


def test_parameter_and_exception_names_are_enums_of_the_real_names_in_signature_order() -> None:
    schema = answer_schema(FUNCTION)
    assert item_enum(schema, "parameters") == ["path", "*args", "**options"]
    assert item_enum(schema, "raises", "exception") == ["OSError"]


def test_a_named_list_holds_at_most_one_entry_per_name_so_a_model_cannot_repeat_one_until_cut_off() -> None:
    schema = answer_schema(CLASS)
    assert schema["properties"]["attributes"]["maxItems"] == 2
    assert schema["properties"]["parameters"]["maxItems"] == 1
    answer = {
        "summary": "A rectangle.",
        "description": "",
        "parameters": [{"name": "width", "description": "Its width."}],
        "attributes": [{"name": "area", "description": "Its area."}] * 3,
    }
    assert validate_answer(answer, schema) == ["attributes: " + repr(answer["attributes"]) + " is too long"]


def test_returns_only_when_the_function_returns_a_value() -> None:
    assert "returns" in answer_schema(FUNCTION)["properties"]
    assert "returns" not in answer_schema(CodeFacts(kind="function", parameters=("x",)))["properties"]
    assert "returns" not in answer_schema(GENERATOR)["properties"]


def test_yields_only_for_generators() -> None:
    assert "yields" in answer_schema(GENERATOR)["properties"]
    assert "yields" not in answer_schema(FUNCTION)["properties"]


def test_attributes_for_classes_with_public_attributes() -> None:
    schema = answer_schema(CLASS)
    assert item_enum(schema, "attributes") == ["width", "area"]
    assert item_enum(schema, "parameters") == ["width"]
    assert "attributes" not in answer_schema(FUNCTION)["properties"]


def test_sections_without_facts_are_absent() -> None:
    properties = answer_schema(MODULE)["properties"]
    assert set(properties) == {"summary", "description"}


@pytest.mark.parametrize("facts", [FUNCTION, CLASS, MODULE, PROPERTY, CodeFacts(kind="method")])
def test_the_docstring_schema_asks_for_no_example_which_has_a_request_of_its_own(facts: CodeFacts) -> None:
    properties = answer_schema(facts)["properties"]
    assert "examples" not in properties and "example" not in properties


@pytest.mark.parametrize("facts", [FUNCTION, GENERATOR, CLASS, MODULE, PROPERTY])
@pytest.mark.parametrize("form", [answer_schema, lambda facts: wire_schema(answer_schema(facts))])
def test_the_schema_is_strict_mode_compatible(facts: CodeFacts, form: Any) -> None:
    schema = form(facts)
    objects = list(objects_in(schema))
    assert objects[0] is schema
    for sub in objects:
        assert sub["additionalProperties"] is False
        assert sorted(sub["required"]) == sorted(sub["properties"])


def test_the_schema_follows_real_code() -> None:
    source = '''
class Store:
    """Keep things."""

    limit = 3

    def __init__(self, root):
        self.root = root

    def load(self, name, *, strict=False):
        if not name:
            raise KeyError(name)
        return self.root + name

    def walk(self):
        yield from ()
'''
    with griffe.temporary_visited_package("pkg", {"__init__.py": "", "mod.py": source}) as pkg:
        load = answer_schema(code_facts(pkg["mod.Store.load"]))
        walk = answer_schema(code_facts(pkg["mod.Store.walk"]))
        store = answer_schema(code_facts(pkg["mod.Store"]))
    assert item_enum(load, "parameters") == ["name", "strict"]
    assert item_enum(load, "raises", "exception") == ["KeyError"]
    assert "returns" in load["properties"]
    assert "yields" in walk["properties"] and "returns" not in walk["properties"]
    assert "parameters" not in walk["properties"]
    assert set(item_enum(store, "attributes")) == {"limit"}  # `root` is documented as the parameter it stores


# Improve mode --------------------------------------------------------------------------------------------------


def test_the_improve_schema_asks_only_for_the_missing_sections() -> None:
    schema = improve_schema(("b", "**kwargs"), True)
    assert set(schema["properties"]) == {"parameters", "returns"}
    assert item_enum(schema, "parameters") == ["b", "**kwargs"]
    assert set(improve_schema((), True)["properties"]) == {"returns"}
    assert set(improve_schema(("a",), False)["properties"]) == {"parameters"}
    for sub in objects_in(schema):
        assert sub["additionalProperties"] is False
        assert sorted(sub["required"]) == sorted(sub["properties"])


# Validation ----------------------------------------------------------------------------------------------------


def full_answer() -> dict[str, Any]:
    return {
        "summary": "Open a file.",
        "description": "",
        "parameters": [
            {"name": "path", "description": "Where."},
            {"name": "*args", "description": "More."},
            {"name": "**options", "description": "Flags."},
        ],
        "returns": {"description": "The handle."},
        "raises": [{"exception": "OSError", "description": "When missing."}],
    }


def test_parameters_and_attributes_go_out_keyed_by_name_with_every_name_required() -> None:
    # A server enforcing the schema then cannot leave a parameter out (a retry saved); exceptions stay a list:
    # the code may raise what the text need not mention.
    sent = wire_schema(answer_schema(FUNCTION))["properties"]
    assert sent["parameters"]["required"] == ["path", "*args", "**options"]
    assert list(sent["parameters"]["properties"]) == ["path", "*args", "**options"], "signature order"
    assert sent["parameters"]["additionalProperties"] is False
    assert sent["raises"]["type"] == "array"
    assert wire_schema(answer_schema(CLASS))["properties"]["attributes"]["required"] == ["width", "area"]


def test_a_keyed_answer_is_read_back_as_the_entries_that_are_checked() -> None:
    wire = {**full_answer(), "parameters": {"path": "Where.", "*args": "More.", "**options": "Flags."}}
    assert from_wire(wire) == full_answer()
    assert validate_answer(from_wire(wire), answer_schema(FUNCTION)) == []
    assert from_wire(full_answer()) == full_answer(), "entries (a server that ignored the schema) stay entries"
    invented = from_wire({**wire, "parameters": {"path": "Where.", "invented": "No."}})
    assert validate_answer(invented, answer_schema(FUNCTION)) != []


def test_a_complete_answer_is_valid() -> None:
    assert validate_answer(full_answer(), answer_schema(FUNCTION)) == []


def test_an_invented_parameter_is_reported_at_its_location() -> None:
    answer = full_answer()
    answer["parameters"][1]["name"] = "invented"
    messages = validate_answer(answer, answer_schema(FUNCTION))
    assert len(messages) == 1
    assert messages[0].startswith("parameters/1/name: ")
    assert "'invented'" in messages[0]


def test_a_missing_required_key_is_reported_at_the_root() -> None:
    answer = full_answer()
    del answer["returns"]
    assert validate_answer(answer, answer_schema(FUNCTION)) == ["<root>: 'returns' is a required property"]


def test_extra_keys_and_wrong_types_are_reported_in_path_order() -> None:
    answer = full_answer()
    answer["summary"] = 42
    answer["mood"] = "cheerful"
    answer["raises"][0]["extra"] = True
    messages = validate_answer(answer, answer_schema(FUNCTION))
    assert len(messages) == 3
    assert messages[0].startswith("<root>: Additional properties are not allowed ('mood'")
    assert messages[1].startswith("raises/0: Additional properties are not allowed ('extra'")
    assert messages[2] == "summary: 42 is not of type 'string'"


def test_overlong_text_is_accepted_for_sanitization_to_cut_and_non_objects_are_rejected() -> None:
    answer = full_answer()
    answer["summary"] = "x" * 5000
    assert validate_answer(answer, answer_schema(FUNCTION)) == []
    assert validate_answer(["not", "an", "object"], answer_schema(MODULE)) == [
        "<root>: ['not', 'an', 'object'] is not of type 'object'"
    ]


def test_a_class_with_too_many_entries_is_asked_for_its_parameters_only() -> None:
    from mkdocs_ai_docstrings._internal.discovery import Candidate
    from mkdocs_ai_docstrings._internal.jobs import Job
    from mkdocs_ai_docstrings._internal.request import MAX_CLASS_ENTRIES, schema_for

    def schema(parameters: int, attributes: int) -> dict[str, Any]:
        facts = CodeFacts(
            kind="class",
            parameters=tuple(f"p{i}" for i in range(parameters)),
            attributes=tuple(f"a{i}" for i in range(attributes)),
        )
        candidate = Candidate(griffe.Class("Wide"), "pkg.Wide", "class", True, "no docstring")
        return dict(schema_for(Job(candidate, raw_facts=facts)))

    small = schema(4, MAX_CLASS_ENTRIES - 4)
    wide = schema(12, 8)  # textwrap.TextWrapper: the real model was cut off at 700 tokens twice
    assert item_enum(small, "attributes") == [f"a{i}" for i in range(MAX_CLASS_ENTRIES - 4)]
    assert "attributes" not in wide["properties"]
    assert item_enum(wide, "parameters") == [f"p{i}" for i in range(12)]
