"""Per-attempt monitoring: latency percentiles, figures per module, and the call log.

The client records every HTTP attempt of its retry loop here (the SDK's own retries are off, so each attempt is one
request on the wire). The figures go to the report; on request, each attempt is also one line of the call log in
the OTLP/JSON logs shape that an OpenTelemetry collector's `otlpjsonfile` receiver reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import os
import statistics
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.prices import Price, estimate_cost

if TYPE_CHECKING:
    from mkdocs_ai_docstrings._internal.connection import Connection

CALL_LOG_VARIABLE = "AI_DOCSTRINGS_CALL_LOG"
"""Environment variable naming the call log when the `call_log` option is not set."""
SCOPE_NAME = "mkdocs-ai-docstrings"
"""Instrumentation scope of every log record."""


class Outcome(str, Enum):
    """What one HTTP attempt came to."""

    OK = "ok"
    RATE_LIMITED = "rate_limited"
    """429."""
    SERVER_ERROR = "server_error"
    """5xx."""
    CLIENT_ERROR = "client_error"
    """Another 4xx (bad request, content filter, authentication, unknown deployment)."""
    TIMEOUT = "timeout"
    """No complete answer within `request_timeout` (or the build deadline)."""
    CONNECTION_ERROR = "connection_error"
    """Nothing reached the server (refused, DNS, connect timeout)."""
    CONNECTION_LOST = "connection_lost"
    """Sent, then the connection dropped without an answer."""
    INVALID_ANSWER = "invalid_answer"
    """A 200 whose body the SDK could not read."""
    CANCELLED = "cancelled"
    """Cut by the build (cancellation or an unexpected error)."""


_SEVERITY = {Outcome.OK: ("INFO", 9), Outcome.CANCELLED: ("WARN", 13)}
"""OTLP severity of an outcome (anything else: WARN, 13)."""


@dataclass(frozen=True)
class CallContext:
    """The object a request is about; set by the generator around its calls."""

    path: str
    module: str
    """The dotted path of the module that defines the object: the unit of the per-module figures."""
    key: str
    """The answer's cache key (a SHA-256 of the request's inputs)."""


CURRENT_CALL: contextvars.ContextVar[CallContext | None] = contextvars.ContextVar("ai_docstrings_call", default=None)
"""The object of the requests made by the running task (each generator task has its own context)."""


@dataclass(frozen=True)
class Attempt:
    """One HTTP attempt, as the client saw it."""

    outcome: Outcome
    status: int | None
    latency: float
    """Seconds from sending to the answer (or the failure)."""
    attempt: int
    """1 for the first attempt of a request, 2 for the next (mode fallbacks included)."""
    retry: int
    """Retries of this request before this attempt (0: a first attempt)."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    mode: str = ""
    messages: Sequence[Mapping[str, str]] | None = None
    """The prompt as sent (already redacted); kept only when `call_log_prompts` is on."""


def classify(error: BaseException | None, *, status: int | None, unsent: bool) -> Outcome:
    """The outcome of an attempt from the exception that ended it (`None`: a response was returned)."""
    if error is None:
        return Outcome.OK
    if status is not None:
        return (
            Outcome.RATE_LIMITED if status == 429 else Outcome.SERVER_ERROR if status >= 500 else Outcome.CLIENT_ERROR
        )
    if unsent:
        return Outcome.CONNECTION_ERROR
    kind = getattr(error, "kind", None)
    if kind == "bad_response":
        return Outcome.INVALID_ANSWER
    names = {type(cause).__name__ for cause in (error, error.__cause__, error.__context__) if cause is not None}
    if isinstance(error, asyncio.TimeoutError) or names & {"APITimeoutError", "TimeoutError", "ReadTimeout"}:
        return Outcome.TIMEOUT
    if "APIConnectionError" in names:
        return Outcome.CONNECTION_LOST
    return Outcome.CANCELLED


def percentile_pair(latencies: Sequence[float]) -> tuple[float | None, float | None]:
    """p50 and p95 of `latencies` (`statistics.quantiles`, inclusive method: never outside the measured range)."""
    if not latencies:
        return None, None
    if len(latencies) == 1:
        return latencies[0], latencies[0]
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49], cuts[94]


@dataclass
class ModuleFigures:
    """Requests and billed tokens of the objects of one module."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost: float | None = 0.0


@dataclass
class Monitor:
    """Collects every attempt of one build; writes the call log when one is open."""

    price: Price | None = None
    call_log: CallLog | None = None
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    modules: dict[str, ModuleFigures] = field(default_factory=dict)

    def record(self, attempt: Attempt, context: CallContext | None = None) -> None:
        """Count one attempt (its object from `CURRENT_CALL` unless given) and log it."""
        context = context if context is not None else CURRENT_CALL.get()
        self.latencies.append(attempt.latency)
        self.outcomes[attempt.outcome.value] += 1
        figures = self.modules.setdefault(context.module if context else "", ModuleFigures())
        figures.requests += 1
        figures.prompt_tokens += attempt.prompt_tokens
        figures.completion_tokens += attempt.completion_tokens
        figures.total_tokens += attempt.prompt_tokens + attempt.completion_tokens
        cost = estimate_cost(
            self.price, prompt_tokens=attempt.prompt_tokens, completion_tokens=attempt.completion_tokens
        )
        figures.cost = None if cost is None or figures.cost is None else figures.cost + cost
        if self.call_log is not None:
            self.call_log.write(attempt, context)

    def percentiles(self) -> tuple[float | None, float | None]:
        """Latency p50 and p95 over the attempts, in seconds, rounded to the millisecond."""
        p50, p95 = percentile_pair(self.latencies)
        return (None if p50 is None else round(p50, 3)), (None if p95 is None else round(p95, 3))

    def per_module(self) -> dict[str, dict[str, Any]]:
        """The figures by module, largest token count first (`""`: requests made for no known object)."""
        ordered = sorted(self.modules.items(), key=lambda item: (-item[1].total_tokens, item[0]))
        return {name: asdict(figures) for name, figures in ordered}

    def close(self) -> None:
        """Close the call log."""
        if self.call_log is not None:
            self.call_log.close()


def call_log_path(option: str | None, environ: Mapping[str, str], folder: str | os.PathLike[str]) -> Path | None:
    """The call log's path: the option, else `AI_DOCSTRINGS_CALL_LOG`; relative paths start from `folder`."""
    value = option or environ.get(CALL_LOG_VARIABLE, "").strip() or None
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(folder) / path


