"""Validation and grounding of one answer: schema, facts of the code, prose checks, examples and repairs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mkdocs_ai_docstrings._internal.checks import check_answer, drop_prose, drop_ungrounded, settle_restatement
from mkdocs_ai_docstrings._internal.examples import ExampleCounts, ExampleRunner, package_search_paths
from mkdocs_ai_docstrings._internal.jobs import Job, PackageContext
from mkdocs_ai_docstrings._internal.render import structure_problems
from mkdocs_ai_docstrings._internal.request import PreparedRequest
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


@dataclass
class Attempt:
    """What the checks of every answer for one job added up to."""

    repairs: list[str] = field(default_factory=list)
    examples: ExampleCounts = field(default_factory=ExampleCounts)


async def judge(
    context: PackageContext, job: Job, request: PreparedRequest, answer: Any, attempt: Attempt, *, last: bool = False
) -> Verdict:
    """Validate and ground a parsed answer exactly as a live call does; what can be dropped is dropped.

    `last`: no retry follows (a live call's second round, or an answer from a batch job).
    """
    answer, problems = ground(context, job, answer, request.schema, attempt.repairs, last=last)
    if problems is not None:
        return Verdict(answer, problems)
    return check_text(context, job, answer, attempt)


def ground(
    context: PackageContext,
    job: Job,
    answer: Any,
    schema: Mapping[str, Any],
    repairs: list[str],
    *,
    last: bool = False,
) -> tuple[Any, list[str] | None]:
    """Validate and ground an answer; return it (repaired) and `None`, or the problems a retry should fix.

    With no retry left (`last`), a summary that only restates the name is settled (`checks.settle_restatement`)
    instead of failing the docstring.
    """
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
    if last and any(problem.kind == "restatement" for problem in remaining):
        answer, settled = settle_restatement(answer, obj, facts)
        repairs.append(settled)
        remaining = [problem for problem in remaining if problem.kind != "restatement"]
    if remaining:
        return answer, [problem.detail for problem in remaining]
    text = context.render(answer, obj)
    mismatches = structure_problems(text, answer, obj, context.parser, context.parser_options)
    if improve:
        mismatches = [problem for problem in mismatches if "summary" not in problem]
    if mismatches:
        return answer, mismatches
    return answer, None


def check_text(context: PackageContext, job: Job, answer: dict[str, Any], attempt: Attempt) -> Verdict:
    """Fix the prose of a grounded answer by dropping what is wrong (a retry of the whole answer costs more).

    A misstated default, a return contradicting the annotation, a dotted path or the name in the summary, a
    repeated summary or an unknown member: the offending words or sentence go, and the rest is published.
    """
    candidate = job.candidate
    paths = (candidate.path, candidate.public_path)
    answer, fixed = drop_prose(answer, candidate.obj, paths=paths, improve=candidate.improve)
    attempt.repairs.extend(f"dropped: {scrub(p.detail, context.session.secrets)}" for p in fixed)
    return Verdict(answer)


def example_runner(context: PackageContext) -> ExampleRunner | None:
    """The example runner of this package (`None` when running examples is off)."""
    if not context.settings.run_examples:
        return None
    if context.example_runner is None:
        paths = package_search_paths(context.package, context.loader)
        context.example_runner = ExampleRunner(paths, timeout=context.settings.example_timeout)
    return context.example_runner


def _only_known_keys(answer: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    known = schema.get("properties", {})
    return {key: value for key, value in answer.items() if key in known}
