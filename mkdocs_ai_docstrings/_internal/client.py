"""The one place that talks to Azure OpenAI or an OpenAI-compatible server.

It owns authentication, the per-attempt token reservation, pacing, retries and the mapping of
wire errors to a small set of failure kinds. The SDK's own retries are off (`max_retries=0`) so
that the two never multiply and every HTTP attempt is reserved against the budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import re
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mkdocs_ai_docstrings._internal.budget import PromptRatio, Reservation, TokenLedger
from mkdocs_ai_docstrings._internal.connection import Connection
from mkdocs_ai_docstrings._internal.errors import ConfigurationError
from mkdocs_ai_docstrings._internal.lazy import lazy_module
from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.monitor import Attempt, Monitor, Outcome, classify
from mkdocs_ai_docstrings._internal.ratelimit import AdaptiveConcurrency, RateLimiter
from mkdocs_ai_docstrings._internal.retry import RetryBudget, RetryDecision, RetryPolicy, decide
from mkdocs_ai_docstrings._internal.schema import TEXT_MODE, wire_format
from mkdocs_ai_docstrings._internal.secrets import scrub
from mkdocs_ai_docstrings._internal.settings import Settings
from mkdocs_ai_docstrings._internal.tokens import TokenCounter

if TYPE_CHECKING:
    import openai
else:
    openai = lazy_module("openai")  # imported when the first request is built: a warm build never needs it

ENTRA_SCOPE = "https://cognitiveservices.azure.com/.default"
_REASONING_MODELS = re.compile(r"^(o\d|gpt-5)")

UNREACHABLE_AFTER = 3
"""Consecutive connection failures (nothing reached the server) after which no further request is sent."""
SILENT_AFTER = 6
"""Consecutive timed-out attempts (no response of any kind in between), beyond twice `concurrency` (one congestion
episode may time out every request in flight), after which no further request is sent."""
CONNECT_TIMEOUT = 10.0
"""Most seconds a TCP/TLS connection may take (never more than `request_timeout`)."""

_NEVER_SENT = frozenset({"ConnectError", "ConnectTimeout", "PoolTimeout", "UnsupportedProtocol", "InvalidURL"})
"""httpx exceptions raised before any byte of the request left the machine."""


@dataclass
class ChatResponse:
    """A parsed successful response."""

    content: str | None
    finish_reason: str | None
    refusal: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    usage_known: bool = True
    filtered: tuple[str, ...] = ()
    """Content-filter categories reported as filtered."""


class CallFailure(Exception):
    """A request that did not produce a response; `kind` is one of a small set of outcomes."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class UnsupportedMode(Exception):
    """The server rejected the structured-output mode; another may work."""


@dataclass
class CallStats:
    """Wire-level monitoring of one build."""

    requests: int = 0
    succeeded: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    timeouts: int = 0
    connection_failures: int = 0
    """Attempts that never reached the server (refused, DNS, connect timeout): they cost nothing."""
    lost: int = 0
    """Attempts sent whose outcome is unknown (timed out or disconnected after sending): possibly billed."""
    retries: int = 0
    latency_total: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)


@dataclass
class CallTally:
    """What one `complete()` call cost, for the object's outcome."""

    requests: int = 0
    """HTTP attempts made."""
    possibly_billed: int = 0
    """Tokens of attempts whose outcome is unknown."""


def _filtered_categories(results: Any) -> tuple[str, ...]:
    if not isinstance(results, Mapping):
        return ()
    return tuple(
        sorted(name for name, value in results.items() if isinstance(value, Mapping) and value.get("filtered"))
    )


def read_completion(completion: Any) -> ChatResponse:
    """The parts of a parsed chat completion the generator uses (live responses and batch output lines alike)."""
    usage = completion.usage
    choice = completion.choices[0] if completion.choices else None
    content = None
    refusal = None
    finish_reason = None
    filtered: tuple[str, ...] = ()
    if choice is not None:
        finish_reason = choice.finish_reason
        message = choice.message
        refusal = getattr(message, "refusal", None)
        content = message.content
        if message.tool_calls:
            content = message.tool_calls[0].function.arguments
        extra = getattr(choice, "model_extra", None) or {}
        filtered = _filtered_categories(extra.get("content_filter_results"))
    details = getattr(usage, "prompt_tokens_details", None) if usage else None
    return ChatResponse(
        content=content,
        finish_reason=finish_reason,
        refusal=refusal,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        cached_tokens=(getattr(details, "cached_tokens", 0) or 0) if details else 0,
        usage_known=usage is not None,
        filtered=filtered,
    )


