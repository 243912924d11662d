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

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import griffe

from mkdocs_ai_docstrings._internal.discovery import Candidate
from mkdocs_ai_docstrings._internal.jobs import Job, PackageContext, outcome
from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.mark import mark_summary_line
from mkdocs_ai_docstrings._internal.publish import cached_answer, from_lock, or_stale, publish
from mkdocs_ai_docstrings._internal.report import ObjectOutcome, Reason, Status
from mkdocs_ai_docstrings._internal.schedule import Pending, Plan, PriorityGate, make_plan, plan_jobs, priority_order
from mkdocs_ai_docstrings._internal.secrets import scrub
from mkdocs_ai_docstrings._internal.session import BuildSession
from mkdocs_ai_docstrings._internal.warm import CodeMemo, find_or_build

if TYPE_CHECKING:
    import asyncio

    from mkdocs_ai_docstrings._internal.estimate import Estimate
    from mkdocs_ai_docstrings._internal.request import PreparedRequest

PROGRESS_INTERVAL = 10.0
"""Seconds between two progress lines in the build log."""

T = TypeVar("T")


def fill(
    session: BuildSession, package: griffe.Module, candidates: Sequence[Candidate], loader: Any = None
) -> list[ObjectOutcome]:
    """Fill the docstrings of one package's candidates; return their outcomes (also added to the session's report).

    What needs a request is generated on the session's event loop (`BuildSession.run`); a build whose every answer
    is in the lock file or the cache starts none.
    """
    return _Run(PackageContext(session, package, loader)).run(candidates)


