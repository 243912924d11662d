"""The marker's stylesheet: a file the MkDocs plugin adds to the site, or inline for builders that run no plugin.

Without the plugin (Zensical, or the extension listed by hand under MkDocs / ProperDocs), nothing links a
stylesheet from the pages, so the extension puts the rules in a `<style>` element at the top of each AI marker's
text: browsers apply a `<style>` element wherever it stands, so the label and the marker are styled on every
page that shows an AI-written object, under any theme.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from typing import Any

import griffe

from mkdocs_ai_docstrings._internal.mark import AI_LABEL, EXTRA_NAMESPACE, MARKER_OPENING

STYLE_ID = "ai-docstrings-style"
"""`data-` marker of the inline `<style>` element, so it is found (and never added twice)."""


def stylesheet() -> str:
    """The packaged stylesheet's text."""
    return files("mkdocs_ai_docstrings").joinpath("_internal", "assets", "ai-docstrings.css").read_text("utf-8")


@cache
def inline_style() -> str:
    """The stylesheet as one `<style>` element (comments and spacing removed) followed by a blank line."""
    css = re.sub(r"/\*.*?\*/", "", stylesheet(), flags=re.DOTALL)
    css = re.sub(r"\s*([{};:,>])\s*", r"\1", css)
    css = re.sub(r"\s+", " ", css).replace(";}", "}").strip()
    return f'<style data-{STYLE_ID}="">{css}</style>\n\n'


def _objects(obj: griffe.Object) -> Any:
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)  # type: ignore[arg-type]


def style_markers(package: griffe.Module) -> int:
    """Put the inline stylesheet at the top of every AI marker of `package`'s objects; the count styled now.

    The marker of a generated docstring opens its first text section (`mark.marker_html`); the marker of an
    improved one is the `ai-generated` admonition before the added sections.
    """
    styled = 0
    for obj in _objects(package):
        if EXTRA_NAMESPACE not in obj.extra or obj.docstring is None:
            continue
        for section in obj.docstring.parsed:
            if section.kind is griffe.DocstringSectionKind.text and section.value.startswith(MARKER_OPENING):
                text = section.value[len(MARKER_OPENING) :]
                section.value = MARKER_OPENING + _styled(text)
            elif isinstance(section, griffe.DocstringSectionAdmonition) and section.value.kind == AI_LABEL:
                text = section.value.contents
                section.value.contents = _styled(text)
            else:
                continue
            styled += not text.startswith("<style")
            break
    return styled


def _styled(marker_text: str) -> str:
    """A marker's text with the inline stylesheet at its top (once)."""
    return marker_text if marker_text.startswith("<style") else inline_style() + marker_text
