"""The warm path: find an object's cached answer by a cheap fingerprint, and build its full prompt only on a miss.

The full cache key hashes the chat messages, which takes redaction, token counting and truncation to build. The
fingerprint hashes what those messages are built from instead: the prompt's sections before redaction and
truncation (signature, source, callees, bases, enclosing class and module, style examples), the templates, the
object's name, kind and task, the settings and token counter that shape the context, the code that turns them into
messages, and every other part of the cache key (schema, model, deployment, ...). Equal fingerprints therefore mean
equal prompts and equal keys, and a change to anything the prompt contains changes the fingerprint. The answer cache
keeps `fingerprint -> key` (an index); a build that finds the fingerprint there reads the answer by its key and
never builds the prompt. The one input left out is this build's API key, which the prompt never contains: an object
whose context contains it gets no fingerprint and always takes the full path.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mkdocs_ai_docstrings._internal.discovery import resolve_in_package
from mkdocs_ai_docstrings._internal.prompts import ContextInputs, build_sections, class_skeleton

if TYPE_CHECKING:
    from mkdocs_ai_docstrings._internal.generator import Generator, Job
    from mkdocs_ai_docstrings._internal.report import ObjectOutcome

INDEX_PREFIX = "fingerprint:"
"""Prefix of the `fingerprint -> key` records, in the answer cache and in the build's memory."""

_KEY = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class IndexRecord:
    """What the fingerprint index keeps about one prompt: its cache key and what building it reported."""

    key: str
    redactions: int
    truncated: bool

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "redactions": self.redactions, "truncated": self.truncated}

    @classmethod
    def parse(cls, data: Any) -> IndexRecord | None:
        """A record from untrusted data (the cache or the build's memory), or `None` when it is malformed."""
        if not isinstance(data, Mapping):
            return None
        key, redactions, truncated = data.get("key"), data.get("redactions"), data.get("truncated")
        if not (isinstance(key, str) and _KEY.fullmatch(key)):
            return None
        if type(redactions) is not int or redactions < 0 or type(truncated) is not bool:
            return None
        return cls(key, redactions, truncated)


@dataclass
class Prompt:
    """What `find_or_build` returns: a published cached answer, or the prompt and key to go on with."""

    outcome: ObjectOutcome | None = None
    """The outcome of a cached answer found by fingerprint (then nothing else is set)."""
    messages: list[dict[str, str]] | None = None
    redactions: int = 0
    truncated: bool = False
    key: str = ""


@functools.cache
def _prompt_code_version() -> str:
    """A hash of the product's code (whichever modules build prompts) and of the secret detectors' version.

    Any change to the code changes every fingerprint: the first build after it finds answers by their full key.
    """
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        try:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        except OSError:
            digest.update(f"unreadable {path.name}".encode())
    try:
        digest.update(importlib.metadata.version("detect-secrets").encode())
    except importlib.metadata.PackageNotFoundError:
        digest.update(b"no detect-secrets")
    return digest.hexdigest()


def context_inputs(generator: Generator, job: Job) -> ContextInputs:
    """What the prompt about `job`'s object says, before redaction (the same inputs `build_messages` uses)."""
    from mkdocs_ai_docstrings._internal.generator import _style_examples

    obj = job.candidate.obj
    try:
        source = obj.source or ""
    except (OSError, ValueError, TypeError):
        source = ""
    if obj.is_module:
        source = ""
    elif obj.is_class and source:
        source = class_skeleton(obj, source)
    package = generator.package
    callees = [o for o in (resolve_in_package(package, path) for path in job.facts.callees) if o is not None]
    bases = [o for o in (resolve_in_package(package, path) for path in job.facts.bases) if o is not None]
    return ContextInputs(
        obj=obj,
        source=source,
        callees=callees[:8],
        bases=bases[:4],
        style_examples=_style_examples(obj, generator.documented, generator.settings.style_examples),
        generated_ok=frozenset(job.deps),
    )


def prompt_fingerprint(generator: Generator, job: Job, schema: Mapping[str, Any]) -> str | None:
    """A hash of everything the prompt (and so the cache key) of `job` is made from; `None` when there is none.

    There is none when the context contains this build's API key or token: the prompt then depends on a secret the
    fingerprint must not hash.
    """
    session = generator.session
    settings = generator.settings
    candidate = job.candidate
    sections = [
        (section.name, section.text, section.priority) for section in build_sections(context_inputs(generator, job))
    ]
    if any(secret in text for secret in session.secrets if secret for _, text, _ in sections):
        return None
    counter = session.estimate_counter
    inputs = {
        "sections": sections,
        "task": [candidate.improve, list(candidate.missing_parameters), candidate.missing_returns],
        "target": [generator.package.path, generator.style, candidate.kind, candidate.path],
        "templates": [session.templates.system, session.templates.user],
        "context": [settings.max_input_tokens, settings.redact_secrets, settings.style_examples],
        "counter": [counter.encoding_name, counter.source, counter.exact, counter.bytes_per_token],
        "code": _prompt_code_version(),
    }
    return generator.key_for(inputs, schema)  # every other part of the cache key, exactly as the key has it


def find_or_build(generator: Generator, job: Job, schema: Mapping[str, Any]) -> Prompt:
    """Publish `job`'s cached answer found by fingerprint; else build its prompt and key, and index them."""
    session = generator.session
    fingerprint = prompt_fingerprint(generator, job, schema)
    record = None if fingerprint is None else _lookup(generator, fingerprint)
    if record is not None:
        entry = session.memory.get(record.key)
        if entry is None:
            entry = session.cache.peek(record.key, schema)
        if entry is not None:
            session.cache.stats.hits += 1
            outcome = generator.publish(
                job,
                generator._cached_answer(entry),
                "cached",
                repairs=list(entry.get("repairs", [])),
                cost=0.0,
                redactions=record.redactions,
                truncated_context=record.truncated,
            )
            return Prompt(outcome=outcome)
    messages, redactions, truncated = generator.build_messages(job)
    key = generator.key_for(messages, schema)
    if fingerprint is not None and (record is None or record.key != key):
        built = IndexRecord(key, redactions, truncated)
        session.memory[INDEX_PREFIX + fingerprint] = built.to_dict()
        session.cache.put_index(fingerprint, built.to_dict())
    return Prompt(messages=messages, redactions=redactions, truncated=truncated, key=key)


def _lookup(generator: Generator, fingerprint: str) -> IndexRecord | None:
    session = generator.session
    record = IndexRecord.parse(session.memory.get(INDEX_PREFIX + fingerprint))
    if record is None:
        record = IndexRecord.parse(session.cache.index(fingerprint))
    return record
