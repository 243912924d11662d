"""Checks of a model answer against the code's facts, and repair by dropping what the code does not support.

A published docstring must not claim a parameter, exception or attribute the code lacks, must have a Returns
(Yields) section exactly when the code returns (yields) a value, and may only put resolvable names in backticks.
"""

from __future__ import annotations

import builtins
import copy
import keyword
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import griffe

from mkdocs_ai_docstrings._internal.facts import CodeFacts, final_object, follow_members, parameter_names

PROBLEM_KINDS = (
    "unknown_parameter",
    "missing_parameter",
    "unknown_exception",
    "unexpected_returns",
    "missing_returns",
    "unexpected_yields",
    "missing_yields",
    "unknown_attribute",
    "restatement",
    "unresolved_reference",
    "empty_summary",
)
"""Every kind of problem `check_answer` and `drop_ungrounded` report."""

RESTATEMENT_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "is",
        "are",
        "be",
        "of",
        "for",
        "to",
        "and",
        "or",
        "in",
        "on",
        "with",
        "by",
        "from",
        "as",
        "at",
        "into",
        "s",
        "given",
        "specified",
        "provided",
        "object",
        "objects",
        "value",
        "values",
        "function",
        "method",
        "class",
        "instance",
        "property",
        "attribute",
        "module",
        "return",
        "returns",
    ]
)
"""Words that carry no information in a summary: ignored when deciding whether it restates the name."""

_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)([^\n]+?)(?<!`)\1(?!`)")
_REFERENCE = re.compile(r"^\*{0,2}([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\([^()]*\))?$")
_NAME_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|\d+")
_WORD = re.compile(r"[a-z0-9]+")
_LITERAL_NAMES = frozenset({"None", "True", "False"})


@dataclass(frozen=True)
class Problem:
    """One way an answer disagrees with the code."""

    kind: str
    """One of `PROBLEM_KINDS`."""
    detail: str
    """Human-readable explanation, usable as feedback to the model."""


# References ------------------------------------------------------------------------------------------------------


def find_references(text: str) -> list[str]:
    """Return the identifier-like names in backticks (`` `name` ``, `` `mod.name` ``, `` `name()` `` → `name`).

    Literals and expressions in backticks (`` `"utf-8"` ``, `` `1.5` ``, `` `x + 1` ``) and keywords are not
    references.
    """
    return [name for _, name in _code_spans(text) if name is not None]


def _code_spans(text: str) -> Iterator[tuple[re.Match[str], str | None]]:
    for match in _CODE_SPAN.finditer(text):
        yield match, _reference_name(match.group(2).strip())


def _reference_name(content: str) -> str | None:
    match = _REFERENCE.match(content)
    if match is None:
        return None
    name = match.group(1)
    if keyword.iskeyword(name) and name not in _LITERAL_NAMES:
        return None
    return name


def resolve_reference(name: str, obj: griffe.Object) -> str | None:
    """Resolve a name mentioned in `obj`'s docstring to a path, or `None` when it names nothing known.

    Looks in order at `self`/`cls` members, `obj`'s parameters (`path(name)`), the members of `obj` and of its
    parents up to the module (imports resolve to their target, or to the imported path when it lies outside the
    loaded packages), absolute dotted paths of loaded packages, and builtins.
    """
    target = final_object(obj) or obj
    head, *rest = name.split(".")
    if head in ("self", "cls"):
        owner = target if target.is_class else target.parent
        if owner is None or not owner.is_class:
            return None
        return follow_members(owner, rest)[1] if rest else owner.path
    if not rest and head in _raw_parameter_names(target):
        return f"{target.path}({head})"
    scope: griffe.Object | None = target
    while scope is not None:
        if head in _members(scope):
            return follow_members(scope, [head, *rest])[1]
        scope = scope.parent
    try:
        modules = target.modules_collection.members
    except (griffe.GriffeError, AttributeError):
        modules = {}
    if head in modules:
        return follow_members(modules[head], rest)[1]
    return _builtin_path(head, rest)


def _members(obj: griffe.Object) -> Mapping[str, griffe.Object]:
    if obj.is_class:
        try:
            return obj.all_members
        except (griffe.GriffeError, KeyError, AttributeError):
            return obj.members
    return obj.members


def _raw_parameter_names(obj: griffe.Object) -> set[str]:
    return {name.lstrip("*") for name in parameter_names(obj)} if obj.is_function or obj.is_class else set()


def _builtin_path(head: str, rest: Sequence[str]) -> str | None:
    if not hasattr(builtins, head):
        return None
    value = getattr(builtins, head)
    for part in rest:
        if not hasattr(value, part):
            return None
        value = getattr(value, part)
    return ".".join([head, *rest])


# Restatement -----------------------------------------------------------------------------------------------------


def is_restatement(summary: str, obj_name: str, parameters: Sequence[str] = ()) -> bool:
    """Tell whether a summary says nothing beyond the object's name (and its parameters' names).

    True when it has fewer than 3 words, or when every word that is not a stopword is a part of the split name
    (snake_case, CamelCase) or of a parameter name, allowing simple inflections (`gets` for `get`).
    """
    words = _WORD.findall(summary.lower())
    if len(words) < 3:
        return True
    name_parts = {part for name in (obj_name, *parameters) for part in _name_parts(name)}
    content = [word for word in words if word not in RESTATEMENT_STOPWORDS]
    return all(any(_same_word(word, part) for part in name_parts) for word in content)