def _value(value: Any) -> dict[str, Any]:
    """An OTLP/JSON `AnyValue` (64-bit integers as decimal strings, as ProtoJSON encodes them)."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def _attributes(pairs: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": _value(value)} for key, value in pairs.items() if value is not None]


class CallLog:
    """Appends one OTLP/JSON `LogsData` line per HTTP attempt to a file.

    Attribute names follow OpenTelemetry's semantic conventions where they have one (`gen_ai.*`,
    `http.response.status_code`, `error.type`); the rest are namespaced `ai_docstrings.*`. No key, header or (unless
    `prompts`) prompt text is ever written; `secrets` are removed from prompts as a last guard.
    """

    def __init__(
        self,
        file: IO[str],
        path: Path,
        *,
        provider: str,
        deployment: str,
        model: str,
        server: str,
        prompts: bool = False,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.file: IO[str] | None = file
        self.path = path
        self.deployment = deployment
        self.model = model
        self.prompts = prompts
        self.secrets = secrets
        self.build_id = os.urandom(8).hex()
        """Random id of the build, a resource attribute: it groups one build's lines."""
        self.lines = 0
        self.resource = {
            "attributes": _attributes(
                {
                    "service.name": SCOPE_NAME,
                    "ai_docstrings.build.id": self.build_id,
                    "gen_ai.provider.name": "azure.ai.openai" if provider == "azure" else "openai",
                    "server.address": server,
                }
            )
        }

    @classmethod
    def open(cls, path: Path, connection: Connection, *, prompts: bool = False) -> CallLog | None:
        """Open `path` for appending the calls sent through `connection`; one warning and `None` when it cannot be
        written."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            file = path.open("a", encoding="utf-8")
        except OSError as error:
            logger.warning("the call log %s cannot be written (%s): no call log this build", path, error.strerror)
            return None
        return cls(
            file,
            path,
            provider=connection.provider,
            deployment=connection.deployment,
            model=connection.model,
            server=connection.where,
            prompts=prompts,
            secrets=connection.secrets,
        )

    def record(self, attempt: Attempt, context: CallContext | None) -> dict[str, Any]:
        """The `LogsData` object of one attempt."""
        now = time.time_ns()
        started = now - int(attempt.latency * 1e9)
        severity, number = _SEVERITY.get(attempt.outcome, ("WARN", 13))
        status = f" {attempt.status}" if attempt.status is not None else ""
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": self.deployment,
            "ai_docstrings.model": self.model,
            "ai_docstrings.object": context.path if context else None,
            "ai_docstrings.module": context.module if context else None,
            "ai_docstrings.cache_key": context.key if context else None,
            "ai_docstrings.outcome": attempt.outcome.value,
            "http.response.status_code": attempt.status,
            "error.type": None if attempt.outcome is Outcome.OK else attempt.outcome.value,
            "ai_docstrings.latency_s": round(attempt.latency, 6),
            "gen_ai.usage.input_tokens": attempt.prompt_tokens,
            "gen_ai.usage.output_tokens": attempt.completion_tokens,
            "ai_docstrings.attempt": attempt.attempt,
            "ai_docstrings.retry": attempt.retry,
            "ai_docstrings.output_mode": attempt.mode or None,
        }
        if self.prompts and attempt.messages is not None:
            text = json.dumps(list(attempt.messages), ensure_ascii=False)
            for secret in self.secrets:
                text = text.replace(secret, "***")
            attributes["gen_ai.input.messages"] = text
        record = {
            "timeUnixNano": str(started),
            "observedTimeUnixNano": str(now),
            "severityNumber": number,
            "severityText": severity,
            "body": {"stringValue": f"chat completion {attempt.outcome.value}{status} in {attempt.latency:.3f} s"},
            "attributes": _attributes(attributes),
        }
        return {
            "resourceLogs": [
                {"resource": self.resource, "scopeLogs": [{"scope": {"name": SCOPE_NAME}, "logRecords": [record]}]}
            ]
        }

    def write(self, attempt: Attempt, context: CallContext | None) -> None:
        """Append the line of one attempt; a write error warns once and closes the log."""
        if self.file is None:
            return
        line = json.dumps(self.record(attempt, context), ensure_ascii=False, separators=(",", ":"))
        try:
            self.file.write(line + "\n")
            self.file.flush()
        except OSError as error:
            logger.warning("the call log %s could not be written (%s): it stops here", self.path, error.strerror)
            self.close()
            return
        self.lines += 1

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self.file is not None:
            with contextlib.suppress(OSError):
                self.file.close()
            self.file = None
