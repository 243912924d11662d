"""Structured answer → docstring text in the site's style (google, numpy or sphinx).

Formatting never depends on the model: every field is sanitized prose placed by this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import griffe

from mkdocs_ai_docstrings._internal.sanitize import code_fence, sanitize_code, sanitize_text

STYLES = ("google", "numpy", "sphinx")


def _inline(text: str) -> str:
    """Sanitized prose on one line (item descriptions must not leave their section)."""
    return " ".join(sanitize_text(text).split())


def _items(answer: Mapping[str, Any], key: str, name_key: str = "name") -> list[tuple[str, str]]:
    return [
        (str(item[name_key]), _inline(str(item.get("description", ""))) or "Not documented.")
        for item in answer.get(key) or []
        if isinstance(item, Mapping) and item.get(name_key)
    ]


def _one(answer: Mapping[str, Any], key: str) -> str | None:
    value = answer.get(key)
    if isinstance(value, Mapping) and str(value.get("description", "")).strip():
        return _inline(str(value["description"]))
    return None


def _example_block(answer: Mapping[str, Any]) -> str | None:
    code = sanitize_code(str(answer.get("examples") or ""))
    if not code.strip():
        return None
    fence = code_fence(code)
    return f"{fence}python\n{code}\n{fence}"


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line.strip() else "" for line in text.splitlines())


def _summary(answer: Mapping[str, Any]) -> str:
    summary = sanitize_text(str(answer.get("summary", "")), max_chars=300)
    summary = " ".join(summary.split())
    if summary and summary[-1] not in ".!?":
        summary += "."
    return summary


def render_docstring(
    answer: Mapping[str, Any],
    style: str = "google",
    *,
    return_annotation: str | None = None,
    yield_annotation: str | None = None,
) -> str:
    """Render a validated, grounded answer as a docstring in `style` (annotations are used by numpy style)."""
    if style not in STYLES:
        style = "google"
    parts = [_summary(answer)]
    description = sanitize_text(str(answer.get("description") or ""))
    if description.strip():
        parts.append(description)
    params = _items(answer, "parameters")
    attributes = _items(answer, "attributes")
    raises = _items(answer, "raises", "exception")
    returns = _one(answer, "returns")
    yields = _one(answer, "yields")
    example = _example_block(answer)
    if style == "google":
        if attributes:
            parts.append("Attributes:\n" + "\n".join(f"    {name}: {text}" for name, text in attributes))
        if params:
            parts.append("Args:\n" + "\n".join(f"    {name}: {text}" for name, text in params))
        if returns:
            parts.append(f"Returns:\n    {returns}")
        if yields:
            parts.append(f"Yields:\n    {yields}")
        if raises:
            parts.append("Raises:\n" + "\n".join(f"    {name}: {text}" for name, text in raises))
        if example:
            parts.append("Examples:\n" + _indent(example))
    elif style == "numpy":

        def section(title: str, body: str) -> str:
            return f"{title}\n{'-' * len(title)}\n{body}"

        if attributes:
            parts.append(section("Attributes", "\n".join(f"{name}\n    {text}" for name, text in attributes)))
        if params:
            parts.append(section("Parameters", "\n".join(f"{name}\n    {text}" for name, text in params)))
        if returns:
            parts.append(section("Returns", f"{return_annotation or 'object'}\n    {returns}"))
        if yields:
            parts.append(section("Yields", f"{yield_annotation or 'object'}\n    {yields}"))
        if raises:
            parts.append(section("Raises", "\n".join(f"{name}\n    {text}" for name, text in raises)))
        if example:
            parts.append(section("Examples", example))
    else:
        fields = [f":param {name.lstrip('*')}: {text}" for name, text in params]
        fields += [f":ivar {name}: {text}" for name, text in attributes]
        if returns:
            fields.append(f":returns: {returns}")
        if yields:  # griffe's sphinx parser has no yields field: say it in the description
            parts.insert(1, f"Yields {yields[:1].lower()}{yields[1:]}")
        fields += [f":raises {name}: {text}" for name, text in raises]
        if example:
            parts.append("Examples:\n\n" + example)
        if fields:
            parts.append("\n".join(fields))
    text = "\n\n".join(part for part in parts if part)
    # griffe cleans docstrings with `inspect.cleandoc`, which dedents from the second line on: without a summary
    # (improve mode), a leading "Args:" line would cost its items their indentation. A first empty line avoids it.
    return text if parts[0] else "\n" + text


def generated_parser_options(parser_options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The site's parser options for AI docstrings: missing annotations are the code's business, not the text's."""
    return {**(parser_options or {}), "warn_missing_types": False}


_SECTION_KEYS = {
    griffe.DocstringSectionKind.parameters: "parameters",
    griffe.DocstringSectionKind.raises: "raises",
    griffe.DocstringSectionKind.returns: "returns",
    griffe.DocstringSectionKind.yields: "yields",
    griffe.DocstringSectionKind.attributes: "attributes",
}


def structure_problems(
    text: str, answer: Mapping[str, Any], obj: griffe.Object, parser: Any, parser_options: Mapping[str, Any] | None
) -> list[str]:
    """Parse `text` with the site's parser and compare the sections with the answer they came from.

    An empty list means griffe reads exactly the parameters, exceptions, returns, yields and attributes
    the answer documents, and nothing leaked from prose into a section or the other way round.
    """
    if parser is None:
        return []
    options = {**generated_parser_options(parser_options), "warnings": False}
    sections = griffe.Docstring(text, parent=obj, parser=parser, parser_options=options).parse()
    problems = []
    found: dict[str, list[str]] = {}
    for section in sections:
        key = _SECTION_KEYS.get(section.kind)
        if key is None:
            continue
        names = [str(getattr(item, "name", "") or getattr(item, "annotation", "") or "") for item in section.value]
        found.setdefault(key, []).extend(names)
    for key in ("parameters", "raises", "attributes"):
        name_key = "exception" if key == "raises" else "name"
        expected = [str(item[name_key]).lstrip("*") for item in answer.get(key) or [] if isinstance(item, Mapping)]
        got = [name.lstrip("*") for name in found.get(key, [])]
        if sorted(expected) != sorted(got):
            problems.append(f"the rendered {key} section reads {got}, expected {expected}")
    sphinx = str(getattr(parser, "value", parser)) == "sphinx"
    for key in ("returns", "yields"):
        if key == "yields" and sphinx:
            continue
        expected_one = bool(_one(answer, key))
        if expected_one != bool(found.get(key)):
            problems.append(f"the rendered docstring {'lacks' if expected_one else 'has'} a {key} section")
    if not sections or sections[0].kind is not griffe.DocstringSectionKind.text:
        problems.append("the rendered docstring does not start with its summary")
    return problems
