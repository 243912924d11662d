"""Fingerprints of what a generated docstring describes, blind to comments, formatting and docstrings."""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import json
import textwrap
from typing import Any

import griffe

from mkdocs_ai_docstrings._internal.facts import CodeFacts, source_of

FINGERPRINT_VERSION = "fp1"
"""Prefix of every fingerprint; a change of the normalisation below changes it."""


_STATEMENT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")
"""Fields holding statements (or handlers and match cases holding them): where a `def` or `class` can be."""


def _definitions(tree: ast.AST) -> list[ast.AST]:
    """The module, classes and functions of `tree`, found through statements only (faster than `ast.walk`)."""
    found: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(node)
        for name in _STATEMENT_LISTS:
            children = getattr(node, name, None)
            if isinstance(children, list):
                stack.extend(child for child in children if isinstance(child, ast.AST))
    return found


def _strip_docstrings(tree: ast.AST) -> None:
    """Remove the docstring expression of every module, class and function in `tree`."""
    for node in _definitions(tree):
        body = node.body  # type: ignore[attr-defined]
        first = body[0].value if body and isinstance(body[0], ast.Expr) else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]


def _hollow_methods(tree: ast.AST) -> None:
    """Replace the bodies of a class's functions by `pass`: their own records cover them."""
    for node in _definitions(tree):
        if isinstance(node, ast.ClassDef):
            for child in node.body:
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    child.body = [ast.Pass()]


@functools.lru_cache(maxsize=4096)  # `mkdocs serve` rebuilds: an unchanged source is not parsed again
def normalized_code(source: str, *, hollow: bool = False) -> str:
    """The code of `source` as an AST dump without docstrings, positions, comments or layout.

    Source that does not parse on its own (a fragment) is reduced to its non-blank lines with
    whitespace collapsed, so a formatting-only edit still keeps the fingerprint.
    """
    text = textwrap.dedent(source)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
    _strip_docstrings(tree)
    if hollow:
        _hollow_methods(tree)
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


def _outline(module: griffe.Object) -> list[tuple[str, str]]:
    """A module's public members by name and kind: what its docstring summarises."""
    outline = []
    for name, member in sorted(module.members.items()):
        if name.startswith("_"):
            continue
        kind = "alias" if member.is_alias else member.kind.value
        outline.append((name, kind))
    return outline


def code_fingerprint(obj: griffe.Object, facts: CodeFacts, *, mode: str = "generate") -> str:
    """A short stable hash of what the prompt about `obj` is built from.

    Parts: the object's own code (functions and attributes: the AST of their source; classes: the
    AST with method bodies hollowed; modules: their public outline), the facts the answer is
    grounded on (parameters, returns, yields, exceptions, attributes, callees, bases, kind) and the
    mode (`generate`, or `improve` with the sections it adds). Comments, blank lines, formatting
    and docstrings do not count.
    """
    parts: dict[str, Any] = {"kind": facts.kind, "mode": mode, "facts": dataclasses.asdict(facts)}
    if obj.is_module:
        parts["outline"] = _outline(obj)
    else:
        parts["code"] = normalized_code(source_of(obj), hollow=obj.is_class)
        parts["labels"] = sorted(label for label in obj.labels if not label.startswith("ai-"))
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"{FINGERPRINT_VERSION}:{hashlib.sha256(blob.encode('utf-8')).hexdigest()[:24]}"
