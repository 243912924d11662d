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

The lock file's check is cheap the same way: [`CodeMemo`][mkdocs_ai_docstrings._internal.warm.CodeMemo]
keeps each object's code facts and fingerprint (which take parsing its code and following its callees) under a
digest of every source the build loaded, so a build whose sources are all unchanged computes none.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import griffe

from mkdocs_ai_docstrings._internal.facts import CodeFacts
from mkdocs_ai_docstrings._internal.fingerprint import FINGERPRINT_VERSION
from mkdocs_ai_docstrings._internal.publish import cached_answer, publish
from mkdocs_ai_docstrings._internal.report import Status

if TYPE_CHECKING:
    from mkdocs_ai_docstrings._internal.cache import AnswerCache
    from mkdocs_ai_docstrings._internal.jobs import Job, PackageContext
    from mkdocs_ai_docstrings._internal.report import ObjectOutcome
    from mkdocs_ai_docstrings._internal.request import PreparedRequest

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


def prompt_fingerprint(context: PackageContext, job: Job, schema: Mapping[str, Any]) -> str | None:
    """A hash of everything the prompt (and so the cache key) of `job` is made from; `None` when there is none.

    There is none when the context contains this build's API key or token: the prompt then depends on a secret the
    fingerprint must not hash.
    """
    from mkdocs_ai_docstrings._internal.prompts import build_sections
    from mkdocs_ai_docstrings._internal.request import context_inputs, key_for

    session, settings, candidate = context.session, context.settings, job.candidate
    sections = [
        (section.name, section.text, section.priority) for section in build_sections(context_inputs(context, job))
    ]
    if any(secret in text for secret in session.secrets if secret for _, text, _ in sections):
        return None
    counter = session.estimate_counter
    inputs = {
        "sections": sections,
        "task": [candidate.improve, list(candidate.missing_parameters), candidate.missing_returns],
        "target": [context.package.path, context.style, candidate.kind, candidate.path],
        "templates": [session.templates.system, session.templates.user],
        "context": [settings.max_input_tokens, settings.redact_secrets, settings.style_examples],
        "counter": [counter.encoding_name, counter.source, counter.exact, counter.bytes_per_token],
        "code": _prompt_code_version(),
    }
    return key_for(context, inputs, schema)  # type: ignore[arg-type]  # every other part of the key, as the key has it


def find_or_build(context: PackageContext, job: Job) -> ObjectOutcome | PreparedRequest:
    """Publish `job`'s cached answer found by fingerprint; else build its request, and index its key."""
    from mkdocs_ai_docstrings._internal.request import request_for, schema_for  # not needed by a lock file's answers

    session = context.session
    schema = schema_for(job)
    fingerprint = prompt_fingerprint(context, job, schema)
    record = None if fingerprint is None else _lookup(context, fingerprint)
    if record is not None:
        entry = session.memory.get(record.key)
        if entry is None:
            entry = session.cache.peek(record.key, schema)
        if entry is not None:
            session.cache.stats.hits += 1
            return publish(
                context,
                job,
                cached_answer(context, entry),
                Status.CACHED,
                repairs=list(entry.get("repairs", [])),
                cost=0.0,
                redactions=record.redactions,
                truncated_context=record.truncated,
            )
    request = request_for(context, job)
    if fingerprint is not None and (record is None or record.key != request.key):
        built = IndexRecord(request.key, request.redactions, request.truncated)
        session.memory[INDEX_PREFIX + fingerprint] = built.to_dict()
        session.cache.put_index(fingerprint, built.to_dict())
    return request


def _lookup(context: PackageContext, fingerprint: str) -> IndexRecord | None:
    session = context.session
    record = IndexRecord.parse(session.memory.get(INDEX_PREFIX + fingerprint))
    if record is None:
        record = IndexRecord.parse(session.cache.index(fingerprint))
    return record


_FINGERPRINT = re.compile(re.escape(FINGERPRINT_VERSION) + r":[0-9a-f]{24}")


