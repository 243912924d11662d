"""Orchestration: priorities, dependency order, concurrency, cache, calls, checks and per-object outcomes."""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import griffe

from mkdocs_ai_docstrings._internal.cache import cache_key
from mkdocs_ai_docstrings._internal.checks import (
    check_answer,
    completeness,
    drop_prose,
    drop_ungrounded,
    find_references,
    prose_problems,
)
from mkdocs_ai_docstrings._internal.client import (
    CallFailure,
    CallTally,
    ChatResponse,
    parse_content,
    scrub,
    wire_format,
)
from mkdocs_ai_docstrings._internal.discovery import Candidate, human_documented, resolve_in_package
from mkdocs_ai_docstrings._internal.examples import ExampleCounts, ExampleRunner, check_example, package_search_paths
from mkdocs_ai_docstrings._internal.facts import CodeFacts, code_facts
from mkdocs_ai_docstrings._internal.fingerprint import code_fingerprint
from mkdocs_ai_docstrings._internal.lock import LockRecord, today
from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.mark import append_sections, attach_docstring, mark_summary_line
from mkdocs_ai_docstrings._internal.prices import estimate_cost
from mkdocs_ai_docstrings._internal.prompts import ContextInputs, build_sections, class_skeleton, render_context
from mkdocs_ai_docstrings._internal.render import render_docstring, structure_problems
from mkdocs_ai_docstrings._internal.report import ObjectOutcome
from mkdocs_ai_docstrings._internal.sanitize import sanitize_code
from mkdocs_ai_docstrings._internal.schema import SCHEMA_VERSION, answer_schema, improve_schema, validate_answer
from mkdocs_ai_docstrings._internal.session import BuildSession
from mkdocs_ai_docstrings._internal.warm import find_or_build

if TYPE_CHECKING:
    from mkdocs_ai_docstrings._internal.redact import Redaction

WAITING_FOR_REVIEW = "waiting for review (`publish: accepted`)"
"""Reason of an object whose AI text is in the lock file but not accepted by a maintainer yet."""

RETRYABLE_PROBLEMS = frozenset(
    {"missing_parameter", "missing_returns", "missing_yields", "restatement", "empty_summary"}
)
"""Grounding problems a targeted retry may fix; the others are fixed by dropping the wrong part."""

EXPECTED_FIELD_TOKENS = {"summary": 15, "description": 25, "examples": 20, "returns": 25, "yields": 25}
"""Plan-mode guess of the completion tokens each answer field takes (key and JSON syntax included).

Calibrated on usage billed for schema answers (the emulator's: 35 tokens for summary and description together,
11 for examples, 26 for returns or yields, about 30 per named item), rounded up for real models' longer prose.
"""
EXPECTED_OTHER_FIELD_TOKENS = 20
"""Plan-mode guess for an answer field not listed in `EXPECTED_FIELD_TOKENS`."""
EXPECTED_ITEM_TOKENS = 30
"""Plan-mode guess per entry of a list of named items (one entry per parameter, exception or attribute)."""
EXPECTED_ANSWER_OVERHEAD = 5
"""Plan-mode guess of the answer's own JSON syntax (braces)."""


