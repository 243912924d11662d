"""The pipeline of one package: discover's candidates → request → cache or plan or call → publish → report.

[`fill`][mkdocs_ai_docstrings._internal.generator.fill] is the one entry point: the griffe extension (under the
plugin or standalone), the benches and the tests all call it. Each step lives in its own module:

- `schedule`: the priority order, callee dependencies and the gate that keeps the order;
- `request`: the messages, schema and cache key of one job;
- `estimate`: the tokens and cost a request is expected to take, for the plan;
- `call` and `grounding`: the model call with one targeted retry, and the checks of its answer;
- `publish`: render, mark, cache and lock file.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import griffe

from mkdocs_ai_docstrings._internal.call import generate
from mkdocs_ai_docstrings._internal.client import scrub
from mkdocs_ai_docstrings._internal.discovery import Candidate
from mkdocs_ai_docstrings._internal.estimate import estimate
from mkdocs_ai_docstrings._internal.grounding import cached_answer
from mkdocs_ai_docstrings._internal.jobs import Job, PackageContext, outcome
from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.mark import mark_summary_line
from mkdocs_ai_docstrings._internal.publish import from_lock, or_stale, publish
from mkdocs_ai_docstrings._internal.report import ObjectOutcome, Reason, Status
from mkdocs_ai_docstrings._internal.request import PreparedRequest, request_for
from mkdocs_ai_docstrings._internal.schedule import PriorityGate, plan_jobs
from mkdocs_ai_docstrings._internal.session import BuildSession

PLAN_REASON = "plan: would be generated"
"""Dry run: the reason of an object the plan would generate."""
PROGRESS_INTERVAL = 10.0
"""Seconds between two progress lines in the build log."""


async def fill(
    session: BuildSession, package: griffe.Module, candidates: Sequence[Candidate], loader: Any = None
) -> list[ObjectOutcome]:
    """Fill the docstrings of one package's candidates; return their outcomes (also added to the session's report)."""
    return await _Run(PackageContext(session, package, loader)).run(candidates)


class _Run:
    """One package's pass through the pipeline: its jobs, their futures and the progress shown."""

    def __init__(self, context: PackageContext) -> None:
        self.context = context
        self.session = context.session
        self.settings = context.settings
        self.done = 0
        self.total = 0
        self._last_progress = time.monotonic()

    async def run(self, candidates: Sequence[Candidate]) -> list[ObjectOutcome]:
        """Process every candidate concurrently; return their outcomes in dependency order."""
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
                result = await self.process(job, gate)
            except Exception as error:
                logger.debug("unexpected error for %s", job.candidate.path, exc_info=True)
                result = outcome(
                    job,
                    Status.FAILED,
                    Reason.INTERNAL_ERROR.with_detail(
                        f"{type(error).__name__}: {scrub(str(error), self.session.secrets)}"
                    ),
                )
            futures[job.candidate.path].set_result(result)
            self.session.report.add(result)
            self._progress()
            return result

        outcomes = list(await asyncio.gather(*(run_job(job) for job in jobs)))
        for job in jobs:  # after every prompt is built, since prompts quote docstrings by value
            mark_summary_line(job.candidate.obj)
        return outcomes

    def _progress(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.done == self.total or now - self._last_progress > PROGRESS_INTERVAL:
            self._last_progress = now
            logger.info("AI docstrings for %s: %d/%d objects done", self.context.package.path, self.done, self.total)

    async def process(self, job: Job, gate: PriorityGate) -> ObjectOutcome:
        """Cache, budget, call, validate and mark one object."""
        context, session = self.context, self.session
        if job.candidate.secret is not None:  # documenting it would publish a credential
            logger.warning("%s not generated: %s", job.candidate.public_path, job.candidate.secret)
            return outcome(job, Status.SKIPPED, job.candidate.secret)
        locked, stale = from_lock(context, job)
        if locked is not None:
            return locked
        request = request_for(context, job)
        key = request.key
        common = {"redactions": request.redactions, "truncated_context": request.truncated}
        entry = session.memory.get(key)
        if entry is not None:
            session.cache.stats.hits += 1
        else:
            entry = session.cache.get(key, request.schema)
        if entry is not None:
            return self._publish_cached(job, entry, common)
        if self.settings.dry_run:
            return self.plan(job, request, **common)
        remembered = self._remembered_failure(job, key, **common)
        if remembered is not None:
            return or_stale(context, job, stale, remembered)
        if not session.can_generate:
            return or_stale(context, job, stale, outcome(job, Status.SKIPPED, self._not_generating_reason(), **common))
        claimed = session.cache.claim(key)
        if not claimed:
            logger.debug("%s is being generated by another build; waiting for it", job.candidate.path)
            entry = await session.cache.wait_for(key, answer_schema=request.schema)
            claimed = entry is None and session.cache.claim(key)
        else:
            entry = session.cache.peek(key, request.schema)  # another build may have finished it just before the claim
        if entry is not None:
            if claimed:
                session.cache.unclaim(key)
            return self._publish_cached(job, entry, common)
        await gate.acquire(job.priority)
        try:
            return or_stale(context, job, stale, await generate(context, job, request, **common))
        finally:
            gate.release()
            if claimed:
                session.cache.unclaim(key)

    def _publish_cached(self, job: Job, entry: dict[str, Any], common: dict[str, Any]) -> ObjectOutcome:
        answer = cached_answer(self.context, entry)
        repairs = list(entry.get("repairs", []))
        return publish(self.context, job, answer, Status.CACHED, repairs=repairs, cost=0.0, **common)

    def _not_generating_reason(self) -> str:
        session = self.session
        if not self.settings.enabled:
            return Reason.DISABLED.with_detail("generation is off (`enabled: false`)")
        if session.connection is None:
            return Reason.NOT_CONFIGURED.with_detail(session.config_problem)
        if session.client is not None and session.client.stopped:
            return Reason.STOPPED.with_detail(session.client.stopped)
        return Reason.NOT_CONFIGURED

    def plan(self, job: Job, request: PreparedRequest, **common: Any) -> ObjectOutcome:
        """Plan mode: estimate this object's tokens and cost, and whether the budget would cover it."""
        expected = estimate(self.session, request)
        reason = PLAN_REASON
        ledger = self.session.ledger
        if ledger.budget is not None:
            if ledger.spent + expected.worst > ledger.budget:  # as in a real build: the worst case must fit
                reason = Reason.BUDGET
            else:
                ledger.spent += expected.expected
        return outcome(job, Status.SKIPPED, reason, estimated_tokens=expected.expected, cost=expected.cost, **common)

    def _remembered_failure(self, job: Job, key: str, **common: Any) -> ObjectOutcome | None:
        """An earlier build's answer for these exact inputs failed the checks: fail again without asking."""
        cache = self.session.cache
        if self.session.retry_failed:
            cache.forget_failure(key)
            return None
        reason = cache.failure(key)
        if reason is None:
            return None
        return outcome(
            job,
            Status.FAILED,
            f"{reason} (remembered from an earlier build; `retry_failed: true` asks again)",
            **common,
        )
