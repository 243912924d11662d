"""Batch runs: send a large first run's requests as one Batch API job at the batch price, then cache its answers.

`batch submit` builds the site in plan mode and writes the request every pending object would send (the same
body, keyed by its cache key) to a JSONL file, uploads it and starts a batch (Azure OpenAI Global Batch or
OpenAI's Batch API). `batch status` shows its progress. `batch collect` downloads the answers and builds the
site once more, with each answer taking the place of the live call: it is validated, grounded and checked by the
generator's own code and, if sound, stored in the cache and the lock file under the same key, so the next build
asks nothing for it. Lines that failed, expired or were rejected are left to the next live build.

An object whose prompt quotes the answer of another pending object (a callee or base class generated first)
cannot be sent in the same batch: its request is not known until that answer is. It waits for the next round:
`batch submit` again after `batch collect`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mkdocs_ai_docstrings._internal.call import accept_answer
from mkdocs_ai_docstrings._internal.client import CallFailure, ChatResponse, read_completion
from mkdocs_ai_docstrings._internal.connection import Connection, resolve_connection
from mkdocs_ai_docstrings._internal.errors import ConfigurationError, SettingsError
from mkdocs_ai_docstrings._internal.estimate import first_answer_cap
from mkdocs_ai_docstrings._internal.jobs import Job, PackageContext, answer_route, outcome
from mkdocs_ai_docstrings._internal.prices import (
    BATCH_PRICE_FACTOR,
    batch_price,
    estimate_cost,
    format_cost,
    price_for,
)
from mkdocs_ai_docstrings._internal.report import ObjectOutcome, Reason, Status
from mkdocs_ai_docstrings._internal.request import PreparedRequest
from mkdocs_ai_docstrings._internal.secrets import scrub
from mkdocs_ai_docstrings._internal.settings import Settings
from mkdocs_ai_docstrings._internal.site_config import SiteConfig
from mkdocs_ai_docstrings._internal.standalone import close_open_builds

STATE_FILE = ".ai-docstrings-batch.json"
"""The batch's state, beside `mkdocs.yml`: its id and which object each request is for (data only, no secret)."""
INPUT_SUFFIX = "l"
"""The JSONL file sent is the state file's name with this suffix (`.ai-docstrings-batch.jsonl`)."""
STATE_VERSION = 1
FINISHED = frozenset({"completed", "failed", "expired", "cancelled"})
"""Batch statuses after which nothing changes any more."""
WITH_RESULTS = frozenset({"completed", "expired", "cancelled"})
"""Finished statuses that may come with answered lines (an expired or cancelled batch keeps what it finished)."""
LEFT_FOR_LIVE = "not in the batch: left for the live path"


@dataclass
class PlannedRequest:
    """One request a live build would send now, found by the plan-mode build."""

    key: str
    path: str
    kind: str
    deps: tuple[str, ...]
    body: dict[str, Any]
    estimated_tokens: int
    cost: float | None
    left_out: str | None = None
    """Why it is not sent: the `--budget` (a failure remembered for these inputs is settled before the plan)."""


