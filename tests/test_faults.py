"""Fault injection: the generation pipeline against an emulated Azure OpenAI that throttles, fails and misbehaves.

Every build here runs the real pipeline (discovery, prompts, cache, client, checks, rendering, marking) on a
package loaded by griffe, against `tests.emulator.AzureEmulator`, and asserts the outcome of each object.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import griffe
import markdown
import pytest

from mkdocs_ai_docstrings._internal.cache import AnswerCache
from mkdocs_ai_docstrings._internal.discovery import discover
from mkdocs_ai_docstrings._internal.generator import fill
from mkdocs_ai_docstrings._internal.mark import AI_LABEL, EXTRA_NAMESPACE, SUMMARY_MARK
from mkdocs_ai_docstrings._internal.report import BuildReport, ObjectOutcome
from mkdocs_ai_docstrings._internal.session import BuildSession
from mkdocs_ai_docstrings._internal.settings import Settings
from tests.emulator import (
    AzureEmulator,
    RecordedRequest,
    count_prompt_tokens,
    fenced,
    request_schema,
    synthesize,
)

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "sk-test-0123456789abcdef0123456789abcdef"
"""A distinctive key, easy to look for in everything the build writes."""

PACKAGE = {
    "__init__.py": '"""A package to document."""\n',
    "core.py": textwrap.dedent(
        '''\
        """Core helpers."""


        def add(first: int, second: int) -> int:
            if first < 0:
                raise ValueError("first must not be negative")
            return first + second
        '''
    ),
}
TARGET = "pkg.core.add"
"""The only object of `PACKAGE` without a docstring."""

_TARGET_LINE = re.compile(r"Target: the \S+ `([^`]+)`")


def many_functions(count: int) -> dict[str, str]:
    """A package of `count` undocumented functions (distinct sources, so distinct cache keys)."""
    body = "".join(
        f"\n\ndef func_{index:03d}(value_{index}: int) -> int:\n    return value_{index} * {index + 2}\n"
        for index in range(count)
    )
    return {"__init__.py": '"""A package to document."""\n', "funcs.py": '"""Many functions."""\n' + body}


def target_of(request: RecordedRequest) -> str | None:
    """The object a chat request asks about (from its first user message)."""
    for message in request.body.get("messages", []) if isinstance(request.body, dict) else []:
        if message.get("role") == "user":
            match = _TARGET_LINE.search(str(message.get("content")))
            return match.group(1) if match else None
    return None


def requests_per_object(requests: list[RecordedRequest]) -> Counter[str]:
    return Counter(target for target in map(target_of, requests) if target is not None)


@dataclass
class Build:
    """One finished build: its report, session, wall time, and what the emulator saw during it."""

    report: BuildReport
    session: BuildSession
    elapsed: float
    requests: list[RecordedRequest]
    billed: int
    """Tokens the emulator billed (200 responses) during this build."""

    def outcome(self, path: str = TARGET) -> ObjectOutcome:
        return self.report.outcomes[path]

    @property
    def spent(self) -> int:
        """Tokens the build's ledger counts as spent."""
        return self.report.totals.total_tokens

    def statuses(self) -> Counter[str]:
        return Counter(outcome.status for outcome in self.report.outcomes.values())


def generate(pkg: griffe.Module, emu: AzureEmulator, cache_dir: Path, *, alone: bool = True, **options: Any) -> Build:
    """Run one build over `pkg` the way the griffe extension does, with a short request timeout."""
    settings = Settings.from_options(
        {"cache_dir": str(cache_dir), "request_timeout": 1.0, "examples": False, **options}
    )
    session = BuildSession(settings, environ={"AZURE_OPENAI_ENDPOINT": emu.url, "AZURE_OPENAI_API_KEY": emu.api_key})
    seen, billed = len(emu.requests), emu.billed_total_tokens
    started = time.monotonic()
    fill(session, pkg, discover(pkg, session.settings))
    report = session.finish()
    build = Build(report, session, time.monotonic() - started, emu.requests[seen:], emu.billed_total_tokens - billed)
    if alone:  # whatever happened, the ledger never counts less than the server billed (lost answers included)
        assert build.billed <= build.spent + report.totals.possibly_billed_tokens
    return build


