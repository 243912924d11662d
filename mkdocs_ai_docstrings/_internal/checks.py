"""Checks of a model answer against the code's facts, and repair by dropping what the code does not support.

A published docstring must not claim a parameter, exception or attribute the code lacks, must have a Returns
(Yields) section exactly when the code returns (yields) a value, and may only put resolvable names in backticks.
"""

from __future__ import annotations

import ast
import builtins
import copy
import difflib
import keyword
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import griffe

from mkdocs_ai_docstrings._internal.facts import (
    CodeFacts,
    final_object,
    follow_members,
    object_kind,
    parameter_names,
    source_of,
)
from mkdocs_ai_docstrings._internal.sanitize import clean_text

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


def settle_restatement(answer: Mapping[str, Any], obj: griffe.Object, facts: CodeFacts) -> tuple[dict[str, Any], str]:
    """Settle a summary that still only restates the name when no retry is left; return the answer and what was done.

    The description's first sentence becomes the summary when it says more; otherwise the summary is kept: a true
    sentence that says little is worth more than failing the whole docstring over it.
    """
    fixed = dict(answer)
    sentences = _sentences(str(fixed.get("description") or ""))
    if sentences and not is_restatement(sentences[0], obj.name, facts.parameters):
        fixed["summary"], fixed["description"] = sentences[0], " ".join(sentences[1:])
        return fixed, "the summary only restated the name: the description's first sentence replaces it"
    return fixed, "kept: the summary only restates the name, and so did its retry"


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


def completeness(answer: Mapping[str, Any], facts: CodeFacts, *, example_worth: bool = True) -> tuple[int, int]:
    """Count the sections an answer has against those the code calls for: `(present, required)`.

    Required: a summary; a description for non-trivial objects (classes, modules, functions with parameters);
    parameters, returns, yields, raises and attributes when the code has them; examples for functions and
    methods whose example is worth having (`example_worth`, see `facts.worth_an_example`: not a private
    helper's, not `print(version())`). A list section is present only when it documents every name the code has.
    """
    requirements: list[tuple[bool, bool]] = [
        (True, bool(str(answer.get("summary") or "").strip())),
        (
            facts.kind in ("class", "module") or (facts.kind in ("function", "method") and bool(facts.parameters)),
            bool(str(answer.get("description") or "").strip()),
        ),
        (facts.returns_value, _described(answer.get("returns"))),
        (facts.is_generator, _described(answer.get("yields"))),
        (facts.kind in ("function", "method") and example_worth, bool(str(answer.get("examples") or "").strip())),
    ]
    for section in _LIST_SECTIONS:
        expected = section.expected(facts)
        if section.key == "attributes" and facts.kind != "class":
            expected = ()
        requirements.append((bool(expected), set(expected) <= _covers(answer.get(section.key), section, facts)))
    required = [present for needed, present in requirements if needed]
    return sum(required), len(required)


# Prose -------------------------------------------------------------------------------------------------------------

PROSE_PROBLEM_KINDS = (
    "summary_path",
    "summary_restates_name",
    "repeated_summary",
    "wrong_default",
    "type_contradiction",
    "return_contradiction",
    "unknown_member",
    "long_description",
)
"""Kinds `prose_problems` reports; each has a mechanical fix in `drop_prose` (used when a retry did not fix it)."""

DESCRIPTION_SENTENCES = 2
"""Sentences a description keeps (the prompt asks for one): past them a small model retells the code line by line
("If the message is bytes, ... If it is a string, ... Finally, ...")."""

