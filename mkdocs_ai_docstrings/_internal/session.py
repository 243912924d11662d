"""State of one build: settings, connection, cache, ledger, limiter, report and the event loop."""

from __future__ import annotations

import copy
import dataclasses
import os
import threading
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import griffe

from mkdocs_ai_docstrings._internal.budget import TokenLedger
from mkdocs_ai_docstrings._internal.cache import AnswerCache, CacheMode
from mkdocs_ai_docstrings._internal.connection import Connection, resolve_connection
from mkdocs_ai_docstrings._internal.coverage import Coverage
from mkdocs_ai_docstrings._internal.discovery import missing_reason, resolve_in_package
from mkdocs_ai_docstrings._internal.errors import ConfigurationError
from mkdocs_ai_docstrings._internal.lock import DEFAULT_LOCK_FILE, LockFile
from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.prices import estimate_cost, price_for
from mkdocs_ai_docstrings._internal.prompts import PromptTemplates
from mkdocs_ai_docstrings._internal.report import BuildReport, Reason, Status
from mkdocs_ai_docstrings._internal.secrets import seal_key
from mkdocs_ai_docstrings._internal.settings import DEFAULT_API_VERSION, Settings
from mkdocs_ai_docstrings._internal.shared_cache import open_cache, shared_cache_options
from mkdocs_ai_docstrings._internal.tokens import estimate_counter, reservation_counter

if TYPE_CHECKING:  # the client stack is imported when the first request needs it (see `BuildSession.client`)
    import asyncio

    from mkdocs_ai_docstrings._internal.client import ChatClient
    from mkdocs_ai_docstrings._internal.monitor import Monitor
    from mkdocs_ai_docstrings._internal.ratelimit import RateLimiter
    from mkdocs_ai_docstrings._internal.retry import RetryBudget, RetryPolicy

T = TypeVar("T")


