"""The JSON schema of one object's answer, tied to the object's code, and its validation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mkdocs_ai_docstrings._internal.facts import CodeFacts

SCHEMA_VERSION = "7"
"""Bump when the schema's shape changes: it is part of every cache key."""

SCHEMA_NAME = "docstring"

_TEXT = {"type": "string"}
"""Lengths are not constrained here: an over-long field is cut by sanitization, not rejected (and paid twice)."""


def _named_items(key: str, names: tuple[str, ...]) -> dict[str, Any]:
    """An array of `{key, description}` entries, `key` one of `names`, at most one entry per name.

    `maxItems` stops a small model under a grammar-enforced schema from repeating an entry until it hits
    `max_completion_tokens` (seen: one attribute listed thirty times, 700 tokens billed for nothing).
    """
    return {
        "type": "array",
        "maxItems": len(names),
        "items": {
            "type": "object",
            "properties": {key: {"type": "string", "enum": list(names)}, "description": _TEXT},
            "required": [key, "description"],
            "additionalProperties": False,
        },
    }


def _single(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": {"description": _TEXT},
        "required": ["description"],
        "additionalProperties": False,
    }


def answer_schema(facts: CodeFacts) -> dict[str, Any]:
    """Build the schema for one object: parameter, exception and attribute names are enums of the real ones, the
    description last."""
    properties: dict[str, Any] = {
        "summary": {
            "type": "string",
            "description": "One sentence saying what the object does or is, not restating its name.",
        },
    }
    if facts.parameters:
        properties["parameters"] = _named_items("name", facts.parameters)
        properties["parameters"]["description"] = "One entry for each parameter, in signature order."
    if facts.returns_value:
        properties["returns"] = _single("What the function returns.")
    if facts.is_generator:
        properties["yields"] = _single("What the generator yields.")
    if facts.raises:
        properties["raises"] = _named_items("exception", facts.raises)
        properties["raises"]["description"] = "Exceptions the code raises, and when."
    if facts.attributes:
        properties["attributes"] = _named_items("name", facts.attributes)
        properties["attributes"]["description"] = "One entry for each public attribute."
    # Last: a small model's description can run on until the token limit; every other field is whole by then,
    # and a cut description is kept to its first sentences (`call.closed_prefix`) instead of paying a retry.
    properties["description"] = {
        "type": "string",
        "description": "Further explanation (behaviour, caveats); empty string when the summary says it all.",
    }
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


EXAMPLE_KINDS = ("function", "method", "class")
"""Kinds of object that get a usage example (asked for in a request of its own, after the docstring, and answered
as a fenced code block, not JSON: see `example_call`)."""


def improve_schema(missing_parameters: tuple[str, ...], missing_returns: bool) -> dict[str, Any]:
    """Schema for improve mode: only the sections a human docstring lacks."""
    properties: dict[str, Any] = {}
    if missing_parameters:
        properties["parameters"] = _named_items("name", missing_parameters)
        properties["parameters"]["description"] = "One entry for each listed parameter, none other."
    if missing_returns:
        properties["returns"] = _single("What the function returns.")
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


KEYED_SECTIONS = {"parameters": "name", "attributes": "name"}
"""Sections sent on the wire as one object keyed by the code's names, every name required (a server that enforces
the schema then cannot leave a parameter out: a retry saved), and read back as entries (`from_wire`)."""


def wire_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The schema as sent: each keyed section's array of `{name, description}` entries becomes an object."""
    properties = dict(schema.get("properties") or {})
    for key, name_key in KEYED_SECTIONS.items():
        section = properties.get(key)
        if not isinstance(section, Mapping) or section.get("type") != "array":
            continue
        names = section["items"]["properties"][name_key]["enum"]
        properties[key] = {
            "type": "object",
            "description": section.get("description", "") + " Keyed by name.",
            "properties": {name: _TEXT for name in names},
            "required": list(names),
            "additionalProperties": False,
        }
    return {**schema, "properties": properties}


def from_wire(answer: Any) -> Any:
    """The answer as checked, rendered and cached: each keyed section's object becomes a list of entries.

    An answer already in entries (a server that ignored the schema, a batch line) is left as it is.
    """
    if not isinstance(answer, dict):
        return answer
    entries = dict(answer)
    for key, name_key in KEYED_SECTIONS.items():
        value = answer.get(key)
        if isinstance(value, dict):
            entries[key] = [{name_key: name, "description": text} for name, text in value.items()]
    return entries


def validate_answer(answer: Any, schema: Mapping[str, Any]) -> list[str]:
    """Return the schema violations of `answer` as readable messages (empty when valid)."""
    from jsonschema import Draft202012Validator  # imported when an answer arrives: a warm build needs none

    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(answer), key=lambda error: list(error.absolute_path))
    return [f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}" for error in errors]


TOOL_NAME = "write_docstring"
"""The function a `tool` mode request makes the model call with the answer."""

TEXT_MODE = "text"
"""The mode of a request whose answer is plain text (no schema): the example request's fenced code block."""


def wire_format(schema: Mapping[str, Any] | None, mode: str = "json_schema") -> dict[str, Any]:
    """The request fields that constrain the answer to `schema` in an output mode (none for plain text)."""
    if schema is None or mode == TEXT_MODE:
        return {}
    schema = wire_schema(schema)
    if mode == "tool":
        return {
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": TOOL_NAME,
                        "description": "Record the docstring of the documented object.",
                        "parameters": schema,
                        "strict": True,
                    },
                }
            ],
            "tool_choice": {"type": "function", "function": {"name": TOOL_NAME}},
        }
    if mode == "json_object":
        return {"response_format": {"type": "json_object", "schema": schema}}
    return {
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "docstring", "strict": True, "schema": schema},
        }
    }
