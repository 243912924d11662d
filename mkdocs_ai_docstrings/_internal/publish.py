"""Publishing: render, attach and mark a docstring, keep the cache and the lock file, and settle from the lock."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mkdocs_ai_docstrings._internal.facts import worth_an_example
from mkdocs_ai_docstrings._internal.jobs import Job, PackageContext, outcome
from mkdocs_ai_docstrings._internal.lock import LockRecord, today
from mkdocs_ai_docstrings._internal.mark import append_sections, attach_docstring
from mkdocs_ai_docstrings._internal.prices import estimate_cost
from mkdocs_ai_docstrings._internal.report import PUBLISHED, ObjectOutcome, Reason, Status
from mkdocs_ai_docstrings._internal.schema import SCHEMA_VERSION


def usage_fields(context: PackageContext, usage: Mapping[str, int]) -> dict[str, Any]:
    """Outcome fields for the tokens, requests and cost of one job's calls."""
    total = usage["prompt_tokens"] + usage["completion_tokens"]
    cost = estimate_cost(
        context.session.price, prompt_tokens=usage["prompt_tokens"], completion_tokens=usage["completion_tokens"]
    )
    return {
        "prompt_tokens": usage["prompt_tokens"],
        "completion_tokens": usage["completion_tokens"],
        "total_tokens": total,
        "requests": usage["requests"],
        "cost": cost,
        "possibly_billed_tokens": usage.get("possibly_billed_tokens", 0),
    }


def commit(
    context: PackageContext,
    job: Job,
    answer: dict[str, Any],
    key: str,
    repairs: list[str],
    usage: Mapping[str, int],
    **common: Any,
) -> ObjectOutcome:
    """Store a new answer in the cache (and this build's memory) and publish it."""
    session = context.session
    # The example is kept beside the answer: it comes from a request of its own, and the answer must still
    # match the docstring request's schema when the cache is read.
    stored = {key: value for key, value in answer.items() if key != "examples"}
    entry = {"answer": stored, "path": job.candidate.path, "model": session.model, "repairs": repairs}
    if str(answer.get("examples") or "").strip():
        entry["example"] = answer["examples"]
    session.memory[key] = entry  # first: an answer the cache cannot store is still kept for this build
    entry["example_check"] = "run" if context.settings.run_examples else "static"
    session.cache.put(key, entry)
    return publish(context, job, answer, Status.GENERATED, repairs=repairs, **usage_fields(context, usage), **common)


def publish(
    context: PackageContext, job: Job, answer: Mapping[str, Any], status: Status, **fields: Any
) -> ObjectOutcome:
    """Render, attach and mark the docstring; measure its completeness and references."""
    # imported here: a lock file's text takes none of these checks
    from mkdocs_ai_docstrings._internal.checks import completeness, drop_ungrounded, find_references

    session = context.session
    obj = job.candidate.obj
    answer, _ = drop_ungrounded(answer, job.facts, obj)
    text = context.render(answer, obj)
    review = "pending" if session.lock is not None else None
    if waits_for_review(context, None):
        written = lock_store(context, job, text)
        return outcome(job, Status.SKIPPED, Reason.WAITING_FOR_REVIEW, lock="written" if written else None, **fields)
    _attach(context, job, text, model=session.model, status=status.value, review=review)
    written = lock_store(context, job, text)
    references = [name for value in _texts(answer) for name in find_references(value)]
    return outcome(
        job,
        status,
        lock="written" if written else None,
        completeness=None
        if job.candidate.improve
        else completeness(answer, job.facts, example_worth=worth_an_example(obj)),
        references=(len(references), len(references)),
        **fields,
    )


def cached_answer(context: PackageContext, entry: Mapping[str, Any]) -> Mapping[str, Any]:
    """A cached answer with its example, unless its entry does not record it as checked the way this build requires."""
    answer = entry["answer"]
    example = str(entry.get("example") or "")
    accepted = ("run",) if context.settings.run_examples else ("run", "static")
    if example.strip() and entry.get("example_check") in accepted:
        return {**answer, "examples": example}
    return answer


# Lock file: reproduce published text, notice changed code, refuse to ask in frozen builds.