def member(pkg: griffe.Module, path: str) -> griffe.Object:
    """The object at the dotted `path` (starting with the package's name)."""
    return pkg if path == pkg.path else pkg[path.removeprefix(pkg.path + ".")]


def assert_unpublished(obj: griffe.Object) -> None:
    """A failed or skipped object keeps its original (missing) docstring and carries no AI marker."""
    assert obj.docstring is None
    assert AI_LABEL not in obj.labels
    assert EXTRA_NAMESPACE not in obj.extra


def assert_published(obj: griffe.Object) -> None:
    assert obj.docstring is not None
    assert obj.docstring.value.strip()
    assert AI_LABEL in obj.labels


pytestmark = pytest.mark.usefixtures("fast_backoff")


@pytest.fixture
def emu() -> Iterator[AzureEmulator]:
    with AzureEmulator(api_key=API_KEY, seed=7) as emulator:
        yield emulator


@pytest.fixture
def load(load: Callable[..., griffe.Module]) -> Callable[..., griffe.Module]:
    """The shared `load` fixture, with this module's package as the default."""
    return lambda files=PACKAGE, name="pkg": load(files, name)


# ----------------------------------------------------------------------------------------------------------------------
# Throttling and server errors


def test_a_429_is_retried_after_the_servers_hint(emu: AzureEmulator, load: Callable[..., Any], tmp_path: Path) -> None:
    arrivals: list[float] = []
    serve = emu._serve

    def timed_serve(*args: Any) -> Any:
        arrivals.append(time.monotonic())
        return serve(*args)

    emu._serve = timed_serve  # type: ignore[method-assign]
    emu.script("429", "ok")  # the emulator's 429 says retry-after-ms: 200
    pkg = load()

    build = generate(pkg, emu, tmp_path)

    assert build.outcome().status == "generated"
    assert [request.status for request in build.requests] == [429, 200]
    assert build.requests[0].response_headers["retry-after-ms"] == "200"
    assert arrivals[1] - arrivals[0] >= 0.19
    assert build.report.totals.rate_limited == 1
    assert build.report.totals.retries == 1
    assert_published(member(pkg, TARGET))


@pytest.mark.parametrize("fault", ["500", "503"])
def test_a_transient_server_error_is_retried(
    emu: AzureEmulator, load: Callable[..., Any], tmp_path: Path, fault: str
) -> None:
    emu.script(fault, "ok")
    pkg = load()

    build = generate(pkg, emu, tmp_path)

    assert build.outcome().status == "generated"
    assert [request.status for request in build.requests] == [int(fault), 200]
    assert build.report.totals.server_errors == 1
    assert_published(member(pkg, TARGET))


def test_a_persistent_server_error_fails_after_max_attempts(
    emu: AzureEmulator, load: Callable[..., Any], tmp_path: Path
) -> None:
    emu.fault_rates = {"500": 1.0}
    pkg = load()

    build = generate(pkg, emu, tmp_path, max_attempts=3)

    outcome = build.outcome()
    assert outcome.status == "failed"
    assert outcome.reason is not None
    assert outcome.reason.startswith("server error")
    assert len(build.requests) == 3
    assert build.report.totals.retries == 2
    assert build.spent == 0  # 500s bill nothing: their reservations were released
    assert_unpublished(member(pkg, TARGET))


def test_the_build_retry_cap_bounds_retries_across_all_objects(
    emu: AzureEmulator, load: Callable[..., Any], tmp_path: Path
) -> None:
    emu.fault_rates = {"500": 1.0}
    pkg = load(many_functions(5))

    build = generate(pkg, emu, tmp_path, max_attempts=4, build_retry_cap=3, include=["pkg.funcs.*"])

    assert len(build.report.outcomes) == 5
    assert all(
        o.status == "failed" and (o.reason or "").startswith("server error") for o in build.report.outcomes.values()
    )
    assert build.report.totals.retries == 3
    assert len(build.requests) == 5 + 3  # one first attempt per object, plus the capped retries


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_daily_quota_stops_the_build_at_once(
    emu: AzureEmulator,
    load: Callable[..., Any],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    concurrency: int,
) -> None:
    emu.fault_rates = {"429_daily": 1.0}  # "retry after 86400 seconds"
    pkg = load(many_functions(10))

    build = generate(pkg, emu, tmp_path, concurrency=concurrency, include=["pkg.funcs.*"])

    assert 1 <= len(build.requests) <= concurrency  # no retry waits for the hint (time: bench/resilience.py)
    asked = set(requests_per_object(build.requests))
    for path, outcome in build.report.outcomes.items():
        if path in asked:  # told to wait a day: it failed, it did not wait
            assert outcome.status == "failed"
            assert (outcome.reason or "").startswith("quota")
        else:
            assert outcome.status == "skipped"
            assert (outcome.reason or "").startswith("stopped")
        assert_unpublished(member(pkg, path))
    stops = [record for record in caplog.records if "no further requests" in record.getMessage()]
    assert len(stops) == 1
    assert [note for note in build.report.notes if note.startswith("Requests stopped")] == [
        f"Requests stopped: {build.session.client.stopped}"  # type: ignore[union-attr]
    ]