@dataclass
class LineResult:
    """What a batch answered for one request: a chat completion body, or why there is none."""

    body: Mapping[str, Any] | None = None
    failure: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class BatchState:
    """The state file: the batch in flight and what its requests are for (never a credential)."""

    batch_id: str
    input_file_id: str
    provider: str
    deployment: str
    model: str
    round: int
    submitted_at: str
    requests: dict[str, dict[str, str]]
    """Request (cache key) -> `{"path", "kind"}` of its object."""
    estimated_tokens: int = 0
    estimated_cost: float | None = None
    """At the batch price."""
    status: str = "validating"
    waiting: list[str] = field(default_factory=list)
    """Objects whose request waits for answers of this batch (next round)."""
    collected: dict[str, Any] | None = None
    """Set by `batch collect`: what was stored and what was left for the live path."""
    version: int = STATE_VERSION

    @classmethod
    def load(cls, path: Path) -> BatchState | None:
        """Read the state file (`None` when there is none).

        Raises:
            SystemExit: The file is not a state file this version writes.
        """
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            names = {f.name for f in dataclasses.fields(cls)}
            return cls(**{key: value for key, value in data.items() if key in names})
        except (OSError, ValueError, TypeError) as error:
            raise SystemExit(f"{path}: not a batch state file ({type(error).__name__}: {error})") from None

    def save(self, path: Path) -> None:
        """Write the state file (JSON)."""
        path.write_text(json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n", encoding="utf-8")


# ----------------------------------------------------------------------------------------------------------------------
# The route a batch build takes through the core: `jobs.AnswerRoute`, consulted by the generator's plan and by
# `call.generate` in place of the live call; answers go through `call.accept_answer` (the live call's checks).
# The only uses of the client's internals are `ChatClient.request_body` (the body as sent) and `_client` (its SDK).


class BatchRoute:
    """A build whose plan reports each pending request, or whose answers come from a batch's output file.

    `on_plan` receives every request a plan-mode build finds pending, with its exact body and cache key.
    `answers` replaces the live call of each object by its line of the batch output, checked by
    `accept_answer`; a key without a sound answer is a call that did not happen (left for the live path: nothing
    is remembered as failed, so the next live build asks, with its retry). `price_factor` prices the answers at
    that share of the live price.
    """

    def __init__(
        self,
        *,
        on_plan: Callable[[PlannedRequest], None] | None = None,
        answers: Mapping[str, LineResult] | None = None,
        price_factor: float = BATCH_PRICE_FACTOR,
    ) -> None:
        self.on_plan = on_plan
        self.answers = answers or {}
        self.price_factor = price_factor
        self.outcomes: dict[str, Collected] = {}
        """By request key: what became of each answer used."""
        self._clients: dict[int, Any] = {}
        self._priced: set[int] = set()

    def planned(self, context: PackageContext, job: Job, request: PreparedRequest, result: ObjectOutcome) -> None:
        """Report the request (its body exactly as a live build sends it) to `on_plan`."""
        if self.on_plan is None:
            return
        from mkdocs_ai_docstrings._internal.client import ChatClient

        session = context.session
        if session.connection is None:
            return
        client = self._clients.get(id(session))
        if client is None:  # only for its request body: it sends nothing
            client = self._clients[id(session)] = ChatClient(
                session.connection,
                session.settings,
                ledger=session.ledger,
                limiter=session.stack.limiter,
                policy=session.stack.policy,
                retry_budget=session.stack.retry_budget,
            )
        cap = first_answer_cap(request.schema, session.settings.max_completion_tokens)  # the live first request's
        body = {
            "model": session.connection.deployment,
            **client.request_body(request.messages, request.schema, None, cap),
        }
        self.on_plan(
            PlannedRequest(
                key=request.key,
                path=job.candidate.path,
                kind=str(job.candidate.kind),
                deps=tuple(job.deps),
                body=body,
                estimated_tokens=result.estimated_tokens or 0,
                cost=result.cost,
                left_out="budget" if result.reason == Reason.BUDGET else None,
            )
        )

    async def answer(self, context: PackageContext, job: Job, request: PreparedRequest) -> ObjectOutcome:
        """The batch's answer for `request`, checked like a live call's last round; else left for the live path."""
        session = context.session
        if id(session) not in self._priced:
            self._priced.add(id(session))
            session.price = batch_price(session.price, self.price_factor)
        line = self.answers.get(request.key)
        if line is None or line.body is None:
            reason = line.failure if line is not None and line.failure else LEFT_FOR_LIVE
            return self._left(job, request, reason)
        try:
            response = chat_response(line.body)
        except CallFailure as error:
            return self._left(job, request, f"{error.kind.replace('_', ' ')}: {error.message}")
        if response.finish_reason == "content_filter" or response.filtered:
            return self._left(job, request, f"content filter: the answer was blocked ({', '.join(response.filtered)})")
        if response.refusal:
            return self._left(job, request, f"refused: {response.refusal[:200]}")
        usage = {"prompt_tokens": response.prompt_tokens, "completion_tokens": response.completion_tokens}
        cut_at = (
            first_answer_cap(request.schema, session.settings.max_completion_tokens)
            if response.finish_reason == "length"
            else None
        )
        # Judged as a live first answer: one a retry could fix is left to the live path, which can retry.
        result = await accept_answer(context, job, request, response.content or "", usage, cut_at)
        if result.status is Status.GENERATED:
            stored = session.cache.peek(request.key, request.schema) is not None
            reason = None if stored else "accepted, but the answer cache could not store it (see the build's warning)"
            self.outcomes[request.key] = Collected(stored, reason)
        else:  # rejected: the live path asks again, with the retry a batch cannot make
            session.cache.forget_failure(request.key)
            self.outcomes[request.key] = Collected(False, f"rejected: {result.reason}")
        return result

    def _left(self, job: Job, request: PreparedRequest, reason: str) -> ObjectOutcome:
        self.outcomes[request.key] = Collected(False, reason)
        return outcome(job, Status.SKIPPED, reason, **request.fields())


@dataclass
class Collected:
    """What became of one batch answer in the collecting build."""

    stored: bool
    """In the cache: the next build asks nothing for it."""
    reason: str | None = None
    """Why it was not stored."""


def sdk_client(connection: Connection, settings: Settings) -> Any:
    """The `openai` SDK client a build would use for this connection (same auth), with the SDK's retries."""
    from mkdocs_ai_docstrings._internal.budget import TokenLedger
    from mkdocs_ai_docstrings._internal.client import ChatClient
    from mkdocs_ai_docstrings._internal.ratelimit import RateLimiter
    from mkdocs_ai_docstrings._internal.retry import RetryBudget, RetryPolicy

    client = ChatClient(
        connection,
        settings,
        ledger=TokenLedger(None),
        limiter=RateLimiter(rpm=None, tpm=None),
        policy=RetryPolicy(),
        retry_budget=RetryBudget(0),
    )
    return client._client().with_options(max_retries=2)


def chat_response(body: Mapping[str, Any]) -> ChatResponse:
    """Read a chat completion body like `ChatClient._send` reads a live response."""
    import openai

    try:
        completion = openai.types.chat.ChatCompletion.model_validate(body)
    except Exception as error:  # a body the SDK cannot read: the same outcome as a live one
        raise CallFailure("bad_response", f"the server's answer could not be read ({type(error).__name__})") from None
    return read_completion(completion)


# End of the route.
# ----------------------------------------------------------------------------------------------------------------------


@dataclass
class Site:
    """A loaded `mkdocs.yml` with the ai-docstrings settings in effect (plugin or extension)."""

    config: Any
    settings: Settings
    config_dir: Path


def _extension_entry(config: Any) -> dict[str, Any] | None:
    """The options of the ai-docstrings griffe extension listed in the Python handler (made editable)."""
    mkdocstrings = config.plugins.get("mkdocstrings")
    handlers = (getattr(mkdocstrings, "config", None) or {}).get("handlers") or {}
    options = (handlers.get("python") or {}).get("options") or {}
    extensions = options.get("extensions") or []
    for index, item in enumerate(extensions):
        name = next(iter(item)) if isinstance(item, dict) else item
        if str(name).split(":", 1)[0].split(".", 1)[0] == "mkdocs_ai_docstrings":
            entry = dict(item[name] or {}) if isinstance(item, dict) else {}
            extensions[index] = {name: entry}
            return entry
    return None


def load_site(config_file: str, site_dir: str | None = None, **overrides: Any) -> Site:
    """Load the site's configuration with some options overridden (`None` removes one).

    Raises:
        SystemExit: Neither the plugin nor the extension is configured, or an option is wrong.
    """
    from mkdocs.config import load_config

    from mkdocs_ai_docstrings._internal.standalone import with_prompt_files_from

    config = load_config(config_file, **({"site_dir": site_dir} if site_dir else {}))
    config_dir = Path(config.config_file_path).resolve().parent
    if "ai-docstrings" in config.plugins:
        options: Any = config.plugins["ai-docstrings"].config
    else:
        options = _extension_entry(config)
        if options is None:
            raise SystemExit(f"{config_file}: neither the `ai-docstrings` plugin nor the extension is configured")
    for name, value in overrides.items():
        options[name] = value
        if value is None and not hasattr(options, "data"):  # an extension's plain dict
            options.pop(name, None)
    try:
        settings = Settings.from_options({key: value for key, value in options.items() if value is not None})
        settings = with_prompt_files_from(config_dir, settings)
    except SettingsError as error:
        raise SystemExit(f"{config_file}: {error}") from None
    return Site(config, settings, config_dir)


def _connection(site: Site | SiteConfig) -> Connection:
    settings = site.settings
    if not settings.enabled:
        raise SystemExit("generation is off (`enabled: false`): nothing to send")
    if settings.frozen or (os.environ.get("AI_DOCSTRINGS_FROZEN") or "").strip().lower() in ("1", "true", "yes", "on"):
        raise SystemExit("frozen build: batch runs need a configuration that may generate")
    try:
        return resolve_connection(settings)
    except ConfigurationError as error:
        raise SystemExit(f"not configured: {error}") from None


def _build(site: Site) -> None:
    """Build the site (into its temporary site folder); a failure gate or strict error is reported, not raised.

    The extension's builds end here, while the folder exists: ended later (when griffe's collection is freed, or
    at exit), their report would recreate the removed temporary folder and leave it behind.
    """
    from mkdocs.commands.build import build
    from mkdocs.exceptions import MkDocsException

    try:
        build(site.config)
    except MkDocsException as error:
        logging.getLogger("mkdocs_ai_docstrings").warning("the build reported: %s", error)
    finally:
        close_open_builds()


def _state_path(site_config: str, state_file: str | None) -> Path:
    if state_file:
        return Path(state_file)
    return Path(site_config).resolve().parent / STATE_FILE


def _sdk_call(connection: Connection, settings: Settings, call: Callable[[Any], Any]) -> Any:
    """Run one SDK coroutine; an API error becomes one line naming it (never a secret)."""
    import openai

    async def run() -> Any:
        sdk = sdk_client(connection, settings)
        try:
            return await call(sdk)
        finally:
            await sdk.close()

    try:
        return asyncio.run(run())
    except ConfigurationError as error:  # an Entra ID sign-in that does not work
        raise SystemExit(f"not configured: {error}") from None
    except openai.APIError as error:
        status = getattr(error, "status_code", None)
        where = f" (HTTP {status})" if status else ""
        raise SystemExit(f"the Batch API call failed{where}: {scrub(str(error), connection.secrets)}") from None


def _endpoint(connection: Connection) -> str:
    """The batch endpoint and line URL: Azure's `/chat/completions`, OpenAI's `/v1/chat/completions`."""
    return "/chat/completions" if connection.provider == "azure" else "/v1/chat/completions"


# ----------------------------------------------------------------------------------------------------------------------
# Commands


def submit(
    config_file: str,
    *,
    budget: int | None = None,
    dry_run: bool = False,
    state_file: str | None = None,
    deployment: str | None = None,
) -> int:
    """Write the pending requests as JSONL, upload them and start a batch; record it in the state file.

    `deployment` names the deployment that runs the batch (Azure: a Global Batch deployment of the configured
    model), when it is not the configured one; answers are cached under the configured deployment's keys.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    state_path = _state_path(config_file, state_file)
    previous = BatchState.load(state_path)
    if previous is not None and previous.collected is None and previous.status not in ("failed",):
        raise SystemExit(
            f"batch {previous.batch_id} ({previous.status}) is not collected yet: run `batch collect` "
            "(or `batch cancel`) first"
        )
    planned: list[PlannedRequest] = []
    with tempfile.TemporaryDirectory(prefix="ai-docstrings-batch-") as site_dir:
        site = load_site(config_file, site_dir, dry_run=True, token_budget=budget, strict=False)
        connection = _connection(site)
        with answer_route(BatchRoute(on_plan=planned.append)):
            _build(site)
    # Objects a later live build generates first (a remembered failure is settled before the plan: not here).
    pending = {p.path for p in planned}
    ready: dict[str, PlannedRequest] = {}
    waiting: list[str] = []
    for request in planned:
        if request.left_out is not None:
            continue
        if any(dep in pending for dep in request.deps):
            waiting.append(request.path)  # its prompt will quote an answer of this batch
        else:
            ready.setdefault(request.key, request)
    left_out = [p for p in planned if p.left_out is not None]
    url = _endpoint(connection)
    batch_model = {"model": deployment} if deployment else {}
    lines = [
        {"custom_id": p.key, "method": "POST", "url": url, "body": {**p.body, **batch_model}} for p in ready.values()
    ]
    input_path = state_path.with_name(state_path.name + INPUT_SUFFIX)
    price = price_for(connection.model, site.settings.prices)
    tokens = sum(p.estimated_tokens for p in ready.values())
    live_costs = [p.cost for p in ready.values()]
    live_cost = None if price is None or any(c is None for c in live_costs) else sum(c or 0.0 for c in live_costs)
    cost = None if live_cost is None else live_cost * BATCH_PRICE_FACTOR
    for request in left_out:
        print(f"  left out: {request.path}: {request.left_out}")
    summary = (
        f"{len(lines)} request(s) for model {connection.model} (~{tokens} tokens): {format_cost(cost)} at the batch "
        f"price ({format_cost(live_cost)} live); {len(waiting)} object(s) wait for answers of this batch (next "
        f"round), {len(left_out)} left out."
    )
    if not lines:
        print(f"Nothing to submit: {summary}")
        return 0
    # Keys in the order a live request sends them (the order of a schema can change how a server counts it).
    input_path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    if dry_run:
        print(f"Wrote {input_path} (not submitted): {summary}")
        return 0
    content = input_path.read_bytes()

    async def start(sdk: Any) -> tuple[Any, Any]:
        uploaded = await sdk.files.create(file=(input_path.name, content), purpose="batch")
        created = await sdk.batches.create(
            input_file_id=uploaded.id,
            endpoint=url,
            completion_window="24h",
            metadata={"tool": "mkdocs-ai-docstrings"},
        )
        return uploaded, created

    uploaded, created = _sdk_call(connection, site.settings, start)
    state = BatchState(
        batch_id=created.id,
        input_file_id=uploaded.id,
        provider=connection.provider,
        deployment=deployment or connection.deployment,
        model=connection.model,
        round=(previous.round + 1) if previous is not None else 1,
        submitted_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        requests={p.key: {"path": p.path, "kind": p.kind} for p in ready.values()},
        estimated_tokens=tokens,
        estimated_cost=cost,
        status=created.status,
        waiting=sorted(waiting),
    )
    state.save(state_path)
    print(f"Batch {created.id} submitted (round {state.round}, {created.status}): {summary}")
    return 0


def _retrieve(site: Site | SiteConfig, state: BatchState) -> Any:
    connection = _connection(site)
    return _sdk_call(connection, site.settings, lambda sdk: sdk.batches.retrieve(state.batch_id))


def _counts(batch: Any) -> str:
    counts = batch.request_counts
    if counts is None:
        return "no counts yet"
    return f"{counts.completed}/{counts.total} answered, {counts.failed} failed"


def status(config_file: str, *, state_file: str | None = None) -> int:
    """Print the batch's status and counts."""
    state_path = _state_path(config_file, state_file)
    state = BatchState.load(state_path)
    if state is None:
        raise SystemExit(f"no batch submitted ({state_path} does not exist): run `batch submit`")
    site = SiteConfig.load(config_file)  # only its settings: nothing is built
    batch = _retrieve(site, state)
    state.status = batch.status
    state.save(state_path)
    collected = " (collected)" if state.collected is not None else ""
    print(f"Batch {batch.id} (round {state.round}): {batch.status}{collected}; {_counts(batch)}.")
    return 0


def cancel(config_file: str, *, state_file: str | None = None) -> int:
    """Cancel the batch: what it finished can still be collected."""
    state_path = _state_path(config_file, state_file)
    state = BatchState.load(state_path)
    if state is None:
        raise SystemExit(f"no batch submitted ({state_path} does not exist)")
    site = SiteConfig.load(config_file)  # only its settings: nothing is built
    connection = _connection(site)
    batch = _sdk_call(connection, site.settings, lambda sdk: sdk.batches.cancel(state.batch_id))
    state.status = batch.status
    state.save(state_path)
    print(f"Batch {batch.id}: {batch.status}; collect what it finished with `batch collect`.")
    return 0


def _line_failure(line: Mapping[str, Any]) -> str:
    error = line.get("error") or {}
    response = line.get("response") or {}
    if not error and isinstance(response.get("body"), Mapping):
        error = response["body"].get("error") or {}
    code = error.get("code") if isinstance(error, Mapping) else None
    message = error.get("message") if isinstance(error, Mapping) else None
    status = response.get("status_code")
    parts = [f"HTTP {status}" if status else None, str(code) if code else None, str(message)[:200] if message else None]
    return "batch line failed: " + (": ".join(p for p in parts if p) or "no answer")


def read_results(output: bytes, errors: bytes, wanted: Mapping[str, Any]) -> dict[str, LineResult]:
    """The batch's answers and failures by request key (lines of other requests are ignored)."""
    results: dict[str, LineResult] = {}
    for raw in (output + b"\n" + errors).decode("utf-8", errors="replace").splitlines():
        try:
            line = json.loads(raw) if raw.strip() else None
        except ValueError:
            continue
        if not isinstance(line, Mapping) or line.get("custom_id") not in wanted:
            continue
        key = str(line["custom_id"])
        response = line.get("response") or {}
        body = response.get("body") if isinstance(response, Mapping) else None
        if response.get("status_code") == 200 and isinstance(body, Mapping) and not line.get("error"):
            usage = body.get("usage") or {}
            results[key] = LineResult(
                body=body,
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
            )
        else:
            results.setdefault(key, LineResult(failure=_line_failure(line)))
    for key in wanted:
        results.setdefault(key, LineResult(failure="no answer in the batch's files"))
    return results


def collect(config_file: str, *, state_file: str | None = None) -> int:
    """Download the answers; validate, ground and cache each like a live answer; report what is left."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    state_path = _state_path(config_file, state_file)
    state = BatchState.load(state_path)
    if state is None:
        raise SystemExit(f"no batch submitted ({state_path} does not exist): run `batch submit`")
    site = SiteConfig.load(config_file)  # only its settings: nothing is built
    connection = _connection(site)
    batch = _retrieve(site, state)
    state.status = batch.status
    if batch.status not in FINISHED:
        state.save(state_path)
        print(f"Batch {batch.id} is not finished yet: {batch.status}; {_counts(batch)}. Collect it later.")
        return 1
    if batch.status == "failed":
        errors = getattr(getattr(batch, "errors", None), "data", None) or []
        shown = "; ".join(f"{e.code}: {e.message}" + (f" (line {e.line})" if e.line else "") for e in errors[:5])
        state.collected = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "failed": shown}
        state.save(state_path)
        print(f"Batch {batch.id} failed: {shown or 'no reason given'}. Nothing to collect; its objects stay pending.")
        return 1

    async def download(sdk: Any) -> tuple[bytes, bytes]:
        files = []
        for file_id in (batch.output_file_id, batch.error_file_id):
            files.append((await sdk.files.content(file_id)).content if file_id else b"")
        return files[0], files[1]

    output, errors = (b"", b"")
    if batch.status in WITH_RESULTS:
        output, errors = _sdk_call(connection, site.settings, download)
    results = read_results(output, errors, state.requests)
    route = BatchRoute(answers=results)
    with tempfile.TemporaryDirectory(prefix="ai-docstrings-batch-") as site_dir:
        build_site = load_site(config_file, site_dir, dry_run=False, strict=False)
        with answer_route(route):
            _build(build_site)
    outcomes = route.outcomes
    stored = sorted(state.requests[key]["path"] for key, used in outcomes.items() if used.stored)
    left: dict[str, str] = {}
    for key, result in results.items():
        path = state.requests[key]["path"]
        if key in outcomes and not outcomes[key].stored:
            left[path] = result.failure or outcomes[key].reason or "not stored"
        elif key not in outcomes and result.failure is not None:
            left[path] = result.failure
    unused = len(results) - len(outcomes) - sum(1 for k, r in results.items() if k not in outcomes and r.failure)
    price = batch_price(price_for(state.model, site.settings.prices))
    answered = [r for r in results.values() if r.body is not None]
    cost = estimate_cost(
        price,
        prompt_tokens=sum(r.prompt_tokens for r in answered),
        completion_tokens=sum(r.completion_tokens for r in answered),
    )
    state.collected = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "stored": stored,
        "left_for_live": left,
        "answered": len(answered),
        "prompt_tokens": sum(r.prompt_tokens for r in answered),
        "completion_tokens": sum(r.completion_tokens for r in answered),
        "cost": cost,
    }
    state.save(state_path)
    for path, reason in sorted(left.items()):
        print(f"  left for the live path: {path}: {reason}")
    next_round = f" {len(state.waiting)} object(s) waited for these answers: run `batch submit` again." * bool(
        state.waiting
    )
    print(
        f"Batch {batch.id} ({batch.status}): {len(stored)} answer(s) stored in the cache, {len(left)} left for the "
        f"live path, {unused} not needed (already cached or locked, or the code changed). Cost of the "
        f"{len(answered)} answered line(s) at the batch price: {format_cost(cost)}.{next_round}"
    )
    return 0


# ----------------------------------------------------------------------------------------------------------------------
# Command line


ACTIONS = (
    ("submit", "write the pending requests as JSONL, upload them and start a batch"),
    ("status", "print the batch's status and counts"),
    ("collect", "download the answers, check them like live ones and store the good ones in the cache"),
    ("cancel", "cancel the batch (what it finished can still be collected)"),
)


def add_batch_actions(parser: argparse.ArgumentParser, add_config_file: Callable[[Any], None]) -> None:
    """Add the `submit|status|collect|cancel` actions to the `batch` command's parser (`add_config_file`: `-f`)."""
    actions = parser.add_subparsers(dest="batch_action", required=True, metavar="ACTION", help="what to do")
    for name, text in ACTIONS:
        action = actions.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        add_config_file(action)
        action.add_argument("--state", default=None, metavar="FILE", help=f"state file (default: {STATE_FILE})")
        if name == "submit":
            action.add_argument("--budget", type=int, default=None, help="token cap of the batch (default: none)")
            action.add_argument("--dry-run", action="store_true", help="write the JSONL file, do not submit it")
            action.add_argument(
                "--deployment", default=None, help="deployment that runs the batch (Azure: Global Batch; same model)"
            )
    parser.set_defaults(run=run_batch)


def run_batch(args: argparse.Namespace) -> int:
    """Run the `batch` command parsed by `add_batch_actions`."""
    if args.batch_action == "submit":
        return submit(
            args.config_file,
            budget=args.budget,
            dry_run=args.dry_run,
            state_file=args.state,
            deployment=args.deployment,
        )
    if args.batch_action == "status":
        return status(args.config_file, state_file=args.state)
    if args.batch_action == "cancel":
        return cancel(args.config_file, state_file=args.state)
    return collect(args.config_file, state_file=args.state)
