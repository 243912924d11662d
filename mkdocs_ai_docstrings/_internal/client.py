"""The one place that talks to Azure OpenAI or an OpenAI-compatible server.

It owns authentication, the per-attempt token reservation, pacing, retries and the mapping of
wire errors to a small set of failure kinds. The SDK's own retries are off (`max_retries=0`) so
that the two never multiply and every HTTP attempt is reserved against the budget.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import openai

from mkdocs_ai_docstrings._internal.budget import Reservation, TokenLedger
from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.ratelimit import RateLimiter
from mkdocs_ai_docstrings._internal.retry import RetryBudget, RetryDecision, RetryPolicy, decide
from mkdocs_ai_docstrings._internal.settings import DEFAULT_API_VERSION, Settings
from mkdocs_ai_docstrings._internal.tokens import TokenCounter

ENTRA_SCOPE = "https://cognitiveservices.azure.com/.default"
TOOL_NAME = "write_docstring"
_REASONING_MODELS = re.compile(r"^(o\d|gpt-5)")


class ConfigurationError(Exception):
    """The connection cannot be set up; the message says what to set (and never holds a secret)."""


@dataclass(frozen=True)
class Connection:
    """Where and how to send requests."""

    provider: str
    deployment: str
    model: str
    endpoint: str | None = None
    base_url: str | None = None
    api_version: str | None = None
    auth: str = "key"
    """`key`, `entra` (token provider) or `token` (static Entra token from the environment)."""
    api_key: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def describe(self) -> str:
        """A one-line, secret-free description for logs and reports."""
        where = self.endpoint or self.base_url or "api.openai.com"
        version = f", api-version {self.api_version}" if self.api_version else ""
        return f"{self.provider} {where} deployment '{self.deployment}'{version}, auth: {self.auth}"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings that must never appear in any output."""
        return tuple(secret for secret in (self.api_key, self.token) if secret)


def resolve_connection(settings: Settings, environ: Mapping[str, str] | None = None) -> Connection:
    """Build the connection from settings and the environment, or explain what is missing."""
    env = os.environ if environ is None else environ
    deployment = settings.deployment or env.get("AZURE_OPENAI_DEPLOYMENT") or "gpt-4o-mini"
    model = settings.model or deployment
    if settings.provider == "openai":
        key_env = settings.api_key_env or "OPENAI_API_KEY"
        key = env.get(key_env, "").strip()
        base_url = settings.base_url or env.get("OPENAI_BASE_URL") or None
        if not key and base_url is None:
            raise ConfigurationError(f"no API key: set {key_env} (or `base_url` for a local OpenAI-compatible server)")
        return Connection(
            provider="openai", deployment=deployment, model=model, base_url=base_url, api_key=key or "not-needed"
        )
    endpoint = (settings.endpoint or env.get("AZURE_OPENAI_ENDPOINT") or "").strip().rstrip("/")
    if not endpoint:
        raise ConfigurationError("no Azure OpenAI endpoint: set AZURE_OPENAI_ENDPOINT (or the `endpoint` option)")
    if not re.match(r"^https?://", endpoint):
        raise ConfigurationError(f"the Azure OpenAI endpoint must start with https:// (got {endpoint[:60]!r})")
    api_version = settings.api_version or env.get("OPENAI_API_VERSION") or DEFAULT_API_VERSION
    key_env = settings.api_key_env or "AZURE_OPENAI_API_KEY"
    key = env.get(key_env, "").strip()
    common = {"provider": "azure", "deployment": deployment, "model": model, "endpoint": endpoint}
    if settings.auth in ("auto", "key") and key:
        return Connection(**common, api_version=api_version, auth="key", api_key=key)
    if settings.auth == "key":
        raise ConfigurationError(f"no API key: set {key_env}")
    token = env.get("AZURE_OPENAI_AD_TOKEN", "").strip()
    if token:
        return Connection(**common, api_version=api_version, auth="token", token=token)
    try:
        import azure.identity  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            f"no credentials: set {key_env}, or install `mkdocs-ai-docstrings[entra]` and sign in "
            "(az login, managed identity or AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET) for Microsoft Entra ID"
        ) from None
    return Connection(**common, api_version=api_version, auth="entra")


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Remove secrets (and anything that looks like an auth header value) from a message."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return re.sub(r"(?i)(api-key|authorization)(['\"]?\s*[:=]\s*['\"]?)(bearer\s+)?[^\s'\",}]+", r"\1\2***", text)


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
    retries: int = 0
    latency_total: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)


