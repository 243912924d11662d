"""Scheduling: the one priority order of a package's jobs, callee dependencies, and the gate that keeps that order."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable, Sequence

from mkdocs_ai_docstrings._internal.discovery import Candidate
from mkdocs_ai_docstrings._internal.jobs import Job, job_for


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


def plan_jobs(candidates: Sequence[Candidate]) -> list[Job]:
    """Compute facts, priorities (public surface first, then most referenced) and callee dependencies."""
    jobs = {c.path: job_for(c) for c in candidates}
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
