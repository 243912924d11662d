"""Batch runs end to end: `batch submit`, `status` and `collect` against the emulator's Batch API, then real builds.

After a round trip the next build sends no request and publishes the pages a live build publishes; lines that
failed, expired or were rejected are left for the live path, and rejected exactly as live answers are.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import openai
import pytest

from mkdocs_ai_docstrings._internal.batch import STATE_FILE
from mkdocs_ai_docstrings._internal.prices import batch_price, estimate_cost, price_for
from tests.conftest import TEST_KEY, BuildResult, Site, build, build_env, make_site
from tests.emulator import AzureEmulator, request_schema, synthesize

PACKAGE = {
    "calc/__init__.py": '"""Small arithmetic helpers."""\n',
    "calc/ops.py": (
        '"""Operations."""\n\n\n'
        "def scale(value: int, factor: int) -> int:\n    return value * factor\n\n\n"
        "def offset(value: int, delta: int) -> int:\n    return value + delta\n\n\n"
        "def combine(value: int, factor: int, delta: int) -> int:\n"
        "    return offset(scale(value, factor), delta)\n"
    ),
}
"""Three undocumented functions; `combine` calls the other two, so its prompt quotes their answers."""
PAGES = {"index.md": "# API\n\n::: calc.ops\n"}
SCALE_ONLY = {"calc/__init__.py": '"""Calc."""\n', "calc/ops.py": PACKAGE["calc/ops.py"].split("\n\n\ndef offset")[0]}
"""The package with `calc.ops.scale` alone: one object, one request."""
OBJECTS = {"calc.ops.scale", "calc.ops.offset", "calc.ops.combine"}
INDEPENDENT = {
    "calc/__init__.py": '"""Small arithmetic helpers."""\n',
    "calc/ops.py": '"""Operations."""\n\n\n'
    + "\n\n".join(f"def op_{n}(value: int, step: int) -> int:\n    return value * {n + 2} + step\n" for n in range(3)),
}
"""Three undocumented functions calling nothing: one batch round covers them."""
INDEPENDENT_OBJECTS = {f"calc.ops.op_{n}" for n in range(3)}


def batch(site: Site, env: Mapping[str, str], action: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `mkdocs-ai-docstrings batch ACTION -f mkdocs.yml` in a subprocess."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs_ai_docstrings._internal.cli",
            "batch",
            action,
            "-f",
            str(site.config_file),
            *args,
        ],
        cwd=site.root,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def state(site: Site) -> dict[str, Any]:
    return json.loads((site.root / STATE_FILE).read_text(encoding="utf-8"))


def ai_sections(result: BuildResult) -> str:
    """The API page's HTML (where the AI docstrings are rendered)."""
    return result.html["index.html"]


