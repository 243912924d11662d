"""Which griffe objects need a docstring: scope, filters and "trivially short"."""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import griffe

from mkdocs_ai_docstrings._internal.facts import code_facts, final_object, object_kind, source_of
from mkdocs_ai_docstrings._internal.scope import DocumentedRoot
from mkdocs_ai_docstrings._internal.secrets import find_secrets
from mkdocs_ai_docstrings._internal.settings import Settings

if TYPE_CHECKING:
    from mkdocs_ai_docstrings._internal.cache import AnswerCache

PLACEHOLDERS = frozenset({"todo", "tbd", "fixme", "xxx", "...", "docstring", "todo: docstring", "no docstring", "wip"})
"""Docstring texts (lower-cased, without trailing dots) that mean "not written yet"."""


@dataclass
class Candidate:
    """One object the site shows that has no human docstring worth keeping."""

    obj: griffe.Object
    path: str
    """Canonical dotted path of the object."""
    kind: str
    """`module`, `class`, `function`, `method`, `property` or `attribute`."""
    exported: bool
    """Reached through the package's `__all__` (or re-exported from a public module)."""
    reason: str
    """Why it counts as missing: `no docstring`, `placeholder docstring`, `too short`, or `incomplete` (improve mode)."""
    missing_parameters: tuple[str, ...] = ()
    """Improve mode: real parameters the human docstring does not document."""
    missing_returns: bool = False
    """Improve mode: the function returns a value the human docstring does not describe."""
    shown_as: str = ""
    """The path the site renders it under (an alias path for re-exported objects); default: `path`."""
    secret: str | None = None
    """Why it is not generated when its source (or an undocumented enclosing class's) holds a credential."""

    @property
    def public_path(self) -> str:
        """The path readers see: the heading id of the object's entry in the site."""
        return self.shown_as or self.path

    @property
    def improve(self) -> bool:
        """Whether only sections are added to a human docstring."""
        return self.reason == "incomplete"


def missing_reason(obj: griffe.Object, min_length: int) -> str | None:
    """Tell why `obj` lacks a usable docstring, or `None` when it has one."""
    if obj.docstring is None or not obj.docstring.value.strip():
        return "no docstring"
    text = obj.docstring.value.strip()
    lowered = text.lower().strip()
    if lowered in PLACEHOLDERS or lowered.rstrip(".").strip() in PLACEHOLDERS:
        return "placeholder docstring"
    if len(text) < min_length:
        return "too short"
    return None


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_special(name: str) -> bool:
    return name.startswith("__") and name.endswith("__") and len(name) > 4


def _wanted_kind(obj: griffe.Object, settings: Settings) -> bool:
    if obj.is_module:
        return settings.include_modules
    if obj.is_class or obj.is_function:
        return True
    if obj.is_attribute:
        if "property" in obj.labels:
            return settings.include_properties
        return settings.include_attributes
    return False


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns)


def _exported_names(module: griffe.Object) -> set[str]:
    exports = getattr(module, "exports", None)
    if not exports:
        return set()
    return {name if isinstance(name, str) else getattr(name, "name", str(name)) for name in exports}


def resolve_in_package(package: griffe.Object, path: str) -> griffe.Object | None:
    """The object at dotted `path` inside `package`, aliases followed; `None` when absent or unresolvable."""
    if path == package.path:
        return package
    if not path.startswith(package.path + "."):
        return None
    try:
        obj = package[path[len(package.path) + 1 :]]
    except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None
    return final_object(obj)


def walk_public(
    package: griffe.Module, settings: Settings, roots: Sequence[DocumentedRoot] | None = None
) -> list[tuple[griffe.Object, bool, str]]:
    """List the objects the site renders from `package`, with whether each is exported.

    The walk mirrors mkdocstrings-python: from each `:::` root, public members are visited, imported
    names only when they are public (`__all__`), submodules only with `show_submodules`. Aliases are
    followed to their targets inside the package, so code kept in private modules is covered.
    Without roots, the whole package is walked.
    """
    if roots is None:
        roots = [DocumentedRoot(package.path, show_submodules=True)]
    seen: set[str] = set()
    found: list[tuple[griffe.Object, bool, str]] = []
    package_name = package.path.split(".", 1)[0]

    def visit(
        obj: griffe.Object, exported: bool, submodules: bool, members: tuple[str, ...] | None, shown_as: str
    ) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        found.append((obj, exported, shown_as))
        if not (obj.is_module or obj.is_class):
            return
        exports = _exported_names(obj) if obj.is_module else set()
        for name, member in list(obj.members.items()):
            if members is not None and name not in members:
                continue
            listed = members is not None  # explicitly listed members render whatever their names
            if _is_private(name) and not settings.include_private and not listed:
                continue
            if _is_special(name) and not settings.include_special and not listed:
                continue
            target = member
            if member.is_alias:
                if obj.is_class or not member.is_public:
                    continue
                try:
                    target = member.final_target
                except (griffe.AliasResolutionError, griffe.CyclicAliasError):
                    continue
                if target.path.split(".", 1)[0] != package_name:
                    continue
            if target.is_module and not submodules:
                continue
            # Module members are exported when `__all__` lists them; class members when their class is.
            visit(target, name in exports if obj.is_module else exported, submodules, None, f"{shown_as}.{name}")

    for root in roots:
        obj = resolve_in_package(package, root.identifier)
        if obj is not None:
            visit(obj, not obj.is_module, root.show_submodules, root.members, root.identifier)
    return found


_SCANNED: dict[str, tuple[tuple[str, int], ...]] = {}
"""Secret-scan findings (kind, line) by source hash, kept for the life of the process (`mkdocs serve` rebuilds)."""