# ----------------------------------------------------------------------------------------------------------------------
# Lost responses


@pytest.mark.parametrize("fault", ["timeout", "disconnect"])
def test_a_lost_response_is_retried_and_its_reservation_kept(
    emu: AzureEmulator, load: Callable[..., Any], tmp_path: Path, fault: str
) -> None:
    emu.script(fault, "ok")
    pkg = load()

    build = generate(pkg, emu, tmp_path)

    assert build.outcome().status == "generated"
    assert [request.fault for request in build.requests] == [fault, None]
    lost, answered = build.requests
    assert lost.status == 0  # no response reached the client
    assert answered.usage is not None
    # The server may have billed the lost request: its worst case (prompt + max_tokens) stays counted against the
    # budget as possibly billed, but is not reported as spent: spent is what the server said it billed.
    worst_case = count_prompt_tokens(lost.body) + lost.body["max_tokens"]
    assert build.report.totals.possibly_billed_tokens >= worst_case
    assert build.outcome().possibly_billed_tokens == build.report.totals.possibly_billed_tokens
    assert build.spent == build.billed == answered.usage["total_tokens"]
    assert build.session.ledger.reserved == 0
    if fault == "timeout":
        assert build.report.totals.timeouts == 1  # request_timeout (1 s) cut it, not the emulator's 30 s
    assert_published(member(pkg, TARGET))


# ----------------------------------------------------------------------------------------------------------------------
# Answers that cannot be used as they are


@pytest.mark.parametrize(
    ("script", "requests", "reason"),
    [
        pytest.param(["content_filter_prompt"], 1, "content filter", id="content-filter-prompt"),
        pytest.param(["content_filter_output"] * 2, 2, "content filter", id="content-filter-output-twice"),
        pytest.param(["refusal", "refusal"], 2, "refused", id="refusal-twice"),
        pytest.param(["length", "length"], 2, "truncated", id="truncated-twice"),
        pytest.param(["schema_invalid", "schema_invalid"], 2, "schema", id="schema-invalid-twice"),
        pytest.param(["malformed_json", "malformed_json"], 2, "malformed JSON", id="malformed-json-twice"),
    ],
)
def test_an_unusable_answer_fails_the_object(
    emu: AzureEmulator, load: Callable[..., Any], tmp_path: Path, script: list[str], requests: int, reason: str
) -> None:
    emu.script(*script)
    pkg = load()

    build = generate(pkg, emu, tmp_path)

    outcome = build.outcome()
    assert outcome.status == "failed"
    assert outcome.reason is not None
    assert outcome.reason.startswith(reason)
    assert len(build.requests) == requests
    assert build.report.totals.retries == 0  # no HTTP retry: at most the one targeted retry
    assert_unpublished(member(pkg, TARGET))


def test_a_truncated_answer_is_retried_with_limits_the_model_can_follow(
    emu: AzureEmulator, load: Callable[..., Any], tmp_path: Path
) -> None:
    emu.script("length", "ok")
    pkg = load()

    build = generate(pkg, emu, tmp_path)

    assert build.outcome().status == "generated"
    feedback = build.requests[1].body["messages"][-1]
    assert feedback["role"] == "user"
    assert f"cut off at {build.requests[0].body['max_tokens']} tokens" in feedback["content"]
    assert "one sentence for the description" in feedback["content"]
    # the cut-off answer is not sent back: it is long, and the retry is told to be short
    assert [m["role"] for m in build.requests[1].body["messages"]] == ["system", "user", "user"]


