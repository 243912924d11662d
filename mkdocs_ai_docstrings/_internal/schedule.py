"""Scheduling: the one priority order of a package's jobs, callee dependencies, and the gate that keeps that order."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mkdocs_ai_docstrings._internal.discovery import Candidate
from mkdocs_ai_docstrings._internal.jobs import Job
from mkdocs_ai_docstrings._internal.lock import LockRecord
from mkdocs_ai_docstrings._internal.session import BuildSession

if TYPE_CHECKING:
    import asyncio

    from mkdocs_ai_docstrings._internal.estimate import Estimate
    from mkdocs_ai_docstrings._internal.request import PreparedRequest


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
        import asyncio  # imported when a request is waited for: a warm build runs no event loop

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


def _priority_rank(candidate: Candidate, parents_exported: set[str]) -> int:
    """The documented priority class: 0 exported top-level functions and classes, 1 their methods and properties,
    2 other top-level functions and classes, 3 other members, 4 the rest (modules)."""
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


def plan_jobs(pending: Sequence[Job]) -> list[Job]:
    """Compute facts, priorities (public surface first, then most referenced) and callee dependencies."""
    jobs = {job.candidate.path: job for job in pending}
    candidates = [job.candidate for job in jobs.values()]
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


def priority_order(jobs: Sequence[Job]) -> list[Job]:
    """The one order of a package's jobs, for the plan and the build alike: by priority, callees first among equals.

    A callee's priority is never worse than its callers' (`plan_jobs`), so every callee comes before its callers.
    """
    placed = {id(job): index for index, job in enumerate(jobs)}
    return sorted(jobs, key=lambda job: (job.priority, placed[id(job)]))


@dataclass
class Pending:
    """A job that needs a call: its request, the estimate of that request, and a stale lock record to fall back on."""

    job: Job
    request: PreparedRequest
    estimate: Estimate
    stale: LockRecord | None = None


@dataclass
class Plan:
    """Which pending jobs the budget covers, in priority order; the build generates exactly these first."""

    listed: list[Pending] = field(default_factory=list)
    left_out: list[Pending] = field(default_factory=list)
    """Jobs whose worst case did not fit next to the estimates of those before them."""
    expected: int = 0
    """The estimated tokens of the listed jobs."""

    def lists(self, item: Pending) -> bool:
        """Whether the plan lists `item`."""
        return any(listed is item for listed in self.listed)


def make_plan(session: BuildSession, pending: Sequence[Pending]) -> Plan:
    """Walk the jobs in priority order and list each whose worst case fits what the others are expected to leave.

    The rule is the ledger's (a request is sent only when its worst case fits), applied to estimates: the dry run
    reports this plan, and the build follows it (its listed jobs reserve tokens in this order).
    """
    plan = Plan()
    if not pending:
        return plan
    from mkdocs_ai_docstrings._internal.estimate import QUOTED_SUMMARY_TOKENS  # with the requests, built on a miss

    ledger = session.ledger
    spent = ledger.committed + ledger.reserved
    listed: dict[str, Pending] = {}
    for item in pending:
        # Callees listed before it are generated before it, and its prompt then quotes their summaries.
        quoted = [min(listed[dep].estimate.completion, QUOTED_SUMMARY_TOKENS) for dep in item.job.deps if dep in listed]
        cap = len(quoted) * session.settings.max_completion_tokens
        item.estimate = item.estimate.quoting(sum(quoted), cap, session.price)
        if ledger.budget is not None and spent + item.estimate.worst > ledger.budget:
            plan.left_out.append(item)
            continue
        plan.listed.append(item)
        listed[item.job.candidate.path] = item
        spent += item.estimate.expected
        plan.expected += item.estimate.expected
    return plan