def from_lock(context: PackageContext, job: Job) -> tuple[ObjectOutcome | None, LockRecord | None]:
    """Publish an up-to-date lock record, or settle a frozen build; else return the stale record, if any."""
    session = context.session
    lock = session.lock
    record = lock.get(job.candidate.path) if lock is not None else None
    if lock is not None and record is not None:
        lock.used.add(record.path)
    if record is not None and record.review == "rejected":
        return outcome(job, Status.SKIPPED, Reason.REJECTED_IN_REVIEW.with_detail("left undocumented")), None
    fresh = (
        record is not None
        and record.fingerprint == job.code_fingerprint()
        and record.style == context.style
        and record.mode == job.mode
    )
    if record is not None and not fresh and record.review == "edited" and record.style == context.style:
        return publish_locked(context, job, record, stale=True), None  # a maintainer's text: never regenerated
    if record is not None and fresh:
        if waits_for_review(context, record):
            return outcome(job, Status.SKIPPED, Reason.WAITING_FOR_REVIEW, lock="fresh"), None
        return publish_locked(context, job, record), None
    if session.frozen:
        if record is None:
            return outcome(job, Status.FAILED, Reason.FROZEN.with_detail("no lock record")), None
        settled = or_stale(context, job, record, outcome(job, Status.FAILED, ""))
        settled.status = Status.FAILED
        settled.reason = Reason.FROZEN.with_detail("stale lock record (the code changed since it was written)")
        return settled, None
    return None, record


def waits_for_review(context: PackageContext, record: LockRecord | None) -> bool:
    """With `publish: accepted`, text no maintainer accepted (a new answer: never) is held back."""
    accepted_only = context.settings.publish == "accepted" and context.session.lock is not None
    return accepted_only and (record is None or not record.reviewed)


def _attach(
    context: PackageContext,
    job: Job,
    text: str,
    *,
    model: str,
    status: str,
    review: str | None,
    stale: bool = False,
) -> None:
    """Put `text` on the object, marked: as its docstring, or (improve mode) as sections added to the human one."""
    obj, parser, parser_options = job.candidate.obj, context.parser, context.parser_options
    if job.candidate.improve:
        append_sections(
            obj, text, model=model, parser=parser, parser_options=parser_options, review=review, stale=stale
        )
    else:
        attach_docstring(
            obj,
            text,
            model=model,
            parser=parser,
            parser_options=parser_options,
            status=status,
            review=review,
            stale=stale,
        )


def publish_locked(context: PackageContext, job: Job, record: LockRecord, *, stale: bool = False) -> ObjectOutcome:
    """Publish a lock record's text exactly as it was published when written."""
    model = record.model or context.session.model
    _attach(context, job, record.text, model=model, status="locked", review=record.review, stale=stale)
    reason = Reason.STALE.with_detail("the code changed since the lock record was written") if stale else None
    return outcome(job, Status.CACHED, reason, lock="stale" if stale else "fresh")


def or_stale(context: PackageContext, job: Job, record: LockRecord | None, result: ObjectOutcome) -> ObjectOutcome:
    """When nothing new was published, fall back to the stale record: shown with a note, or left out."""
    if record is None or result.status in PUBLISHED or waits_for_review(context, record):
        return result
    if context.settings.stale == "omit":
        result.lock = "stale"
        result.reason = f"stale lock record left out (`stale: omit`); {result.reason}"
        return result
    stale = publish_locked(context, job, record, stale=True)
    for name in ("prompt_tokens", "completion_tokens", "total_tokens", "requests", "cost", "redactions"):
        setattr(stale, name, getattr(result, name))
    return stale


def lock_store(context: PackageContext, job: Job, text: str) -> bool:
    """Add or update the object's lock record after publishing a generated or cached answer."""
    session = context.session
    if session.lock is None or context.settings.dry_run or session.frozen:
        return False
    fingerprint = job.code_fingerprint()
    previous = session.lock.get(job.candidate.path)
    if previous is not None and (previous.fingerprint, previous.text) == (fingerprint, text):
        session.lock.used.add(previous.path)
        return False
    record = LockRecord(
        path=job.candidate.path,
        kind=job.candidate.kind,
        fingerprint=fingerprint,
        style=context.style,
        text=text,
        mode=job.mode,
        model=session.model,
        deployment=session.deployment,
        prompt_version=session.templates.version,
        schema_version=str(SCHEMA_VERSION),
        date=today(),
    )
    session.lock.put(record)
    return True


def _texts(answer: Mapping[str, Any]) -> list[str]:
    texts = [str(answer.get("summary", "")), str(answer.get("description", ""))]
    for key in ("parameters", "raises", "attributes"):
        texts += [str(item.get("description", "")) for item in answer.get(key) or [] if isinstance(item, Mapping)]
    for key in ("returns", "yields"):
        value = answer.get(key)
        if isinstance(value, Mapping):
            texts.append(str(value.get("description", "")))
    return texts
