"""Attach a generated docstring to a griffe object with the `ai-generated` label and admonition."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import griffe

from mkdocs_ai_docstrings._internal.render import generated_parser_options
from mkdocs_ai_docstrings._internal.sanitize import escape_literal

AI_LABEL = "ai-generated"
"""Label shown in the object's heading; also the CSS class of the admonition."""
ADMONITION_TITLE = "AI-generated"
EXTRA_NAMESPACE = "ai_docstrings"


def admonition_text(model: str) -> str:
    """The words shown inside the marker; the model name is escaped, so it renders exactly as configured."""
    return (
        f"This documentation was written by an AI model ({escape_literal(model)}), not by the authors of the code. "
        "It was checked against the code, but may still be wrong."
    )


def attach_docstring(
    obj: griffe.Object,
    text: str,
    *,
    model: str,
    parser: Any,
    parser_options: Mapping[str, Any] | None,
    status: str,
) -> None:
    """Set `text` as the docstring of `obj` and mark it as AI-generated.

    The admonition is placed first among the parsed sections, so it renders at the top of the
    docstring for every style; the label renders in the heading.
    """
    docstring = griffe.Docstring(
        text,
        lineno=obj.lineno,
        endlineno=obj.lineno,
        parent=obj,
        parser=parser,
        parser_options=generated_parser_options(parser_options),
    )
    sections = docstring.parsed
    sections.insert(
        0, griffe.DocstringSectionAdmonition(kind=AI_LABEL, text=admonition_text(model), title=ADMONITION_TITLE)
    )
    obj.docstring = docstring
    obj.labels.add(AI_LABEL)
    obj.extra[EXTRA_NAMESPACE] = {"status": status, "model": model}


def append_sections(
    obj: griffe.Object,
    text: str,
    *,
    model: str,
    parser: Any,
    parser_options: Mapping[str, Any] | None,
) -> None:
    """Append AI-written sections to a human docstring (`improve` mode), leaving the human text untouched.

    The added sections come after an admonition titled "AI-added" so readers see where the human text ends.
    """
    if obj.docstring is None:
        return
    options = generated_parser_options(parser_options)
    addition = griffe.Docstring(text, parent=obj, parser=parser, parser_options=options).parsed
    added = [section for section in addition if section.kind is not griffe.DocstringSectionKind.text]
    if not added:
        return
    sections = obj.docstring.parsed
    sections.append(
        griffe.DocstringSectionAdmonition(
            kind=AI_LABEL,
            text=f"The sections below were added by an AI model ({escape_literal(model)}); the text above is the authors'.",
            title="AI-added",
        )
    )
    sections.extend(added)
    obj.labels.add("ai-improved")
    obj.extra[EXTRA_NAMESPACE] = {"status": "improved", "model": model}