def test_a_round_trip_caches_every_answer_so_the_next_build_sends_nothing_and_publishes_the_live_pages(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    live_site = make_site(tmp_path / "live", PACKAGE, PAGES)
    live = build(live_site, build_env(emulator, tmp_path), emulator=emulator)
    assert live.returncode == 0 and live.requests == 3, live.output

    emulator.batch_polls = 3
    site = make_site(tmp_path / "batch", PACKAGE, PAGES)
    env = build_env(emulator, tmp_path)
    before = len(emulator.requests)
    submitted = batch(site, env, "submit")
    assert submitted.returncode == 0, submitted.stderr
    first = state(site)
    # `combine` quotes the answers of `scale` and `offset`: its request is known only once they are.
    assert sorted(item["path"] for item in first["requests"].values()) == ["calc.ops.offset", "calc.ops.scale"]
    assert first["waiting"] == ["calc.ops.combine"]
    assert not [r for r in emulator.requests[before:] if r.path.endswith("/chat/completions")]
    in_progress = batch(site, env, "status")
    assert "in_progress; 0/2 answered" in in_progress.stdout, in_progress.stdout + in_progress.stderr
    early = batch(site, env, "collect")
    assert early.returncode == 1 and "is not finished yet: in_progress" in early.stdout
    refused = batch(site, env, "submit")  # one batch at a time: the first one's answers are not lost
    assert refused.returncode != 0 and "is not collected yet" in refused.stderr
    collected = batch(site, env, "collect")
    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert "2 answer(s) stored in the cache, 0 left for the live path" in collected.stdout
    assert "1 object(s) waited for these answers: run `batch submit` again" in collected.stdout

    emulator.batch_polls = 0
    assert batch(site, env, "submit").returncode == 0
    second = state(site)
    assert [item["path"] for item in second["requests"].values()] == ["calc.ops.combine"]
    assert second["round"] == 2 and second["waiting"] == []
    assert batch(site, env, "collect").returncode == 0
    again = batch(site, env, "collect")  # collecting twice is harmless
    assert again.returncode == 0 and "0 answer(s) stored" in again.stdout and "1 not needed" in again.stdout
    assert state(site)["collected"]["stored"] == []
    after = build(site, env, emulator=emulator)

    assert after.returncode == 0, after.output
    assert after.requests == 0
    assert after.report is not None and after.report["totals"]["requests"] == 0
    assert after.statuses() == dict.fromkeys(OBJECTS, "cached")
    assert ai_sections(after) == ai_sections(live)
    assert (site.root / "ai-docstrings.lock").read_text() == (live_site.root / "ai-docstrings.lock").read_text()


def test_openai_and_the_extension_alone_billed_at_the_batch_price_with_the_live_bodies_and_no_key(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    def extension_site(root: Path) -> Site:
        options = {"provider": "openai", "base_url": f"{emulator.url}/v1", "examples": False}
        extensions = {"extensions": [{"mkdocs_ai_docstrings": options}]}
        return make_site(root, INDEPENDENT, PAGES, handler_options=extensions, plugins_order=("mkdocstrings",))

    site = extension_site(tmp_path / "batch")
    temp = tmp_path / "temp"
    temp.mkdir()
    env = build_env(None, tmp_path, OPENAI_API_KEY=TEST_KEY, TMPDIR=str(temp))

    submitted = batch(site, env, "submit")
    collected = batch(site, env, "collect")
    after = build(site, env, emulator=emulator)

    assert list(temp.iterdir()) == []  # the extension's report is written before the temporary site is removed

    assert submitted.returncode == 0 and collected.returncode == 0, submitted.stderr + collected.stderr
    [batch_id] = emulator.batches
    output_file = emulator.batches[batch_id]["output_file_id"]
    assert [r.path for r in emulator.requests] == [
        "/v1/files",
        "/v1/batches",
        f"/v1/batches/{batch_id}",
        f"/v1/files/{output_file}/content",
    ]
    assert after.requests == 0 and after.statuses() == dict.fromkeys(INDEPENDENT_OBJECTS, "cached")
    lines = emulator.batch_lines
    assert len(lines) == 3 and all(line.status == 200 for line in lines)
    prompt = sum(line.usage["prompt_tokens"] for line in lines if line.usage)
    completion = sum(line.usage["completion_tokens"] for line in lines if line.usage)
    live_price = price_for("gpt-4o-mini")
    cost = estimate_cost(batch_price(live_price), prompt_tokens=prompt, completion_tokens=completion)
    live_cost = estimate_cost(live_price, prompt_tokens=prompt, completion_tokens=completion)
    assert cost is not None and live_cost is not None and cost == pytest.approx(live_cost / 2)
    record = state(site)["collected"]
    assert (record["prompt_tokens"], record["completion_tokens"]) == (prompt, completion)
    assert record["cost"] == pytest.approx(cost)
    assert f"at the batch price: ${cost:.4f}" in collected.stdout
    assert "at the batch price (" in submitted.stdout
    for path in (site.root / STATE_FILE, site.root / (STATE_FILE + "l")):
        assert TEST_KEY not in path.read_text(encoding="utf-8")
    # What was sent is exactly what a live build sends: the same body, billed the same tokens (the order of a
    # schema's keys can change how a server counts it).
    live = build(extension_site(tmp_path / "live"), env, emulator=emulator)
    assert live.requests == 3
    sent = sorted((json.dumps(line.body, sort_keys=True), json.dumps(line.usage)) for line in lines)
    assert sorted((json.dumps(r.body, sort_keys=True), json.dumps(r.usage)) for r in emulator.requests[-3:]) == sent


def test_failed_and_expired_lines_are_left_for_the_live_path(tmp_path: Path, emulator: AzureEmulator) -> None:
    emulator.batch_end = "expired"
    emulator.batch_answered = 2  # the third line expires unanswered
    emulator.script("500")  # the first line fails
    emulator.deployments = frozenset({"gpt-4o-mini", "gpt-4o-mini-batch"})
    site = make_site(tmp_path / "batch", INDEPENDENT, PAGES)
    env = build_env(emulator, tmp_path)

    assert batch(site, env, "submit", "--deployment", "gpt-4o-mini-batch").returncode == 0
    collected = batch(site, env, "collect")

    assert collected.returncode == 0, collected.stdout + collected.stderr
    left = state(site)["collected"]["left_for_live"]
    assert sorted(left.values()) == [
        "batch line failed: HTTP 500: InternalServerError: The server had an error while processing your request.",
        "batch line failed: batch_expired: This request could not be executed before the completion window expired.",
    ]
    [stored] = state(site)["collected"]["stored"]
    assert [line.deployment for line in emulator.batch_lines] == ["gpt-4o-mini-batch"] * 2
    after = build(site, env, emulator=emulator)
    assert after.requests == 2
    assert {request.deployment for request in emulator.requests[-2:]} == {"gpt-4o-mini"}
    assert after.statuses() == {stored: "cached", **dict.fromkeys(left, "generated")}


@pytest.mark.parametrize(
    ("fault", "live_requests"), [("hostile", 2), ("length", 2), ("schema_invalid", 2), ("invent_param", 1)]
)
def test_answers_in_the_output_file_are_checked_exactly_as_live_ones(
    tmp_path: Path, emulator: AzureEmulator, fault: str, live_requests: int
) -> None:
    """An invented parameter is dropped; an invalid answer, or one cut off at the first answer's cap (the injected
    text of a hostile one runs past it), is rejected with the same reason, as live."""
    env = build_env(emulator, tmp_path)
    emulator.script(fault)  # the first answer of the live build; its retry, if any, is sound
    live = build(make_site(tmp_path / "live", SCALE_ONLY, PAGES), env, emulator=emulator)
    emulator.script(fault)  # the batch's only line
    site = make_site(tmp_path / "batch", SCALE_ONLY, PAGES)
    assert batch(site, env, "submit").returncode == 0
    assert batch(site, env, "collect").returncode == 0
    collected = state(site)["collected"]
    after = build(site, env, emulator=emulator)

    [outcome] = live.report["objects"] if live.report else []
    assert live.requests == live_requests
    if live.requests == 1:  # the live build published the first answer (repaired, or made inert)
        assert collected["stored"] == ["calc.ops.scale"] and after.requests == 0
        assert ai_sections(after) == ai_sections(live)
    else:  # the live build rejected it and asked again: the batch's answer is rejected with the same reason
        assert outcome["repairs"][0].startswith("retried: ")
        rejected = outcome["repairs"][0].removeprefix("retried: ")
        assert collected["left_for_live"] == {"calc.ops.scale": f"rejected: {rejected}"}
        assert after.requests == 1 and after.statuses() == {"calc.ops.scale": "generated"}


def test_an_answer_in_the_output_file_cut_off_inside_its_description_is_kept_as_live(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    """A batch line a small model's run-on description cut off is published with its first sentences, no live call."""

    def run_on(body: dict[str, Any]) -> str:
        value = {key: item for key, item in synthesize(request_schema(body)).items() if key != "description"}
        return json.dumps({**value, "description": "It scales the value. It never fails. " + "And more " * 2000})

    emulator.answer = run_on
    site = make_site(tmp_path / "batch", SCALE_ONLY, PAGES)
    env = build_env(emulator, tmp_path)
    assert batch(site, env, "submit").returncode == 0
    assert batch(site, env, "collect").returncode == 0
    after = build(site, env, emulator=emulator)

    assert state(site)["collected"]["stored"] == ["calc.ops.scale"]
    assert after.requests == 0 and after.statuses() == {"calc.ops.scale": "cached"}
    assert "It scales the value. It never fails." in ai_sections(after)
    assert "And more" not in ai_sections(after)


def test_dry_run_writes_the_requests_without_sending_them_and_the_budget_caps_the_batch(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    site = make_site(tmp_path / "batch", INDEPENDENT, PAGES)
    env = build_env(emulator, tmp_path)

    planned = batch(site, env, "submit", "--dry-run")
    capped = batch(site, env, "submit", "--dry-run", "--budget", "0")

    assert planned.returncode == 0 and planned.stdout.startswith("Wrote "), planned.stdout + planned.stderr
    lines = [json.loads(line) for line in (site.root / (STATE_FILE + "l")).read_text().splitlines()]
    assert len(lines) == 3
    assert {(line["method"], line["url"], line["body"]["model"]) for line in lines} == {
        ("POST", "/chat/completions", "gpt-4o-mini")
    }
    assert emulator.requests == [] and not (site.root / STATE_FILE).exists()
    assert capped.stdout.count(": budget") == 3 and "Nothing to submit" in capped.stdout


def test_a_cancelled_batch_is_collected_for_what_it_finished_and_the_rest_is_left(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    emulator.batch_polls = 5
    site = make_site(tmp_path / "batch", INDEPENDENT, PAGES)
    env = build_env(emulator, tmp_path)
    assert batch(site, env, "submit").returncode == 0

    cancelled = batch(site, env, "cancel")
    collected = batch(site, env, "collect")

    assert "cancelled" in cancelled.stdout, cancelled.stdout + cancelled.stderr
    assert collected.returncode == 0, collected.stdout + collected.stderr
    left = state(site)["collected"]["left_for_live"]
    assert set(left) == INDEPENDENT_OBJECTS
    assert set(left.values()) == {"batch line failed: batch_cancelled: This request was cancelled."}


def test_the_emulator_fails_a_batch_whose_lines_do_not_match_its_endpoint(emulator: AzureEmulator) -> None:
    client = openai.AzureOpenAI(azure_endpoint=emulator.url, api_key=TEST_KEY, api_version="2024-10-21")
    line = {"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": {"model": "gpt-4o-mini"}}
    uploaded = client.files.create(file=("in.jsonl", json.dumps(line).encode()), purpose="batch")

    created = client.batches.create(input_file_id=uploaded.id, endpoint="/chat/completions", completion_window="24h")

    assert created.status == "failed"
    assert created.errors is not None and [e.code for e in created.errors.data or []] == ["mismatched_endpoint"]
    assert emulator.batch_lines == []
    with pytest.raises(openai.BadRequestError):
        client.files.create(file=("in.jsonl", b"{}"), purpose="fine-tune")


def test_a_failed_batch_stores_nothing_and_its_objects_can_be_submitted_again(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    emulator.batch_end = "failed"
    site = make_site(tmp_path / "batch", INDEPENDENT, PAGES)
    env = build_env(emulator, tmp_path)
    assert batch(site, env, "submit").returncode == 0

    collected = batch(site, env, "collect")
    resubmitted = batch(site, env, "submit", "--dry-run")

    assert collected.returncode == 1 and "failed: server_error: Emulated batch failure." in collected.stdout
    assert resubmitted.returncode == 0 and "3 request(s)" in resubmitted.stdout, resubmitted.stdout


def test_no_credentials_or_an_unreachable_endpoint_is_one_clear_line(tmp_path: Path, emulator: AzureEmulator) -> None:
    site = make_site(tmp_path / "batch", INDEPENDENT, PAGES)

    missing = batch(site, build_env(None, tmp_path), "submit")
    unreachable = batch(site, build_env(emulator, tmp_path, AZURE_OPENAI_ENDPOINT="http://127.0.0.1:9"), "submit")

    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        "not configured: no Azure OpenAI endpoint: set AZURE_OPENAI_ENDPOINT (or the `endpoint` option)"
    ]
    assert unreachable.returncode == 1
    assert unreachable.stderr.strip().splitlines()[-1] == "the Batch API call failed: Connection error."
    assert "Traceback" not in unreachable.stderr and TEST_KEY not in unreachable.stderr
    assert not (site.root / STATE_FILE).exists()


def test_the_batch_command_is_one_registrar_whose_actions_take_the_site_file() -> None:
    from mkdocs_ai_docstrings._internal import cli

    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    group = commands.choices["batch"]
    actions = next(a for a in group._actions if isinstance(a, argparse._SubParsersAction))

    assert set(actions.choices) == {"submit", "status", "collect", "cancel"}
    assert group.epilog and "mkdocs-ai-docstrings batch collect" in group.epilog
    for name, action in actions.choices.items():
        args = parser.parse_args(["batch", name, "-f", "docs/mkdocs.yml"])
        assert (args.batch_action, args.config_file) == (name, "docs/mkdocs.yml")
        for option in action._actions:
            assert option.help, f"batch {name} {option.option_strings}"
