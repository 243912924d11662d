"""The model call for one job: one request through the client, one targeted retry for a fixable answer, then
the example request."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from mkdocs_ai_docstrings._internal.client import CallFailure, CallTally, ChatResponse, parse_content
from mkdocs_ai_docstrings._internal.estimate import first_answer_cap
from mkdocs_ai_docstrings._internal.example_call import add_example
from mkdocs_ai_docstrings._internal.grounding import Attempt, judge
from mkdocs_ai_docstrings._internal.jobs import Job, PackageContext, outcome
from mkdocs_ai_docstrings._internal.monitor import CURRENT_CALL, CallContext
from mkdocs_ai_docstrings._internal.publish import commit, usage_fields
from mkdocs_ai_docstrings._internal.report import ObjectOutcome, Reason, Status
from mkdocs_ai_docstrings._internal.request import PreparedRequest
from mkdocs_ai_docstrings._internal.schema import from_wire


async def ask(
    context: PackageContext,
    messages: list[dict[str, str]],
    request: PreparedRequest,
    usage: dict[str, int],
    max_tokens: int | None = None,
) -> ChatResponse:
    """One call through the client, sizing the reservation for the output mode in use; `max_tokens` caps the
    answer below `max_completion_tokens`."""
    session = context.session
    client = session.client
    assert client is not None
    schema = request.schema

    def prompt_tokens(mode: str) -> int:
        return session.reservation_counter.count_messages(messages, extra=client.wire_format(schema, mode))

    tally = CallTally()
    try:
        response = await client.complete(messages, schema, prompt_tokens, tally, max_tokens)
    finally:
        usage["requests"] += tally.requests
        usage["possibly_billed_tokens"] += tally.possibly_billed
    usage["prompt_tokens"] += response.prompt_tokens
    usage["completion_tokens"] += response.completion_tokens
    return response


async def generate(context: PackageContext, job: Job, request: PreparedRequest, **common: Any) -> ObjectOutcome:
    """Call the model, with one targeted retry for a fixable answer; publish or fail."""
    session, settings = context.session, context.settings
    if context.route is not None:  # answers come by another route (a batch job): no live call
        return await context.route.answer(context, job, request)
    obj = job.candidate.obj
    CURRENT_CALL.set(CallContext(path=job.candidate.path, module=obj.module.path, key=request.key))  # for the monitor
    messages = request.messages
    usage = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "possibly_billed_tokens": 0}
    conversation = list(messages)
    attempt = Attempt()
    repairs, examples = attempt.repairs, attempt.examples
    failure = "no answer"

    async def accepted(answer: dict[str, Any]) -> ObjectOutcome:  # the docstring passed: its example, then publish
        answer = await add_example(context, job, request, answer, attempt, usage)
        return commit(context, job, answer, request.key, repairs, usage, **common, **examples.fields())

    for round_ in range(2):
        last = round_ == 1
        cap = (
            settings.max_completion_tokens if last else first_answer_cap(request.schema, settings.max_completion_tokens)
        )
        try:
            response = await ask(context, conversation, request, usage, cap)
        except CallFailure as error:
            budget = error.kind == "budget"
            reason = Reason.BUDGET if budget else f"{error.kind.replace('_', ' ')}: {error.message}"
            status = Status.SKIPPED if budget or error.kind == "stopped" else Status.FAILED
            return outcome(job, status, reason, **usage_fields(context, usage), repairs=repairs, **common)
        feedback: str
        if response.finish_reason == "content_filter" or response.filtered:
            categories = ", ".join(response.filtered) or "unspecified"
            failure = f"content filter: the answer was blocked ({categories})"
            feedback = "Your answer was blocked by a content filter. Document the code plainly and factually."
        elif response.refusal:
            failure = f"refused: {response.refusal[:200]}"
            feedback = "Please document the target object: a factual description of what the code does."
        elif response.finish_reason == "length":
            failure = truncation_failure(cap, settings.max_completion_tokens)
            feedback = (
                f"Your answer was cut off at {cap} tokens. Answer again with the same JSON "
                "keys, much shorter: one sentence for the description, at most ten words for each parameter, "
                "attribute or exception entry."
            )
            salvaged = await salvage(context, job, request, response.content, attempt, last=last)
            if salvaged is not None:
                return await accepted(salvaged)
        else:
            try:
                answer = from_wire(parse_content(response.content))
            except (ValueError, TypeError) as error:
                failure = f"malformed JSON: {str(error)[:120]}"
                feedback = "Your answer was not valid JSON. Answer again with only the JSON object."
            else:
                verdict = await judge(context, job, request, answer, attempt, last=last)
                if verdict.problems is None:
                    return await accepted(verdict.answer)
                failure = verdict.problems[0]
                feedback = "Your answer has these problems; answer again with the corrected JSON:\n- " + "\n- ".join(
                    verdict.problems
                )
        if last:
            break
        repairs.append(f"retried: {failure}")
        # A cut-off answer is not worth sending back (it is long, and the retry is told to be short).
        previous = (
            [{"role": "assistant", "content": response.content[:4000]}]
            if response.content and response.finish_reason != "length"
            else []
        )
        conversation = [*messages, *previous, {"role": "user", "content": feedback}]
    session.cache.put_failure(request.key, job.candidate.path, failure)  # not asked again until its inputs change
    return outcome(
        job, Status.FAILED, failure, **usage_fields(context, usage), repairs=repairs, **common, **examples.fields()
    )


async def accept_answer(
    context: PackageContext,
    job: Job,
    request: PreparedRequest,
    content: str,
    usage: Mapping[str, int] | None = None,
    cut_at: int | None = None,
) -> ObjectOutcome:
    """Validate, ground and publish (or fail) an answer obtained outside a live call, as a live call's last round.

    For answers that come back by another route (a batch job): no retry is possible, so what can be dropped is
    dropped, and an answer that still fails is remembered as failed like a live one (the caller may leave it to
    the live path, which retries). Such a docstring gets no example: that would take a live request. `usage`
    is what the answer was billed (`prompt_tokens`, `completion_tokens`), priced at the session's price;
    `cut_at` is the output cap the answer was cut off at, if it was (then it is salvaged as a live one is).
    """
    attempt = Attempt()
    usage = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "possibly_billed_tokens": 0, **(usage or {})}
    common = request.fields()

    def publish(answer: dict[str, Any]) -> ObjectOutcome:
        return commit(context, job, answer, request.key, attempt.repairs, usage, **common, **attempt.examples.fields())

    if cut_at is not None:
        salvaged = await salvage(context, job, request, content, attempt, last=True)
        if salvaged is not None:
            return publish(salvaged)
        failure = truncation_failure(cut_at, context.settings.max_completion_tokens)
    else:
        try:
            answer = from_wire(parse_content(content))
        except (ValueError, TypeError) as error:
            failure = f"malformed JSON: {str(error)[:120]}"
        else:
            verdict = await judge(context, job, request, answer, attempt, last=True)
            if verdict.problems is None:
                return publish(verdict.answer)
            failure = verdict.problems[0]
    context.session.cache.put_failure(request.key, job.candidate.path, failure)
    return outcome(
        job,
        Status.FAILED,
        failure,
        **usage_fields(context, usage),
        repairs=attempt.repairs,
        **common,
        **attempt.examples.fields(),
    )


def truncation_failure(cap: int, ceiling: int) -> str:
    """The reason an answer cut off at `cap` output tokens failed (`ceiling`: `max_completion_tokens`)."""
    if cap == ceiling:
        return f"truncated: the answer hit max_completion_tokens ({cap})"
    return f"truncated: the answer hit the first answer's cap ({cap} tokens)"


async def salvage(
    context: PackageContext, job: Job, request: PreparedRequest, content: str, attempt: Attempt, *, last: bool = False
) -> dict[str, Any] | None:
    """The checked answer a cut-off `content` still holds (see `closed_prefix`), with the repair noted; else `None`."""
    whole = from_wire(closed_prefix(content))
    if whole is None:
        return None
    verdict = await judge(context, job, request, whole, attempt, last=last)
    if verdict.problems is not None:
        return None
    attempt.repairs.append(
        "cut off after its last field: published the complete answer"
        if _closed(content.rstrip().rstrip(",").rstrip()) is not None
        else "cut off inside its last text: kept its first whole sentences, if any"
    )
    return verdict.answer


def closed_prefix(content: str) -> Any | None:
    """The JSON object a cut-off answer holds, else `None`: closed where only closing brackets are missing, or,
    when it was cut inside a text value (a small model's description running on until the token limit), with that
    value kept to its first `_KEPT_SENTENCES` whole sentences, or empty when it was cut before its first sentence
    ended (an empty description is a whole answer; an empty summary or entry fails the checks and is asked again).
    A cut key or number is not kept; the schema check then decides whether what is left is a whole answer.
    """
    text = content.rstrip().rstrip(",").rstrip()
    if not text.startswith("{"):
        return None
    value = _closed(text)
    if value is None:
        value = _closed(_cut_string_closed(content) or "")
    return value if isinstance(value, dict) else None


_KEPT_SENTENCES = 2
"""Whole sentences kept of a text value an answer was cut inside (the prompt asks for one)."""

_SENTENCE_ENDS = re.compile(r"[.!?](?=\s)")


def _closed(text: str) -> Any | None:
    closers = [""] + [a + b + c for c in ("", "}", "]") for b in ("", "}", "]") for a in ("}", "]")]
    for closer in dict.fromkeys(closers):
        try:
            return json.loads(text + closer)
        except ValueError:
            continue
    return None


def _cut_string_closed(content: str) -> str | None:
    """`content` cut inside a string value, ended after that value's first whole sentences (or none), brackets closed."""
    stack: list[str] = []
    start = -1  # where the open string's text starts, when the content ends inside one
    escaped = False
    for index, char in enumerate(content):
        if start >= 0:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                start = -1
        elif char == '"':
            start = index + 1
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]" and stack:
            stack.pop()
    if start < 0 or not content[: start - 1].rstrip().endswith(":"):
        return None  # not cut inside a value (a cut key or number is not kept)
    ends = [m.end() for m in _SENTENCE_ENDS.finditer(content[start:] + " ")][:_KEPT_SENTENCES]
    kept = ends[-1] if ends else 0  # cut before its first sentence ended: the value is kept empty
    return content[: start + kept] + '"' + "".join(reversed(stack))
