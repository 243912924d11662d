"""String literals and comments of Python source, found tolerantly, and a "joined" view of concatenated literals.

The scanner accepts any text (a truncated source, a class skeleton, a fragment): it never raises, an unterminated
literal simply runs to the end of its line (or of the text, for triple quotes). `tokenize` would reject such
fragments, and the redactor must see everything.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["JoinedView", "Literal", "joined_view", "scan_literals"]


@dataclass(frozen=True)
class Literal:
    """One string literal (or `#` comment) of a source text."""

    start: int
    """Where the literal starts (its prefix or first quote; for a comment, the `#`)."""
    end: int
    """Just after its closing quote (or the end of the comment)."""
    content_start: int
    content_end: int
    """The span of its content, quotes and prefix left out."""
    comment: bool = False
    depth: int = 0
    """How many brackets are open where it starts (implicit concatenation across lines needs one)."""


_NEXT = re.compile(r"[#'\"]")
_PREFIX = re.compile(r"(?<![\w])[rRbBuUfF]{1,2}$")
_BODY = {
    '"""': re.compile(r'(?:[^"\\]+|\\.|"(?!""))*', re.DOTALL),
    "'''": re.compile(r"(?:[^'\\]+|\\.|'(?!''))*", re.DOTALL),
    '"': re.compile(r'(?:[^"\\\n]+|\\.)*'),
    "'": re.compile(r"(?:[^'\\\n]+|\\.)*"),
}
_OPEN = "([{"
_CLOSE = ")]}"


def _depth_change(code: str) -> int:
    return sum(code.count(char) for char in _OPEN) - sum(code.count(char) for char in _CLOSE)


def scan_literals(text: str) -> list[Literal]:
    """The string literals and comments of `text`, in order."""
    literals: list[Literal] = []
    position = 0
    depth = 0
    while (match := _NEXT.search(text, position)) is not None:
        start = match.start()
        depth = max(0, depth + _depth_change(text[position:start]))
        if match.group() == "#":
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            literals.append(Literal(start, end, start + 1, end, comment=True, depth=depth))
            position = end
            continue
        quote = text[start : start + 3] if text[start : start + 3] in ('"""', "'''") else text[start]
        body = _BODY[quote].match(text, start + len(quote))
        content_end = body.end() if body is not None else start + len(quote)
        closed = text.startswith(quote, content_end)
        end = content_end + len(quote) if closed else content_end
        prefix = _PREFIX.search(text, max(0, start - 2), start)
        literal_start = prefix.start() if prefix is not None else start
        literals.append(Literal(literal_start, end, start + len(quote), content_end, depth=depth))
        position = max(end, start + 1)
    return literals


_OPENING = re.compile(r"\(\s*$")
_CLOSING = re.compile(r"\s*\)")
_GAP = re.compile(r"(?:[ \t\f]|\\\r?\n|\+)*")
_GAP_LINES = re.compile(r"(?:\s|\\\r?\n|\+|#[^\n]*)*")


def _concatenated(text: str, first: Literal, second: Literal) -> bool:
    """Whether two literals are one string: adjacent, or joined by `+`, on one line or inside brackets."""
    if first.comment or second.comment:
        return False
    gap = text[first.end : second.start]
    if _GAP.fullmatch(gap):
        return True
    return (first.depth > 0 or "+" in gap) and bool(_GAP_LINES.fullmatch(gap))


@dataclass(frozen=True)
class JoinedView:
    """`text` with each run of concatenated literals replaced by one literal holding their joined contents."""

    text: str
    _derived_starts: Sequence[int]
    _original_starts: Sequence[int]

    def original(self, position: int) -> int:
        """The position in the original text of the character at `position` of the joined text."""
        index = bisect.bisect_right(self._derived_starts, position) - 1
        return self._original_starts[index] + position - self._derived_starts[index]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that holds the characters `start:end` of the joined text."""
        return self.original(start), self.original(end - 1) + 1


def joined_view(text: str, literals: Sequence[Literal] | None = None) -> JoinedView | None:
    """The joined view of `text`, or `None` when no literals are concatenated."""
    literals = scan_literals(text) if literals is None else literals
    runs: list[list[Literal]] = []
    for literal in literals:
        if literal.comment and runs and not runs[-1][-1].comment:
            continue  # a comment between the lines of a parenthesised run
        if runs and _concatenated(text, runs[-1][-1], literal):
            runs[-1].append(literal)
        else:
            runs.append([literal])
    runs = [run for run in runs if len(run) > 1]
    if not runs:
        return None
    parts: list[str] = []
    derived: list[int] = []
    original: list[int] = []
    length = 0
    position = 0

    def keep(start: int, end: int) -> None:
        nonlocal length
        if end > start:
            derived.append(length)
            original.append(start)
            parts.append(text[start:end])
            length += end - start

    for run in runs:
        first, last = run[0], run[-1]
        opening = _OPENING.search(text, max(position, first.start - 200), first.start)
        closing = _CLOSING.match(text, last.end)
        # `x = ("a" "b")` becomes `x = "ab"`, so that assignment patterns see the value.
        if opening is not None and closing is not None:
            keep(position, opening.start())
            keep(first.start, first.content_start)
            position = closing.end()
        else:
            keep(position, first.content_start)
            position = last.end
        for literal in run:
            keep(literal.content_start, literal.content_end)
        keep(last.content_end, last.end)
    keep(position, len(text))
    return JoinedView("".join(parts), derived, original)