@dataclass
class SecretScans:
    """Secret-scan findings by source hash: scanned once per content, not once per build.

    Findings live in the process and in the answer cache, as one sealed record per package (`AnswerCache.sealed`):
    a record whose seal does not match (written by anyone without the key, such as whoever can write a shared
    cache folder) is ignored and the sources are scanned again.
    """

    cache: AnswerCache | None = None
    name: str = ""
    """The package whose findings these are (one cache record per package)."""
    scanned: int = 0
    """Sources actually scanned (not found by hash) this build."""
    _used: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    _stored: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    _loaded: bool = False

    def findings(self, source: str) -> tuple[tuple[str, int], ...]:
        """The secrets in `source` as (kind, line) pairs, scanned only when this content was never scanned."""
        digest = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()
        found = _SCANNED.get(digest)
        if found is None:
            found = self._load().get(digest)
        if found is None:
            found = tuple((finding.kind, finding.line) for finding in find_secrets(source))
            self.scanned += 1
        _SCANNED[digest] = self._used[digest] = found
        return found

    def _load(self) -> dict[str, tuple[tuple[str, int], ...]]:
        if self._loaded:
            return self._stored
        self._loaded = True
        data = self.cache.sealed(f"scans:{self.name}") if self.cache is not None else None
        for digest, found in data.items() if isinstance(data, dict) else ():
            if isinstance(found, list) and all(
                isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) and type(pair[1]) is int
                for pair in found
            ):
                self._stored[digest] = tuple((kind, line) for kind, line in found)
        return self._stored

    def save(self) -> None:
        """Store this build's findings (sealed) when any was new to the cache."""
        if self.cache is None or not (self._used.keys() - self._load().keys()):
            return
        findings = {digest: [list(pair) for pair in found] for digest, found in self._used.items()}
        self.cache.put_sealed(f"scans:{self.name}", findings)


def discover(
    package: griffe.Module,
    settings: Settings,
    roots: Sequence[DocumentedRoot] | None = None,
    *,
    scans: SecretScans | None = None,
) -> list[Candidate]:
    """Collect the objects the site renders from `package` that need a docstring, in walk order.

    `scans` keeps secret-scan findings by source hash (default: for this process only).
    """
    candidates = []
    secrets: dict[str, str | None] = {}
    scans = scans if scans is not None else SecretScans()
    for obj, exported, shown_as in walk_public(package, settings, roots):
        if not _wanted_kind(obj, settings):
            continue
        if settings.include and not _matches(obj.path, settings.include):
            continue
        if _matches(obj.path, settings.exclude):
            continue
        reason = missing_reason(obj, settings.min_docstring_length)
        kind = object_kind(obj)
        if reason is not None:
            secret = secret_reason(obj, secrets, scans) if settings.skip_objects_with_secrets else None
            candidates.append(Candidate(obj, obj.path, kind, exported, reason, shown_as=shown_as, secret=secret))
        elif settings.improve and (obj.is_function or obj.is_class):
            parameters, returns = missing_sections(obj)
            if parameters or returns:
                candidates.append(
                    Candidate(obj, obj.path, kind, exported, "incomplete", parameters, returns, shown_as=shown_as)
                )
    scans.save()
    return candidates


def _source_secret(obj: griffe.Object, scans: SecretScans | None = None) -> str | None:
    """The first credential in the source `show_source` would show for `obj`, as a skip reason."""
    findings = (scans or SecretScans()).findings(source_of(obj))
    if not findings:
        return None
    try:
        filepath = str(obj.relative_filepath)
    except (ValueError, AttributeError):
        filepath = str(obj.filepath)
    kind, first_line = findings[0]
    more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
    line = (obj.lineno or 1) + first_line - 1
    return (
        f"secret: {kind} at {filepath}:{line}{more}; "
        "remove it from the code (objects holding credentials are not published)"
    )


def secret_reason(
    obj: griffe.Object, memo: dict[str, str | None] | None = None, scans: SecretScans | None = None
) -> str | None:
    """Why documenting `obj` would publish a credential, or `None`.

    Documenting an object makes it visible with its source (`show_source`): a function's signature and body, a
    class's whole body, an attribute's value; and it makes each enclosing class visible. An object that already
    has a docstring (its own or a member's) is visible without the plugin, and so are its enclosing classes: the
    plugin shows nothing new there. A module's source is never shown: modules are not checked.
    """
    memo = {} if memo is None else memo
    current: griffe.Object | None = obj
    while current is not None and not current.is_module and not current.has_docstrings:
        if current.path not in memo:
            memo[current.path] = _source_secret(current, scans)
        if memo[current.path] is not None:
            return memo[current.path]
        current = current.parent
    return None


def missing_sections(obj: griffe.Object) -> tuple[tuple[str, ...], bool]:
    """The parameters and the return value a human docstring leaves undocumented."""
    if obj.docstring is None:
        return (), False
    facts = code_facts(obj)
    documented: set[str] = set()
    has_returns = False
    for section in obj.docstring.parsed:
        if section.kind is griffe.DocstringSectionKind.parameters:
            documented.update(str(item.name).lstrip("*") for item in section.value)
        elif section.kind is griffe.DocstringSectionKind.returns:
            has_returns = True
    missing = tuple(name for name in facts.parameters if name.lstrip("*") not in documented)
    return missing, facts.returns_value and not has_returns and obj.is_function


def human_documented(package: griffe.Module, settings: Settings) -> list[griffe.Object]:
    """Objects of `package` whose human docstrings are kept (used as style examples)."""
    return [
        obj
        for obj, _, _ in walk_public(package, settings)
        if (obj.is_function or obj.is_class) and missing_reason(obj, settings.min_docstring_length) is None
    ]