class PriorityGate:
    """A semaphore that lets the lowest priority number in first; its slot count may change while in use.

    `limit`, when given, is asked for the current number of slots (never more than `slots`) whenever one may be
    granted: the client's adaptive concurrency lowers it after timeouts and raises it after successes.
    """

    def __init__(self, slots: int, limit: Callable[[], int] | None = None) -> None:
        self.slots = slots
        self._limit = limit
        self._used = 0
        self._waiters: list[tuple[tuple[int, ...], int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def limit(self) -> int:
        """Slots that may be held at once now."""
        wanted = self._limit() if self._limit is not None else self.slots
        return max(1, min(self.slots, wanted))

    async def acquire(self, priority: tuple[int, ...]) -> None:
        """Wait for a slot."""
        if self._used < self.limit and not self._waiters:
            self._used += 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # granted just as it was cancelled: give the slot on
            raise

    def release(self) -> None:
        """Free a slot, and grant slots to the most important waiters while the limit allows."""
        self._used -= 1
        while self._waiters and self._used < self.limit:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                self._used += 1
                future.set_result(None)


@dataclass
class Job:
    """One candidate with what the pipeline computed for it."""

    candidate: Candidate
    facts: CodeFacts
    priority: tuple[int, ...] = ()
    deps: list[str] = field(default_factory=list)
    fingerprint: str | None = None
    """`code_fingerprint` of the object, computed once when the lock file needs it."""


def _facts_for(candidate: Candidate) -> CodeFacts:
    """The object's facts; in improve mode narrowed to the sections its human docstring lacks."""
    facts = code_facts(candidate.obj)
    if not candidate.improve:
        return facts
    return dataclasses.replace(
        facts,
        parameters=candidate.missing_parameters,
        returns_value=candidate.missing_returns,
        is_generator=False,
        raises=(),
        attributes=(),
    )


def _priority_rank(candidate: Candidate, parents_exported: set[str]) -> int:
    obj = candidate.obj
    top_level = obj.parent is not None and obj.parent.is_module
    if candidate.exported and top_level and (obj.is_function or obj.is_class):
        return 0
    if obj.parent is not None and obj.parent.path in parents_exported and candidate.kind in ("method", "property"):
        return 1
    if top_level and (obj.is_function or obj.is_class):
        return 2
    if candidate.kind in ("method", "property", "attribute"):
        return 3
    return 4


def plan_jobs(candidates: Sequence[Candidate]) -> list[Job]:
    """Compute facts, priorities (public surface first, then most referenced) and callee dependencies."""
    jobs = {c.path: Job(c, _facts_for(c)) for c in candidates}
    references: dict[str, int] = dict.fromkeys(jobs, 0)
    for job in jobs.values():
        for target in {*job.facts.callees, *job.facts.bases}:
            if target in references and target != job.candidate.path:
                references[target] += 1
    exported_classes = {c.path for c in candidates if c.exported and c.obj.is_class}
    exported_classes |= {
        c.obj.parent.path for c in candidates if c.obj.parent is not None and c.obj.parent.is_class and c.exported
    }
    for job in jobs.values():
        rank = _priority_rank(job.candidate, exported_classes)
        job.priority = (rank, -references[job.candidate.path], job.candidate.obj.lineno or 0)
    ordered = sorted(jobs.values(), key=lambda job: job.priority)
    # Callees before callers, without cycles: depend only on callees already placed.
    placed: set[str] = set()
    visiting: set[str] = set()
    order: list[Job] = []

    def place(job: Job) -> None:
        path = job.candidate.path
        if path in placed or path in visiting:
            return
        visiting.add(path)
        for callee in (*job.facts.bases, *job.facts.callees):
            if callee in jobs and callee != path:
                place(jobs[callee])
                if callee in placed:
                    job.deps.append(callee)
        visiting.discard(path)
        placed.add(path)
        order.append(job)

    for job in ordered:
        place(job)
    # A callee inherits the best priority of its callers so it never holds them back.
    for job in reversed(order):
        for dep in job.deps:
            jobs[dep].priority = min(jobs[dep].priority, job.priority)
    return order


def _style_examples(obj: griffe.Object, documented: Sequence[griffe.Object], count: int) -> list[griffe.Object]:
    if count <= 0:
        return []

    def closeness(other: griffe.Object) -> tuple[int, int]:
        same_parent = other.parent is obj.parent
        same_module = other.module is obj.module if not obj.is_module else other.module is obj
        same_kind = other.kind is obj.kind
        return (0 if same_parent else 1 if same_module else 2, 0 if same_kind else 1)

    ranked = sorted((o for o in documented if o is not obj), key=lambda other: (closeness(other), other.path))
    return ranked[:count]


class Generator:
    """Generates the docstrings of one package's candidates within a build session."""

    def __init__(self, session: BuildSession, package: griffe.Module, loader: Any = None) -> None:
        self.session = session
        self.settings = session.settings
        self.package = package
        self.parser = getattr(loader, "docstring_parser", None) if loader is not None else None
        self.parser_options = dict(getattr(loader, "docstring_options", None) or {}) if loader is not None else {}
        if self.parser is None:
            self.parser = griffe.Parser.google
        self.style = self.parser.value if isinstance(self.parser, griffe.Parser) else str(self.parser)
        self.documented = human_documented(package, self.settings)
        self.loader = loader
        self._example_runner: ExampleRunner | None = None
        self.done = 0
        self.total = 0
        self._last_progress = time.monotonic()

    async def run(self, candidates: Sequence[Candidate]) -> list[ObjectOutcome]:
        """Process every candidate concurrently; return their outcomes in priority order."""
        jobs = plan_jobs(candidates)
        self.total = len(jobs)
        client = self.session.client
        gate = PriorityGate(self.settings.concurrency, client.concurrency if client is not None else None)
        futures: dict[str, asyncio.Future[ObjectOutcome]] = {
            job.candidate.path: asyncio.get_running_loop().create_future() for job in jobs
        }

        async def run_job(job: Job) -> ObjectOutcome:
            for dep in job.deps:
                await asyncio.shield(futures[dep])
            try:
                outcome = await self.process(job, gate)
            except Exception as error:
                logger.debug("unexpected error for %s", job.candidate.path, exc_info=True)
                outcome = self._outcome(
                    job, "failed", f"internal error: {type(error).__name__}: {scrub(str(error), self.session.secrets)}"
                )
            futures[job.candidate.path].set_result(outcome)
            self.session.report.add(outcome)
            self._progress()
            return outcome

        outcomes = list(await asyncio.gather(*(run_job(job) for job in jobs)))
        for job in jobs:  # after every prompt is built, since prompts quote docstrings by value
            mark_summary_line(job.candidate.obj)
        return outcomes

    def _progress(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.done == self.total or now - self._last_progress > 10:
            self._last_progress = now
            logger.info("AI docstrings for %s: %d/%d objects done", self.package.path, self.done, self.total)

    def _outcome(self, job: Job, status: str, reason: str | None = None, **fields: Any) -> ObjectOutcome:
        candidate = job.candidate
        return ObjectOutcome(
            path=candidate.public_path,
            kind=candidate.kind,
            status=status,
            reason=reason,
            canonical_path=candidate.path,
            **fields,
        )

    def build_messages(self, job: Job) -> tuple[list[dict[str, str]], int, bool]:
        """Messages for one object; also the number of redacted secrets and whether context was truncated."""
        obj = job.candidate.obj
        source = ""
        try:
            source = obj.source or ""
        except (OSError, ValueError, TypeError):
            source = ""
        if obj.is_module:
            source = ""  # the outline stands for it, so editing one function does not regenerate its module
        elif obj.is_class and source:
            source = class_skeleton(obj, source)
        callees = [o for o in (resolve_in_package(self.package, path) for path in job.facts.callees) if o is not None]
        bases = [o for o in (resolve_in_package(self.package, path) for path in job.facts.bases) if o is not None]
        inputs = ContextInputs(
            obj=obj,
            source=source,
            callees=callees[:8],
            bases=bases[:4],
            style_examples=_style_examples(obj, self.documented, self.settings.style_examples),
            generated_ok=frozenset(job.deps),
        )
        # Redact each section once, before truncation can cut a secret in half.
        sections = []
        redactions = 0
        for section in build_sections(inputs):
            redacted = self._redact(section.text)
            sections.append(dataclasses.replace(section, text=redacted.text))
            redactions += redacted.count
        context, truncated = render_context(sections, self.session.estimate_counter, self.settings.max_input_tokens)
        if job.candidate.improve:
            wanted = (
                [f"parameters {', '.join(job.candidate.missing_parameters)}"]
                if job.candidate.missing_parameters
                else []
            )
            wanted += ["the return value"] if job.candidate.missing_returns else []
            context += (
                "\n\n## Task\nThe authors' docstring is kept as it is. Document only what it leaves out: "
                + " and ".join(wanted)
                + "."
            )
        messages = self.session.templates.messages(
            package=self.package.path,
            style=self.style,
            kind=job.candidate.kind,
            path=job.candidate.path,
            context=context,
        )
        return messages, redactions, truncated

    def _redact(self, text: str) -> Redaction:
        """Redact credentials (when enabled) and, always, this build's own API key or token."""
        from mkdocs_ai_docstrings._internal.redact import Redaction, redact_secrets  # only when a prompt is built

        if self.settings.redact_secrets:
            return redact_secrets(text, extra_literals=self.session.secrets)
        count = sum(text.count(secret) for secret in self.session.secrets)
        for secret in self.session.secrets:
            text = text.replace(secret, "<redacted:API key>")
        return Redaction(text, count, ("API key",) if count else ())

    def key_for(self, messages: list[dict[str, str]], schema: Mapping[str, Any]) -> str:
        """The cache key: every input that changes the answer."""
        settings = self.settings
        return cache_key(
            {
                "messages": messages,
                "schema": schema,
                "schema_version": SCHEMA_VERSION,
                "template_version": self.session.templates.version,
                "provider": settings.provider,
                "deployment": self.session.deployment,
                "model": self.session.model,
                "api_version": self.session.api_version,
                "temperature": settings.temperature,
                "max_completion_tokens": settings.max_completion_tokens,
                "output_mode": settings.output_mode,
            }
        )

    async def process(self, job: Job, gate: PriorityGate) -> ObjectOutcome:
        """Cache, budget, call, validate and mark one object."""
        if job.candidate.secret is not None:  # documenting it would publish a credential
            logger.warning("%s not generated: %s", job.candidate.public_path, job.candidate.secret)
            return self._outcome(job, "skipped", job.candidate.secret)
        session = self.session
        facts = job.facts
        candidate = job.candidate
        locked, stale = self._from_lock(job)
        if locked is not None:
            return locked
        if candidate.improve:
            schema = improve_schema(candidate.missing_parameters, candidate.missing_returns)
        else:
            schema = answer_schema(facts)
        prompt = find_or_build(self, job, schema)  # warm.py: a cached answer by fingerprint, else the prompt
        if prompt.outcome is not None:
            return prompt.outcome
        messages, redactions, truncated, key = prompt.messages or [], prompt.redactions, prompt.truncated, prompt.key
        common = {"redactions": redactions, "truncated_context": truncated}
        entry = session.memory.get(key)
        if entry is not None:
            session.cache.stats.hits += 1
        else:
            entry = session.cache.get(key, schema)
        if entry is not None:
            return self.publish(
                job, self._cached_answer(entry), "cached", repairs=list(entry.get("repairs", [])), cost=0.0, **common
            )
        if self.settings.dry_run:
            return self.plan(job, messages, schema, **common)
        remembered = self._remembered_failure(job, key, **common)
        if remembered is not None:
            return self._or_stale(job, stale, remembered)
        if not session.can_generate:
            return self._or_stale(job, stale, self._outcome(job, "skipped", self._not_generating_reason(), **common))
        claimed = session.cache.claim(key)
        if not claimed:
            logger.debug("%s is being generated by another build; waiting for it", job.candidate.path)
            entry = await session.cache.wait_for(key, answer_schema=schema)
            claimed = entry is None and session.cache.claim(key)
        else:
            entry = session.cache.peek(key, schema)  # another build may have finished it just before the claim
        if entry is not None:
            if claimed:
                session.cache.unclaim(key)
            return self.publish(
                job, self._cached_answer(entry), "cached", repairs=list(entry.get("repairs", [])), cost=0.0, **common
            )
        await gate.acquire(job.priority)
        try:
            return self._or_stale(job, stale, await self.generate(job, messages, schema, key, **common))
        finally:
            gate.release()
            if claimed:
                session.cache.unclaim(key)

    def _not_generating_reason(self) -> str:
        session = self.session
        if not self.settings.enabled:
            return "disabled: generation is off (`enabled: false`)"
        if session.connection is None:
            return f"not configured: {session.config_problem}"
        if session.client is not None and session.client.stopped:
            return f"stopped: {session.client.stopped}"
        return "not configured"

    def plan(self, job: Job, messages: list[dict[str, str]], schema: Mapping[str, Any], **common: Any) -> ObjectOutcome:
        """Plan mode: estimate this object's tokens and cost, and whether the budget would cover it."""
        session = self.session
        wire = wire_format(schema, "json_schema" if self.settings.output_mode == "auto" else self.settings.output_mode)
        prompt = session.estimate_counter.count_messages(messages, extra=wire)
        completion = min(self.settings.max_completion_tokens, _expected_completion(schema))
        estimated = prompt + completion
        worst = session.reservation_counter.count_messages(messages, extra=wire) + self.settings.max_completion_tokens
        cost = estimate_cost(session.price, prompt_tokens=prompt, completion_tokens=completion)
        reason = "plan: would be generated"
        ledger = session.ledger
        if ledger.budget is not None:
            if ledger.spent + worst > ledger.budget:  # as in a real build: the worst case must fit
                reason = "budget"
            else:
                ledger.spent += estimated
        return self._outcome(job, "skipped", reason, estimated_tokens=estimated, cost=cost, **common)

    async def ask(
        self, messages: list[dict[str, str]], schema: Mapping[str, Any], usage: dict[str, int]
    ) -> ChatResponse:
        """One call through the client, sizing the reservation for the output mode in use."""
        session = self.session
        client = session.client
        assert client is not None

        def prompt_tokens(mode: str) -> int:
            return session.reservation_counter.count_messages(messages, extra=client.wire_format(schema, mode))

        tally = CallTally()
        try:
            response = await client.complete(messages, schema, prompt_tokens, tally)
        finally:
            usage["requests"] += tally.requests
            usage["possibly_billed_tokens"] += tally.possibly_billed
        usage["prompt_tokens"] += response.prompt_tokens
        usage["completion_tokens"] += response.completion_tokens
        return response

    async def generate(
        self, job: Job, messages: list[dict[str, str]], schema: Mapping[str, Any], key: str, **common: Any
    ) -> ObjectOutcome:
        """Call the model, with one targeted retry for a fixable answer; publish or fail."""
        obj = job.candidate.obj
        facts = job.facts
        usage = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "possibly_billed_tokens": 0}
        conversation = list(messages)
        repairs: list[str] = []
        failure = "no answer"
        examples = ExampleCounts()
        fallback: tuple[dict[str, Any], bool] | None = None
        for round_ in range(2):
            last = round_ == 1
            try:
                response = await self.ask(conversation, schema, usage)
            except CallFailure as error:
                reason = "budget" if error.kind == "budget" else f"{error.kind.replace('_', ' ')}: {error.message}"
                status = "skipped" if error.kind in ("budget", "stopped") else "failed"
                return self._outcome(job, status, reason, **self._usage_fields(usage), repairs=repairs, **common)
            feedback: str
            if response.finish_reason == "content_filter" or response.filtered:
                categories = ", ".join(response.filtered) or "unspecified"
                failure = f"content filter: the answer was blocked ({categories})"
                feedback = "Your answer was blocked by a content filter. Document the code plainly and factually."
            elif response.refusal:
                failure = f"refused: {response.refusal[:200]}"
                feedback = "Please document the target object: a factual description of what the code does."
            elif response.finish_reason == "length":
                failure = f"truncated: the answer hit max_completion_tokens ({self.settings.max_completion_tokens})"
                feedback = "Your answer was cut off. Answer again with the same JSON, much more concisely."
            else:
                try:
                    answer = parse_content(response.content)
                except (ValueError, TypeError) as error:
                    failure = f"malformed JSON: {str(error)[:120]}"
                    feedback = "Your answer was not valid JSON. Answer again with only the JSON object."
                else:
                    answer, problems = self._ground(answer, facts, obj, schema, repairs, improve=job.candidate.improve)
                    if problems is None:
                        answer, problems, dropped = await self._check_text(job, answer, repairs, examples, last=last)
                        fallback = fallback or dropped
                    if problems is None:
                        return self._commit(job, answer, key, repairs, usage, **common, **examples.fields())
                    failure = problems[0]
                    feedback = (
                        "Your answer has these problems; answer again with the corrected JSON:\n- "
                        + "\n- ".join(problems)
                    )
            if last:
                break
            repairs.append(f"retried: {failure}")
            previous = [{"role": "assistant", "content": response.content[:4000]}] if response.content else []
            conversation = [*messages, *previous, {"role": "user", "content": feedback}]
        if fallback is not None:  # the first answer was sound but for parts that can be dropped; the retry was worse
            repairs.append(f"retry failed ({failure}): published the first answer without its faulty parts")
            examples.dropped += fallback[1]
            return self._commit(job, fallback[0], key, repairs, usage, **common, **examples.fields())
        self.session.cache.put_failure(key, job.candidate.path, failure)  # not asked again until its inputs change
        return self._outcome(
            job, "failed", failure, **self._usage_fields(usage), repairs=repairs, **common, **examples.fields()
        )

    async def _check_text(
        self, job: Job, answer: dict[str, Any], repairs: list[str], examples: ExampleCounts, *, last: bool
    ) -> tuple[dict[str, Any], list[str] | None, tuple[dict[str, Any], bool] | None]:
        """Check the prose and run the example of a grounded answer.

        Returns the answer, the problems a retry should fix (`None`: publishable; on the last round what is
        still wrong is dropped instead), and, with problems, the answer without its faulty parts to publish if
        the retry fails.
        """
        candidate = job.candidate
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
            runner = self._runner()
            example_problems, ran = await check_example(code, candidate.obj, self.package, runner)
            examples.run += ran
            if not example_problems:
                examples.passed += 1
                examples.repaired += failed_before
        answer, fixed = drop_prose(answer, candidate.obj, paths=paths, improve=candidate.improve)
        without_example = {**answer, "examples": ""} if example_problems else answer
        if (problems or example_problems) and not last:
            details = [p.detail for p in problems] + [f"example: {p.detail}" for p in example_problems]
            return (
                answer,
                [scrub(detail, self.session.secrets) for detail in details],
                (without_example, bool(example_problems)),
            )
        repairs.extend(f"dropped: {p.detail}" for p in fixed)
        if example_problems:
            examples.dropped += 1
            repairs.append(f"example dropped: {scrub(example_problems[0].detail, self.session.secrets)}")
        return without_example, None, None

    def _runner(self) -> ExampleRunner | None:
        """The example runner of this package (`None` when running examples is off)."""
        if not self.settings.run_examples:
            return None
        if self._example_runner is None:
            paths = package_search_paths(self.package, self.loader)
            self._example_runner = ExampleRunner(paths, timeout=self.settings.example_timeout)
        return self._example_runner

    def _cached_answer(self, entry: Mapping[str, Any]) -> Mapping[str, Any]:
        """A cached answer, without an example its entry does not record as checked the way this build requires."""
        answer = entry["answer"]
        accepted = ("run",) if self.settings.run_examples else ("run", "static")
        if str(answer.get("examples") or "").strip() and entry.get("example_check") not in accepted:
            return {**answer, "examples": ""}
        return answer

    def _ground(
        self,
        answer: Any,
        facts: CodeFacts,
        obj: griffe.Object,
        schema: Mapping[str, Any],
        repairs: list[str],
        *,
        improve: bool = False,
    ) -> tuple[Any, list[str] | None]:
        """Validate and ground an answer; return it (repaired) and `None`, or the problems a retry should fix."""
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
        text = self._render(answer, obj)
        mismatches = structure_problems(text, answer, obj, self.parser, self.parser_options)
        if improve:
            mismatches = [problem for problem in mismatches if "summary" not in problem]
        if mismatches:
            return answer, mismatches
        return answer, None

    def _render(self, answer: Mapping[str, Any], obj: griffe.Object) -> str:
        returns = str(obj.returns) if obj.is_function and obj.returns else None
        return render_docstring(answer, self.style, return_annotation=returns, yield_annotation=returns)

    def _usage_fields(self, usage: Mapping[str, int]) -> dict[str, Any]:
        total = usage["prompt_tokens"] + usage["completion_tokens"]
        cost = estimate_cost(
            self.session.price, prompt_tokens=usage["prompt_tokens"], completion_tokens=usage["completion_tokens"]
        )
        return {
            "prompt_tokens": usage["prompt_tokens"],
            "completion_tokens": usage["completion_tokens"],
            "total_tokens": total,
            "requests": usage["requests"],
            "cost": cost,
            "possibly_billed_tokens": usage.get("possibly_billed_tokens", 0),
        }

    def _commit(
        self, job: Job, answer: dict[str, Any], key: str, repairs: list[str], usage: Mapping[str, int], **common: Any
    ) -> ObjectOutcome:
        entry = {"answer": answer, "path": job.candidate.path, "model": self.session.model, "repairs": repairs}
        self.session.memory[key] = entry  # first: an answer the cache cannot store is still kept for this build
        entry["example_check"] = "run" if self.settings.run_examples else "static"
        self.session.cache.put(key, entry)
        return self.publish(job, answer, "generated", repairs=repairs, **self._usage_fields(usage), **common)

    def publish(self, job: Job, answer: Mapping[str, Any], status: str, **fields: Any) -> ObjectOutcome:
        """Render, attach and mark the docstring; measure its completeness and references."""
        obj = job.candidate.obj
        answer, _ = drop_ungrounded(answer, job.facts, obj)
        text = self._render(answer, obj)
        review = "pending" if self.session.lock is not None else None
        if self._waits_for_review(None):
            written = self._lock_store(job, text)
            return self._outcome(job, "skipped", WAITING_FOR_REVIEW, lock="written" if written else None, **fields)
        if job.candidate.improve:
            append_sections(
                obj,
                text,
                model=self.session.model,
                parser=self.parser,
                parser_options=self.parser_options,
                review=review,
            )
        else:
            attach_docstring(
                obj,
                text,
                model=self.session.model,
                parser=self.parser,
                parser_options=self.parser_options,
                status=status,
                review=review,
            )
        written = self._lock_store(job, text)
        references = [name for value in _texts(answer) for name in find_references(value)]
        return self._outcome(
            job,
            status,
            lock="written" if written else None,
            completeness=None if job.candidate.improve else completeness(answer, job.facts, public=True),
            references=(len(references), len(references)),
            **fields,
        )

    # Lock file: reproduce published text, notice changed code, refuse to ask in frozen builds.

    def _fingerprint(self, job: Job) -> str:
        if job.fingerprint is None:
            mode = "improve" if job.candidate.improve else "generate"
            job.fingerprint = code_fingerprint(job.candidate.obj, job.facts, mode=mode)
        return job.fingerprint

    def _from_lock(self, job: Job) -> tuple[ObjectOutcome | None, LockRecord | None]:
        """Publish an up-to-date lock record, or settle a frozen build; else return the stale record, if any."""
        lock = self.session.lock
        record = lock.get(job.candidate.path) if lock is not None else None
        if lock is not None and record is not None:
            lock.used.add(record.path)
        if record is not None and record.review == "rejected":
            return self._outcome(job, "skipped", "rejected in review: left undocumented"), None
        mode = "improve" if job.candidate.improve else "generate"
        fresh = (
            record is not None
            and record.fingerprint == self._fingerprint(job)
            and record.style == self.style
            and record.mode == mode
        )
        if record is not None and not fresh and record.review == "edited" and record.style == self.style:
            return self.publish_locked(job, record, stale=True), None  # a maintainer's text: never regenerated
        if record is not None and fresh:
            if self._waits_for_review(record):
                return self._outcome(job, "skipped", WAITING_FOR_REVIEW, lock="fresh"), None
            return self.publish_locked(job, record), None
        if self.session.frozen:
            if record is None:
                return self._outcome(job, "failed", "frozen: no lock record"), None
            outcome = self._or_stale(job, record, self._outcome(job, "failed", ""))
            outcome.status = "failed"
            outcome.reason = "frozen: stale lock record (the code changed since it was written)"
            return outcome, None
        return None, record

    def _waits_for_review(self, record: LockRecord | None) -> bool:
        """With `publish: accepted`, text no maintainer accepted (a new answer: never) is held back."""
        accepted_only = self.settings.publish == "accepted" and self.session.lock is not None
        return accepted_only and (record is None or not record.reviewed)

    def publish_locked(self, job: Job, record: LockRecord, *, stale: bool = False) -> ObjectOutcome:
        """Publish a lock record's text exactly as it was published when written."""
        obj = job.candidate.obj
        model = record.model or self.session.model
        if job.candidate.improve:
            append_sections(
                obj,
                record.text,
                model=model,
                parser=self.parser,
                parser_options=self.parser_options,
                review=record.review,
                stale=stale,
            )
        else:
            attach_docstring(
                obj,
                record.text,
                model=model,
                parser=self.parser,
                parser_options=self.parser_options,
                status="locked",
                review=record.review,
                stale=stale,
            )
        reason = "stale: the code changed since the lock record was written" if stale else None
        return self._outcome(job, "cached", reason, lock="stale" if stale else "fresh")

    def _or_stale(self, job: Job, record: LockRecord | None, outcome: ObjectOutcome) -> ObjectOutcome:
        """When nothing new was published, fall back to the stale record: shown with a note, or left out."""
        if record is None or outcome.status in ("generated", "cached") or self._waits_for_review(record):
            return outcome
        if self.settings.stale == "omit":
            outcome.lock = "stale"
            outcome.reason = f"stale lock record left out (`stale: omit`); {outcome.reason}"
            return outcome
        stale = self.publish_locked(job, record, stale=True)
        for name in ("prompt_tokens", "completion_tokens", "total_tokens", "requests", "cost", "redactions"):
            setattr(stale, name, getattr(outcome, name))
        return stale

    def _lock_store(self, job: Job, text: str) -> bool:
        """Add or update the object's lock record after publishing a generated or cached answer."""
        session = self.session
        if session.lock is None or self.settings.dry_run or session.frozen:
            return False
        fingerprint = self._fingerprint(job)
        previous = session.lock.get(job.candidate.path)
        if previous is not None and (previous.fingerprint, previous.text) == (fingerprint, text):
            session.lock.used.add(previous.path)
            return False
        record = LockRecord(
            path=job.candidate.path,
            kind=job.candidate.kind,
            fingerprint=fingerprint,
            style=self.style,
            text=text,
            mode="improve" if job.candidate.improve else "generate",
            model=session.model,
            deployment=session.deployment,
            prompt_version=session.templates.version,
            schema_version=str(SCHEMA_VERSION),
            date=today(),
        )
        session.lock.put(record)
        return True

    def _remembered_failure(self, job: Job, key: str, **common: Any) -> ObjectOutcome | None:
        """An earlier build's answer for these exact inputs failed the checks: fail again without asking."""
        cache = self.session.cache
        if self.session.retry_failed:
            cache.forget_failure(key)
            return None
        reason = cache.failure(key)
        if reason is None:
            return None
        return self._outcome(
            job, "failed", f"{reason} (remembered from an earlier build; `retry_failed: true` asks again)", **common
        )


def _texts(answer: Mapping[str, Any]) -> list[str]:
    texts = [str(answer.get("summary", "")), str(answer.get("description", ""))]
    for key in ("parameters", "raises", "attributes"):
        texts += [str(item.get("description", "")) for item in answer.get(key) or [] if isinstance(item, Mapping)]
    for key in ("returns", "yields"):
        value = answer.get(key)
        if isinstance(value, Mapping):
            texts.append(str(value.get("description", "")))
    return texts


def _only_known_keys(answer: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    known = schema.get("properties", {})
    return {key: value for key, value in answer.items() if key in known}


def _expected_completion(schema: Mapping[str, Any]) -> int:
    """Guess the completion tokens of an answer from its schema: a share per field, and per named item."""
    total = EXPECTED_ANSWER_OVERHEAD
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, Mapping) and prop.get("type") == "array":
            item = (prop.get("items") or {}).get("properties") or {}
            names = next((p["enum"] for p in item.values() if isinstance(p.get("enum"), list)), [None])
            total += 3 + EXPECTED_ITEM_TOKENS * len(names)
        else:
            total += EXPECTED_FIELD_TOKENS.get(name, EXPECTED_OTHER_FIELD_TOKENS)
    return total
