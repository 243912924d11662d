"""Batch runs end to end: `batch submit`, `status` and `collect` against the emulator's Batch API, then real builds.

After a round trip the next build sends no request and publishes the pages a live build publishes; lines that
failed, expired or were rejected are left for the live path, and rejected exactly as live answers are.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from mkdocs_ai_docstrings._internal.batch import STATE_FILE
from mkdocs_ai_docstrings._internal.prices import batch_price, estimate_cost, price_for
from tests.conftest import TEST_KEY, BuildResult, Site, build, build_env, make_site
from tests.emulator import AzureEmulator

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
OBJECTS = {"calc.ops.scale", "calc.ops.offset", "calc.ops.combine"}
INDEPENDENT = {
    "calc/__init__.py": '"""Small arithmetic helpers."""\n',
    "calc/ops.py": '"""Operations."""\n\n\n'
    + "\n\n".join(f"def op_{n}(value: int, step: int) -> int:\n    return value * {n + 2} + step\n" for n in range(3)),
}
"""Three undocumented functions calling nothing: one batch round covers them."""


def batch(site: Site, env: Mapping[str, str], action: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `mkdocs-ai-docstrings batch ACTION -f mkdocs.yml` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs_ai_docstrings._internal.cli", "batch", action, "-f", str(site.config_file), *args],
        cwd=site.root,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def state(site: Site) -> dict[str, Any]:
    return json.loads((site.root / STATE_FILE).read_text(encoding="utf-8"))


def round_trip(site: Site, env: Mapping[str, str]) -> list[dict[str, Any]]:
    """Submit and collect until nothing is pending; return each round's state."""
    rounds = []
    for _ in range(5):
        submitted = batch(site, env, "submit")
        assert submitted.returncode == 0, submitted.stderr
        if submitted.stdout.startswith("Nothing to submit"):
            return rounds
        collected = batch(site, env, "collect")
        assert collected.returncode == 0, collected.stdout + collected.stderr
        rounds.append(state(site))
    raise AssertionError("batch rounds did not converge")


def ai_sections(result: BuildResult) -> str:
    """The API page's HTML (where the AI docstrings are rendered)."""
    return result.html["index.html"]


