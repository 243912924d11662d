"""Promotion into the source: write lock records' docstrings into the Python files with libcst.

libcst keeps a concrete syntax tree (every comment, blank line and bracket), so only the docstring statements
change; everything else is written back byte for byte.
"""

from __future__ import annotations

import difflib
import fnmatch
import inspect
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import griffe
import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from mkdocs_ai_docstrings._internal.discovery import missing_reason, resolve_in_package
from mkdocs_ai_docstrings._internal.facts import code_facts
from mkdocs_ai_docstrings._internal.fingerprint import code_fingerprint
from mkdocs_ai_docstrings._internal.lock import LockRecord

APPLIED_KINDS = frozenset({"module", "class", "function", "method", "property"})
"""Kinds whose docstring is the first statement of a body (attribute docstrings are not promoted)."""


def docstring_literal(text: str, indent: str) -> str:
    """The Python string literal of docstring `text`, its continuation lines indented by `indent`.

    A raw string (`r\"\"\"`, as pydocstyle's D301 asks) when the text holds backslashes and a raw string can hold
    it; else backslashes and quote runs are escaped. `inspect.cleandoc` of the literal's value gives `text` back.
    """
    text = inspect.cleandoc(text)
    lines = text.splitlines() or [""]
    body = lines[0]
    if len(lines) > 1:
        body += "\n" + "\n".join(indent + line if line.strip() else "" for line in lines[1:]) + "\n" + indent
    raw_ok = '"""' not in body and not body.endswith(("\\", '"')) and "\r" not in body
    if "\\" in body and raw_ok:
        return f'r"""{body}"""'
    escaped = body.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if escaped.endswith('"'):
        escaped = escaped[:-1] + '\\"'
    return f'"""{escaped}"""'


@dataclass
class Target:
    """One docstring to write: the object's path inside its module and its line."""

    path: str
    qualname: str
    """Dotted name inside the module (`""` for the module itself)."""
    lineno: int | None
    text: str
    replace: bool
    """The object has a too-short or placeholder docstring to replace."""


@dataclass
class ApplyResult:
    """What `apply_records` did (or, for a patch, would do)."""

    applied: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    """Reason by path of each record not applied."""
    changed: dict[Path, tuple[str, str]] = field(default_factory=dict)
    """Old and new text of each changed file."""

    def patch(self, base: Path) -> str:
        """A unified diff of every changed file, paths relative to `base` (`git apply` ready)."""
        parts = []
        for path, (old, new) in sorted(self.changed.items()):
            try:
                name = path.resolve().relative_to(base.resolve()).as_posix()
            except ValueError:
                name = path.as_posix()
            parts.extend(
                difflib.unified_diff(
                    old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{name}", f"b/{name}"
                )
            )
        return "".join(parts)


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _docstring_line(literal: str, leading: Sequence[cst.EmptyLine] = ()) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(body=[cst.Expr(cst.SimpleString(literal))], leading_lines=list(leading))