def _filtered_categories(results: Any) -> tuple[str, ...]:
    if not isinstance(results, Mapping):
        return ()
    return tuple(
        sorted(name for name, value in results.items() if isinstance(value, Mapping) and value.get("filtered"))
    )


def _error_body(error: openai.APIStatusError) -> Mapping[str, Any]:
    body = error.body
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        return inner if isinstance(inner, Mapping) else {}
    return {}


class ChatClient:
    """Sends structured chat requests with reservations, pacing and retries."""

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
    ) -> None:
        self.connection = connection
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
        """Why no further request is sent this build (bad credentials, daily quota...)."""
        self._sdk: Any = None

    def _client(self) -> Any:
        if self._sdk is not None:
            return self._sdk
        conn = self.connection
        options: dict[str, Any] = {"max_retries": 0, "timeout": self.settings.request_timeout}
        if conn.provider == "openai":
            self._sdk = openai.AsyncOpenAI(api_key=conn.api_key, base_url=conn.base_url, **options)
            return self._sdk
        azure: dict[str, Any] = {"azure_endpoint": conn.endpoint, "api_version": conn.api_version}
        if conn.auth == "key":
            azure["api_key"] = conn.api_key
        elif conn.auth == "token":
            azure["azure_ad_token"] = conn.token
        else:
            from azure.identity import DefaultAzureCredential, get_bearer_token_provider

            provider = get_bearer_token_provider(DefaultAzureCredential(), ENTRA_SCOPE)
            try:
                provider()  # check the sign-in once, up front, for a clear message
            except Exception as error:
                raise ConfigurationError(
                    f"Microsoft Entra ID sign-in failed ({type(error).__name__}): set AZURE_OPENAI_API_KEY, or sign in "
                    "(az login, managed identity, or AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET) with the "
                    "role 'Cognitive Services OpenAI User'"
                ) from None
            azure["azure_ad_token_provider"] = provider
        self._sdk = openai.AsyncAzureOpenAI(**azure, **options)
        return self._sdk

    def wire_format(self, schema: Mapping[str, Any], mode: str | None = None) -> dict[str, Any]:
        """The request fields that constrain the answer to `schema` in `mode` (default: the mode in use)."""
        return wire_format(schema, mode or self.mode)

    def request_body(self, messages: list[dict[str, str]], schema: Mapping[str, Any]) -> dict[str, Any]:
        """The full request body (without the model), as sent."""
        body: dict[str, Any] = {"messages": messages, **self.wire_format(schema)}
        if _REASONING_MODELS.match(self.connection.model):
            body["max_completion_tokens"] = self.settings.max_completion_tokens
        else:
            body["max_tokens"] = self.settings.max_completion_tokens
            body["temperature"] = self.settings.temperature
        return body

    def stop(self, reason: str) -> None:
        """Send no further request this build."""
        if self.stopped is None:
            self.stopped = reason
            logger.error("no further requests this build: %s", reason)

    async def complete(
        self,
        messages: list[dict[str, str]],
        schema: Mapping[str, Any],
        reserve_tokens: Callable[[str], int],
        attempts: list[int] | None = None,
    ) -> ChatResponse:
        """Send one structured request, retrying what can be retried; `reserve_tokens(mode)` sizes the reservation.

        `attempts[0]`, when given, is increased for every HTTP request sent.

        Raises:
            CallFailure: When no usable response could be had; `kind` says why.
        """
        modes = ["json_schema", "tool", "json_object"] if self.settings.output_mode == "auto" else [self.mode]
        while True:
            try:
                return await self._complete_in_mode(messages, schema, reserve_tokens(self.mode), attempts)
            except UnsupportedMode as error:
                index = modes.index(self.mode) if self.mode in modes else len(modes)
                if index + 1 >= len(modes):
                    raise CallFailure("bad_request", f"the server rejected structured output: {error}") from None
                logger.warning("the server rejected output mode '%s'; trying '%s'", self.mode, modes[index + 1])
                self.mode = modes[index + 1]

    async def _complete_in_mode(
        self, messages: list[dict[str, str]], schema: Mapping[str, Any], tokens: int, attempts: list[int] | None
    ) -> ChatResponse:
        attempt = 0
        secrets = self.connection.secrets
        # The ledger reserves a provable over-count (UTF-8 bytes when the model's encoding is not available
        # offline, 3-4 times the real count); pacing by it would send at a fraction of the TPM quota. Pace by the
        # best estimate of what the server charges instead: its 429s and headers correct any under-count.
        pace = tokens
        if self.pace_counter is not None:
            wire = self.wire_format(schema)
            pace = self.pace_counter.count_messages(messages, extra=wire) + self.settings.max_completion_tokens
        while True:
            if self.stopped:
                raise CallFailure("stopped", self.stopped)
            try:
                self._client()
            except ConfigurationError as error:
                self.stop(str(error))
                raise CallFailure("auth", str(error)) from None
            reservation = await self.ledger.reserve(tokens)
            if reservation is None:
                raise CallFailure("budget", f"the token budget cannot cover this request ({tokens} tokens worst case)")
            await self.limiter.acquire(min(pace, tokens))
            if self.stopped:
                self.ledger.release(reservation)
                raise CallFailure("stopped", self.stopped)
            status: int | None
            headers: Mapping[str, str] = {}
            loop = asyncio.get_running_loop()
            started = loop.time()
            self.stats.requests += 1
            if attempts is not None:
                attempts[0] += 1
            try:
                response = await self._send(messages, schema, reservation)
                self.stats.latency_total += loop.time() - started
                self.stats.succeeded += 1
                return response
            except openai.APIStatusError as error:
                self.stats.latency_total += loop.time() - started
                self.ledger.release(reservation)
                status = error.status_code
                headers = error.response.headers
                self.limiter.observe_headers(headers)
                self.stats.statuses[str(status)] = self.stats.statuses.get(str(status), 0) + 1
                message = scrub(str(_error_body(error).get("message") or error.message), secrets)
                self._raise_final(error, status, message)
            except (openai.APITimeoutError, openai.APIConnectionError) as error:
                self.stats.latency_total += loop.time() - started
                # The server may have processed (and billed) the request: keep the worst case as spent.
                self.ledger.settle(reservation, None)
                status = None
                timeout = isinstance(error, openai.APITimeoutError)
                self.stats.timeouts += timeout
                message = "request timed out" if timeout else f"connection failed: {scrub(str(error), secrets)}"
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
            await asyncio.sleep(delay)

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
                "set `deployment` (or AZURE_OPENAI_DEPLOYMENT) to an existing deployment"
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
        self, messages: list[dict[str, str]], schema: Mapping[str, Any], reservation: Reservation
    ) -> ChatResponse:
        raw = await self._client().chat.completions.with_raw_response.create(
            model=self.connection.deployment, **self.request_body(messages, schema)
        )
        self.limiter.observe_headers(raw.headers)
        completion = raw.parse()
        usage = completion.usage
        billed = usage.total_tokens if usage is not None else None
        self.ledger.settle(reservation, billed)
        self.stats.statuses["200"] = self.stats.statuses.get("200", 0) + 1
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

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._sdk is not None:
            await self._sdk.close()
            self._sdk = None


def wire_format(schema: Mapping[str, Any], mode: str = "json_schema") -> dict[str, Any]:
    """The request fields that constrain the answer to `schema` in an output mode."""
    if mode == "tool":
        return {
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": TOOL_NAME,
                        "description": "Record the docstring of the documented object.",
                        "parameters": schema,
                        "strict": True,
                    },
                }
            ],
            "tool_choice": {"type": "function", "function": {"name": TOOL_NAME}},
        }
    if mode == "json_object":
        return {"response_format": {"type": "json_object", "schema": schema}}
    return {
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "docstring", "strict": True, "schema": schema},
        }
    }


def parse_content(content: str | None) -> Any:
    """Parse a JSON answer, tolerating a Markdown code fence around it."""
    if content is None:
        raise ValueError("the answer has no content")
    text = content.strip()
    fenced = re.match(r"^```(?:json)?\s*(.*?)\s*```$", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    return json.loads(text)
