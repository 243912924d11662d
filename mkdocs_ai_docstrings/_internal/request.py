"""The request for one job: the messages a live build sends, the answer schema, and the cache key of both."""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import griffe

from mkdocs_ai_docstrings._internal.cache import cache_key
from mkdocs_ai_docstrings._internal.discovery import resolve_in_package
from mkdocs_ai_docstrings._internal.facts import source_of
from mkdocs_ai_docstrings._internal.jobs import Job, PackageContext
from mkdocs_ai_docstrings._internal.prompts import ContextInputs, build_sections, class_skeleton, render_context
from mkdocs_ai_docstrings._internal.schema import SCHEMA_VERSION, answer_schema, improve_schema

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class PreparedRequest:
    """Exactly what a live build would send for one job, and the cache key of its answer."""

    messages: list[dict[str, str]]
    schema: Mapping[str, Any] | None
    """The answer's JSON schema; `None` for a plain-text answer (the example request's code block)."""
    mode: str
    """The output mode the request is first sent in (`json_schema`, `json_object`, `tool`; `text` without schema)."""
    key: str
    max_tokens: int
    redactions: int = 0
    """Secrets redacted from the prompt."""
    truncated: bool = False
    """Whether the context was cut to fit `max_input_tokens`."""

    def fields(self) -> dict[str, Any]:
        """The outcome fields this request sets whatever its answer."""
        return {"redactions": self.redactions, "truncated_context": self.truncated}


def request_for(context: PackageContext, job: Job) -> PreparedRequest:
    """The request a live build would send for `job` now (prompts quote docstrings already published)."""
    settings = context.settings
    schema = schema_for(job)
    messages, redactions, truncated = build_messages(context, job)
    return PreparedRequest(
        messages=messages,
        schema=schema,
        mode="json_schema" if settings.output_mode == "auto" else settings.output_mode,
        key=key_for(context, messages, schema),
        max_tokens=settings.max_completion_tokens,
        redactions=redactions,
        truncated=truncated,
    )


MAX_CLASS_ENTRIES = 12
"""A class with more constructor parameters and attributes than this is asked for its parameters only: a
small model answering two dozen entries runs past `max_completion_tokens`, and is cut off again when told to
be shorter."""


def schema_for(job: Job) -> Mapping[str, Any]:
    """The schema of `job`'s answer."""
    candidate, facts = job.candidate, job.facts
    if candidate.improve:
        return improve_schema(candidate.missing_parameters, candidate.missing_returns)
    if facts.kind == "class" and len(facts.parameters) + len(facts.attributes) > MAX_CLASS_ENTRIES:
        facts = dataclasses.replace(facts, attributes=())
    return answer_schema(facts)


def context_inputs(context: PackageContext, job: Job) -> ContextInputs:
    """What the prompt about `job`'s object is built from, before redaction and truncation."""
    settings, package = context.settings, context.package
    obj = job.candidate.obj
    source = source_of(obj)
    if obj.is_module:
        source = ""  # the outline stands for it, so editing one function does not regenerate its module
    elif obj.is_class and source:
        source = class_skeleton(obj, source)
    callees = [o for o in (resolve_in_package(package, path) for path in job.facts.callees) if o is not None]
    bases = [o for o in (resolve_in_package(package, path) for path in job.facts.bases) if o is not None]
    return ContextInputs(
        obj=obj,
        source=source,
        callees=callees[:8],
        bases=bases[:4],
        style_examples=_style_examples(obj, context.documented, settings.style_examples),
        generated_ok=frozenset(job.deps),
    )