_KIND_NOUNS = r"(?:method|function|class|property|attribute|constructor|decorator|coroutine|generator|classmethod)"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(\"'])")
_DEFAULT_CLAUSE = re.compile(
    r"(?i)\(?\b(?:defaults?\s+(?:to|is|=|:)|default(?:\s+value)?\s*(?:is|:|=)|by\s+default,?)\s*"
    r"(?P<value>`[^`]+`|'[^']*'|\"[^\"]*\"|[^\s,;)]+)\)?"
)
_DOTTED = re.compile(r"(?<![\w.`])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?![\w(])")
_RETURN_CLAIM = re.compile(
    r"(?i)^\W*(?:returns?\s+|yields?\s+)?(?:(?:a|an|the)\s+)?(?:(?:new|sorted|fresh|single|shallow|plain|python)\s+)*"
    r"(?P<noun>list|iterator|generator|dictionary|dict|mapping|string|str|bytes|integer|int|float|boolean|bool|"
    r"tuple|set|none|nothing|true)\b"
)
_CLAIM_FAMILY = {
    "list": "list",
    "iterator": "iterator",
    "generator": "iterator",
    "dictionary": "mapping",
    "dict": "mapping",
    "mapping": "mapping",
    "string": "str",
    "str": "str",
    "bytes": "bytes",
    "integer": "int",
    "int": "int",
    "float": "float",
    "boolean": "bool",
    "bool": "bool",
    "true": "bool",
    "tuple": "tuple",
    "set": "set",
    "none": "none",
    "nothing": "none",
}
_ANNOTATION_FAMILY = {
    "Iterator": "iterator",
    "Generator": "iterator",
    "AsyncIterator": "iterator",
    "AsyncGenerator": "iterator",
    "list": "list",
    "List": "list",
    "dict": "mapping",
    "Dict": "mapping",
    "Mapping": "mapping",
    "MutableMapping": "mapping",
    "OrderedDict": "mapping",
    "defaultdict": "mapping",
    "str": "str",
    "bytes": "bytes",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "tuple": "tuple",
    "Tuple": "tuple",
    "set": "set",
    "Set": "set",
    "frozenset": "set",
    "FrozenSet": "set",
    "None": "none",
}
_WORD_LITERALS = {"none": None, "null": None, "true": True, "false": False}


def prose_problems(
    answer: Mapping[str, Any], obj: griffe.Object, *, paths: Sequence[str] = (), improve: bool = False
) -> list[Problem]:
    """List what the prose says wrongly about `obj` (empty when nothing is found).

    The summary must neither contain the object's dotted path (`paths`: where it is defined and where the site
    shows it) nor restate its name ("The `foo` method …"); the description must not repeat the summary; a
    default stated in a parameter's text must be the signature's; the return description must not contradict
    the annotation (iterator vs list, `None` vs a value, bool vs …); a dotted name whose head is known must
    name an existing member; the description keeps to `DESCRIPTION_SENTENCES` sentences that say more than what
    and where the object is. In improve mode only the parameter and return checks apply.
    """
    target = final_object(obj) or obj
    problems: list[Problem] = []
    summary = str(answer.get("summary") or "")
    if not improve and summary:
        if _path_in(summary, target, paths):
            problems.append(
                Problem("summary_path", f"the summary names the dotted path of {target.name}: say what it does instead")
            )
        elif _restates_name(summary, target.name):
            problems.append(
                Problem("summary_restates_name", f"the summary opens with the name '{target.name}': say what it does")
            )
        description = str(answer.get("description") or "")
        if _repeated_sentences(description, summary, target, paths):
            problems.append(Problem("repeated_summary", "the description repeats the summary"))
        sentences = _sentences(description)
        told = _telling(sentences, target)
        if len(told) > DESCRIPTION_SENTENCES or len(told) < len(sentences):
            problems.append(
                Problem(
                    "long_description",
                    f"the description ran to {len(sentences)} sentence(s): kept the first "
                    f"{min(len(told), DESCRIPTION_SENTENCES)} saying more than what and where the object is",
                )
            )
    defaults = _signature_defaults(target)
    annotations = _signature_annotations(target)
    for item in answer.get("parameters") or []:
        if isinstance(item, Mapping):
            name = str(item.get("name", ""))
            for stated in _stated_defaults(str(item.get("description") or "")):
                detail = _default_mismatch(name, stated, defaults)
                if detail:
                    problems.append(Problem("wrong_default", detail))
            detail = _type_mismatch(name, str(item.get("description") or ""), annotations)
            if detail:
                problems.append(Problem("type_contradiction", detail))
    returns = answer.get("returns")
    if isinstance(returns, Mapping):
        detail = _return_contradiction(str(returns.get("description") or ""), target)
        if detail:
            problems.append(Problem("return_contradiction", detail))
    for text in _prose_fields(answer):
        for name in _unknown_dotted(text, obj):
            problems.append(Problem("unknown_member", f"`{name}` does not exist: mention only names in the code"))
        for name in _foreign_libraries(text, obj):
            problems.append(
                Problem("unknown_member", f"the code never imports `{name}`: mention only what the code uses")
            )
    return problems