class _Finder(cst.CSTVisitor):
    """The line of every class and function definition, by dotted name inside the module."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.lines: dict[str, list[int]] = defaultdict(list)

    def _visit(self, node: cst.ClassDef | cst.FunctionDef) -> None:
        self.names.append(node.name.value)
        self.lines[".".join(self.names)].append(self.get_metadata(PositionProvider, node).start.line)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._visit(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._visit(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.names.pop()

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.names.pop()


class _Writer(cst.CSTTransformer):
    """Put each chosen definition's docstring first in its body, tracking names and indentation of the scopes."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, chosen: dict[tuple[str, int], Target], module_targets: Sequence[Target], indent: str) -> None:
        super().__init__()
        self.chosen = chosen
        self.module_targets = module_targets
        self.default_indent = indent
        self.names: list[str] = []
        self.indents: list[str] = [""]
        self.done: set[str] = set()

    def _visit_scope(self, node: cst.ClassDef | cst.FunctionDef) -> None:
        self.names.append(node.name.value)
        body = node.body
        indent = self.default_indent
        if isinstance(body, cst.IndentedBlock) and body.indent is not None:
            indent = body.indent
        self.indents.append(self.indents[-1] + indent)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._visit_scope(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._visit_scope(node)

    def _leave_scope(self, original: cst.ClassDef | cst.FunctionDef, updated: cst.ClassDef | cst.FunctionDef) -> Any:
        key = (".".join(self.names), self.get_metadata(PositionProvider, original).start.line)
        indent = self.indents.pop()
        self.names.pop()
        target = self.chosen.get(key)
        if target is None:
            return updated
        self.done.add(target.path)
        class_body = isinstance(updated, cst.ClassDef)
        return updated.with_changes(body=self._with_docstring(updated.body, target, indent, class_body=class_body))

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        return self._leave_scope(original_node, updated_node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        return self._leave_scope(original_node, updated_node)

    def _with_docstring(
        self, body: cst.BaseSuite, target: Target, indent: str, *, class_body: bool = False
    ) -> cst.BaseSuite:
        literal = docstring_literal(target.text, indent)
        if isinstance(body, cst.SimpleStatementSuite):  # `def f(): return 1` becomes an indented block
            statements = list(body.body)
            if statements and _is_docstring(cst.SimpleStatementLine(body=[statements[0]])) and target.replace:
                statements = statements[1:]
            rest = [cst.SimpleStatementLine(body=statements)] if statements else []
            return cst.IndentedBlock(body=[_docstring_line(literal), *rest], header=body.trailing_whitespace)
        assert isinstance(body, cst.IndentedBlock)
        statements = list(body.body)
        leading: Sequence[cst.EmptyLine] = ()
        if statements and _is_docstring(statements[0]) and target.replace:
            leading = statements.pop(0).leading_lines
        if class_body and statements:  # one blank line after a class docstring, as formatters write it
            lines = statements[0].leading_lines
            if not lines or lines[0].comment is not None:
                statements[0] = statements[0].with_changes(leading_lines=[cst.EmptyLine(), *lines])
        return body.with_changes(body=[_docstring_line(literal, leading), *statements])

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        for target in self.module_targets[:1]:
            self.done.add(target.path)
            literal = docstring_literal(target.text, "")
            statements = list(updated_node.body)
            if statements and _is_docstring(statements[0]) and target.replace:
                old = statements.pop(0)
                return updated_node.with_changes(body=[_docstring_line(literal, old.leading_lines), *statements])
            if statements:
                first = statements[0]
                blank = cst.EmptyLine()
                statements[0] = first.with_changes(leading_lines=[blank, *first.leading_lines])
            return updated_node.with_changes(body=[_docstring_line(literal), *statements])
        return updated_node


def write_docstrings(source: str, targets: Sequence[Target]) -> tuple[str, set[str]]:
    """`source` with each target's docstring in place, and the paths of the targets written."""
    wrapper = MetadataWrapper(cst.parse_module(source))
    finder = _Finder()
    wrapper.visit(finder)
    chosen: dict[tuple[str, int], Target] = {}
    for target in targets:
        lines = [line for line in finder.lines.get(target.qualname, []) if (target.qualname, line) not in chosen]
        if target.qualname and lines:
            line = min(lines, key=lambda line: abs(line - target.lineno) if target.lineno else 0)
            chosen[(target.qualname, line)] = target
    writer = _Writer(chosen, [t for t in targets if not t.qualname], wrapper.module.default_indent)
    new = wrapper.visit(writer)
    return new.code, writer.done


def _selected(record: LockRecord, filepath: Path, selectors: Sequence[str]) -> bool:
    if not selectors:
        return True
    for selector in selectors:
        candidate = Path(selector)
        if candidate.exists():
            resolved = candidate.resolve()
            if filepath == resolved or resolved in filepath.parents:
                return True
        elif fnmatch.fnmatchcase(record.path, selector) or record.path == selector:
            return True
    return False


def apply_records(
    records: Sequence[LockRecord],
    search_paths: Sequence[str],
    *,
    selectors: Sequence[str] = (),
    accepted_only: bool = False,
    min_docstring_length: int = 5,
) -> ApplyResult:
    """Write the records' texts into their objects' files (in memory: see `ApplyResult.changed`).

    `selectors` are files, folders or dotted-path globs; empty: every record. Stale, rejected, improve-mode and
    (with `accepted_only`) unreviewed records are skipped with a reason, as are objects documented by a person since.
    """
    result = ApplyResult()
    packages: dict[str, griffe.Object | None] = {}
    by_file: dict[Path, list[Target]] = defaultdict(list)
    for record in sorted(records, key=lambda r: r.path):
        if record.review == "rejected":
            result.skipped[record.path] = "rejected in review"
            continue
        if accepted_only and not record.reviewed:
            result.skipped[record.path] = "not reviewed (--accepted-only)"
            continue
        if record.mode != "generate":
            result.skipped[record.path] = "improve-mode sections are not promoted; edit the docstring by hand"
            continue
        if record.kind not in APPLIED_KINDS:
            result.skipped[record.path] = f"{record.kind} docstrings are not promoted"
            continue
        top = record.path.split(".", 1)[0]
        if top not in packages:
            try:
                packages[top] = griffe.load(top, search_paths=list(search_paths), resolve_aliases=False)
            except Exception:  # any loading problem: its records are skipped with a reason
                packages[top] = None
        package = packages[top]
        obj = resolve_in_package(package, record.path) if package is not None else None  # type: ignore[arg-type]
        if obj is None or obj.filepath is None or isinstance(obj.filepath, list):
            result.skipped[record.path] = "object not found in the source"
            continue
        reason = missing_reason(obj, min_docstring_length)
        if reason is None:
            result.skipped[record.path] = "already documented by a person"
            continue
        if code_fingerprint(obj, code_facts(obj), mode="generate") != record.fingerprint:
            result.skipped[record.path] = "stale: the code changed since the record was written; rebuild first"
            continue
        filepath = Path(obj.filepath).resolve()
        if not _selected(record, filepath, selectors):
            continue
        qualname = "" if obj.is_module else obj.path[len(obj.module.path) + 1 :]
        by_file[filepath].append(
            Target(record.path, qualname, obj.lineno, record.text, replace=reason != "no docstring")
        )
    for filepath, targets in sorted(by_file.items()):
        try:
            old = filepath.read_text(encoding="utf-8")
            new, done = write_docstrings(old, targets)
        except (OSError, UnicodeDecodeError, cst.ParserSyntaxError) as error:
            problem = f"{filepath.name} not edited: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            result.skipped.update(dict.fromkeys((t.path for t in targets), problem))
            continue
        for target in targets:
            if target.path in done:
                result.applied.append(target.path)
            else:
                result.skipped[target.path] = "definition not found in the file"
        if new != old:
            result.changed[filepath] = (old, new)
    return result


def apply_command(
    config_file: str, selectors: Sequence[str] = (), *, accepted_only: bool = False, diff_file: str | None = None
) -> int:
    """`mkdocs-ai-docstrings apply`: promote lock records into the source (or write them as a patch)."""
    from mkdocs_ai_docstrings._internal.lock import LockFile
    from mkdocs_ai_docstrings._internal.site_config import SiteConfig

    site = SiteConfig.load(config_file)
    base = site.config_dir
    lock = LockFile.load(site.required_lock_path())
    result = apply_records(
        list(lock.records.values()),
        list(site.search_paths),
        selectors=selectors,
        accepted_only=accepted_only,
        min_docstring_length=site.settings.min_docstring_length,
    )
    messages = sys.stderr if diff_file == "-" else sys.stdout  # a patch on stdout stays a clean patch
    for path, reason in sorted(result.skipped.items()):
        print(f"skipped {path}: {reason}", file=messages)
    if diff_file is not None:
        patch = result.patch(base)
        if diff_file == "-":
            sys.stdout.write(patch)
        else:
            Path(diff_file).write_text(patch, encoding="utf-8")
        print(
            f"{len(result.applied)} docstring(s) in {len(result.changed)} file(s) written as a patch to {diff_file}",
            file=messages,
        )
        return 0
    for filepath, (_, new) in sorted(result.changed.items()):
        filepath.write_text(new, encoding="utf-8")
    for path in result.applied:
        lock.drop(path)  # human-written from now on
    lock.write()
    print(f"{len(result.applied)} docstring(s) written into {len(result.changed)} file(s); their lock records dropped")
    return 0
