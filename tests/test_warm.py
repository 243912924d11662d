"""The warm path: a build whose answers are all cached builds no prompt, redacts nothing, scans no unchanged source and
imports no SDK; and the fingerprint that finds a cached answer changes with every input of the prompt."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import griffe
import pytest

from mkdocs_ai_docstrings._internal import discovery, jobs, redact, request, warm
from mkdocs_ai_docstrings._internal.discovery import SecretScans, discover
from mkdocs_ai_docstrings._internal.generator import fill
from mkdocs_ai_docstrings._internal.jobs import Job, PackageContext
from mkdocs_ai_docstrings._internal.schedule import plan_jobs
from mkdocs_ai_docstrings._internal.session import BuildSession
from mkdocs_ai_docstrings._internal.settings import Settings
from mkdocs_ai_docstrings._internal.warm import prompt_fingerprint
from tests.conftest import build, build_env, make_site
from tests.emulator import AzureEmulator

API_KEY = "sk-warm-0123456789abcdef0123456789abcdef"

CORE = '''\
"""Arithmetic helpers."""


def offset(value: int) -> int:
    """Shift a value by the configured offset.

    Args:
        value: The value to shift.
    """
    return value + 3


def add(first: int, second: int) -> int:
    return offset(first) + second


class Meter:
    """A running total of measured values."""

    def record(self, value: float) -> float:
        return value * 2
'''

FILES = {"__init__.py": '"""A package to document."""\n', "core.py": CORE}


@contextmanager
def loaded(files: dict[str, str]) -> Iterator[griffe.Module]:
    with griffe.temporary_visited_package("pkg", files) as package:
        yield package


def session_for(cache_dir: Path, emu: AzureEmulator | None = None, **options: Any) -> BuildSession:
    settings = Settings.from_options({"cache_dir": str(cache_dir), "run_examples": False, **options})
    environ = {"AZURE_OPENAI_ENDPOINT": emu.url if emu else "https://example.invalid", "AZURE_OPENAI_API_KEY": API_KEY}
    return BuildSession(settings, environ=environ)


@dataclass
class Counts:
    prompts: int = 0
    redactions: int = 0
    scans: int = 0


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> Counts:
    """Counts prompts built, redactor calls and secret scans, through the product's own functions."""
    seen = Counts()

    def counting(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            setattr(seen, name, getattr(seen, name) + 1)
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(request, "build_messages", counting("prompts", request.build_messages))
    monkeypatch.setattr(redact, "redact_secrets", counting("redactions", redact.redact_secrets))
    monkeypatch.setattr(redact, "find_secrets", counting("scans", redact.find_secrets))
    monkeypatch.setattr(discovery, "_SCANNED", {})  # a fresh process: nothing scanned yet
    return seen


def run(files: dict[str, str], session: BuildSession) -> dict[str, tuple[str, str | None, int, bool]]:
    """One build the way the extension does it; status, published docstring, redactions and truncation by path."""
    with loaded(files) as package:
        scans = SecretScans(session.cache, package.path)
        outcomes = fill(session, package, discover(package, session.settings, scans=scans))
        docstrings = {o.canonical_path: package[o.canonical_path.removeprefix("pkg.")].docstring for o in outcomes}
        result = {
            o.canonical_path: (
                o.status,
                docstrings[o.canonical_path].value if docstrings[o.canonical_path] else None,
                o.redactions,
                o.truncated_context,
            )
            for o in outcomes
        }
    session.finish()
    return result


def test_a_warm_build_builds_no_prompt_and_publishes_the_same_text(
    tmp_path: Path, emulator: AzureEmulator, counts: Counts, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.api_key = API_KEY
    cold = run(FILES, session_for(tmp_path / "cache", emulator))
    assert {status for status, *_ in cold.values()} == {"generated"}
    assert counts.prompts == len(cold) and counts.redactions > 0 and counts.scans > 0
    sent = len(emulator.requests)

    monkeypatch.setattr(discovery, "_SCANNED", {})  # the next build runs in a new process
    before = Counts(counts.prompts, counts.redactions, counts.scans)
    warm = run(FILES, session_for(tmp_path / "cache", emulator))

    assert {path: status for path, (status, *_) in warm.items()} == dict.fromkeys(cold, "cached")
    assert {path: rest for path, (_, *rest) in warm.items()} == {path: rest for path, (_, *rest) in cold.items()}
    assert len(emulator.requests) == sent
    assert (counts.prompts, counts.redactions, counts.scans) == (before.prompts, before.redactions, before.scans)


# Every input of the prompt changes the fingerprint ------------------------------------------------------------------


def _replace(old: str, new: str) -> Callable[[dict[str, str]], dict[str, str]]:
    def edit(files: dict[str, str]) -> dict[str, str]:
        assert old in files["core.py"]
        return {**files, "core.py": files["core.py"].replace(old, new)}

    return edit


VARIANTS: dict[str, tuple[str, Callable[[dict[str, str]], dict[str, str]] | None, dict[str, Any]]] = {
    # name: (target, edit of the files, options)
    "own source": ("pkg.core.add", _replace("offset(first) + second", "offset(second) + first"), {}),
    "own signature (and schema)": ("pkg.core.add", _replace("second: int)", "second: int, third: int = 0)"), {}),
    "callee signature": ("pkg.core.add", _replace("def offset(value: int)", "def offset(value: int, by=3)"), {}),
    "callee docstring": ("pkg.core.add", _replace("Shift a value", "Move a value"), {}),
    "enclosing class": ("pkg.core.Meter.record", _replace("A running total", "A running sum"), {}),
    "module docstring": ("pkg.core.add", _replace("Arithmetic helpers.", "Helpers for arithmetic."), {}),
    "style example of a documented neighbour": (
        "pkg.core.Meter.record",
        _replace("The value to shift.", "The input."),
        {},
    ),
    "number of style examples": ("pkg.core.Meter.record", None, {"style_examples": 0}),
    "context size": ("pkg.core.add", None, {"max_input_tokens": 60}),
    "redaction off": ("pkg.core.add", None, {"redact_secrets": False}),
    "deployment": ("pkg.core.add", None, {"deployment": "gpt-4.1"}),
    "model": ("pkg.core.add", None, {"model": "gpt-4o"}),
    "temperature": ("pkg.core.add", None, {"temperature": 0.7}),
    "completion cap": ("pkg.core.add", None, {"max_completion_tokens": 500}),
    "output mode": ("pkg.core.add", None, {"output_mode": "tool"}),
    "user template": ("pkg.core.add", None, {"user_prompt_file": "TEMPLATE"}),
}
"""Each changes one input of the target's prompt or cache key; `TEMPLATE` stands for a custom user template."""


def fingerprint_and_key(files: dict[str, str], target: str, tmp_path: Path, **options: Any) -> tuple[str | None, str]:
    """The target's fingerprint and full cache key, as a build with these files and options computes them."""
    session = session_for(tmp_path / "cache", **options)
    with loaded(files) as package:
        context = PackageContext(session, package)
        job = next(
            job
            for job in plan_jobs([Job(c) for c in discover(package, session.settings)])
            if job.candidate.path == target
        )
        fingerprint = prompt_fingerprint(context, job, request.schema_for(job))
        key = request.request_for(context, job).key
    session.finish()
    return fingerprint, key


@pytest.mark.parametrize("name", list(VARIANTS))
def test_a_change_to_any_input_of_the_prompt_changes_the_fingerprint(name: str, tmp_path: Path) -> None:
    target, edit, options = VARIANTS[name]
    if options.get("user_prompt_file") == "TEMPLATE":
        template = tmp_path / "user.txt"
        template.write_text("Document the $kind `$path` briefly.\n\n$context\n", encoding="utf-8")
        options = {"user_prompt_file": str(template)}
    base_fingerprint, base_key = fingerprint_and_key(FILES, target, tmp_path)
    again = fingerprint_and_key(FILES, target, tmp_path)
    changed = fingerprint_and_key(edit(FILES) if edit else FILES, target, tmp_path, **options)

    assert again == (base_fingerprint, base_key)  # stable across sessions and loads
    assert base_fingerprint is not None
    assert changed[1] != base_key or name == "redaction off"  # the variant really changes the prompt or key
    assert changed[0] != base_fingerprint


def test_an_edit_outside_the_prompt_keeps_the_fingerprint(tmp_path: Path) -> None:
    files = {**FILES, "other.py": '"""Other things."""\n\n\ndef unrelated():\n    return 1\n'}
    edited = {**files, "other.py": files["other.py"].replace("return 1", "return 2")}

    assert fingerprint_and_key(files, "pkg.core.add", tmp_path) == fingerprint_and_key(edited, "pkg.core.add", tmp_path)


def test_an_object_whose_context_holds_the_api_key_has_no_fingerprint(
    tmp_path: Path, emulator: AzureEmulator, counts: Counts
) -> None:
    emulator.api_key = API_KEY
    files = {
        **FILES,
        "core.py": CORE.replace('"""Arithmetic helpers."""', f'"""Arithmetic helpers ({API_KEY})."""'),
    }

    assert fingerprint_and_key(files, "pkg.core.add", tmp_path)[0] is None
    cold = run(files, session_for(tmp_path / "cache", emulator))
    warm = run(files, session_for(tmp_path / "cache", emulator))
    assert warm["pkg.core.add"][0] == "cached"
    assert warm["pkg.core.add"][2] == cold["pkg.core.add"][2] > 0  # the key was redacted both times


# Secret scans by content hash ---------------------------------------------------------------------------------------

LEAKY = {
    "__init__.py": '"""A package to document."""\n',
    "conf.py": '"""Settings."""\n\n\ndef connect():\n    return login(password="Zq8#mLp2@vRt9!xKw4")\n',
}


def forge(cache: Any, name: str, edit: Callable[[Any], Any]) -> None:
    """Rewrite the data of the sealed record `name` in place, keeping its old seal (what a forger can do)."""
    raw = cache._store.get(f"sealed:{name}")
    record = json.loads(raw)
    body = json.dumps(edit(json.loads(record["body"])))
    cache._store.set(f"sealed:{name}", {**record, "body": body})


def where(reason: str | None) -> str:
    """A skip reason without the temporary folder the package was loaded from."""
    return re.sub(r" at \S*/pkg/", " at pkg/", reason or "")


def test_a_stored_scan_verdict_is_used_only_with_a_valid_seal(tmp_path: Path, counts: Counts) -> None:
    cache_dir = tmp_path / "cache"
    first = session_for(cache_dir)
    with loaded(LEAKY) as package:
        found = discover(package, first.settings, scans=SecretScans(first.cache, "pkg"))
    assert found[0].secret is not None and counts.scans == 1
    first.finish()

    discovery._SCANNED.clear()
    second = session_for(cache_dir)
    with loaded(LEAKY) as package:
        scans = SecretScans(second.cache, "pkg")
        again = discover(package, second.settings, scans=scans)
    assert (where(again[0].secret), scans.scanned, counts.scans) == (where(found[0].secret), 0, 1)  # sealed: reused

    forge(second.cache, "scans:pkg", lambda stored: {digest: [] for digest in stored})  # forged "clean"
    second.finish()
    discovery._SCANNED.clear()
    third = session_for(cache_dir)
    with loaded(LEAKY) as package:
        forged = discover(package, third.settings, scans=SecretScans(third.cache, "pkg"))
    third.finish()
    assert where(forged[0].secret) == where(
        found[0].secret
    )  # the forged verdict was ignored and the source scanned again
    assert counts.scans == 2


# Code fingerprints for the lock file, kept while the sources are unchanged --------------------------------------------


def locked_build(
    files: dict[str, str], root: Path, emu: AzureEmulator | None, environ: dict[str, str] | None = None
) -> tuple[dict[str, str], BuildSession]:
    """One build with a lock file in `root`; the status of every object, and the finished session."""
    settings = Settings.from_options({"cache_dir": str(root / "cache"), "run_examples": False})
    if environ is None:
        environ = {
            "AZURE_OPENAI_ENDPOINT": emu.url if emu else "https://example.invalid",
            "AZURE_OPENAI_API_KEY": API_KEY,
        }
    if emu is not None:
        emu.api_key = API_KEY
    session = BuildSession(settings, environ=environ, config_dir=root)
    with loaded(files) as package:
        outcomes = fill(session, package, discover(package, session.settings))
    session.finish()
    return {o.canonical_path: str(o.status) for o in outcomes}, session


@pytest.fixture
def fingerprinted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The objects whose code fingerprint (and so code facts) a build computes."""
    seen: list[str] = []
    original = jobs.code_fingerprint

    def counting(obj: griffe.Object, *args: Any, **kwargs: Any) -> str:
        seen.append(obj.path)
        return original(obj, *args, **kwargs)

    monkeypatch.setattr(jobs, "code_fingerprint", counting)
    return seen


def test_a_warm_locked_build_computes_no_code_fingerprint_until_a_source_changes(
    tmp_path: Path, emulator: AzureEmulator, fingerprinted: list[str]
) -> None:
    cold, _ = locked_build(FILES, tmp_path, emulator)
    assert set(cold.values()) == {"generated"} and fingerprinted
    fingerprinted.clear()

    warm, session = locked_build(FILES, tmp_path, emulator)
    assert set(warm.values()) == {"cached"} and session.lock is not None
    assert fingerprinted == []  # every record checked against the stored fingerprints

    edited = {**FILES, "__init__.py": '"""A package to document."""\n\nVERSION = 2\n'}  # another file of the package
    again, _ = locked_build(edited, tmp_path, emulator)
    assert set(again.values()) == {"cached"}  # the code of the objects did not change: their records still hold
    assert sorted(fingerprinted) == sorted(cold)  # but each fingerprint was computed again


def test_a_changed_object_is_stale_although_its_fingerprint_was_stored(tmp_path: Path, emulator: AzureEmulator) -> None:
    locked_build(FILES, tmp_path, emulator)
    changed = {**FILES, "core.py": CORE.replace("return offset(first) + second", "return offset(first) - second")}
    statuses, session = locked_build(changed, tmp_path, emulator)
    assert statuses["pkg.core.add"] == "generated"  # asked again: the lock record no longer matched the code
    assert session.report.outcomes["pkg.core.add"].lock == "written"


def test_stored_fingerprints_with_a_forged_seal_are_ignored(
    tmp_path: Path, emulator: AzureEmulator, fingerprinted: list[str]
) -> None:
    locked_build(FILES, tmp_path, emulator)
    cache = session_for(tmp_path / "cache").cache
    stored = cache.sealed("code-memo:pkg")
    assert isinstance(stored, dict) and stored["fingerprints"]
    forge(
        cache,
        "code-memo:pkg",
        lambda old: {**old, "fingerprints": dict.fromkeys(old["fingerprints"], "fp1:" + "0" * 24)},
    )
    cache.close()
    fingerprinted.clear()

    statuses, _ = locked_build(FILES, tmp_path, emulator)
    assert set(statuses.values()) == {"cached"}  # the forged fingerprints would have made every record stale
    assert sorted(fingerprinted) == sorted(statuses)


def test_a_warm_build_from_the_cache_computes_no_code_facts(
    tmp_path: Path, emulator: AzureEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed: list[str] = []
    original = jobs.code_facts

    def counting(obj: griffe.Object) -> Any:
        computed.append(obj.path)
        return original(obj)

    monkeypatch.setattr(jobs, "code_facts", counting)
    emulator.api_key = API_KEY
    cold = run(FILES, session_for(tmp_path / "cache", emulator, lock_file=False))
    assert {status for status, *_ in cold.values()} == {"generated"} and sorted(computed) == sorted(cold)
    computed.clear()

    warm = run(FILES, session_for(tmp_path / "cache", emulator, lock_file=False))
    assert {path: value[:2] for path, value in warm.items()} == {
        path: ("cached", text) for path, (_, text, *_) in cold.items()
    }
    assert computed == []  # the facts (callees, exceptions, ...) came from the memo of unchanged sources

    def forged_fact(stored: Any) -> Any:
        stored["facts"]["pkg.core.add"]["raises"] = ["ValueError"]
        return stored

    forger = session_for(tmp_path / "cache")
    forge(forger.cache, "code-memo:pkg", forged_fact)  # a forged fact, with the old seal
    forger.finish()
    again = run(FILES, session_for(tmp_path / "cache", emulator, lock_file=False))
    assert {status for status, *_ in again.values()} == {"cached"} and sorted(computed) == sorted(cold)


def test_without_credentials_the_user_key_seals_the_warm_records(
    tmp_path: Path, emulator: AzureEmulator, fingerprinted: list[str], user_cache: Path
) -> None:
    locked_build(FILES, tmp_path, emulator)
    fingerprinted.clear()
    statuses, session = locked_build(FILES, tmp_path, None, environ={})  # CI without credentials: from the lock
    assert session.secrets == () and set(statuses.values()) == {"cached"}
    computed = list(fingerprinted)
    fingerprinted.clear()
    locked_build(FILES, tmp_path, None, environ={})
    assert computed and fingerprinted == []  # the first run without a key stored them under the user's key
    key_file = user_cache / "mkdocs-ai-docstrings" / "seal.key"
    assert key_file.stat().st_mode & 0o777 == 0o600 and len(key_file.read_bytes()) == 32


# Nothing heavy is imported unless a request is needed ---------------------------------------------------------------

HEAVY = ("openai._client", "tiktoken", "detect_secrets", "azure.identity", "libcst")
CLIENT_STACK = tuple(
    f"mkdocs_ai_docstrings._internal.{name}" for name in ("client", "monitor", "ratelimit", "retry", "call")
)
"""The product's own modules that send requests: imported only when one is needed."""
ANSWER_STACK = ("asyncio", *(f"mkdocs_ai_docstrings._internal.{name}" for name in ("checks", "request", "estimate")))
"""The event loop, the checks of a model answer, requests and estimates: a lock file's answers need none."""

HOOK = f"""\
import json, sys

def on_post_build(config, **kwargs):
    with open("imported.json", "w") as file:
        json.dump(sorted(name for name in {(*HEAVY, *CLIENT_STACK, *ANSWER_STACK)!r} if name in sys.modules), file)
"""


def test_a_warm_site_build_imports_no_sdk_no_tokenizer_no_secret_scanner_no_client_and_no_event_loop(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    site = make_site(
        tmp_path / "site",
        {"pkg/__init__.py": '"""Package."""\n', "pkg/core.py": CORE},
        {"index.md": "::: pkg.core\n"},
        plugins_order=("mkdocstrings",),
        handler_options={"extensions": [{"mkdocs_ai_docstrings": {"run_examples": False}}]},
        extra_config={"hooks": ["hooks.py"]},
    )
    (site.root / "hooks.py").write_text(HOOK, encoding="utf-8")
    env = build_env(emulator, tmp_path)

    cold = build(site, env, emulator=emulator)
    assert cold.returncode == 0, cold.output
    assert json.loads((site.root / "imported.json").read_text()) != []  # the cold build needed them
    warm = build(site, env, emulator=emulator)

    assert warm.returncode == 0, warm.output
    assert warm.requests == 0
    assert {item["status"] for item in warm.report["objects"]} == {"cached"}
    assert json.loads((site.root / "imported.json").read_text()) == []


def test_importing_the_package_imports_no_sdk_and_no_client() -> None:
    code = textwrap.dedent(
        f"""
        import sys
        import mkdocs_ai_docstrings
        print(sorted(name for name in {(*HEAVY, *CLIENT_STACK, "jsonschema")!r} if name in sys.modules))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_change_to_the_product_code_changes_the_fingerprint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = fingerprint_and_key(FILES, "pkg.core.add", tmp_path)
    monkeypatch.setattr(warm, "_prompt_code_version", lambda: "another version of the code")
    after = fingerprint_and_key(FILES, "pkg.core.add", tmp_path)

    assert after[1] == before[1]  # the same prompt
    assert after[0] != before[0]  # found by its full key once, then indexed again


# Style examples come from an index, in the same order ---------------------------------------------------------------

NEIGHBOURS = {
    "__init__.py": '"""Top."""\n',
    "a.py": textwrap.dedent(
        '''\
        """Module a."""


        def zeta():
            """Z."""


        def alpha():
            """A."""


        class Box:
            """A box."""

            def lid(self):
                """The lid."""

            def target(self):
                return 1

            class Inner:
                """Inner."""
        '''
    ),
    "b.py": '"""Module b."""\n\n\ndef beta():\n    """B."""\n',
}


def test_style_examples_are_the_closest_documented_objects_in_order() -> None:
    with loaded(NEIGHBOURS) as package:
        names = ("b", "a.zeta", "b.beta", "a.Box", "a.Box.Inner", "a.alpha", "a", "a.Box.lid", "a.Box.target")
        documented = [package, *(package[name] for name in names)]
        ranked = [obj.path for obj in request._style_examples(package["a.Box.target"], documented, 20)]
        again = [obj.path for obj in request._style_examples(package["a.alpha"], documented, 2)]
        for_module = [obj.path for obj in request._style_examples(package["b"], documented, 20)]

    # same parent (same kind first), then same module (same kind first), then the rest; ties by path
    assert ranked == [
        "pkg.a.Box.lid",
        "pkg.a.Box.Inner",
        "pkg.a.alpha",
        "pkg.a.zeta",
        "pkg.a",
        "pkg.a.Box",
        "pkg.b.beta",
        "pkg",
        "pkg.b",
    ]
    assert again == ["pkg.a.zeta", "pkg.a.Box"]
    # a module's siblings share its parent: each object is ranked once
    assert for_module == [
        "pkg.a",
        "pkg.b.beta",
        "pkg",
        "pkg.a.Box",
        "pkg.a.Box.Inner",
        "pkg.a.Box.lid",
        "pkg.a.Box.target",
        "pkg.a.alpha",
        "pkg.a.zeta",
    ]