def drop_prose(
    answer: Mapping[str, Any], obj: griffe.Object, *, paths: Sequence[str] = (), improve: bool = False
) -> tuple[dict[str, Any], list[Problem]]:
    """Fix what `prose_problems` finds by removing it: the dotted path or the name at the summary's start, the
    repeated sentences, the wrong default clause, the contradicting return sentence, the sentence naming a
    member that does not exist, the description's sentences past `DESCRIPTION_SENTENCES`. Return the new answer
    and the problems fixed.

    The object's own dotted path in the description (`pkg.mod.Class.name`, `Class.name`) always becomes its
    name, silently: nothing is wrong with it but length.
    """
    fixed = copy.deepcopy(dict(answer))
    target = final_object(obj) or obj
    if not improve and isinstance(fixed.get("description"), str):  # the object's own path: its name says the same
        fixed["description"] = _unpath(fixed["description"], target, paths)
    problems = prose_problems(fixed, obj, paths=paths, improve=improve)
    if not problems:
        return fixed, []
    kinds = {problem.kind for problem in problems}
    original = str(fixed.get("summary") or "")
    if kinds & {"summary_path", "summary_restates_name"}:
        fixed["summary"] = _unname_summary(original, target, paths)
        if _names_itself(fixed["summary"], target, paths) or not _stands_alone(fixed["summary"]):
            _summary_from_other_fields(fixed, target, paths)
    if "repeated_summary" in kinds:
        fixed["description"] = " ".join(
            s
            for s in _sentences(str(fixed.get("description") or ""))
            if not _repeats(s, original, target, paths) and not _repeats(s, str(fixed["summary"]), target, paths)
        )
    if "description_path" in kinds:
        fixed["description"] = _unpath(str(fixed.get("description") or ""), target, paths)
    if "wrong_default" in kinds:
        defaults = _signature_defaults(target)
        for item in fixed.get("parameters") or []:
            if isinstance(item, dict):
                item["description"] = _drop_wrong_defaults(str(item.get("description") or ""), item, defaults)
    if "type_contradiction" in kinds:
        annotations = _signature_annotations(target)
        kept_items = []
        for item in fixed.get("parameters") or []:
            if isinstance(item, dict):
                name = str(item.get("name", ""))
                sentences = _sentences(str(item.get("description") or ""))
                item["description"] = " ".join(s for s in sentences if not _type_mismatch(name, s, annotations))
                if not item["description"]:
                    continue  # nothing true left to say: the signature shows its name and type
            kept_items.append(item)
        fixed["parameters"] = kept_items
    if "return_contradiction" in kinds and isinstance(fixed.get("returns"), dict):
        sentences = _sentences(str(fixed["returns"].get("description") or ""))
        kept = [s for s in sentences if not _return_contradiction(s, target)]
        if kept:
            fixed["returns"]["description"] = " ".join(kept)
        else:
            del fixed["returns"]
    if "unknown_member" in kinds:
        _summary_without_unknown(fixed, obj)
        _map_prose(fixed, lambda text: _without_unknown_members(text, obj))
    if "long_description" in kinds:
        told = _telling(_sentences(str(fixed.get("description") or "")), target)
        fixed["description"] = " ".join(told[:DESCRIPTION_SENTENCES])
    return fixed, problems


def _sentences(text: str) -> list[str]:
    return [sentence.strip() for sentence in _SENTENCE_END.split(text.strip()) if sentence.strip()]