class BuildSession:
    """Everything one build shares across packages; created by the plugin or, standalone, by the extension."""

    def __init__(
        self,
        settings: Settings,
        *,
        base_dir: str | Path = ".",
        environ: Mapping[str, str] | None = None,
        memory: dict[str, dict[str, Any]] | None = None,
        config_dir: str | Path | None = None,
    ) -> None:
        """`config_dir` is the folder of the site's `mkdocs.yml`: the lock file lives there (`None`: no lock file)."""
        self.settings = settings
        self.base_dir = Path(base_dir)
        self.report = BuildReport(dry_run=settings.dry_run)
        self.memory: dict[str, dict[str, Any]] = {} if memory is None else memory
        """Answers by cache key kept in memory across `mkdocs serve` rebuilds."""
        self.templates = PromptTemplates.load(settings.system_prompt_file, settings.user_prompt_file)
        self.connection: Connection | None = None
        self.config_problem: str | None = None
        try:
            self.connection = resolve_connection(settings, environ)
        except ConfigurationError as error:
            self.config_problem = str(error)
        env = os.environ if environ is None else environ
        # Names from the configuration, never from credentials: cache keys and lock records agree without them.
        self.deployment = settings.deployment or env.get("AZURE_OPENAI_DEPLOYMENT") or "gpt-4o-mini"
        model = self.connection.model if self.connection else (settings.model or self.deployment)
        self.model = model
        self.api_version: str | None = (
            None
            if settings.provider == "openai"
            else settings.api_version or env.get("OPENAI_API_VERSION") or DEFAULT_API_VERSION
        )
        self.frozen = settings.frozen or _truthy(env.get("AI_DOCSTRINGS_FROZEN"))
        """No request at all; an object without an up-to-date lock record fails the build."""
        self.retry_failed = settings.retry_failed or _truthy(env.get("AI_DOCSTRINGS_RETRY_FAILED"))
        self.reservation_counter = reservation_counter(model)
        self.estimate_counter = estimate_counter(model)
        self.price = price_for(model, settings.prices)
        self.report.model = model
        self.report.connection = (
            self.connection.describe() if self.connection else f"not configured: {self.config_problem}"
        )
        self.report.token_counter = self.reservation_counter.source
        self.report.totals.budget = settings.token_budget
        cache_dir = Path(settings.cache_dir)
        cache_url, namespace = shared_cache_options(
            settings.cache_url, settings.cache_namespace, env, config_dir=config_dir, base_dir=self.base_dir
        )
        self.secrets: tuple[str, ...] = self.connection.secrets if self.connection else ()
        self.cache = open_cache(
            cache_dir if cache_dir.is_absolute() else self.base_dir / cache_dir,
            ttl_days=settings.cache_ttl_days,
            url=cache_url,
            namespace=namespace,
            seal_key=seal_key(self.secrets),
        )
        self.lock: LockFile | None = None
        if settings.lock_file is not False and config_dir is not None:
            lock_path = Path(DEFAULT_LOCK_FILE if settings.lock_file is True else settings.lock_file)
            self.lock = LockFile.load(
                lock_path if lock_path.is_absolute() else Path(config_dir) / lock_path, cache=self.cache
            )
        self.ledger = TokenLedger(settings.token_budget)
        self.started = time.monotonic()
        """When the build started: `build_timeout` counts from here."""
        self._environ = env
        self._config_dir = config_dir
        self._wants_client = (
            self.connection is not None and settings.enabled and not settings.dry_run and not self.frozen
        )
        self._client: ChatClient | None = None
        self._client_stack: _ClientStack | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.finished = False
        self.coverage = Coverage()
        """Docstring coverage of the packages this build documented (filled by the extension)."""

    @property
    def can_generate(self) -> bool:
        """Whether requests may be sent this build."""
        return self.client is not None and self.client.stopped is None

    @property
    def client(self) -> ChatClient | None:
        """The client, built when first asked for (`None` when this build sends nothing): a build served from the
        lock file or the cache never imports the client stack."""
        if self._client is None and self._wants_client:
            self._client = self._build_client()
        return self._client

    @property
    def stack(self) -> _ClientStack:
        """Pacing, retry rules and budget, and the monitor of the build's requests, built on first use."""
        if self._client_stack is None:
            self._client_stack = _ClientStack.create(self.settings, self.price)
        return self._client_stack

    def _build_client(self) -> ChatClient:
        from mkdocs_ai_docstrings._internal.client import ChatClient
        from mkdocs_ai_docstrings._internal.monitor import CallLog, call_log_path

        connection, settings = self.connection, self.settings
        assert connection is not None
        stack = self.stack
        client = ChatClient(
            connection,
            settings,
            ledger=self.ledger,
            limiter=stack.limiter,
            policy=stack.policy,
            retry_budget=stack.retry_budget,
            pace_counter=self.estimate_counter,
            started=self.started,
            monitor=stack.monitor,
        )
        base = self._config_dir if self._config_dir is not None else self.base_dir
        log_path = call_log_path(settings.call_log, self._environ, base)
        if log_path is not None:
            stack.monitor.call_log = CallLog.open(log_path, connection, prompts=settings.call_log_prompts)
        return client

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the session's own event loop thread (safe inside a running loop)."""
        import asyncio  # imported when a request is waited for: a warm build runs no event loop

        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name="ai-docstrings", daemon=True)
            self._thread.start()
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def finish(self) -> BuildReport:
        """Close the client and the loop, and fill the report's totals (once; later calls return the report)."""
        if self.finished:
            return self.report
        if self._loop is not None:
            if self._client is not None:
                self.run(self._client.close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._loop.close()
            self._loop = None
        if self._client_stack is not None:
            self._client_stack.monitor.close()
        self._fill(self.report)
        self._finish_lock()
        self.report.quality()
        self.cache.close()
        self.finished = True
        return self.report

    def _fill(self, report: BuildReport) -> None:
        """Fill `report`'s totals and notes from the ledger, the cache and the client."""
        totals = report.totals
        outcomes = report.outcomes.values()
        totals.prompt_tokens = sum(o.prompt_tokens for o in outcomes)
        totals.completion_tokens = sum(o.completion_tokens for o in outcomes)
        client = self._client
        totals.total_tokens = self.ledger.spent if client else 0
        totals.possibly_billed_tokens = self.ledger.possibly_billed if client else 0
        totals.cost = estimate_cost(
            self.price, prompt_tokens=totals.prompt_tokens, completion_tokens=totals.completion_tokens
        )
        totals.budget_remaining = self.ledger.remaining
        totals.cache_hits = self.cache.stats.hits
        totals.cache_misses = self.cache.stats.misses
        if client is not None:
            stats = client.stats
            totals.requests = stats.requests
            totals.retries = stats.retries
            totals.rate_limited = stats.rate_limited
            totals.server_errors = stats.server_errors
            totals.timeouts = stats.timeouts
            totals.connection_failures = stats.connection_failures
            totals.mean_latency_s = round(stats.latency_total / stats.requests, 3) if stats.requests else None
            totals.latency_p50_s, totals.latency_p95_s = self.stack.monitor.percentiles()
            if client.stopped:
                report.notes.append(f"Requests stopped: {client.stopped}")
        looked_up = totals.cache_hits + totals.cache_misses
        totals.cache_hit_rate = round(totals.cache_hits / looked_up, 4) if looked_up else None
        report.modules = self._client_stack.monitor.per_module() if self._client_stack is not None else {}
        waiting = sum(1 for o in outcomes if o.status is Status.SKIPPED)
        if self.config_problem and waiting and not self.settings.dry_run:
            report.notes.append(
                f"{waiting} object(s) are waiting for a docstring. To generate them, set AZURE_OPENAI_ENDPOINT and "
                "AZURE_OPENAI_API_KEY (or sign in with Microsoft Entra ID), or configure `provider: openai`."
            )
        report.notes.extend(cache_notes(self.cache))
        report.coverage = self.coverage.to_dict()

    def snapshot(self) -> BuildReport:
        """The report so far, totals filled, the session left open (written after each package standalone)."""
        # What `_fill` and `quality` set is copied; the outcomes themselves are only read.
        report = dataclasses.replace(
            self.report,
            outcomes=dict(self.report.outcomes),
            totals=copy.copy(self.report.totals),
            notes=list(self.report.notes),
            modules=dict(self.report.modules),
        )
        self._fill(report)
        report.quality()
        return report

    def save_lock(self) -> None:
        """Write the lock file as it stands (after each package standalone, so a killed build keeps it)."""
        if self.lock is not None and not self.settings.dry_run and not self.frozen:
            self.lock.write()

    def _finish_lock(self) -> None:
        """Drop records of objects that no longer need them, write the lock, and note stale and frozen objects."""
        outcomes = list(self.report.outcomes.values())
        if self.lock is not None:
            fresh = sum(1 for o in outcomes if o.lock == "fresh")
            written = sum(1 for o in outcomes if o.lock == "written")
            self.report.notes.append(f"Lock file: {fresh} published from it, {written} record(s) added or updated.")
        stale = sorted(o.path for o in outcomes if o.lock == "stale")
        if stale:
            shown = "shown with an out-of-date note" if self.settings.stale == "show" else "left out"
            self.report.notes.append(
                f"{len(stale)} lock record(s) are stale (their code changed; {shown}): {', '.join(stale[:20])}"
                + (" ..." if len(stale) > 20 else "")
                + "."
            )
        for line in self.frozen_failures():
            logger.error("%s", line)
        lock = self.lock
        if lock is None or self.settings.dry_run or self.frozen:
            return
        if lock.write():
            logger.info("ai-docstrings: lock file written: %s (%d record(s))", lock.path, len(lock.records))

    def prune_lock(self, package: griffe.Module) -> None:
        """Drop the records of `package` no longer needed: their object is gone or has a human docstring.

        Call it once the package's candidates are processed; records of objects left out by `include`,
        `exclude` or the budget stay.
        """
        lock = self.lock
        if lock is None or self.settings.dry_run or self.frozen:
            return
        for path in [p for p in lock.records if p not in lock.used and _within(p, package.path)]:
            obj = resolve_in_package(package, path)
            if obj is None or missing_reason(obj, self.settings.min_docstring_length) is None:
                lock.drop(path)

    def frozen_failures(self) -> list[str]:
        """One line per object a frozen build could not publish from the lock."""
        return [
            f"ai-docstrings (frozen): {o.canonical_path or o.path}: {o.reason.removeprefix(f'{Reason.FROZEN}: ')}"
            for o in sorted(self.report.outcomes.values(), key=lambda o: o.path)
            if o.reason_kind is Reason.FROZEN
        ]

    def log_start(self) -> None:
        """Say once, at the start, how generation is set up (or why it is off)."""
        if self.frozen:
            logger.info("frozen build: no request is sent; docstrings come from the lock file only")
        elif self.settings.dry_run:
            logger.info("plan mode: no request is sent; estimates use %s", self.estimate_counter.source)
        elif not self.settings.enabled:
            logger.info("generation is disabled (`enabled: false`): missing docstrings are only counted")
        elif self.connection is None:
            logger.info("generation is off: %s", self.config_problem)
        else:
            logger.info("generating missing docstrings with %s", self.connection.describe())


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _within(path: str, package: str) -> bool:
    return path == package or path.startswith(package + ".")


def cache_notes(cache: AnswerCache) -> list[str]:
    """Report notes on what the answer cache could not do this build."""
    notes = []
    stats = cache.stats
    if stats.unstored:
        notes.append(
            f"{stats.unstored} new answer(s) could not be stored in the answer cache ({cache.problem}): they are "
            "kept in memory for `mkdocs serve` rebuilds, but the next build will generate (and pay for) them again."
        )
    elif cache.mode is not CacheMode.READ_WRITE:
        notes.append(f"Answer cache {cache.mode.value}: {cache.problem}.")
    if stats.invalid:
        notes.append(
            f"{stats.invalid} cached entr{'y' if stats.invalid == 1 else 'ies'} did not validate and were ignored."
        )
    return notes


@dataclass
class _ClientStack:
    """What sending requests needs beside the client, built with it (or when a batch asks for it)."""

    limiter: RateLimiter
    policy: RetryPolicy
    retry_budget: RetryBudget
    monitor: Monitor

    @classmethod
    def create(cls, settings: Settings, price: Any) -> _ClientStack:
        from mkdocs_ai_docstrings._internal.monitor import Monitor
        from mkdocs_ai_docstrings._internal.ratelimit import RateLimiter
        from mkdocs_ai_docstrings._internal.retry import RetryBudget, RetryPolicy

        policy = RetryPolicy(
            max_attempts=settings.max_attempts,
            max_retry_after=settings.max_retry_after,
            build_retry_cap=settings.build_retry_cap,
        )
        return cls(
            limiter=RateLimiter(rpm=settings.rpm, tpm=settings.tpm),
            policy=policy,
            retry_budget=RetryBudget(policy.build_retry_cap),
            monitor=Monitor(price=price),
        )