def sources_digest(package: griffe.Module, loader: Any = None) -> str:
    """A hash of every source the build loaded (the package's and those it imports), griffe's version, the griffe
    extensions at work and the product's code: everything a code fingerprint is computed from."""
    digest = hashlib.sha256()
    digest.update(_prompt_code_version().encode() + b"\0" + _griffe_version().encode())
    extensions = getattr(getattr(loader, "extensions", None), "_extensions", None) or ()
    digest.update(repr(sorted(f"{type(ext).__module__}.{type(ext).__qualname__}" for ext in extensions)).encode())
    filepath = package.filepath
    top = filepath[0] if isinstance(filepath, list) and filepath else filepath
    root = Path(top).parent.parent if isinstance(top, Path) and top.name == "__init__.py" else None
    lines = package.lines_collection
    for path in sorted(lines.keys(), key=str):
        name = str(path)
        if root is not None and path.is_relative_to(root):  # the same site in another folder: the same digest
            name = path.relative_to(root).as_posix()
        digest.update(b"\0\0" + name.encode("utf-8", "surrogatepass") + b"\0")
        digest.update("\n".join(lines[path]).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


@functools.cache
def _griffe_version() -> str:
    """The installed griffe's version (distributed as `griffe` or `griffelib`), or where it was loaded from."""
    for distribution in ("griffelib", "griffe"):
        try:
            return f"{distribution} {importlib.metadata.version(distribution)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return str(griffe.__file__)


@dataclass
class CodeMemo:
    """Code facts and code fingerprints of one package's objects, reused while every source the build loaded is
    unchanged.

    One sealed record per package in the answer cache: the sources' digest, the facts by object and the
    fingerprints by object and mode. A record written for other sources, malformed, or whose seal does not match
    (`secrets.seal_key`: the build's key, else the user's own) is ignored, and everything is computed again.
    """

    cache: AnswerCache | None
    name: str
    digest: str
    _fingerprints: dict[str, str] = field(default_factory=dict)
    _facts: dict[str, CodeFacts] = field(default_factory=dict)

    @classmethod
    def load(cls, context: PackageContext) -> CodeMemo:
        """What is stored for `context`'s package, when its sources are the ones it was computed from."""
        session = context.session
        digest = sources_digest(context.package, context.loader)
        memo = cls(session.cache, context.package.path, digest)
        data = session.cache.sealed(memo.record_name)
        if not (isinstance(data, Mapping) and data.get("digest") == memo.digest):
            return memo
        fingerprints, facts = data.get("fingerprints"), data.get("facts")
        if not (isinstance(fingerprints, Mapping) and isinstance(facts, Mapping)):
            return memo
        if not all(isinstance(name, str) and _FINGERPRINT.fullmatch(str(fp)) for name, fp in fingerprints.items()):
            return memo
        parsed = {path: _parse_facts(value) for path, value in facts.items()}
        if all(isinstance(path, str) and value is not None for path, value in parsed.items()):
            memo._fingerprints, memo._facts = dict(fingerprints), parsed  # type: ignore[arg-type]
        return memo

    @property
    def record_name(self) -> str:
        """The name of the package's sealed record in the answer cache."""
        return f"code-memo:{self.name}"

    def prefill(self, job: Job) -> None:
        """Give `job` its stored facts and fingerprint, if there are some (else it computes them when asked)."""
        if job.fingerprint is None:
            job.fingerprint = self._fingerprints.get(_job_name(job))
        if job.raw_facts is None:
            job.raw_facts = self._facts.get(job.candidate.path)

    def save(self, jobs: Iterable[Job]) -> None:
        """Store what `jobs` computed, next to what was read, when anything is new."""
        jobs = list(jobs)
        fingerprints = {**self._fingerprints}
        fingerprints.update((_job_name(job), job.fingerprint) for job in jobs if job.fingerprint is not None)
        facts = {**self._facts}
        facts.update((job.candidate.path, job.raw_facts) for job in jobs if job.raw_facts is not None)
        if self.cache is None or (fingerprints, facts) == (self._fingerprints, self._facts):
            return
        stored = {path: dataclasses.asdict(value) for path, value in facts.items()}
        self.cache.put_sealed(self.record_name, {"digest": self.digest, "fingerprints": fingerprints, "facts": stored})


_FACT_TYPES = {item.name: item.type for item in dataclasses.fields(CodeFacts)}


def _parse_facts(data: Any) -> CodeFacts | None:
    """Stored facts back as `CodeFacts`, or `None` when they are not exactly its fields with their types."""
    if not isinstance(data, Mapping) or set(data) != set(_FACT_TYPES):
        return None
    values: dict[str, Any] = {}
    for name, kind in _FACT_TYPES.items():
        value = data[name]
        if (kind == "str" and isinstance(value, str)) or (kind == "bool" and type(value) is bool):
            values[name] = value
        elif kind.startswith("tuple") and isinstance(value, list) and all(isinstance(item, str) for item in value):
            values[name] = tuple(value)
        else:
            return None
    return CodeFacts(**values)


def _job_name(job: Job) -> str:
    candidate = job.candidate
    return json.dumps([candidate.path, job.mode, list(candidate.missing_parameters), candidate.missing_returns])