def _normalized(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _same_sentence(sentence: str, summary: str) -> bool:
    first, second = _normalized(sentence), _normalized(summary)
    if not first or not second:
        return False
    return first == second or difflib.SequenceMatcher(None, first, second).ratio() >= 0.9


def _repeats(sentence: str, summary: str, target: griffe.Object, paths: Sequence[str]) -> bool:
    """Whether a sentence says what the summary (or one of its sentences) says, also once both lose the object's
    path and name."""
    parts = _sentences(summary)
    for part in [summary, *parts] if len(parts) > 1 else [summary]:
        if _same_sentence(sentence, part) or _same_sentence(
            _unname_summary(sentence, target, paths), _unname_summary(part, target, paths)
        ):
            return True
    return False


def _repeated_sentences(description: str, summary: str, target: griffe.Object, paths: Sequence[str]) -> bool:
    return any(_repeats(sentence, summary, target, paths) for sentence in _sentences(description))


def _path_in(summary: str, target: griffe.Object, paths: Sequence[str]) -> bool:
    if any(path and path in summary for path in {target.path, *paths} if "." in path):
        return True
    pattern = rf"(?<![\w.])(?!self\.|cls\.)(?:[A-Za-z_]\w*\.)+{re.escape(target.name)}\b"
    return re.search(pattern, summary) is not None


def _restates_name(summary: str, name: str) -> bool:
    quoted = re.escape(name)
    opening = rf"(?i)^\W*(?:(?:the|this|a|an)\s+)?`?(?-i:{quoted})(?:\(\))?`?\s+{_KIND_NOUNS}\b"
    if re.search(opening, summary):
        return True
    return re.search(rf"`{quoted}(?:\(\))?`|(?<![\w.]){quoted}\(", summary) is not None


def _own_paths(target: griffe.Object, paths: Sequence[str]) -> list[str]:
    """The dotted names of the object itself: its paths, and `Class.name` for a member of a class."""
    found = {path for path in (target.path, *paths) if "." in path}
    if target.parent is not None and target.parent.is_class:
        found.add(f"{target.parent.name}.{target.name}")
    return sorted(found, key=len, reverse=True)


def _own_path_pattern(path: str) -> str:
    return rf"(?<![\w.]){re.escape(path)}(?![\w])"


def _unpath(text: str, target: griffe.Object, paths: Sequence[str], *, loose: bool = False) -> str:
    """The text with the object's own dotted names replaced by its name (`loose`: any `a.b.name` too)."""
    for path in _own_paths(target, paths):
        text = re.sub(_own_path_pattern(path), target.name, text)
    if not loose:
        return text
    return re.sub(rf"(?<![\w.])(?!self\.|cls\.)(?:[A-Za-z_]\w*\.)+{re.escape(target.name)}\b", target.name, text)


_OWNER_QUALIFIER = (
    r"(?:,?\s+(?:of|in|from)\s+(?:(?:the|this|a|an)\s+)?`?[\w.]+`?(?:\s+(?:class|module|object|instance))?,?)?"
)
"""What a model adds after the name it opens with: "of the `pkg.Wrapper` class"."""


_LINKING_VERB = re.compile(r"(?i)^(?:is|are|was|has|have|can|will|does|should|must|may)\b")
"""A verb left at the start once the name is gone: the sentence needs a subject again."""


_CONNECTIVE = re.compile(
    r"(?i)^(?:otherwise|however|also|then|else|instead|additionally|furthermore|moreover|so|thus|therefore|"
    r"if\s+not|in\s+that\s+case)\b"
)
"""Words a sentence opens with when it continues the one before: it cannot stand as a summary."""


def _summary_without_unknown(answer: dict[str, Any], obj: griffe.Object) -> None:
    """Drop the summary's sentences naming a member that does not exist. When the first goes and what is left
    continues it ("Otherwise, ..."), the description's first sound sentence becomes the summary instead; without
    one, the summary keeps its sentences with each missing member cut to its plain last name (`pkg.flag` ->
    flag), a word that claims no object."""
    sentences = _sentences(str(answer.get("summary") or ""))
    kept = [s for s in sentences if not _unknown_members(s, obj)]
    if kept == sentences:
        return
    if not kept or (kept[0] != sentences[0] and _CONNECTIVE.match(kept[0])):
        description = _sentences(str(answer.get("description") or ""))
        sound = [s for s in description if not _unknown_members(s, obj) and not _CONNECTIVE.match(s)]
        if sound:
            kept = [sound[0]]
            answer["description"] = " ".join(s for s in description if s is not sound[0])
        else:
            kept = [_plain_names(s, _unknown_members(s, obj)) for s in sentences]
    answer["summary"] = " ".join(kept)


_BACK_REFERENCE = re.compile(rf"(?i)^\W*(?:it|its|they|their|them|these|those|this(?!\s+{_KIND_NOUNS}))\b")
"""A pronoun a sentence opens with when it refers to the one before ("It includes ..."): not a summary."""


def _stands_alone(summary: str) -> bool:
    """Whether the summary's first sentence can open a docstring: three words or more ("Class." cannot), and it
    neither continues a sentence before it ("Otherwise, ...") nor refers back to one ("It includes ...")."""
    first = next(iter(_sentences(summary)), "")
    return len(_WORD.findall(first.lower())) >= 3 and not _CONNECTIVE.match(first) and not _BACK_REFERENCE.match(first)


_ONLY_WHAT_IT_IS = (
    rf"(?:(?:is|are)\s+(?:a|an|the)\s+(?:\w+\s+){{0,2}}?(?:{_KIND_NOUNS}|member)\s+(?:of|in|defined\s+in)"
    r"|(?:is|are)\s+(?:a\s+)?part\s+of|belongs\s+to|(?:is|are)\s+(?:defined|declared|located)\s+in)\b"
)
"""What a sentence says after naming its object when it only tells what kind of object it is and where."""


def _named(name: str) -> str:
    """A pattern for the object called `name` as prose names it: "method `fill`", "`fill()`", "fill method"."""
    return rf"(?:{_KIND_NOUNS}\s+)?`?(?-i:{re.escape(name)})(?:\(\))?`?(?:\s+{_KIND_NOUNS}\b)?"


def _telling(sentences: Sequence[str], target: griffe.Object) -> list[str]:
    """The sentences that say more than what kind of object `target` is and where."""
    return [sentence for sentence in sentences if not _says_only_what_it_is(sentence, target)]


def _says_only_what_it_is(sentence: str, target: griffe.Object) -> bool:
    """Whether a sentence only says what kind of object it is and where ("The `name` method is a property of the
    `Error` class in the `pkg.util` module.", "This method is part of the `Store` class."): the signature and the
    page say so already."""
    opening = rf"(?i)^\W*(?:(?:the|this)\s+)?(?:{_named(target.name)}|(?<=this\s){_KIND_NOUNS})\s+"
    match = re.match(opening + _ONLY_WHAT_IT_IS, sentence)
    if match is None:
        return False
    rest = sentence[match.end() :]
    return re.search(r"(?i)\b(?:that|which|who|used|to|and|for|when|if|by|with)\b", rest) is None


def _names_itself(summary: str, target: griffe.Object, paths: Sequence[str]) -> bool:
    return _path_in(summary, target, paths) or _restates_name(summary, target.name)


_ARTICLE = re.compile(r"(?:[Aa]n?|[Tt]he)\b")
_CONSTANT = re.compile(r"(?:True|False|None)\b")
_LEAD_INS = {"returns": "Return", "yields": "Yield"}
"""How a return or yield text becomes a summary: "A list of names." -> "Return a list of names."."""


def _summary_from_other_fields(answer: dict[str, Any], target: griffe.Object, paths: Sequence[str]) -> None:
    """Replace a summary that still names its object where the name is not at its start ("The `Future` class has a
    method `get` that raises …") by the first sound sentence of the description, else by the summary's own
    relative clause ("Raises …"), else by the first of the return, yield or exception texts; a method's summary
    never by a sentence about its class. Without one, the summary stays as it
    is (the report counts it)."""

    owner = target.parent if target.parent is not None and target.parent.is_class else None
    about_owner = re.compile(rf"(?i)^\W*(?:the\s+)?`?(?-i:{re.escape(owner.name)})\b(?!\.)") if owner else None

    def sound(sentence: str) -> bool:
        return (
            _stands_alone(sentence)
            and not _names_itself(sentence, target, paths)
            and not is_restatement(sentence, target.name)
            and not (about_owner and about_owner.match(sentence))  # "The `Future` class is ...": not the method
        )

    description = _sentences(str(answer.get("description") or ""))
    found = next((s for s in description if sound(s)), None)
    if found is not None:
        answer["summary"] = found
        answer["description"] = " ".join(s for s in description if s is not found)
        return
    clause = _relative_clause(str(answer.get("summary") or ""), target)
    if clause is not None and sound(clause):  # "The `Error` class has a `message` method that returns ..."
        answer["summary"] = clause
        return
    texts = [(key, answer.get(key)) for key in _LEAD_INS]
    texts += [("raises", item) for item in answer.get("raises") or []]
    for key, value in texts:
        first = next(iter(_sentences(str(value.get("description") or ""))), "") if isinstance(value, dict) else ""
        if first and sound(first):
            lead = _LEAD_INS.get(key)
            if lead and _ARTICLE.match(first):
                first = f"{lead} {first[:1].lower()}{first[1:]}"
            elif lead and _CONSTANT.match(first):
                first = f"{lead} {first}"
            answer["summary"] = first
            return


def _relative_clause(summary: str, target: griffe.Object) -> str | None:
    """What the summary's first sentence says the object does in a relative clause, as a sentence of its own:
    "The `Error` class has a `message` method that returns a string." -> "Returns a string."; else `None`."""
    first = next(iter(_sentences(summary)), "")
    match = re.search(rf"{_named(target.name)},?\s+(?:that|which)\s+(?P<rest>[a-z]\w*\b.*)$", first)
    if match is None:
        return None
    rest = match["rest"]
    return rest[:1].upper() + rest[1:]


def _without_unknown_members(text: str, obj: griffe.Object) -> str:
    """`text` without its sentences naming a missing member, and without a sentence continuing a dropped one."""
    kept: list[str] = []
    dropped = False
    for sentence in _sentences(text):
        dropped = bool(_unknown_members(sentence, obj)) or (dropped and bool(_CONNECTIVE.match(sentence)))
        if not dropped:
            kept.append(sentence)
    return " ".join(kept)


def _plain_names(text: str, names: Sequence[str]) -> str:
    for name in names:
        text = re.sub(rf"`?(?<![\w.]){re.escape(name)}(?![\w])`?", name.rsplit(".", 1)[-1], text)
    return text


def _unname_summary(summary: str, target: griffe.Object, paths: Sequence[str]) -> str:
    """The summary without the name it opens with: "The `fill` method of the `Wrapper` class splits …" and "The
    method `fill` splits …" become "Splits …", "Wrapper is a class that …" becomes "A class that …"."""
    summary = _unpath(summary, target, paths, loose=True)
    opening = re.compile(rf"(?i)^\W*(?:(?:the|this|a|an)\s+)?{_named(target.name)}{_OWNER_QUALIFIER}\s+")
    rest = opening.sub("", summary, count=1)
    if rest != summary:
        unverbed = re.sub(r"(?i)^(?:is|are)\s+(?=\w+\s+\w)", "", rest)  # "Wrapper is a class that" -> "A class that"
        if (
            unverbed != rest
        ):  # "… is a subclass of `ValueError` and is used to …" -> "A subclass of `ValueError`, used to …"
            unverbed = re.sub(r"\s+and\s+(?:is|are)\s+", ", ", unverbed, count=1)
        rest = unverbed
        if _LINKING_VERB.match(rest):  # "Color is deprecated, use ..." -> "This class is deprecated, use ..."
            rest = f"this {object_kind(target)} {rest}"
    if rest != summary and len(_WORD.findall(rest)) >= 2:
        summary = rest[:1].upper() + rest[1:]
    module = target.module.path if not target.is_module else ""
    if module:  # "A subclass of `Exception` in the `pkg.util` module." -> "A subclass of `Exception`."
        summary = re.sub(
            rf"(?i),?\s+(?:in|of|from)\s+(?:the\s+)?`?(?-i:{re.escape(module)})`?(?:\s+module)?", "", summary
        )
    return summary


def _signature_defaults(target: griffe.Object) -> dict[str, str | None]:
    try:
        parameters = list(target.parameters) if target.is_function or target.is_class else []
    except (AttributeError, griffe.AliasResolutionError, griffe.CyclicAliasError, ValueError):
        return {}
    return {p.name: (None if p.default is None else str(p.default)) for p in parameters}


def _signature_annotations(target: griffe.Object) -> dict[str, str]:
    try:
        parameters = list(target.parameters) if target.is_function or target.is_class else []
    except (AttributeError, griffe.AliasResolutionError, griffe.CyclicAliasError, ValueError):
        return {}
    return {p.name: str(p.annotation) for p in parameters if p.annotation is not None}


_STRING_WORDS = re.compile(r"(?i)\b(?:strings?|str|text)\b")
_BYTES_WORDS = re.compile(r"(?i)\b(?:bytes|byte\s+strings?|bytestrings?|bytearray|binary)\b")


def _type_mismatch(name: str, text: str, annotations: Mapping[str, str]) -> str | None:
    """A parameter annotated `bytes` described as a string, or annotated `str` described as bytes."""
    annotation = annotations.get(name.lstrip("*"), "").replace(" ", "")
    if annotation in ("bytes", "bytes|None", "Optional[bytes]"):
        wrong, right, kind = _STRING_WORDS, _BYTES_WORDS, "bytes"
    elif annotation in ("str", "str|None", "Optional[str]"):
        wrong, right, kind = _BYTES_WORDS, _STRING_WORDS, "str"
    else:
        return None
    said = wrong.search(text)
    if said is None or right.search(text) is not None:
        return None
    return f"parameter '{name.lstrip('*')}' is annotated `{kind}`, yet its text calls it {said.group(0)!r}"


def _stated_defaults(text: str) -> list[str]:
    """The defaults `text` states, as it will be published (`' \t'` written with a tab is published `' '`)."""
    return [match.group("value") for match in _DEFAULT_CLAUSE.finditer(clean_text(text))]


def _literal(text: str) -> tuple[bool, Any]:
    """Read a stated or signature default as a Python literal: `(True, value)`, or `(False, None)`."""
    cleaned = text.strip().strip("`").strip().removesuffix(".")
    if cleaned.lower() in _WORD_LITERALS:
        return True, _WORD_LITERALS[cleaned.lower()]
    try:
        return True, ast.literal_eval(cleaned)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _default_mismatch(name: str, stated: str, defaults: Mapping[str, str | None]) -> str | None:
    bare = name.lstrip("*")
    if bare not in defaults or name.startswith("*"):
        return None
    is_literal, value = _literal(stated)
    actual = defaults[bare]
    if actual is None:
        return f"parameter '{bare}' has no default, yet its text states one ({stated})" if is_literal else None
    actual_literal, actual_value = _literal(actual)
    if not is_literal:  # prose ("the current directory") cannot be checked; a code name in backticks can
        if not stated.startswith("`") or stated.strip("`. ") == actual:
            return None
    elif actual_literal and value == actual_value and _same_kind(value, actual_value):
        return None
    return f"parameter '{bare}' defaults to {actual} in the signature, not {stated.strip('.')}"


def _same_kind(first: Any, second: Any) -> bool:
    numbers = (int, float)
    if isinstance(first, bool) or isinstance(second, bool):
        return type(first) is type(second)
    return type(first) is type(second) or (isinstance(first, numbers) and isinstance(second, numbers))


def _drop_wrong_defaults(text: str, item: Mapping[str, Any], defaults: Mapping[str, str | None]) -> str:
    name = str(item.get("name", ""))
    kept = []
    for sentence in _sentences(clean_text(text)):  # as `_stated_defaults` read it
        wrong = [m for m in _DEFAULT_CLAUSE.finditer(sentence) if _default_mismatch(name, m.group("value"), defaults)]
        if not wrong:
            kept.append(sentence)
            continue
        for match in reversed(wrong):
            sentence = sentence[: match.start()] + sentence[match.end() :]
        sentence = re.sub(r"\s+([.,;])", r"\1", re.sub(r"[\s,;]*\.$", ".", sentence)).strip(" ,;")
        if len(_WORD.findall(sentence)) >= 2:
            kept.append(sentence)
    return " ".join(kept)


def _annotation_family(annotation: str) -> tuple[str | None, bool]:
    """The family of a return annotation (`list`, `iterator`, …) and whether it allows `None`."""
    text = annotation.replace(" ", "")
    optional = False
    match = re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", text)
    if match:
        text, optional = match.group(1), True
    parts = [part for part in text.split("|")] if "[" not in text or text.count("|") == 0 else [text]
    if len(parts) == 2 and "None" in parts:
        text, optional = next(part for part in parts if part != "None"), True
    elif len(parts) > 1:
        return None, True
    head = text.split("[", 1)[0].rsplit(".", 1)[-1]
    return _ANNOTATION_FAMILY.get(head), optional


def _annotation_class(annotation: str, target: griffe.Object) -> griffe.Object | None:
    """The project class a plain return annotation names (`"Buffer"`, `Buffer | None`), if it is one."""
    text = annotation.strip().strip("'\"").replace(" ", "")
    match = re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", text)
    text = match.group(1) if match else text
    parts = [part for part in text.split("|") if part != "None"]
    if len(parts) != 1 or not re.fullmatch(r"[A-Za-z_][\w.]*", parts[0]) or parts[0] in _ANNOTATION_FAMILY:
        return None
    path = resolve_reference(parts[0], target)
    if path is None:
        return None
    try:
        found = final_object(target.modules_collection[path])
    except (KeyError, ValueError, AttributeError, griffe.GriffeError):
        return None
    return found if found is not None and found.is_class else None


def _return_contradiction(description: str, target: griffe.Object) -> str | None:
    if not target.is_function or not target.returns:
        return None
    family, optional = _annotation_family(str(target.returns))
    cls = _annotation_class(str(target.returns), target) if family is None else None
    if family is None and cls is None:
        return None
    claim = _RETURN_CLAIM.match(description.strip())
    if claim is None:
        return None
    claimed = _CLAIM_FAMILY[claim.group("noun").lower()]
    if cls is not None:  # a class of the project: no builtin kind unless it derives from one
        bases = {_ANNOTATION_FAMILY.get(str(base).rsplit(".", 1)[-1]) for base in cls.bases}
        if claimed in bases or (claimed == "none" and optional):
            return None
        return f"the return annotation is `{target.returns}` (a {cls.name}), but the returns text says {claim.group('noun')!r}"
    compatible = {family} | ({"none"} if optional else set())
    if family == "float":
        compatible.add("int")
    if claimed in compatible:
        return None
    what = {"none": "None", "iterator": "an iterator"}.get(family, f"a {family}")
    return f"the return annotation is `{target.returns}` ({what}), but the returns text says {claim.group('noun')!r}"


def _unknown_members(text: str, obj: griffe.Object) -> list[str]:
    """The names `text` uses that do not exist for `obj`: dotted names with a known head but no such member, and
    libraries its code is said to come from or use but its module never imports (`_foreign_libraries`)."""
    return _unknown_dotted(text, obj) + _foreign_libraries(text, obj)


_LIBRARY_CLAIM = re.compile(
    r"\b(?i:from|of|in|by|uses?|using|with)\s+(?i:the\s+)?`?(?P<name>[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)`?\s+"
    r"(?:library|package|module)\b"
)
"""A library named as such: "from the docutils library", "uses the `mistune` package", "of the re module"."""
_GENERIC_LIBRARY_WORDS = frozenset(
    {
        "standard",
        "python",
        "builtin",
        "builtins",
        "same",
        "this",
        "that",
        "its",
        "their",
        "current",
        "given",
        "parent",
        "enclosing",
        "other",
        "external",
        "main",
        "core",
        "target",
        "calling",
        "whole",
        "underlying",
        "a",
        "an",
        "any",
        "each",
        "one",
        "third",
        "party",
        "new",
    }
)


def _foreign_libraries(text: str, obj: griffe.Object) -> list[str]:
    """Libraries `text` says the code of `obj` comes from or uses ("from the docutils library") that its module
    never imports and its source never names: a small model's guess ("the `Treeprocessor` class from the docutils
    library" for Python-Markdown's)."""
    claimed = [
        match.group("name")
        for match in _LIBRARY_CLAIM.finditer(_CODE_SPAN.sub(lambda m: m.group(2), text))
        if match.group("name").split(".", 1)[0] not in _GENERIC_LIBRARY_WORDS
    ]
    if not claimed:  # most sentences: no module to read
        return []
    target = final_object(obj) or obj
    try:
        module = target.module
    except ValueError:
        return []
    known = {module.path.split(".", 1)[0]}
    known.update(str(path).split(".", 1)[0] for path in module.imports.values())
    source = source_of(target)
    unknown = [
        name
        for name in claimed
        if (top := name.split(".", 1)[0]) not in known and not re.search(rf"\b{re.escape(top)}\b", source)
    ]
    return list(dict.fromkeys(unknown))


def _unknown_dotted(text: str, obj: griffe.Object) -> list[str]:
    """Dotted names in `text` (in backticks or not) whose head is known but whose member does not exist."""
    names = [name for name in find_references(text) if "." in name]
    names += [match.group(0) for match in _DOTTED.finditer(_CODE_SPAN.sub(" ", text))]
    unknown = []
    for name in dict.fromkeys(names):
        head = name.split(".", 1)[0]
        if head in ("self", "cls"):
            continue
        if resolve_reference(head, obj) is not None and resolve_reference(name, obj) is None:
            unknown.append(name)
    return unknown
