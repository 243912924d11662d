"""Validation and grounding of one answer: schema, facts of the code, prose checks, examples and repairs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mkdocs_ai_docstrings._internal.checks import (
    check_answer,
    drop_prose,
    drop_ungrounded,
    prose_problems,
)
from mkdocs_ai_docstrings._internal.examples import ExampleCounts, ExampleRunner, check_example, package_search_paths
from mkdocs_ai_docstrings._internal.jobs import Job, PackageContext
from mkdocs_ai_docstrings._internal.render import structure_problems
from mkdocs_ai_docstrings._internal.request import PreparedRequest
from mkdocs_ai_docstrings._internal.sanitize import sanitize_code
from mkdocs_ai_docstrings._internal.schema import validate_answer
from mkdocs_ai_docstrings._internal.secrets import scrub

RETRYABLE_PROBLEMS = frozenset(
    {"missing_parameter", "missing_returns", "missing_yields", "restatement", "empty_summary"}
)
"""Grounding problems a targeted retry may fix; the others are fixed by dropping the wrong part."""


@dataclass
class Verdict:
    """What the checks made of one answer."""

    answer: Any
    """The answer, repaired (publishable when `problems` is `None`)."""
    problems: list[str] | None = None
    """What a retry should fix; `None`: publishable as it is."""
    fallback: tuple[dict[str, Any], bool] | None = None
    """With problems: the answer without its faulty parts (and whether that dropped the example), to publish if
    the retry fails."""


@dataclass
class Attempt:
    """What the checks of every answer for one job added up to."""

    repairs: list[str] = field(default_factory=list)
    examples: ExampleCounts = field(default_factory=ExampleCounts)


async def judge(
    context: PackageContext, job: Job, request: PreparedRequest, answer: Any, attempt: Attempt, *, last: bool = True
) -> Verdict:
    """Validate and ground a parsed answer exactly as a live call does.

    On the `last` round what is still wrong and can be dropped is dropped instead of being returned as problems.
    """
    answer, problems = ground(context, job, answer, request.schema, attempt.repairs)
    if problems is not None:
        return Verdict(answer, problems)
    return await check_text(context, job, answer, attempt, last=last)


def ground(
    context: PackageContext, job: Job, answer: Any, schema: Mapping[str, Any], repairs: list[str]
) -> tuple[Any, list[str] | None]:
    """Validate and ground an answer; return it (repaired) and `None`, or the problems a retry should fix."""
    obj, facts, improve = job.candidate.obj, job.facts, job.candidate.improve
    if not isinstance(answer, dict):
        return answer, ["the answer must be a JSON object"]
    errors = validate_answer(answer, schema)
    if errors:
        # Invented names break the schema's enums: drop them and validate again.
        repaired, dropped = drop_ungrounded(_only_known_keys(answer, schema), facts, obj)
        if dropped and not validate_answer(repaired, schema):
            repairs.extend(problem.detail for problem in dropped)
            answer = repaired
            errors = []
    if errors:
        return answer, [f"schema: {error}" for error in errors[:6]]
    answer, dropped = drop_ungrounded(answer, facts, obj)
    repairs.extend(problem.detail for problem in dropped)
    retryable = RETRYABLE_PROBLEMS - {"restatement", "empty_summary"} if improve else RETRYABLE_PROBLEMS
    remaining = [p for p in check_answer(answer, facts, obj) if p.kind in retryable]
    if remaining:
        return answer, [problem.detail for problem in remaining]
    text = context.render(answer, obj)
    mismatches = structure_problems(text, answer, obj, context.parser, context.parser_options)
    if improve:
        mismatches = [problem for problem in mismatches if "summary" not in problem]
    if mismatches:
        return answer, mismatches
    return answer, None


async def check_text(
    context: PackageContext, job: Job, answer: dict[str, Any], attempt: Attempt, *, last: bool
) -> Verdict:
    """Check the prose and run the example of a grounded answer."""
    candidate = job.candidate
    secrets = context.session.secrets
    examples, repairs = attempt.examples, attempt.repairs
    paths = (candidate.path, candidate.public_path)
    problems = [
        p
        for p in prose_problems(answer, candidate.obj, paths=paths, improve=candidate.improve)
        if p.kind != "repeated_summary"  # fixed by dropping the repeated sentence: no need to ask again
    ]
    example_problems = []
    code = sanitize_code(str(answer.get("examples") or ""))
    if code.strip():
        failed_before = examples.checked > examples.passed
        examples.checked += 1
        example_problems, ran = await check_example(code, candidate.obj, context.package, example_runner(context))
        examples.run += ran
        if not example_problems:
            examples.passed += 1
            examples.repaired += failed_before
    answer, fixed = drop_prose(answer, candidate.obj, paths=paths, improve=candidate.improve)
    without_example = {**answer, "examples": ""} if example_problems else answer
    if (problems or example_problems) and not last:
        details = [p.detail for p in problems] + [f"example: {p.detail}" for p in example_problems]
        return Verdict(
            answer, [scrub(detail, secrets) for detail in details], (without_example, bool(example_problems))
        )
    repairs.extend(f"dropped: {p.detail}" for p in fixed)
    if example_problems:
        examples.dropped += 1
        repairs.append(f"example dropped: {scrub(example_problems[0].detail, secrets)}")
    return Verdict(without_example)


def example_runner(context: PackageContext) -> ExampleRunner | None:
    """The example runner of this package (`None` when running examples is off)."""
    if not context.settings.run_examples:
        return None
    if context.example_runner is None:
        paths = package_search_paths(context.package, context.loader)
        context.example_runner = ExampleRunner(paths, timeout=context.settings.example_timeout)
    return context.example_runner


def cached_answer(context: PackageContext, entry: Mapping[str, Any]) -> Mapping[str, Any]:
    """A cached answer, without an example its entry does not record as checked the way this build requires."""
    answer = entry["answer"]
    accepted = ("run",) if context.settings.run_examples else ("run", "static")
    if str(answer.get("examples") or "").strip() and entry.get("example_check") not in accepted:
        return {**answer, "examples": ""}
    return answer


def _only_known_keys(answer: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    known = schema.get("properties", {})
    return {key: value for key, value in answer.items() if key in known}