@pytest.mark.parametrize(
    ("fault", "repair"),
    [
        ("length", "retried: truncated"),
        ("malformed_json", "retried: malformed JSON"),
        ("schema_invalid", "retried: schema"),
        ("refusal", "retried: refused"),
        ("content_filter_output", "retried: content filter"),
    ],
)
def test_a_fixable_answer_gets_one_targeted_retry(
    emu: AzureEmulator, load: Callable[..., Any], tmp_path: Path, fault: str, repair: str
) -> None:
    emu.script(fault, "ok")
    pkg = load()

    build = generate(pkg, emu, tmp_path)

    outcome = build.outcome()
    assert outcome.status == "generated"
    assert len(build.requests) == 2
    assert any(item.startswith(repair) for item in outcome.repairs)
    retry = build.requests[1].body["messages"]
    assert retry[: len(build.requests[0].body["messages"])] == build.requests[0].body["messages"]
    assert retry[-1]["role"] == "user"  # the feedback on the first answer
    assert_published(member(pkg, TARGET))


@pytest.mark.parametrize(
    ("fault", "invented"), [("invent_param", "invented_param"), ("invent_exception", "InventedError")]
)
def test_invented_names_are_dropped_before_publishing(
    emu: AzureEmulator, load: Callable[..., Any], tmp_path: Path, fault: str, invented: str
) -> None:
    emu.script(fault)
    pkg = load()

    build = generate(pkg, emu, tmp_path)

    outcome = build.outcome()
    assert outcome.status == "generated"
    assert len(build.requests) == 1
    assert any(invented in repair for repair in outcome.repairs)
    assert build.report.to_dict()["totals"]["repaired"] == 1
    obj = member(pkg, TARGET)
    assert_published(obj)
    assert invented not in obj.docstring.value
    assert "first" in obj.docstring.value
    assert "ValueError" in obj.docstring.value


# ----------------------------------------------------------------------------------------------------------------------
# Hostile answers

HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(1)> [click](javascript:alert(1)) "
    '<javascript:alert(2)> {: onclick="alert(3)" } <a href="javascript:alert(4)">x</a> '
    "<iframe src=javascript:alert(5)></iframe> <style>body{display:none}</style> <!-- {{ config }} -->\n"
    '!!! danger "injected"\n    admonition\n::: os\n??? note\n/// details\n'
    '<div markdown="1" onmouseover="alert(6)">*x*</div></details></code></pre>\n'
    "[ref]: javascript:alert(7)\nArgs:\n    first: injected section\n"
)
HOSTILE_SUMMARY = (
    '<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1)) {: onclick="alert(3)" }'
)
"""Injection in a one-sentence field (the schema caps summaries at 300 characters)."""
HOSTILE_CODE = "x = 1\n```\n<script>alert(8)</script>\n```\n~~~\n<img src=x onerror=alert(9)>"

SAFE_TAGS = frozenset(
    {"p", "code", "pre", "em", "strong", "details", "summary", "div", "span", "br", "ul", "ol", "li", "blockquote"}
)
"""Elements plain prose, code blocks and admonitions may render to (mkdocstrings adds its own around them)."""
SAFE_ATTRIBUTES = frozenset({"class", "open", "id"})


def hostile_answer(body: dict[str, Any]) -> dict[str, Any] | str:
    """A schema-valid answer whose every free-text field is an injection attempt (an example: hostile code)."""
    schema = request_schema(body)
    if schema is None:
        return fenced(HOSTILE_CODE)

    def poison(value: Any, node: dict[str, Any], name: str | None = None) -> Any:
        if isinstance(value, dict):
            props = node.get("properties", {})
            return {key: poison(item, props.get(key, {}), key) for key, item in value.items()}
        if isinstance(value, list):
            return [poison(item, node.get("items", {})) for item in value]
        if isinstance(value, str) and "enum" not in node:
            return {"examples": HOSTILE_CODE, "summary": HOSTILE_SUMMARY}.get(name or "", HOSTILE)
        return value

    return poison(synthesize(schema), schema)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


