"""Attach a generated docstring to a griffe object with the `ai-generated` label and marker."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import griffe

from mkdocs_ai_docstrings._internal.render import generated_parser_options
from mkdocs_ai_docstrings._internal.sanitize import escape_literal

AI_LABEL = "ai-generated"
"""Label shown in the object's heading; also the CSS class of the marker."""
ADMONITION_TITLE = "AI-generated"
MARKER_OPENING = f'<details class="{AI_LABEL}" open>\n<summary>{ADMONITION_TITLE}</summary>\n'
"""How an AI docstring's first text section begins (`style.py` puts the inline stylesheet right after it)."""
EXTRA_NAMESPACE = "ai_docstrings"
STALE_LABEL = "ai-stale"
"""Label of a docstring from a lock record whose code changed since it was written."""
STALE_NOTE = "The code changed after this text was written: it may be out of date."
SUMMARY_MARK = f'<span class="{AI_LABEL}">AI</span> '
"""Prefix of an AI docstring's first line, which summary tables (`summary: true`) show for the object."""


def review_note(review: str | None) -> str:
    """What the marker says about review: nothing without a lock file, else whether a maintainer reviewed it."""
    if review is None:
        return ""
    if review in ("accepted", "edited"):
        return " A maintainer reviewed it."
    return " No maintainer has reviewed it yet."


@functools.lru_cache(maxsize=64)  # one text per model and review state: escaped once, not once an object
def admonition_text(model: str, *, review: str | None = None, stale: bool = False) -> str:
    """The words shown inside the marker; the model name is escaped, so it renders exactly as configured."""
    text = (
        f"This documentation was written by an AI model ({escape_literal(model)}), not by the authors of the code. "
        "It was checked against the code, but may still be wrong."
    )
    text += review_note(review)
    return f"{text} {STALE_NOTE}" if stale else text


def marker_html(model: str, *, review: str | None = None, stale: bool = False) -> str:
    """The marker as one raw HTML block: the element an `ai-generated` admonition section renders to.

    It opens the docstring's first text section, so the Markdown conversion that section gets anyway renders it:
    a section of its own would take two more conversions (title and contents) per object, most of a warm build's
    cost beyond the site without the product. Every character of the model name is a character reference.
    """
    return f"{MARKER_OPENING}<p>{admonition_text(model, review=review, stale=stale)}</p>\n</details>\n\n"


def attach_docstring(
    obj: griffe.Object,
    text: str,
    *,
    model: str,
    parser: Any,
    parser_options: Mapping[str, Any] | None,
    status: str,
    review: str | None = None,
    stale: bool = False,
) -> None:
    """Set `text` as the docstring of `obj` and mark it as AI-generated.

    The marker opens the first parsed section (a text section, added when the docstring has none), so it
    renders at the top of the docstring for every style; the label renders in the heading. `review` is the
    lock record's review state (`None` without a lock file); `stale` adds the out-of-date note and label.
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
    marker = marker_html(model, review=review, stale=stale)
    if sections and sections[0].kind is griffe.DocstringSectionKind.text:
        sections[0].value = marker + sections[0].value
    else:
        sections.insert(0, griffe.DocstringSectionText(marker))
    obj.docstring = docstring
    obj.labels.add(AI_LABEL)
    if stale:
        obj.labels.add(STALE_LABEL)
    obj.extra[EXTRA_NAMESPACE] = {"status": status, "model": model, **_lock_extra(review, stale)}


def append_sections(
    obj: griffe.Object,
    text: str,
    *,
    model: str,
    parser: Any,
    parser_options: Mapping[str, Any] | None,
    review: str | None = None,
    stale: bool = False,
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
            text=f"The sections below were added by an AI model ({escape_literal(model)}); the text above is the authors'."
            + review_note(review)
            + (f" {STALE_NOTE}" if stale else ""),
            title="AI-added",
        )
    )
    sections.extend(added)
    obj.labels.add("ai-improved")
    if stale:
        obj.labels.add(STALE_LABEL)
    obj.extra[EXTRA_NAMESPACE] = {"status": "improved", "model": model, **_lock_extra(review, stale)}


def _lock_extra(review: str | None, stale: bool) -> dict[str, Any]:
    """The lock record's review state and staleness, for templates and other extensions (only when known)."""
    extra: dict[str, Any] = {} if review is None else {"review": review}
    return {**extra, "stale": True} if stale else extra


def mark_summary_line(obj: griffe.Object) -> None:
    """Prefix the first line of an AI-written docstring's text, and its attribute rows, with `SUMMARY_MARK`.

    mkdocstrings-python's summary tables show the first line of `docstring.value`, whatever the style,
    while the object's own entry renders the sections parsed earlier, so only the tables change. Call it
    once every prompt of the package is built: prompts quote callees' docstrings by value.
    """
    status = (obj.extra.get(EXTRA_NAMESPACE) or {}).get("status")
    docstring = obj.docstring
    if docstring is None or status in (None, "improved") or docstring.value.startswith(SUMMARY_MARK):
        return
    for section in docstring.parsed:  # parsed now, from the unmarked text
        if section.kind is griffe.DocstringSectionKind.attributes:  # the class's summary table of attributes
            for item in section.value:
                item.description = SUMMARY_MARK + item.description
    docstring.value = SUMMARY_MARK + docstring.value