def test_a_round_trip_caches_every_answer_so_the_next_build_sends_nothing_and_publishes_the_live_pages(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    live_site = make_site(tmp_path / "live", PACKAGE, PAGES)
    live = build(live_site, build_env(emulator, tmp_path), emulator=emulator)
    assert live.returncode == 0 and live.requests == 3, live.output

    emulator.batch_polls = 2
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
    collected = batch(site, env, "collect")
    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert "2 answer(s) stored in the cache, 0 left for the live path" in collected.stdout
    assert batch(site, env, "status").stdout.startswith(f"Batch {first['batch_id']} (round 1): completed (collected)")
    emulator.batch_polls = 0
    second = round_trip(site, env)
    assert [sorted(r["collected"]["stored"]) for r in second] == [["calc.ops.combine"]]

    again = batch(site, env, "collect")  # collecting twice is harmless
    assert again.returncode == 0 and "0 answer(s) stored" in again.stdout and "1 not needed" in again.stdout
    after = build(site, env, emulator=emulator)

    assert after.returncode == 0, after.output
    assert after.requests == 0
    assert after.report is not None and after.report["totals"]["requests"] == 0
    assert after.statuses() == dict.fromkeys(OBJECTS, "cached")
    assert ai_sections(after) == ai_sections(live)
    assert (site.root / "ai-docstrings.lock").read_text() == (live_site.root / "ai-docstrings.lock").read_text()


def test_the_batch_is_billed_at_the_batch_price_and_no_file_holds_the_key(tmp_path: Path, emulator: AzureEmulator) -> None:
    site = make_site(tmp_path / "batch", INDEPENDENT, PAGES)
    env = build_env(emulator, tmp_path)

    submitted = batch(site, env, "submit")
    collected = batch(site, env, "collect")

    assert submitted.returncode == 0 and collected.returncode == 0, submitted.stderr + collected.stderr
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
    # What was sent is exactly what a live build sends: the same body for each object.
    sent = sorted(json.dumps(line.body, sort_keys=True) for line in lines)
    live = build(make_site(tmp_path / "live", INDEPENDENT, PAGES), env, emulator=emulator)
    assert live.requests == 3
    assert sorted(json.dumps(r.body, sort_keys=True) for r in emulator.requests[-3:]) == sent


def test_failed_and_expired_lines_are_left_for_the_live_path(tmp_path: Path, emulator: AzureEmulator) -> None:
    emulator.batch_end = "expired"
    emulator.batch_answered = 2  # the third line expires unanswered
    emulator.script("500")  # the first line fails
    site = make_site(tmp_path / "batch", INDEPENDENT, PAGES)
    env = build_env(emulator, tmp_path)

    assert batch(site, env, "submit").returncode == 0
    collected = batch(site, env, "collect")

    assert collected.returncode == 0, collected.stdout + collected.stderr
    left = state(site)["collected"]["left_for_live"]
    assert sorted(left.values()) == [
        "batch line failed: HTTP 500: InternalServerError: The server had an error while processing your request.",
        "batch line failed: batch_expired: This request could not be executed before the completion window expired.",
    ]
    [stored] = state(site)["collected"]["stored"]
    after = build(site, env, emulator=emulator)
    assert after.requests == 2
    assert after.statuses() == {stored: "cached", **dict.fromkeys(left, "generated")}


@pytest.mark.parametrize("fault", ["schema_invalid", "malformed_json", "invent_param", "hostile"])
def test_answers_in_the_output_file_are_checked_exactly_as_live_ones(
    tmp_path: Path, emulator: AzureEmulator, fault: str
) -> None:
    source = {"calc/__init__.py": '"""Calc."""\n', "calc/ops.py": PACKAGE["calc/ops.py"].split("\n\n\ndef offset")[0]}
    env = build_env(emulator, tmp_path)
    emulator.script(fault)  # the first answer of the live build; its retry, if any, is sound
    live = build(make_site(tmp_path / "live", source, PAGES), env, emulator=emulator)
    emulator.script(fault)  # the batch's only line
    site = make_site(tmp_path / "batch", source, PAGES)
    assert batch(site, env, "submit").returncode == 0
    assert batch(site, env, "collect").returncode == 0
    collected = state(site)["collected"]
    after = build(site, env, emulator=emulator)

    [outcome] = live.report["objects"] if live.report else []
    if live.requests == 1:  # the live build published the first answer (repaired, or made inert)
        assert collected["stored"] == ["calc.ops.scale"] and after.requests == 0
        assert ai_sections(after) == ai_sections(live)
    else:  # the live build rejected it and asked again: the batch's answer is rejected with the same reason
        assert outcome["repairs"][0].startswith("retried: ")
        rejected = outcome["repairs"][0].removeprefix("retried: ")
        assert collected["left_for_live"] == {"calc.ops.scale": f"rejected: {rejected}"}
        assert after.requests == 1 and after.statuses() == {"calc.ops.scale": "generated"}


def test_openai_provider_and_the_extension_alone(tmp_path: Path, emulator: AzureEmulator) -> None:
    options = {"provider": "openai", "base_url": f"{emulator.url}/v1"}
    site = make_site(
        tmp_path / "batch",
        INDEPENDENT,
        PAGES,
        handler_options={"extensions": [{"mkdocs_ai_docstrings": options}]},
        plugins_order=("mkdocstrings",),
    )
    env = build_env(None, tmp_path, OPENAI_API_KEY=TEST_KEY)

    assert batch(site, env, "submit").returncode == 0
    collected = batch(site, env, "collect")
    after = build(site, env, emulator=emulator)

    assert "3 answer(s) stored" in collected.stdout, collected.stdout + collected.stderr
    assert {r.path for r in emulator.requests} == {"/v1/files", "/v1/batches", *_batch_paths(emulator)}
    assert after.requests == 0 and set(after.statuses().values()) == {"cached"}


def _batch_paths(emulator: AzureEmulator) -> set[str]:
    [batch_id] = emulator.batches
    output = emulator.batches[batch_id]["output_file_id"]
    return {f"/v1/batches/{batch_id}", f"/v1/files/{output}/content"}


def test_collect_before_the_batch_ends_stores_nothing_and_says_so(tmp_path: Path, emulator: AzureEmulator) -> None:
    emulator.batch_polls = 3
    site = make_site(tmp_path / "batch", INDEPENDENT, PAGES)
    env = build_env(emulator, tmp_path)
    assert batch(site, env, "submit").returncode == 0

    early = batch(site, env, "collect")

    assert early.returncode == 1
    assert "is not finished yet: in_progress" in early.stdout
    assert state(site)["collected"] is None
    resubmitted = batch(site, env, "submit")  # one batch at a time: the first one's answers are not lost
    assert resubmitted.returncode != 0 and "is not collected yet" in resubmitted.stderr
