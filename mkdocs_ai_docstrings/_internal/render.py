"""Structured answer → docstring text in the site's style (google, numpy or sphinx).

Formatting never depends on the model: every field is sanitized prose placed by this module.
"""

from __future__ import annotations

import logging
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
        if yields:
            fields.append(f":yields: {yields}")
        fields += [f":raises {name}: {text}" for name, text in raises]
        if example:
            parts.append("Examples:\n\n" + example)
        if fields:
            parts.append("\n".join(fields))
    return "\n\n".join(part for part in parts if part)


class _WarningCatcher(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def parse_warnings(text: str, obj: griffe.Object, parser: Any, parser_options: Mapping[str, Any] | None) -> list[str]:
    """Parse `text` as `obj`'s docstring with the site's parser and return griffe's warnings."""
    if parser is None:
        return []
    catcher = _WarningCatcher()
    griffe_logger = logging.getLogger("griffe")
    griffe_logger.addHandler(catcher)
    try:
        griffe.Docstring(text, parent=obj, parser=parser, parser_options=dict(parser_options or {})).parse()
    finally:
        griffe_logger.removeHandler(catcher)
    return catcher.messages