def _error_body(error: openai.APIStatusError) -> Mapping[str, Any]:
    body = error.body
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        return inner if isinstance(inner, Mapping) else {}
    return {}


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def never_sent(error: BaseException) -> bool:
    """Whether a connection error happened before the request left the machine (refused, DNS, connect timeout)."""
    return any(
        type(cause).__name__ in _NEVER_SENT or isinstance(cause, (ConnectionRefusedError, socket.gaierror))
        for cause in _causes(error)
        if not isinstance(cause, openai.OpenAIError)
    )


def _cause_name(error: BaseException) -> str:
    """A short human name for the root cause of a connection error."""
    for cause in reversed(list(_causes(error))):
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, OSError) and "name" in str(cause).lower() and "resolution" in str(cause).lower():
            return "name not resolved"
    names = [type(cause).__name__ for cause in _causes(error)]
    if "ConnectTimeout" in names:
        return "connect timeout"
    return next((name for name in reversed(names) if name not in ("APIConnectionError", "APITimeoutError")), "error")


@contextlib.contextmanager
def _quiet_azure_identity() -> Iterator[None]:
    """Silence azure-identity's own warnings (one per credential it tried) while probing the sign-in."""
    loggers = [logging.getLogger(name) for name in ("azure.identity", "azure.core")]
    levels = [item.level for item in loggers]
    for item in loggers:
        item.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for item, level in zip(loggers, levels, strict=True):
            item.setLevel(level)


def entra_token_provider(credential: Any | None = None, *, key_env: str = "AZURE_OPENAI_API_KEY") -> Any:
    """A bearer-token provider for Azure OpenAI, checked once up front.

    Raises:
        ConfigurationError: One line saying what to set, when no Entra ID credential works.
    """
    from azure.identity import DefaultAzureCredential, get_bearer_token_provider

    with _quiet_azure_identity():
        try:
            provider = get_bearer_token_provider(credential or DefaultAzureCredential(), ENTRA_SCOPE)
            provider()  # check the sign-in once, up front, for a clear message
        except Exception as error:
            raise ConfigurationError(
                f"Microsoft Entra ID sign-in failed ({type(error).__name__}): set {key_env}, or sign in with "
                "`az login`, a managed identity, or AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, with the "
                "role 'Cognitive Services OpenAI User'"
            ) from None
    return provider