class _Run:
    """One package's pass through the pipeline: settle what needs no call, plan the rest, then build the plan."""

    def __init__(self, context: PackageContext) -> None:
        self.context = context
        self.session = context.session
        self.settings = context.settings
        self.results: dict[str, ObjectOutcome] = {}
        self.done = 0
        self.total = 0
        self._last_progress = time.monotonic()

    def run(self, candidates: Sequence[Candidate]) -> list[ObjectOutcome]:
        """Settle, plan and build every candidate; return their outcomes in priority order."""
        memo = CodeMemo.load(self.context)  # warm.py: facts and fingerprints kept while the sources are unchanged
        jobs = [Job(candidate) for candidate in candidates]
        for job in jobs:
            memo.prefill(job)
        jobs = priority_order(plan_jobs(jobs))
        self.total = len(jobs)
        pending: list[Pending] = []
        for job in jobs:  # callees before callers: a published callee's docstring is in its callers' prompts
            settled = self._guarded(job, lambda job=job: self.settle(job))
            if isinstance(settled, Pending):
                pending.append(settled)
            else:
                self._record(job, settled)
        plan = make_plan(self.session, pending)
        if self.settings.dry_run:
            for item in pending:
                self._record(item.job, self.planned(item, plan))
            self.session.ledger.spent += plan.expected  # the next package plans against what is left
        elif pending:  # nothing pending (every answer cached or locked): no client is built, no loop started
            self.session.run(self.build(plan))
        memo.save(jobs)
        for job in jobs:  # after every prompt is built, since prompts quote docstrings by value
            mark_summary_line(job.candidate.obj)
        return [self.results[job.candidate.path] for job in jobs]

    async def build(self, plan: Plan) -> None:
        """Generate the planned jobs concurrently, in priority order; then, one at a time, what the budget left."""
        import asyncio  # a build whose every answer is in the lock file or the cache runs no event loop

        from mkdocs_ai_docstrings._internal.budget import ON_RESERVED

        client = self.session.client
        gate = PriorityGate(self.settings.concurrency, client.concurrency if client is not None else None)
        listed = {item.job.candidate.path for item in plan.listed}
        done: dict[str, asyncio.Event] = {item.job.candidate.path: asyncio.Event() for item in plan.listed}
        # Under a budget, listed jobs take their reservations in plan order (one job's turn comes once the job
        # before it holds its tokens or is done): then each finds the room the plan counted on for it.
        turns = [asyncio.Event() for _ in plan.listed]

        async def build_listed(index: int, item: Pending) -> None:
            if index and self.session.ledger.budget is not None:
                await turns[index - 1].wait()
            ON_RESERVED.set(turns[index].set)
            try:
                for dep in item.job.deps:
                    if dep in listed:  # a callee left out of the plan never holds a listed caller back
                        await done[dep].wait()
                await self._build_one(item, gate)
            finally:
                turns[index].set()
                done[item.job.candidate.path].set()

        await asyncio.gather(*(build_listed(index, item) for index, item in enumerate(plan.listed)))
        for item in plan.left_out:  # only real usage under the estimate leaves room for these
            await self._build_one(item, gate)

    async def _build_one(self, item: Pending, gate: PriorityGate) -> None:
        try:
            result = await self.call(item, gate)
        except Exception as error:
            result = self._internal_error(item.job, error)
        self._record(item.job, result)

    def _guarded(self, job: Job, step: Callable[[], T]) -> T | ObjectOutcome:
        try:
            return step()
        except Exception as error:
            return self._internal_error(job, error)

    def _internal_error(self, job: Job, error: Exception) -> ObjectOutcome:
        logger.debug("unexpected error for %s", job.candidate.path, exc_info=True)
        detail = f"{type(error).__name__}: {scrub(str(error), self.session.secrets)}"
        return outcome(job, Status.FAILED, Reason.INTERNAL_ERROR.with_detail(detail))

    def _record(self, job: Job, result: ObjectOutcome) -> None:
        self.results[job.candidate.path] = result
        self.session.report.add(result)
        self.done += 1
        now = time.monotonic()
        if self.done == self.total or now - self._last_progress > PROGRESS_INTERVAL:
            self._last_progress = now
            logger.info("AI docstrings for %s: %d/%d objects done", self.context.package.path, self.done, self.total)

    def settle(self, job: Job) -> ObjectOutcome | Pending:
        """Settle a job that needs no call (secret, lock file, cache, remembered failure, no connection)."""
        context, session = self.context, self.session
        if job.candidate.secret is not None:  # documenting it would publish a credential
            logger.warning("%s not generated: %s", job.candidate.public_path, job.candidate.secret)
            return outcome(job, Status.SKIPPED, job.candidate.secret)
        locked, stale = from_lock(context, job)
        if locked is not None:
            return locked
        found = find_or_build(context, job)  # warm.py: an answer cached under a cheap fingerprint, else the request
        if isinstance(found, ObjectOutcome):
            return found
        request = found
        cached = self._cached(job, request)
        if cached is not None:
            return cached
        remembered = self._remembered_failure(job, request)
        if remembered is not None:
            return or_stale(context, job, stale, remembered)
        if not self.settings.dry_run and not session.can_generate:
            reason = self._not_generating_reason()
            return or_stale(context, job, stale, outcome(job, Status.SKIPPED, reason, **request.fields()))
        return Pending(job, request, self._estimate(job, request), stale)

    def _estimate(self, job: Job, request: PreparedRequest) -> Estimate:
        """The request's estimate, with the example request that follows it when the job gets one."""
        # the call's modules, on first use
        from mkdocs_ai_docstrings._internal.estimate import estimate, estimate_example
        from mkdocs_ai_docstrings._internal.example_call import wants_example
        from mkdocs_ai_docstrings._internal.prompts import example_messages

        estimated = estimate(self.session, request)
        if self.context.route is not None or not wants_example(self.context, job):
            return estimated  # the `batch` route's answers get no example
        messages = example_messages(job.candidate.obj, self.context.package.path, "", "")
        return estimated.with_example(estimate_example(self.session, request, messages))

    def _cached(self, job: Job, request: PreparedRequest, *, counted: bool = True) -> ObjectOutcome | None:
        """Publish the answer the memory or the cache holds for `request` (`counted`: in the cache's statistics)."""
        session = self.session
        entry = session.memory.get(request.key)
        if entry is not None:
            session.cache.stats.hits += counted
        elif counted:
            entry = session.cache.get(request.key, request.schema)
        else:
            entry = session.cache.peek(request.key, request.schema)
        return self._publish_cached(job, entry, request) if entry is not None else None

    def planned(self, item: Pending, plan: Plan) -> ObjectOutcome:
        """Dry run: the plan's verdict on one job, with its estimate."""
        status, reason = (Status.PLANNED, None) if plan.lists(item) else (Status.SKIPPED, Reason.BUDGET)
        fields = item.request.fields()
        result = outcome(
            item.job, status, reason, estimated_tokens=item.estimate.expected, cost=item.estimate.cost, **fields
        )
        if self.context.route is not None:  # the `batch` command sends the planned requests as one job
            self.context.route.planned(self.context, item.job, item.request, result)
        return result

    async def call(self, item: Pending, gate: PriorityGate) -> ObjectOutcome:
        """Claim, call, validate and publish one job."""
        context, session = self.context, self.session
        job, request = item.job, item.request
        if any(self.results[dep].status is Status.GENERATED for dep in job.deps if dep in self.results):
            from mkdocs_ai_docstrings._internal.request import request_for

            request = request_for(context, job)  # its prompt now quotes the callees generated before it
            cached = self._cached(job, request, counted=False)
            if cached is not None:
                return cached
        key = request.key
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
            return self._publish_cached(job, entry, request)
        await gate.acquire(job.priority)
        try:
            from mkdocs_ai_docstrings._internal.call import generate  # on first use: the lock file never needs it

            return or_stale(context, job, item.stale, await generate(context, job, request, **request.fields()))
        finally:
            gate.release()
            if claimed:
                session.cache.unclaim(key)

    def _publish_cached(self, job: Job, entry: dict[str, Any], request: PreparedRequest) -> ObjectOutcome:
        answer = cached_answer(self.context, entry)
        repairs = list(entry.get("repairs", []))
        return publish(self.context, job, answer, Status.CACHED, repairs=repairs, cost=0.0, **request.fields())

    def _not_generating_reason(self) -> str:
        session = self.session
        if not self.settings.enabled:
            return Reason.DISABLED.with_detail("generation is off (`enabled: false`)")
        if session.connection is None:
            return Reason.NOT_CONFIGURED.with_detail(session.config_problem)
        if session.client is not None and session.client.stopped:
            return Reason.STOPPED.with_detail(session.client.stopped)
        return Reason.NOT_CONFIGURED

    def _remembered_failure(self, job: Job, request: PreparedRequest) -> ObjectOutcome | None:
        """An earlier build's answer for these exact inputs failed the checks: fail again without asking."""
        cache = self.session.cache
        if self.session.retry_failed:
            if not self.settings.dry_run:
                cache.forget_failure(request.key)
            return None
        reason = cache.failure(request.key)
        if reason is None:
            return None
        detail = f"{reason} (remembered from an earlier build; `retry_failed: true` asks again)"
        return outcome(job, Status.FAILED, detail, **request.fields())