def build_messages(context: PackageContext, job: Job) -> tuple[list[dict[str, str]], int, bool]:
    """Messages for one object; also the number of redacted secrets and whether context was truncated."""
    session, settings, package = context.session, context.settings, context.package
    inputs = context_inputs(context, job)
    # Redact each section once, before truncation can cut a secret in half.
    sections = []
    redactions = 0
    for section in build_sections(inputs):
        redacted = context.redacted(section.text)
        sections.append(dataclasses.replace(section, text=redacted.text))
        redactions += redacted.count
    text, truncated = render_context(sections, session.estimate_counter, settings.max_input_tokens)
    if job.candidate.improve:
        wanted = (
            [f"parameters {', '.join(job.candidate.missing_parameters)}"] if job.candidate.missing_parameters else []
        )
        wanted += ["the return value"] if job.candidate.missing_returns else []
        text += (
            "\n\n## Task\nThe authors' docstring is kept as it is. Document only what it leaves out: "
            + " and ".join(wanted)
            + "."
        )
    messages = session.templates.messages(
        package=package.path,
        style=context.style,
        kind=job.candidate.kind,
        path=job.candidate.path,
        context=text,
    )
    return messages, redactions, truncated


def key_for(context: PackageContext, messages: list[dict[str, str]], schema: Mapping[str, Any]) -> str:
    """The cache key: every input that changes the answer."""
    session, settings = context.session, context.settings
    return cache_key(
        {
            "messages": messages,
            "schema": schema,
            "schema_version": SCHEMA_VERSION,
            "template_version": session.templates.version,
            "provider": settings.provider,
            "deployment": session.deployment,
            "model": session.model,
            "api_version": session.api_version,
            "temperature": settings.temperature,
            "max_completion_tokens": settings.max_completion_tokens,
            "output_mode": settings.output_mode,
        }
    )


def _style_examples(obj: griffe.Object, documented: Sequence[griffe.Object], count: int) -> list[griffe.Object]:
    """The `count` documented objects closest to `obj` (same parent, then same module; same kind first; by path)."""
    if count <= 0:
        return []
    parent, kind = obj.parent, obj.kind
    module = obj if obj.is_module else obj.module
    index = _documented_index(documented)
    pools = (  # by closeness; a farther pool is read only when the nearer ones hold too few
        lambda: index.by_parent.get(id(parent), ()),
        lambda: (entry for entry in index.by_module.get(id(module), ()) if entry.parent is not parent),
        lambda: (entry for entry in index.entries if entry.module is not module and entry.parent is not parent),
    )
    chosen: list[griffe.Object] = []
    for pool in pools:
        entries = (entry for entry in pool() if entry.obj is not obj)
        ranked = heapq.nsmallest(count - len(chosen), entries, key=lambda entry: (entry.kind is not kind, entry.path))
        chosen += [entry.obj for entry in ranked]
        if len(chosen) == count:
            break
    return chosen


@dataclass(frozen=True)
class _Documented:
    """A documented object with what ranking it as a style example reads (griffe computes these on each access)."""

    obj: griffe.Object
    path: str
    parent: griffe.Object | None
    module: griffe.Object
    kind: griffe.Kind


@dataclass(frozen=True)
class _DocumentedIndex:
    """The documented objects of a build, also grouped by parent and by module (keyed by identity)."""

    entries: list[_Documented]
    by_parent: dict[int, list[_Documented]]
    by_module: dict[int, list[_Documented]]


_INDEX: list[tuple[Sequence[griffe.Object], _DocumentedIndex]] = []
"""The index of the last `documented` sequence (held, so its identity stays its own)."""


def _documented_index(documented: Sequence[griffe.Object]) -> _DocumentedIndex:
    if not (_INDEX and _INDEX[0][0] is documented):
        entries = [_Documented(other, other.path, other.parent, other.module, other.kind) for other in documented]
        by_parent: dict[int, list[_Documented]] = {}
        by_module: dict[int, list[_Documented]] = {}
        for entry in entries:
            by_parent.setdefault(id(entry.parent), []).append(entry)
            by_module.setdefault(id(entry.module), []).append(entry)
        _INDEX[:] = [(documented, _DocumentedIndex(entries, by_parent, by_module))]
    return _INDEX[0][1]
