"""Untrusted model text → safe Markdown for docstrings.

Model output ends up in an HTML page through Python-Markdown (with attr_list, admonition, pymdownx.*,
md_in_html, ...) and first through a docstring parser (google, numpy, sphinx). Prose is therefore
reduced to plain paragraphs: one line each, no raw HTML, no link or attribute syntax, nothing at the
start of a paragraph that a Markdown block processor or a docstring parser would act on, and single
backtick code spans kept as they are. Every escape is a character reference, so the page shows the
same characters the model wrote.

Model text is also data for the site's include and directive extensions, which read the docstring text
before Markdown does (pymdownx.snippets is a preprocessor: it acts inside code spans and fenced code too).
Prose needs nothing more: `<`, `{` and a paragraph's first character are already character references,
so no `-8<-`, `{!`, `{{`, `{%`, `{#`, `<!--`, `:::` or `///` survives in it. A code span carrying one
becomes escaped prose (same characters, no code font), and a line of example code carrying one is
dropped: character references would show literally in code.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata

__all__ = ["code_fence", "escape_literal", "sanitize_code", "sanitize_text"]

_ELLIPSIS = "…"
_LINE_BREAKS = str.maketrans({"\r": "\n", "\u2028": "\n", "\u2029": "\n", "\x0b": "\n", "\x0c": "\n", "\x85": "\n"})
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
# Same shape as Python-Markdown's code span pattern: a backtick run, content, the same run again.
_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")
_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "\\": "&#92;",
    "[": "&#91;",
    "]": "&#93;",
    "{": "&#123;",
    "}": "&#125;",
    "|": "&#124;",
    "$": "&#36;",
    "`": "",
}
_ESCAPE = re.compile("[" + re.escape("".join(_ESCAPES)) + "]")
# A paragraph must not start like a block: heading, quote, list, rule, fence, admonition (`!!!`, `???`,
# `///`), mkdocstrings' `:::`, a sphinx field (`:param`), a table, a setext underline, a footnote...
_BLOCK_START_CHARS = frozenset("#>=-+*_:!?/~|%^")
_ORDERED_LIST = re.compile(r"^(\d{1,9})([.)])")
# google: `Returns:`, `Note: text`, `x (int): text` would start a section, an admonition or an item.
_SECTION_TITLE = re.compile(r"^([\w*][\w\s*.,()\-]{0,80}?):")
_FENCE_LINE = re.compile(r"^\s*(?:`{3,}|~{3,})")
_BACKTICK_RUN = re.compile(r"`+")
_SPACES = re.compile(r" {2,}")
_DIRECTIVE = re.compile(r"-8<-|\{[!{%#]|<!--")
"""Include/directive syntax acted on anywhere in a line, fenced code included: pymdownx.snippets' inline, block
and section markers (`-+8<-+`, with or without `;` escapes), markdown-include's `{!file!}`, Jinja's `{{`, `{%`,
`{#` (mkdocs-macros, `{% include %}`, `{% include-markdown %}`) and HTML comments (plugins' `<!-- ... -->` markers)."""
_DIRECTIVE_LINE = re.compile(r"^[ \t]*(?:#{1,6}[ \t]*)?:::|^[ \t]*/{3,}")
"""Directives acted on at the start of a line: mkdocstrings' `::: identifier` (also as `# ::: x`) and
pymdownx.blocks' `/// name | ...`."""


_ACTIVE_WORDS = re.compile(r"(?i)\b(javascript|vbscript|livescript|data)(\s*):|\b(on[a-z]{3,20})(\s*)=")
"""URL schemes and event-handler attributes, defused even as text so no reader or filter mistakes them."""


def _defuse_entities(markdown: str) -> str:
    """Defuse `javascript:`-like schemes and `on...=` attributes outside inline code spans."""

    def defuse(text: str) -> str:
        return _ACTIVE_WORDS.sub(lambda m: f"{m[1]}{m[2]}&#58;" if m[1] else f"{m[3]}{m[4]}&#61;", text)

    out, last = [], 0
    for span in _CODE_SPAN.finditer(markdown):
        out += [defuse(markdown[last : span.start()]), span.group(0)]
        last = span.end()
    out.append(defuse(markdown[last:]))
    return "".join(out)


def _is_removed(char: str) -> bool:
    """Control, format (zero-width, bidi overrides, BOM, soft hyphen) and surrogate characters."""
    return unicodedata.category(char) in {"Cc", "Cf", "Cs"} and char not in "\n\t"


_ASCII_CONTROLS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
"""The characters `_is_removed` removes from ASCII text (ASCII holds no format or surrogate character)."""


def clean_text(text: str) -> str:
    """Normalized line breaks, tabs as spaces, no invisible or control characters: the characters published."""
    text = text.replace("\r\n", "\n").translate(_LINE_BREAKS).replace("\t", " ")
    if text.isascii():  # the common case, without a lookup per character
        return _ASCII_CONTROLS.sub("", text)
    return "".join(char for char in text if not _is_removed(char))


def _truncate(text: str, max_chars: int) -> str:
    """`text` cut to at most `max_chars` characters, at a word boundary, ending with an ellipsis."""
    if len(text) <= max_chars:
        return text
    cut = text[: max(max_chars - 1, 0)]
    boundary = max(cut.rfind(" "), cut.rfind("\n"))
    if boundary > max_chars // 2:
        cut = cut[:boundary]
    return cut.rstrip() + _ELLIPSIS


def _escape_prose(text: str) -> str:
    return _ESCAPE.sub(lambda match: _ESCAPES[match.group(0)], text)


def _inline(paragraph: str) -> str:
    """Escape a one-line paragraph outside its code spans; code spans become single-backtick spans."""
    parts: list[str] = []
    position = 0
    for span in _CODE_SPAN.finditer(paragraph):
        parts.append(_escape_prose(paragraph[position : span.start()]))
        code = span.group(2).replace("`", "").strip()
        if _DIRECTIVE.search(code):  # code spans are verbatim, so one carrying a directive becomes escaped prose
            parts.append(_escape_prose(code))
        elif code:
            if parts and parts[-1].endswith("`"):
                parts.append(" ")
            parts.append(f"`{code}`")
        position = span.end()
    parts.append(_escape_prose(paragraph[position:]))
    return _SPACES.sub(" ", "".join(parts)).strip()


def _neutralize_start(paragraph: str) -> str:
    """Make the start of a paragraph inert.

    A would-be section title loses its colon and a block marker its first character, both replaced by
    numeric character references, which render as the original characters.
    """
    if match := _SECTION_TITLE.match(paragraph):
        paragraph = f"{match.group(1)}&#58;{paragraph[match.end() :]}"
    if match := _ORDERED_LIST.match(paragraph):
        paragraph = f"{match.group(1)}&#{ord(match.group(2))};{paragraph[match.end() :]}"
    elif paragraph and paragraph[0] in _BLOCK_START_CHARS:
        paragraph = f"&#{ord(paragraph[0])};{paragraph[1:]}"
    return paragraph


def sanitize_text(text: str, max_chars: int = 2000) -> str:
    """Turn untrusted prose into safe Markdown: one-line paragraphs with inert characters.

    Args:
        text: A prose field of the model's answer (summary, description).
        max_chars: The longest text kept (counted before escaping); longer text is cut at a word boundary.

    Returns:
        Paragraphs separated by a blank line, each on one line, that render as the characters written.
    """
    text = _truncate(clean_text(str(text)).strip(), max_chars)
    paragraphs = (" ".join(block.split()) for block in _PARAGRAPH_BREAK.split(text))
    rendered = (_neutralize_start(_defuse_entities(_inline(paragraph))) for paragraph in paragraphs)
    return "\n\n".join(paragraph for paragraph in rendered if paragraph)


def sanitize_code(code: str, max_lines: int = 30) -> str:
    """Prepare untrusted example code for a fenced block: no fence lines, no invisible characters, capped.

    Args:
        code: Example code from the model's answer.
        max_lines: The most lines kept; a `# …` line marks a cut.

    Returns:
        Dedented code without leading or trailing blank lines, without fence lines and without lines that carry
        include or directive syntax (a snippet marker, `{!`, `{{`, `{%`, `{#`, `<!--`, a leading `:::` or `///`).
    """
    text = clean_text(str(code).expandtabs(4))
    lines = [line.rstrip() for line in text.split("\n") if not _is_dropped_code_line(line)]
    text = textwrap.dedent("\n".join(lines)).strip("\n")
    lines = text.split("\n") if text else []
    if len(lines) > max_lines:
        lines = [*lines[: max(max_lines - 1, 0)], f"# {_ELLIPSIS}"]
    return "\n".join(lines)


def _is_dropped_code_line(line: str) -> bool:
    return bool(_FENCE_LINE.match(line) or _DIRECTIVE.search(line) or _DIRECTIVE_LINE.match(line))


def escape_literal(text: str, max_chars: int = 200) -> str:
    """Untrusted text (a model or deployment name) as Markdown that renders exactly as written, on one line.

    Every character other than a letter, a digit or a space becomes a numeric character reference, so no
    Markdown, HTML, include or directive syntax survives (nor a `www.` that magiclink would link); a `-`
    between two letters or digits (`gpt-4o-mini`) stays as written, as no extension acts on it there.
    Control and invisible characters are removed.
    """
    text = _truncate(" ".join(clean_text(str(text)).split()), max_chars)

    def literal(index: int, char: str) -> str:
        if char.isalnum() or char == " ":
            return char
        inside_word = (
            char == "-" and 0 < index < len(text) - 1 and text[index - 1].isalnum() and text[index + 1].isalnum()
        )
        return char if inside_word else f"&#{ord(char)};"

    return "".join(literal(index, char) for index, char in enumerate(text))


def code_fence(code: str) -> str:
    """A backtick fence longer than any backtick run in `code` (at least three backticks)."""
    longest = max((len(run) for run in _BACKTICK_RUN.findall(code)), default=0)
    return "`" * max(3, longest + 1)