def _name_parts(name: str) -> list[str]:
    return [part.lower() for token in name.strip("*_").split("_") for part in _NAME_PART.findall(token)]


def _stem(word: str) -> str:
    for suffix, replacement in (("ies", "y"), ("ing", ""), ("es", ""), ("ed", ""), ("s", ""), ("e", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + replacement
    return word


def _same_word(word: str, part: str) -> bool:
    if word == part or _stem(word) == _stem(part):
        return True
    shorter, longer = sorted((word, part), key=len)
    return len(shorter) >= 4 and longer.startswith(shorter)


# Matching answer items to facts -----------------------------------------------------------------------------------


def _clean_name(name: Any) -> str:
    return str(name).strip().strip("`").strip().removesuffix("()")


def _canonical_parameter(name: Any, facts: CodeFacts) -> str | None:
    cleaned = _clean_name(name)
    if cleaned in facts.parameters:
        return cleaned
    return next((real for real in facts.parameters if real.lstrip("*") == cleaned.lstrip("*")), None)


def _canonical_exception(name: Any, facts: CodeFacts) -> str | None:
    cleaned = _clean_name(name)
    paths = facts.raise_paths if len(facts.raise_paths) == len(facts.raises) else facts.raises
    for display, path in zip(facts.raises, paths, strict=True):
        if cleaned in (display, path) or path.endswith(f".{cleaned}"):
            return display
    return None


def _canonical_attribute(name: Any, facts: CodeFacts) -> str | None:
    cleaned = _clean_name(name)
    return cleaned if cleaned in facts.attributes else None


@dataclass(frozen=True)
class _ListSection:
    key: str
    name_key: str
    noun: str
    unknown_kind: str
    canonical: Callable[[Any, CodeFacts], str | None]
    expected: Callable[[CodeFacts], tuple[str, ...]]


_LIST_SECTIONS = (
    _ListSection("parameters", "name", "parameter", "unknown_parameter", _canonical_parameter, lambda f: f.parameters),
    _ListSection("raises", "exception", "exception", "unknown_exception", _canonical_exception, lambda f: f.raises),
    _ListSection("attributes", "name", "attribute", "unknown_attribute", _canonical_attribute, lambda f: f.attributes),
)


def _unknown_detail(section: _ListSection, name: Any, obj: griffe.Object) -> str:
    if section.key == "parameters":
        return f"parameter '{name}' is not in the signature of {obj.name}"
    if section.key == "raises":
        return f"exception '{name}' is not raised by the code of {obj.name}"
    return f"attribute '{name}' is not a public attribute of {obj.name}"


def _filter_items(
    section: _ListSection, items: Any, facts: CodeFacts, obj: griffe.Object
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Keep the entries that name something real (renamed to the code's spelling), once each."""
    kept: list[dict[str, Any]] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            problems.append(Problem(section.unknown_kind, f"a {section.noun} entry is not an object: {item!r}"))
            continue
        name = item.get(section.name_key)
        canonical = section.canonical(name, facts)
        if canonical is None:
            problems.append(Problem(section.unknown_kind, _unknown_detail(section, name, obj)))
        elif canonical in seen:
            problems.append(Problem(section.unknown_kind, f"{section.noun} '{canonical}' is documented more than once"))
        else:
            seen.add(canonical)
            kept.append({**item, section.name_key: canonical})
    return kept, problems


def _described(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(str(value.get("description") or "").strip())


def _covers(items: Any, section: _ListSection, facts: CodeFacts) -> set[str]:
    """Names of `facts` that the answer's entries document with a non-empty description."""
    covered = set()
    for item in items if isinstance(items, list) else []:
        if _described(item):
            canonical = section.canonical(item.get(section.name_key), facts)
            if canonical is not None:
                covered.add(canonical)
    return covered


def _prose_fields(answer: Mapping[str, Any]) -> Iterator[str]:
    for key in ("summary", "description"):
        if isinstance(answer.get(key), str):
            yield answer[key]
    for key in ("returns", "yields"):
        if isinstance(answer.get(key), Mapping) and isinstance(answer[key].get("description"), str):
            yield answer[key]["description"]
    for section in _LIST_SECTIONS:
        items = answer.get(section.key)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, Mapping) and isinstance(item.get("description"), str):
                yield item["description"]


# Public checks ---------------------------------------------------------------------------------------------------


def check_answer(answer: Mapping[str, Any], facts: CodeFacts, obj: griffe.Object) -> list[Problem]:
    """List every way `answer` disagrees with the code of `obj` (empty when it is grounded and complete)."""
    problems: list[Problem] = []
    summary = str(answer.get("summary") or "").strip()
    if not summary:
        problems.append(Problem("empty_summary", "the summary is empty: say in one sentence what it does"))
    elif is_restatement(summary, obj.name, facts.parameters):
        problems.append(
            Problem("restatement", f"the summary {summary!r} only restates the name '{obj.name}': say what it does")
        )
    for section in _LIST_SECTIONS:
        _, unknown = _filter_items(section, answer.get(section.key), facts, obj)
        problems.extend(unknown)
    covered = _covers(answer.get("parameters"), _LIST_SECTIONS[0], facts)
    problems.extend(
        Problem("missing_parameter", f"parameter '{name}' is not documented")
        for name in facts.parameters
        if name not in covered
    )
    problems.extend(_single_section_problems(answer, facts, "returns", facts.returns_value, "returns a value"))
    problems.extend(_single_section_problems(answer, facts, "yields", facts.is_generator, "is a generator"))
    unresolved: dict[str, None] = {}
    for text in _prose_fields(answer):
        for name in find_references(text):
            if resolve_reference(name, obj) is None:
                unresolved[name] = None
    problems.extend(
        Problem("unresolved_reference", f"`{name}` does not name anything in the scope of {obj.path}")
        for name in unresolved
    )
    return problems


def _single_section_problems(
    answer: Mapping[str, Any], facts: CodeFacts, key: str, expected: bool, what: str
) -> list[Problem]:
    present = answer.get(key) is not None
    if present and not expected:
        reason = "it is a generator: describe what it yields" if key == "returns" and facts.is_generator else ""
        detail = f"the code has no {key} value: remove the {key} section" + (f" ({reason})" if reason else "")
        return [Problem(f"unexpected_{key}", detail)]
    if expected and not _described(answer.get(key)):
        return [Problem(f"missing_{key}", f"the code {what}: describe it in the {key} section")]
    return []


def drop_ungrounded(answer: Mapping[str, Any], facts: CodeFacts, obj: griffe.Object) -> tuple[dict, list[Problem]]:
    """Return a new answer without what the code does not support, and the problems that were dropped.

    Invented parameters, exceptions and attributes are removed (real ones are renamed to the code's spelling,
    `args` → `*args`); a `returns`/`yields` entry where the code has none is removed; unresolvable backticked
    names become plain text. Missing items are not invented: the caller decides to retry or fail.
    """
    repaired: dict[str, Any] = copy.deepcopy(dict(answer))
    dropped: list[Problem] = []
    for section in _LIST_SECTIONS:
        if section.key not in repaired:
            continue
        kept, unknown = _filter_items(section, repaired[section.key], facts, obj)
        dropped.extend(unknown)
        if section.expected(facts):
            repaired[section.key] = kept
        else:
            del repaired[section.key]
    for key, expected in (("returns", facts.returns_value), ("yields", facts.is_generator)):
        if key in repaired and not expected:
            dropped.extend(_single_section_problems(repaired, facts, key, expected, ""))
            del repaired[key]
    unresolved: dict[str, None] = {}
    cache: dict[str, str | None] = {}

    def unquote(text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            name = _reference_name(match.group(2).strip())
            if name is None:
                return match.group(0)
            if name not in cache:
                cache[name] = resolve_reference(name, obj)
            if cache[name] is not None:
                return match.group(0)
            unresolved[name] = None
            return match.group(2).strip()

        return _CODE_SPAN.sub(replace, text)

    _map_prose(repaired, unquote)
    dropped.extend(
        Problem(
            "unresolved_reference", f"`{name}` does not name anything in the scope of {obj.path}: backticks removed"
        )
        for name in unresolved
    )
    return repaired, dropped


def _map_prose(answer: dict[str, Any], change: Callable[[str], str]) -> None:
    for key in ("summary", "description"):
        if isinstance(answer.get(key), str):
            answer[key] = change(answer[key])
    entries = [answer.get("returns"), answer.get("yields")]
    for section in _LIST_SECTIONS:
        items = answer.get(section.key)
        entries.extend(items if isinstance(items, list) else [])
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("description"), str):
            entry["description"] = change(entry["description"])


def completeness(answer: Mapping[str, Any], facts: CodeFacts, *, public: bool = True) -> tuple[int, int]:
    """Count the sections an answer has against those the code calls for: `(present, required)`.

    Required: a summary; a description for non-trivial objects (classes, modules, functions with parameters);
    parameters, returns, yields, raises and attributes when the code has them; examples for public functions
    and methods. A list section is present only when it documents every name the code has.
    """
    requirements: list[tuple[bool, bool]] = [
        (True, bool(str(answer.get("summary") or "").strip())),
        (
            facts.kind in ("class", "module") or (facts.kind in ("function", "method") and bool(facts.parameters)),
            bool(str(answer.get("description") or "").strip()),
        ),
        (facts.returns_value, _described(answer.get("returns"))),
        (facts.is_generator, _described(answer.get("yields"))),
        (facts.kind in ("function", "method") and public, bool(str(answer.get("examples") or "").strip())),
    ]
    for section in _LIST_SECTIONS:
        expected = section.expected(facts)
        if section.key == "attributes" and facts.kind != "class":
            expected = ()
        requirements.append((bool(expected), set(expected) <= _covers(answer.get(section.key), section, facts)))
    required = [present for needed, present in requirements if needed]
    return sum(required), len(required)