class ChatClient:
    """Sends structured chat requests with reservations, pacing, deadlines and retries."""

    def __init__(
        self,
        connection: Connection,
        settings: Settings,
        *,
        ledger: TokenLedger,
        limiter: RateLimiter,
        policy: RetryPolicy,
        retry_budget: RetryBudget,
        rng: random.Random | None = None,
        pace_counter: TokenCounter | None = None,
        started: float | None = None,
        monitor: Monitor | None = None,
    ) -> None:
        self.connection = connection
        self.monitor = monitor
        """Told of every HTTP attempt (latency, outcome, tokens), for the report and the call log."""
        self.settings = settings
        self.ledger = ledger
        self.limiter = limiter
        self.policy = policy
        self.retry_budget = retry_budget
        self.rng = rng or random.Random()
        self.pace_counter = pace_counter
        """Estimates what the server charges a request against its TPM quota (`None`: pace by the reservation)."""
        self.stats = CallStats()
        self.mode = "json_schema" if settings.output_mode == "auto" else settings.output_mode
        self.stopped: str | None = None
        """Why no further request is sent this build (bad credentials, daily quota, unreachable endpoint...)."""
        self.ratio = PromptRatio()
        """How the server counts prompt tokens compared with the local reservation counter."""
        self.concurrency = AdaptiveConcurrency(settings.concurrency)
        """Requests allowed in flight: lowered by timeouts and queueing, raised again by successes."""
        build_timeout = getattr(settings, "build_timeout", None)
        self.deadline = (
            (time.monotonic() if started is None else started) + build_timeout
            if build_timeout is not None and math.isfinite(build_timeout) and build_timeout > 0
            else math.inf
        )
        """`time.monotonic()` after which no request starts and requests in flight are cancelled."""
        self._connect_failures = 0
        self._silent = 0
        self._in_flight = 0
        self._room: asyncio.Event | None = None
        """Set when a request in flight ends (see `_wait_for_room`)."""
        self._overshoot_logged = False
        self._sdk: Any = None

    async def _wait_for_room(self) -> None:
        """Wait (until the build deadline at most) while as many requests are in flight as the adaptive concurrency
        allows now: a retry after a timeout holds its job's slot, and sent at once it would queue on the server
        behind the very requests that made it time out."""
        while self._in_flight >= self.concurrency.limit and not self.stopped:
            if self._room is None:
                self._room = asyncio.Event()
            self._room.clear()
            wait = self.deadline - time.monotonic()
            if wait <= 0:
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._room.wait(), timeout=None if math.isinf(wait) else wait)

    def _client(self) -> Any:
        if self._sdk is not None:
            return self._sdk
        conn = self.connection
        timeout = openai.Timeout(
            self.settings.request_timeout, connect=min(CONNECT_TIMEOUT, self.settings.request_timeout)
        )
        options: dict[str, Any] = {"max_retries": 0, "timeout": timeout}
        if conn.provider == "openai":
            self._sdk = openai.AsyncOpenAI(api_key=conn.api_key, base_url=conn.base_url, **options)
            return self._sdk
        azure: dict[str, Any] = {"azure_endpoint": conn.endpoint, "api_version": conn.api_version}
        if conn.auth == "key":
            azure["api_key"] = conn.api_key
        elif conn.auth == "token":
            azure["azure_ad_token"] = conn.token
        else:
            azure["azure_ad_token_provider"] = entra_token_provider(
                key_env=self.settings.api_key_env or "AZURE_OPENAI_API_KEY"
            )
        self._sdk = openai.AsyncAzureOpenAI(**azure, **options)
        return self._sdk

    def wire_format(self, schema: Mapping[str, Any] | None, mode: str | None = None) -> dict[str, Any]:
        """The request fields that constrain the answer to `schema` in `mode` (default: the mode in use)."""
        return wire_format(schema, mode or self.mode)

    def request_body(
        self,
        messages: list[dict[str, str]],
        schema: Mapping[str, Any] | None,
        mode: str | None = None,
        max_tokens: int | None = None,
    ) -> dict[str, Any]:
        """The full request body (without the model), as sent.

        `max_tokens` lowers the output cap below `max_completion_tokens` for this request, except for a reasoning
        model (its cap also counts the reasoning it does before answering).
        """
        body: dict[str, Any] = {"messages": messages, **self.wire_format(schema, mode)}
        cap = self.settings.max_completion_tokens
        if _REASONING_MODELS.match(self.connection.model):
            body["max_completion_tokens"] = cap
        else:
            body["max_tokens"] = min(cap, max_tokens or cap)
            body["temperature"] = self.settings.temperature
        return body

    def stop(self, reason: str) -> None:
        """Send no further request this build."""
        if self.stopped is None:
            self.stopped = reason
            logger.error("no further requests this build: %s", reason)

    def reservation_size(self, local_prompt_tokens: int) -> int:
        """Tokens to reserve for a prompt counted locally: scaled by the server's learned counting, plus the cap."""
        return self.ratio.size(local_prompt_tokens) + self.settings.max_completion_tokens

    async def complete(
        self,
        messages: list[dict[str, str]],
        schema: Mapping[str, Any] | None,
        prompt_tokens: Callable[[str], int],
        tally: CallTally | None = None,
        max_tokens: int | None = None,
    ) -> ChatResponse:
        """Send one request, structured by `schema` (`None`: a plain-text answer), retrying what can be retried.

        `prompt_tokens(mode)` counts the prompt locally in an output mode (messages and the schema or tool); the
        reservation adds the server's learned counting and `max_completion_tokens` (also when `max_tokens` caps
        this answer lower: see `request_body`). `tally`, when given, is increased for every HTTP request sent and
        every token possibly billed.

        Raises:
            CallFailure: When no usable response could be had; `kind` says why.
        """
        tally = tally if tally is not None else CallTally()
        if schema is None:  # plain text: no output mode to negotiate
            try:
                return await self._complete_in_mode(
                    messages, None, TEXT_MODE, prompt_tokens(TEXT_MODE), tally, max_tokens
                )
            except UnsupportedMode as error:
                raise CallFailure("bad_request", str(error)) from None
        modes = ["json_schema", "tool", "json_object"] if self.settings.output_mode == "auto" else [self.mode]
        while True:
            mode = self.mode
            try:
                return await self._complete_in_mode(messages, schema, mode, prompt_tokens(mode), tally, max_tokens)
            except UnsupportedMode as error:
                # Compare and advance: only the request that saw the current mode fail moves it on; a request that
                # failed in a mode already left behind retries in the mode now current.
                if self.mode != mode:
                    continue
                index = modes.index(mode) if mode in modes else len(modes)
                if index + 1 >= len(modes):
                    raise CallFailure("bad_request", f"the server rejected structured output: {error}") from None
                logger.warning("the server rejected output mode '%s'; trying '%s'", mode, modes[index + 1])
                self.mode = modes[index + 1]

    async def _complete_in_mode(
        self,
        messages: list[dict[str, str]],
        schema: Mapping[str, Any] | None,
        mode: str,
        local_prompt: int,
        tally: CallTally,
        max_tokens: int | None = None,
    ) -> ChatResponse:
        attempt = 0
        secrets = self.connection.secrets
        # The ledger reserves a provable over-count (UTF-8 bytes when the model's encoding is not available
        # offline, 3-4 times the real count); pacing by it would send at a fraction of the TPM quota. Pace by the
        # best estimate of what the server charges instead: its 429s and headers correct any under-count.
        pace: int | None = None
        if self.pace_counter is not None:
            wire = self.wire_format(schema, mode)
            pace = self.pace_counter.count_messages(messages, extra=wire) + self.settings.max_completion_tokens
        while True:
            self._check_deadline()
            if self.stopped:
                raise CallFailure("stopped", self.stopped)
            if attempt:
                await self._wait_for_room()
            try:
                self._client()
            except ConfigurationError as error:
                self.stop(str(error))
                raise CallFailure("auth", str(error)) from None
            reservation = await self.ledger.reserve(lambda: self.reservation_size(local_prompt))
            if reservation is None:
                worst = self.reservation_size(local_prompt)
                raise CallFailure("budget", f"the token budget cannot cover this request ({worst} tokens worst case)")
            status: int | None = None
            headers: Mapping[str, str] = {}
            message = ""
            sent = False
            response: ChatResponse | None = None
            failure: BaseException | None = None
            try:
                pacing = self.limiter.acquire(reservation.tokens if pace is None else min(pace, reservation.tokens))
                wait = self.deadline - time.monotonic()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(pacing, timeout=None if math.isinf(wait) else max(wait, 0.0))
                self._check_deadline()
                if self.stopped:
                    raise CallFailure("stopped", self.stopped)
                loop = asyncio.get_running_loop()
                started = loop.time()
                self.stats.requests += 1
                tally.requests += 1
                self._in_flight += 1
                in_flight = self._in_flight
                sent = True
                try:
                    budget_left = self.deadline - time.monotonic()
                    limit = min(self.settings.request_timeout, budget_left)
                    response = await asyncio.wait_for(
                        self._send(messages, schema, mode, reservation, local_prompt, max_tokens),
                        timeout=max(limit, 0.001),
                    )
                finally:
                    self._in_flight -= 1
                    if self._room is not None:
                        self._room.set()
                latency = loop.time() - started
                self.stats.latency_total += latency
                self.stats.succeeded += 1
                self._connect_failures = self._silent = 0
                self.concurrency.on_success(started, latency, self.settings.request_timeout)
                return response
            except openai.APIStatusError as error:
                failure = error
                self.stats.latency_total += loop.time() - started
                self.ledger.release(reservation)
                self._connect_failures = self._silent = 0
                status = error.status_code
                headers = error.response.headers
                self.limiter.observe_headers(headers)
                self.stats.statuses[str(status)] = self.stats.statuses.get(str(status), 0) + 1
                message = scrub(str(_error_body(error).get("message") or error.message), secrets)
                self._raise_final(error, status, message)
            except (openai.APITimeoutError, openai.APIConnectionError, asyncio.TimeoutError) as error:
                # asyncio.TimeoutError: the wall-clock deadline of the attempt (connect + first byte + whole body).
                failure = error
                self.stats.latency_total += loop.time() - started
                if isinstance(error, openai.APIConnectionError) and never_sent(error):
                    # Nothing reached the server: it cannot have billed anything.
                    self.ledger.release(reservation)
                    self.stats.connection_failures += 1
                    self._connect_failures += 1
                    cause = _cause_name(error)
                    message = f"connection to {self.connection.where} failed ({cause})"
                    if self._connect_failures >= UNREACHABLE_AFTER:
                        self.stop(
                            f"endpoint unreachable: {self.connection.where} ({cause}) after "
                            f"{self._connect_failures} consecutive connection failures; check "
                            f"{self.connection.source('endpoint')}"
                        )
                else:
                    # Sent, then lost: the server may have processed (and billed) it.
                    self.ledger.settle_unknown(reservation)
                    tally.possibly_billed += reservation.tokens
                    self.stats.lost += 1
                    timeout = isinstance(error, (openai.APITimeoutError, asyncio.TimeoutError))
                    self.stats.timeouts += timeout
                    cut = time.monotonic() >= self.deadline
                    message = (
                        f"the build deadline (build_timeout {self.settings.build_timeout:g} s) cut the request"
                        if cut
                        else f"no complete answer within request_timeout ({self.settings.request_timeout:g} s)"
                        if timeout
                        else f"connection lost after sending: {scrub(str(error), secrets)}"
                    )
                    self._connect_failures = 0
                    if timeout:
                        self.concurrency.on_timeout(started, in_flight)
                        self._silent += 1
                        if self._silent >= SILENT_AFTER + 2 * self.settings.concurrency and not cut:
                            self.stop(
                                f"the server at {self.connection.where} sent no complete answer within "
                                f"request_timeout ({self.settings.request_timeout:g} s) {self._silent} times in a row"
                            )
                    self._check_deadline()
            except BaseException as error:
                failure = error
                # Anything else (cancellation, a bug, an answer the SDK cannot read): never leave the reservation
                # held. Once sent, the server may have billed it.
                if reservation.open:
                    if sent:
                        self.ledger.settle_unknown(reservation)
                        tally.possibly_billed += reservation.tokens
                        self.stats.lost += 1
                    else:
                        self.ledger.release(reservation)
                raise
            finally:
                if sent and self.monitor is not None:
                    self._record(loop.time() - started, failure, status, response, tally, attempt, mode, messages)
            decision, delay = decide(
                attempt=attempt,
                status=status,
                headers=headers,
                message=message,
                policy=self.policy,
                budget=self.retry_budget,
                rng=self.rng,
            )
            if status == 429:
                self.stats.rate_limited += 1
            elif status is not None and status >= 500:
                self.stats.server_errors += 1
            if decision is RetryDecision.STOP_BUILD:
                self.stop(f"the server asks to wait {delay:.0f} s (quota exhausted?): {message}")
                raise CallFailure("quota", message)
            if decision is RetryDecision.GIVE_UP:
                kind = "rate_limited" if status == 429 else "timeout" if status is None else "server_error"
                raise CallFailure(kind, f"gave up after {attempt + 1} attempt(s): {message}")
            if status == 429:
                self.limiter.pause(delay)
            self.stats.retries += 1
            attempt += 1
            logger.debug("retrying in %.2f s after: %s", delay, message)
            await asyncio.sleep(min(delay, max(self.deadline - time.monotonic(), 0.0)))

    def _record(
        self,
        latency: float,
        failure: BaseException | None,
        status: int | None,
        response: ChatResponse | None,
        tally: CallTally,
        retry: int,
        mode: str,
        messages: list[dict[str, str]],
    ) -> None:
        """Tell the monitor of one HTTP attempt."""
        assert self.monitor is not None
        unsent = isinstance(failure, openai.APIConnectionError) and never_sent(failure)
        outcome = classify(failure, status=status, unsent=unsent)
        self.monitor.record(
            Attempt(
                outcome=outcome,
                status=200 if response is not None or outcome is Outcome.INVALID_ANSWER else status,
                latency=latency,
                attempt=tally.requests,
                retry=retry,
                prompt_tokens=response.prompt_tokens if response is not None else 0,
                completion_tokens=response.completion_tokens if response is not None else 0,
                mode=mode,
                messages=messages if getattr(self.settings, "call_log_prompts", False) else None,
            )
        )

    def _check_deadline(self) -> None:
        """Stop the build once its deadline has passed."""
        if self.stopped is None and time.monotonic() >= self.deadline:
            self.stop(
                f"build_timeout reached ({self.settings.build_timeout:g} s): requests in flight were cancelled and "
                "the remaining objects are left without a docstring"
            )

    def _raise_final(self, error: openai.APIStatusError, status: int, message: str) -> None:
        """Raise for errors no retry can fix; return for retryable ones."""
        body = _error_body(error)
        code = str(body.get("code") or "")
        if status in (401, 403):
            self.stop(
                f"authentication failed ({status}): check the key in "
                f"{self.settings.api_key_env or 'AZURE_OPENAI_API_KEY'} or the Entra ID role "
                f"'Cognitive Services OpenAI User' for {self.connection.describe()}"
            )
            raise CallFailure("auth", message)
        if status == 404:
            self.stop(
                f"deployment '{self.connection.deployment}' not found at {self.connection.describe()}: "
                f"set {self.connection.source('deployment')} to an existing deployment"
            )
            raise CallFailure("not_found", message)
        if code == "content_filter" or "content management policy" in message:
            inner = body.get("innererror") or body.get("inner_error") or {}
            results = inner.get("content_filter_result") or inner.get("content_filter_results") or {}
            categories = ", ".join(_filtered_categories(results)) or "unspecified"
            raise CallFailure("content_filter", f"prompt blocked by the content filter ({categories})")
        lowered = message.lower()
        if status in (400, 422, 500) and any(
            word in lowered for word in ("response_format", "json_schema", "tool_choice", "'text' or 'json_object'")
        ):
            raise UnsupportedMode(message)
        if status in (400, 422):
            raise CallFailure("bad_request", message)

    async def _send(
        self,
        messages: list[dict[str, str]],
        schema: Mapping[str, Any] | None,
        mode: str,
        reservation: Reservation,
        local_prompt: int,
        max_tokens: int | None = None,
    ) -> ChatResponse:
        raw = await self._client().chat.completions.with_raw_response.create(
            model=self.connection.deployment, **self.request_body(messages, schema, mode, max_tokens)
        )
        self.limiter.observe_headers(raw.headers)
        try:
            completion = raw.parse()
            usage = completion.usage
            billed = usage.total_tokens if usage is not None else None
            prompt = usage.prompt_tokens if usage is not None else None
        except Exception as error:  # a 200 whose body the SDK cannot read: the server may have billed it
            raise CallFailure(
                "bad_response", f"the server's answer could not be read ({type(error).__name__})"
            ) from None
        if isinstance(prompt, int):
            self.ratio.observe(prompt, local_prompt)  # before settling: woken waiters size with the new ratio
        over = self.ledger.settle(reservation, billed if isinstance(billed, int) else None)
        self.ledger.calibrate()
        if over and not self._overshoot_logged:
            self._overshoot_logged = True
            logger.warning(
                "the server billed %d tokens for a request reserved at %d: it counts prompts %.2f× the local count; "
                "later reservations are sized by that ratio",
                billed,
                reservation.tokens,
                self.ratio.ratio,
            )
        self.stats.statuses["200"] = self.stats.statuses.get("200", 0) + 1
        return read_completion(completion)

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._sdk is not None:
            await self._sdk.close()
            self._sdk = None


def parse_content(content: str | None) -> Any:
    """Parse a JSON answer, tolerating a Markdown code fence around it."""
    if content is None:
        raise ValueError("the answer has no content")
    text = content.strip()
    fenced = re.match(r"^```(?:json)?\s*(.*?)\s*```$", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    return json.loads(text)
