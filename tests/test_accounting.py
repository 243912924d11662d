"""Honest accounting: what never reached the server costs nothing, lost answers are 'possibly billed', the budget
holds against the server's own counting, reservations never leak, and no URL credential reaches a log or report."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

import griffe
import pytest

from mkdocs_ai_docstrings._internal.client import entra_token_provider
from mkdocs_ai_docstrings._internal.discovery import discover
from mkdocs_ai_docstrings._internal.errors import ConfigurationError
from mkdocs_ai_docstrings._internal.generator import fill
from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.report import ObjectOutcome
from mkdocs_ai_docstrings._internal.secrets import scrub, scrub_url
from mkdocs_ai_docstrings._internal.session import BuildSession
from mkdocs_ai_docstrings._internal.settings import Settings
from tests.conftest import build, build_env, make_site
from tests.emulator import AzureEmulator, count_prompt_tokens
from tests.test_faults import API_KEY, generate, many_functions, requests_per_object

PACKAGE = {
    "pkg/__init__.py": '"""A package to document."""\n',
    "pkg/core.py": textwrap.dedent(
        '''\
        """Core helpers."""


        def add(first: int, second: int) -> int:
            return first + second


        def scale(value: float, factor: float = 2.0) -> float:
            return value * factor
        '''
    ),
}


PAGES = {"index.md": "# API\n\n::: pkg\n\n::: pkg.core\n"}

pytestmark = pytest.mark.usefixtures("fast_backoff")


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ----------------------------------------------------------------------------------------------------------------------
# Unreachable endpoint


def test_a_build_against_an_unreachable_endpoint_costs_nothing_and_names_the_endpoint_once(tmp_path: Path) -> None:
    port = closed_port()
    site = make_site(tmp_path / "site", PACKAGE, PAGES, {"token_budget": 20000})
    env = build_env(None, tmp_path, AZURE_OPENAI_ENDPOINT=f"http://127.0.0.1:{port}", AZURE_OPENAI_API_KEY=API_KEY)

    result = build(site, env, timeout=120)

    assert result.returncode == 0, result.output
    lines = [line for line in result.output.splitlines() if f"127.0.0.1:{port}" in line and "ERROR" in line]
    assert len(lines) == 1, result.output
    assert "unreachable" in lines[0] and "AZURE_OPENAI_ENDPOINT" in lines[0]
    assert "Traceback" not in result.output
    assert result.report is not None
    totals = result.report["totals"]
    assert totals["total_tokens"] == 0 and totals["possibly_billed_tokens"] == 0
    assert totals["budget_remaining"] == 20000
    assert 1 <= totals["connection_failures"] <= 4
    reasons = [item["reason"] for item in result.report["objects"]]
    assert reasons and all(reason.startswith(("stopped: endpoint unreachable", "timeout")) for reason in reasons)
    assert not any(reason.startswith("budget") for reason in reasons)


# ----------------------------------------------------------------------------------------------------------------------
# A server that counts differently


def test_the_budget_holds_against_a_server_whose_tokenizer_counts_more(
    load: Callable[..., griffe.Module], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=logger.name)
    budget = 8000
    # gpt-4 counts with cl100k_base, shipped offline: the client's count is exact for the emulator's own cl100k
    # count, which the server then scales by 1.4. Short completions leave little slack in each reservation.
    with AzureEmulator(api_key=API_KEY, prompt_token_factor=1.4) as emu:
        pkg = load(many_functions(30))
        build_ = generate(
            pkg,
            emu,
            tmp_path,
            include=["pkg.funcs.*"],
            model="gpt-4",
            token_budget=budget,
            max_completion_tokens=120,
            concurrency=4,
        )
        billed = emu.billed_total_tokens
        prompts = [r for r in emu.requests if r.usage]
        assert prompts and all(r.usage["prompt_tokens"] > count_prompt_tokens(r.body) for r in prompts)

    assert build_.session.reservation_counter.exact
    assert billed <= budget, f"the server billed {billed} tokens against a budget of {budget}"
    assert build_.report.totals.total_tokens == billed
    statuses = build_.statuses()
    assert statuses["generated"] >= 3 and statuses["skipped"] >= 1, "the budget was the limit"
    assert build_.session.client is not None and build_.session.client.ratio.ratio > 1.3


# ----------------------------------------------------------------------------------------------------------------------
# Reservations never leak


def test_an_unreadable_answer_under_a_tight_budget_does_not_hang_the_next_request(
    load: Callable[..., griffe.Module], tmp_path: Path
) -> None:
    with AzureEmulator(api_key=API_KEY) as emu:
        pkg = load(many_functions(2))
        settings = Settings.from_options(
            {
                "cache_dir": str(tmp_path),
                "request_timeout": 5.0,
                "token_budget": 9000,
                "concurrency": 1,
                "examples": False,
            }
        )
        session = BuildSession(settings, environ={"AZURE_OPENAI_ENDPOINT": emu.url, "AZURE_OPENAI_API_KEY": API_KEY})
        emu.script("bad_body", "ok")  # a 200 whose body the SDK cannot parse, then a good answer

        outcomes: list[ObjectOutcome] = []
        candidates = discover(pkg, session.settings)
        worker = threading.Thread(target=lambda: outcomes.extend(fill(session, pkg, candidates)), daemon=True)
        worker.start()
        worker.join(60)  # the bound: a leaked reservation hangs
        assert not worker.is_alive(), "the build hung: a reservation was never released"
        report = session.finish()

    assert sorted(o.status for o in outcomes) == ["failed", "generated"]
    [failed] = [o for o in outcomes if o.status == "failed"]
    assert (failed.reason or "").startswith("bad response")
    assert failed.possibly_billed_tokens > 0 and report.totals.total_tokens == emu.requests[1].usage["total_tokens"]
    assert session.ledger.reserved == 0


def test_a_waiting_reservation_is_woken_by_a_release_and_a_hopeless_one_refused_at_once() -> None:
    from mkdocs_ai_docstrings._internal.budget import TokenLedger

    async def scenario() -> None:
        ledger = TokenLedger(1000)
        held = await ledger.reserve(700)
        assert held is not None
        waiting = asyncio.create_task(ledger.reserve(600))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        ledger.release(held)  # never reached the server: costs nothing
        granted = await asyncio.wait_for(waiting, 1)
        assert granted is not None and ledger.spent == 0
        ledger.settle_unknown(granted)
        assert (ledger.spent, ledger.possibly_billed, ledger.remaining) == (0, 600, 400)
        assert await asyncio.wait_for(ledger.reserve(401), 1) is None, "can never fit: refused without waiting"

    asyncio.run(scenario())


# ----------------------------------------------------------------------------------------------------------------------
# Output-mode fallback under concurrency


def test_concurrent_rejections_of_json_schema_fall_back_to_tool_and_never_skip_it(
    load: Callable[..., griffe.Module], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=logger.name)
    with AzureEmulator(api_key=API_KEY, unsupported_modes=("json_schema",), latency=0.05) as emu:
        pkg = load(many_functions(8))
        build_ = generate(pkg, emu, tmp_path, include=["pkg.funcs.*"], concurrency=4)
        modes = ["tool" if r.body.get("tools") else r.body.get("response_format", {}).get("type") for r in emu.requests]

    assert build_.statuses()["generated"] == 8
    assert "json_object" not in modes, "a working mode (tool) was skipped"
    assert modes.count("json_schema") <= 4 and set(modes) == {"json_schema", "tool"}
    assert build_.session.client is not None and build_.session.client.mode == "tool"
    fallbacks = [r.getMessage() for r in caplog.records if "rejected output mode" in r.getMessage()]
    assert fallbacks == ["the server rejected output mode 'json_schema'; trying 'tool'"]
    assert max(requests_per_object(emu.requests).values()) <= 2


# ----------------------------------------------------------------------------------------------------------------------
# Hygiene


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:s3cr3t-pw@host.example:8443/openai", "https://host.example:8443/openai"),
        ("https://host/path?api-key=s3cr3t-pw&x=1", "https://host/path?api-key=***&x=1"),
        ("https://acct.blob/c?sv=1&sig=s3cr3t-pw", "https://acct.blob/c?sv=1&sig=***"),
        ("http://127.0.0.1:8080/v1?token=s3cr3t-pw&key=s3cr3t-pw", "http://127.0.0.1:8080/v1?token=***&key=***"),
        ("https://plain.example", "https://plain.example"),
    ],
)
def test_scrub_url_removes_userinfo_and_secret_query_parameters(url: str, expected: str) -> None:
    assert scrub_url(url) == expected
    assert "s3cr3t-pw" not in scrub(f"failed to reach {url} now", ())


def test_a_password_in_the_endpoint_url_reaches_no_log_line_and_no_report(tmp_path: Path) -> None:
    password = "hunter2-Pa55w0rd"
    with AzureEmulator(api_key=API_KEY, deployments=("other",)) as emu:  # 404 for gpt-4o-mini: logged with the URL
        host = emu.url.removeprefix("http://")
        site = make_site(tmp_path / "site", PACKAGE, PAGES, {"deployment": "gpt-4o-mini"})
        env = build_env(None, tmp_path, AZURE_OPENAI_ENDPOINT=f"http://admin:{password}@{host}/?api-key={password}")
        env["AZURE_OPENAI_API_KEY"] = API_KEY
        result = build(site, env, "--verbose", emulator=emu)

    assert result.returncode == 0, result.output
    assert result.requests >= 1
    assert password not in result.output
    assert result.report is not None and password not in json.dumps(result.report)
    assert host in result.report["connection"]
    for page in result.html.values():
        assert password not in page
    # The 404 hint names the setting in effect: mkdocs.yml's option, not the environment variable it overrides.
    [line] = [line for line in result.output.splitlines() if "not found" in line and "ERROR" in line]
    assert "the `deployment` option in mkdocs.yml" in line and "AZURE_OPENAI_DEPLOYMENT" not in line


def test_a_failed_entra_id_sign_in_is_one_line_saying_what_to_set(caplog: pytest.LogCaptureFixture) -> None:
    azure_identity = pytest.importorskip("azure.identity")
    caplog.set_level(logging.DEBUG)
    # The real DefaultAzureCredential, without the managed-identity probes (they would leave the machine).
    credential = azure_identity.DefaultAzureCredential(
        exclude_managed_identity_credential=True, exclude_workload_identity_credential=True
    )

    with pytest.raises(ConfigurationError) as caught:
        entra_token_provider(credential)

    message = str(caught.value)
    assert "\n" not in message
    assert "AZURE_OPENAI_API_KEY" in message and "az login" in message
    noisy = [r for r in caplog.records if r.name.startswith("azure") and r.levelno >= logging.WARNING]
    assert noisy == []