def live_html(text: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """The elements `text` becomes through Python-Markdown with the extensions of a typical Material site."""
    html = markdown.markdown(
        text,
        extensions=[
            "attr_list",
            "admonition",
            "md_in_html",
            "def_list",
            "footnotes",
            "pymdownx.details",
            "pymdownx.superfences",
            "pymdownx.blocks.admonition",
            "pymdownx.blocks.details",
        ],
    )
    parser = _Elements()
    parser.feed(html)
    return parser.elements


def markdown_fragments(obj: griffe.Object) -> list[str]:
    """The Markdown mkdocstrings renders for a docstring: the whole text, and each parsed section's texts."""
    assert obj.docstring is not None
    fragments = [obj.docstring.value]
    for section in obj.docstring.parsed:
        value = section.value
        if isinstance(value, str):
            fragments.append(value)
        for item in value if isinstance(value, list) else [value]:
            description = getattr(item, "description", None)
            if isinstance(description, str):
                fragments.append(description)
    return fragments


def test_the_html_check_sees_live_html_in_raw_model_text() -> None:
    elements = live_html(HOSTILE)
    assert {"script", "img", "iframe", "a"} <= {tag for tag, _ in elements}
    assert ("onerror", "alert(1)") in [attribute for _, attributes in elements for attribute in attributes]


def test_hostile_answers_are_published_inert(emu: AzureEmulator, load: Callable[..., Any], tmp_path: Path) -> None:
    emu.answer = hostile_answer
    pkg = load()

    build = generate(pkg, emu, tmp_path, max_completion_tokens=4000)

    assert build.outcome().status == "generated"
    obj = member(pkg, TARGET)
    assert_published(obj)
    text = obj.docstring.value.removeprefix(SUMMARY_MARK)  # the summary-table marker is ours, not the model's
    prose = re.sub(r"```python\n.*?\n\s*```", "", text, flags=re.DOTALL)  # the example is code, shown as code
    # Raw HTML, links and attribute lists survive only as escaped, visible characters.
    assert not re.search(r"<[A-Za-z!/?]", prose)
    assert "](" not in prose
    assert "{:" not in prose
    assert "]:" not in prose
    assert not [line for line in text.splitlines() if line.lstrip().startswith((":::", "!!!", "???", "///"))]
    kinds = [section.kind.value for section in obj.docstring.parsed]
    assert kinds.count("parameters") == 1  # no injected section
    parameters = next(section for section in obj.docstring.parsed if section.kind.value == "parameters")
    assert [parameter.name for parameter in parameters.value] == ["first", "second"]
    assert [line for line in text.splitlines() if line.startswith("Args:")] == ["Args:"]
    for fragment in markdown_fragments(obj):
        for tag, attributes in live_html(fragment):
            assert tag in SAFE_TAGS, (tag, fragment)
            for name, value in attributes:
                assert name in SAFE_ATTRIBUTES, (tag, name, value)
                assert "javascript" not in (value or "").lower()


def test_the_emulators_hostile_fault_never_reaches_the_page(
    emu: AzureEmulator, load: Callable[..., Any], tmp_path: Path
) -> None:
    emu.fault_rates = {"hostile": 1.0}
    pkg = load()

    build = generate(pkg, emu, tmp_path, max_completion_tokens=4000)

    outcome = build.outcome()
    if outcome.status == "failed":  # the injected summary is longer than the schema allows
        assert (outcome.reason or "").startswith("schema")
        assert_unpublished(member(pkg, TARGET))
    else:
        for fragment in markdown_fragments(member(pkg, TARGET)):
            assert {tag for tag, _ in live_html(fragment)} <= SAFE_TAGS


# ----------------------------------------------------------------------------------------------------------------------
# Failures stay contained


@pytest.mark.parametrize(
    "content",
    ["[]", "null", '"a string"', "{}", '{"summary": null}', "{" * 5000, '{"summary": "' + "x" * 50_000 + '"}'],
)
def test_garbage_answers_fail_the_object_and_never_raise(
    emu: AzureEmulator, load: Callable[..., Any], tmp_path: Path, content: str
) -> None:
    emu.answer = lambda body: content
    pkg = load(many_functions(3))

    build = generate(pkg, emu, tmp_path, include=["pkg.funcs.*"], max_completion_tokens=20_000)

    assert len(build.report.outcomes) == 3
    for path, outcome in build.report.outcomes.items():
        assert outcome.status == "failed"
        assert outcome.reason
        assert not outcome.reason.startswith("internal error"), outcome.reason
        assert_unpublished(member(pkg, path))


# ----------------------------------------------------------------------------------------------------------------------
# Secrets

GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
AWS_KEY_ID = "AKIA" + "Q3EGRUSV5KXNWAPY"
PASSWORD = "Tr0ub4dor-" + "horse-staple"

SECRETS_PACKAGE = {
    "__init__.py": '"""A package to document."""\n',
    "conn.py": textwrap.dedent(  # no module docstring: the module's own source is sent too
        f'''\
        DEFAULT_TOKEN = "{GITHUB_TOKEN}"


        def connect(host: str, port: int = 443) -> str:
            aws_access_key_id = "{AWS_KEY_ID}"
            password = "{PASSWORD}"
            api_key = "{API_KEY}"
            return f"{{host}}:{{port}}:{{aws_access_key_id}}:{{password}}:{{api_key}}:{{DEFAULT_TOKEN}}"
        '''
    ),
}


def test_secrets_and_the_api_key_never_leave_the_machine_or_reach_the_output(
    emu: AzureEmulator, load: Callable[..., Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emu.script("500", "malformed_json")  # errors and retries get logged too
    pkg = load(SECRETS_PACKAGE)

    # Generated anyway (not skipped as an object holding credentials), so that its prompt is what is tested here.
    build = generate(pkg, emu, tmp_path / "cache", skip_objects_with_secrets=False)

    assert build.outcome("pkg.conn.connect").status == "generated"
    assert build.outcome("pkg.conn").status == "generated"
    assert {"pkg.conn", "pkg.conn.connect"} <= {target_of(request) for request in build.requests}
    assert build.outcome("pkg.conn").redactions >= 1  # the GitHub token in the module's source
    report = build.report.to_dict()
    assert build.outcome("pkg.conn.connect").redactions >= 3  # the AWS key, the password and the API key
    assert report["totals"]["redactions"] > 0
    sent = [json.dumps(request.body) for request in emu.requests]
    for secret in (GITHUB_TOKEN, AWS_KEY_ID, PASSWORD, API_KEY):
        assert all(secret not in body for body in sent), secret
    assert all(request.headers.get("api-key") == API_KEY for request in emu.requests)  # sent only where it belongs
    assert API_KEY not in json.dumps(report)
    assert API_KEY not in build.report.summary()
    written = build.report.write(tmp_path / "cache" / "ai-docstrings.json")
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in (GITHUB_TOKEN, AWS_KEY_ID, PASSWORD, API_KEY):
                assert secret.encode() not in data, (path, secret)
    assert written.exists()
    assert caplog.records
    logged = "\n".join(f"{record.getMessage()} {record.args!r} {record.exc_text or ''}" for record in caplog.records)
    assert API_KEY not in logged


def test_a_rejected_key_is_reported_without_echoing_it(
    load: Callable[..., Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    pkg = load(many_functions(3))
    with AzureEmulator(api_key="the-right-key") as emu:
        settings = Settings.from_options(
            {"cache_dir": str(tmp_path), "request_timeout": 1.0, "concurrency": 1, "examples": False}
        )
        session = BuildSession(settings, environ={"AZURE_OPENAI_ENDPOINT": emu.url, "AZURE_OPENAI_API_KEY": API_KEY})
        fill(session, pkg, discover(pkg, settings))
        report = session.finish()

    assert len(emu.requests) == 1  # a 401 stops the build
    statuses = Counter(outcome.status for outcome in report.outcomes.values())
    assert statuses["failed"] == 1
    assert statuses["skipped"] == len(report.outcomes) - 1
    assert API_KEY not in json.dumps(report.to_dict())
    assert API_KEY not in report.summary()
    assert API_KEY not in "\n".join(record.getMessage() for record in caplog.records)


# ----------------------------------------------------------------------------------------------------------------------
# Killed and concurrent builds

BUILD_SCRIPT = """\
import json, sys
sys.path.insert(0, {root!r})
import griffe
from mkdocs_ai_docstrings._internal.discovery import discover
from mkdocs_ai_docstrings._internal.generator import fill
from mkdocs_ai_docstrings._internal.session import BuildSession
from mkdocs_ai_docstrings._internal.settings import Settings

source, cache, url, key = sys.argv[1:5]
pkg = griffe.load("pkg", search_paths=[source])
settings = Settings.from_options({{"cache_dir": cache, "concurrency": 4, "request_timeout": 10.0, "examples": False}})
session = BuildSession(settings, environ={{"AZURE_OPENAI_ENDPOINT": url, "AZURE_OPENAI_API_KEY": key}})
fill(session, pkg, discover(pkg, settings))
print(json.dumps(session.finish().to_dict()))
"""


def write_package(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = directory / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return directory


def test_a_killed_build_loses_nothing_it_finished(emu: AzureEmulator, tmp_path: Path) -> None:
    source = write_package(tmp_path / "src", many_functions(30))
    script = tmp_path / "build.py"
    script.write_text(BUILD_SCRIPT.format(root=str(ROOT)), encoding="utf-8")
    emu.latency = 0.15
    command = [sys.executable, str(script), str(source), str(tmp_path / "cache"), emu.url, API_KEY]
    objects = 30

    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while emu.count(200) < 12 and time.monotonic() < deadline:
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait()
    before_kill = requests_per_object(emu.requests)
    answered = {target_of(request) for request in emu.requests if request.status == 200}
    assert 12 <= len(answered) < objects

    left = AnswerCache(tmp_path / "cache")
    try:  # claims left by the killed build do not hold the rerun back: none of them counts as alive
        claims = [key.removeprefix("claim:") for key in left._store.iterkeys() if str(key).startswith("claim:")]
        assert not any(left._claim_alive(key) for key in claims)
    finally:
        left.close()
    second = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)

    report = json.loads(second.stdout)
    outcomes = {item["path"]: item for item in report["objects"]}
    after_kill = requests_per_object(emu.requests) - before_kill
    assert len(outcomes) == objects
    assert all(item["status"] in ("generated", "cached") for item in outcomes.values())
    cached = {path for path, item in outcomes.items() if item["status"] == "cached"}
    assert cached <= answered  # an answer is cached only once the server gave it
    assert len(answered - cached) <= 4  # answered but killed before the commit: at most the in-flight ones
    assert not cached & set(after_kill)  # cached objects were not asked again
    assert set(after_kill) == set(outcomes) - cached
    total = len(emu.requests)
    assert objects <= total <= objects + 4  # only requests in flight at the kill (<= concurrency) were paid twice


def test_two_builds_at_once_on_one_cache_pay_once(emu: AzureEmulator, tmp_path: Path) -> None:
    source = write_package(tmp_path / "src", many_functions(16))
    emu.latency = 0.2
    cache = tmp_path / "cache"
    packages = [griffe.load("pkg", search_paths=[source]) for _ in range(3)]
    objects = 16
    builds: list[Build] = []
    errors: list[BaseException] = []

    def run(pkg: griffe.Module) -> None:
        try:
            builds.append(generate(pkg, emu, cache, alone=False, concurrency=4, request_timeout=10.0))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(pkg,)) for pkg in packages[:2]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert len(builds) == 2
    for build in builds:
        assert len(build.report.outcomes) == objects
        assert build.statuses()["generated"] + build.statuses()["cached"] == objects
    assert len(emu.requests) <= objects + 2
    assert emu.billed_total_tokens <= sum(build.spent for build in builds)
    assert max(requests_per_object(emu.requests).values()) <= 2

    third = generate(packages[2], emu, cache)
    assert third.requests == []
    assert third.statuses() == {"cached": objects}


# ----------------------------------------------------------------------------------------------------------------------
# Realistic weather


def test_mixed_faults_at_realistic_rates(emu: AzureEmulator, load: Callable[..., Any], tmp_path: Path) -> None:
    emu.fault_rates = {
        "429": 0.1,
        "500": 0.05,
        "timeout": 0.0,
        "malformed_json": 0.05,
        "invent_param": 0.05,
        "content_filter_output": 0.02,
    }
    pkg = load(many_functions(60))

    build = generate(pkg, emu, tmp_path, include=["pkg.funcs.*"], concurrency=8)

    outcomes = list(build.report.outcomes.values())
    assert len(outcomes) == 60
    generated = [outcome for outcome in outcomes if outcome.status == "generated"]
    assert len(generated) >= 57
    for outcome in outcomes:
        if outcome.status == "generated":
            assert_published(member(pkg, outcome.path))
            assert "invented_param" not in member(pkg, outcome.path).docstring.value
        else:
            assert outcome.status == "failed"
            assert outcome.reason
            assert_unpublished(member(pkg, outcome.path))
    assert build.report.totals.rate_limited == sum(1 for request in build.requests if request.status == 429)


def test_an_answer_cut_off_after_its_last_field_is_published_without_a_retry(
    load: Callable[..., Any], tmp_path: Path
) -> None:
    def answer(body: dict) -> str:
        value = synthesize(request_schema(body))
        return json.dumps(value) + " \n\t" * 1000  # a small model's run-on whitespace after a complete object

    with AzureEmulator(api_key=API_KEY, answer=answer) as emu:
        build = generate(load(), emu, tmp_path, max_completion_tokens=400)
        finish = [r.response_body["choices"][0]["finish_reason"] for r in build.requests]

    assert build.outcome().status == "generated"
    assert finish == ["length"]  # no retry
    assert any("cut off after its last field" in repair for repair in build.outcome().repairs)


def test_an_answer_cut_off_inside_a_run_on_description_keeps_its_first_sentences_without_a_retry(
    load: Callable[..., Any], tmp_path: Path
) -> None:
    def answer(body: dict) -> str:
        value = {key: item for key, item in synthesize(request_schema(body)).items() if key != "description"}
        run_on = "It returns the sum. It never fails. It is used in many places. " + "It also does more " * 2000
        return json.dumps({**value, "description": run_on})  # a small model's description, never ending

    pkg = load()
    with AzureEmulator(api_key=API_KEY, answer=answer) as emu:
        build = generate(pkg, emu, tmp_path, max_completion_tokens=1000)
        finish = [r.response_body["choices"][0]["finish_reason"] for r in build.requests]

    assert list(request_schema(build.requests[0].body)["properties"])[-1] == "description"  # asked for last
    assert build.requests[0].body["max_tokens"] < 1000  # a first answer is capped at a few times its expected size
    assert build.outcome().completion_tokens < 1000
    assert build.outcome().status == "generated"
    assert finish == ["length"]  # no retry
    assert any("cut off inside its last text" in repair for repair in build.outcome().repairs)
    docstring = member(pkg, TARGET).docstring
    assert docstring is not None
    assert "It returns the sum. It never fails." in docstring.value
    assert "many places" not in docstring.value and "does more" not in docstring.value


def test_an_answer_cut_off_before_its_description_s_first_sentence_ended_is_published_without_it(
    load: Callable[..., Any], tmp_path: Path
) -> None:
    def answer(body: dict) -> str:
        value = {key: item for key, item in synthesize(request_schema(body)).items() if key != "description"}
        return json.dumps({**value, "description": "It also does more " * 2000})  # no sentence ever ends

    pkg = load()
    with AzureEmulator(api_key=API_KEY, answer=answer) as emu:
        build = generate(pkg, emu, tmp_path, max_completion_tokens=1000)
        finish = [r.response_body["choices"][0]["finish_reason"] for r in build.requests]

    assert build.outcome().status == "generated"
    assert finish == ["length"]  # no retry
    docstring = member(pkg, TARGET).docstring
    assert docstring is not None
    assert "does more" not in docstring.value


def test_an_answer_cut_off_before_its_fields_are_whole_is_retried_under_the_whole_cap(
    load: Callable[..., Any], tmp_path: Path
) -> None:
    def answer(body: dict) -> str:
        value = synthesize(request_schema(body))
        return json.dumps({**value, "summary": "Add two numbers. " + "And more " * 2000})  # the summary runs on

    with AzureEmulator(api_key=API_KEY, answer=answer) as emu:
        build = generate(load(), emu, tmp_path, max_completion_tokens=1000)
        caps = [r.body["max_tokens"] for r in build.requests]

    assert build.outcome().status == "failed"
    assert build.outcome().reason == "truncated: the answer hit max_completion_tokens (1000)"
    assert caps[0] < 1000 and caps[1] == 1000
