"""Storage faults and a hostile cache folder, end to end: real `mkdocs build` runs against the emulator.

Each fault must give one warning line naming the path and the problem; the build goes on (rc 0, no traceback), the
site is built, and answers paid for in the build are published even when they cannot be stored. Read-only folders
are made to hold for root too (CI runs as root): the build runs without `CAP_DAC_OVERRIDE`; a full disk is an
`RLIMIT_FSIZE` on the build process, so writes past the limit fail with `EFBIG`.
"""

from __future__ import annotations

import ctypes
import json
import os
import pickle
import random
import resource
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import diskcache
import pytest

from mkdocs_ai_docstrings._internal.mark import AI_LABEL
from tests.conftest import BuildResult, Site, build_env, make_site
from tests.emulator import AzureEmulator

SOURCE = textwrap.dedent(
    '''\
    """Helpers."""


    def add(first: int, second: int) -> int:
        return first + second


    def negate(value: int) -> int:
        return -value
    '''
)
ADDED = textwrap.dedent(
    """

    def double(value: int) -> int:
        return value * 2
    """
)
OLD = ("cachepkg.ops.add", "cachepkg.ops.negate")
NEW = "cachepkg.ops.double"
THEME = "<!doctype html><html><head><title>{{ page.title }}</title></head><body>{{ page.content }}</body></html>\n"
"""A bare theme: every file of the site stays a few KiB, well under the full-disk limit."""


class Planted:
    """A value whose unpickling creates `target`: proof that code from the cache ran."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.target,))


def cache_site(root: Path, cache_dir: str = "cache") -> Site:
    site = make_site(
        root,
        {"cachepkg/__init__.py": '"""A package."""\n', "cachepkg/ops.py": SOURCE},
        {"index.md": "# Home\n", "api.md": "::: cachepkg.ops\n"},
        {"cache_dir": cache_dir, "lock_file": False},  # the cache alone is under test
        extra_config={"theme": {"name": None, "custom_dir": "theme"}},
    )
    (root / "theme").mkdir(exist_ok=True)
    (root / "theme" / "main.html").write_text(THEME, encoding="utf-8")
    return site


def run_build(
    site: Site, env: dict[str, str], emulator: AzureEmulator, *args: str, preexec: Callable[[], None] | None = None
) -> BuildResult:
    """`mkdocs build` in a subprocess, optionally with `preexec` run in the child first (limits, capabilities)."""
    before = len(emulator.requests)
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-f", str(site.config_file), *args],
        cwd=site.root,
        env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=preexec,
    )
    report_file = site.site_dir / "ai-docstrings.json"
    report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.exists() else None
    html = {str(p.relative_to(site.site_dir)): p.read_text(encoding="utf-8") for p in site.site_dir.rglob("*.html")}
    output = completed.stdout + completed.stderr
    return BuildResult(completed.returncode, output, site.site_dir, report, len(emulator.requests) - before, html)


def cache_warnings(result: BuildResult) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("WARNING") and "answer cache" in line]


def assert_built(result: BuildResult, statuses: dict[str, str]) -> None:
    """rc 0, no traceback, the report and the API page written, every generated or cached answer on the page."""
    assert result.returncode == 0, result.output
    assert "Traceback" not in result.output, result.output
    assert result.statuses() == statuses
    page = result.html["api/index.html"]
    for path in statuses:
        assert f'id="{path}"' in page
    assert page.count(AI_LABEL) >= len(statuses), page


@pytest.fixture
def warm(tmp_path: Path, emulator: AzureEmulator) -> Iterator[tuple[Site, dict[str, str]]]:
    """A site whose two objects are in the cache, and a third object added since."""
    site = cache_site(tmp_path / "site")
    env = build_env(emulator, tmp_path)
    first = run_build(site, env, emulator)
    assert_built(first, dict.fromkeys(OLD, "generated"))
    assert cache_warnings(first) == []
    (site.src / "cachepkg" / "ops.py").write_text(SOURCE + ADDED, encoding="utf-8")
    yield site, env
    for path in [site.root / "cache", *(site.root / "cache").rglob("*")]:  # let pytest clean up
        if path.exists():
            path.chmod(path.stat().st_mode | stat.S_IWUSR | stat.S_IXUSR)


# An unusable cache path ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("cache_dir", ["blocker", "blocker/deeper/cache"])
def test_a_cache_dir_that_cannot_be_a_folder_warns_once_and_the_build_goes_on(
    tmp_path: Path, emulator: AzureEmulator, cache_dir: str
) -> None:
    site = cache_site(tmp_path / "site", cache_dir)
    (site.root / "blocker").write_text("a file where the cache folder should be\n")
    env = build_env(emulator, tmp_path)
    result = run_build(site, env, emulator)
    assert_built(result, dict.fromkeys(OLD, "generated"))
    assert cache_warnings(result) == [
        f"WARNING -  answer cache off: {site.root / cache_dir / 'v2'}: {site.root / 'blocker'} is a file, not a "
        "folder; new answers are kept in memory for this build only"
    ]
    assert any("2 new answer(s) could not be stored" in note for note in result.report["notes"])
    assert "could not be stored" in result.output  # the summary says it too
    if cache_dir == "blocker":
        strict = run_build(site, env, emulator, "--strict")
        assert strict.returncode != 0 and "Traceback" not in strict.output


# A corrupted database ------------------------------------------------------------------------------------------


def test_a_corrupted_database_warns_once_and_the_build_regenerates(
    warm: tuple[Site, dict[str, str]], emulator: AzureEmulator
) -> None:
    site, env = warm
    location = site.root / "cache" / "v2"
    (location / "cache.db").write_bytes(random.Random(10).randbytes((location / "cache.db").stat().st_size))
    result = run_build(site, env, emulator)
    assert_built(result, dict.fromkeys((*OLD, NEW), "generated"))
    [warning] = cache_warnings(result)
    assert warning.startswith(f"WARNING -  answer cache off: {location}: file is not a database")
    assert f"delete {location} to start a new cache" in warning


# A read-only cache folder --------------------------------------------------------------------------------------


def _without_dac_override() -> None:
    """In the build process: drop the capabilities that let root ignore permission bits."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _can_drop_dac_override() -> bool:
    probe = subprocess.run(["true"], preexec_fn=_without_dac_override, check=False, capture_output=True)
    return probe.returncode == 0


def test_a_read_only_cache_is_read_and_new_answers_are_published_but_not_stored(
    warm: tuple[Site, dict[str, str]], emulator: AzureEmulator
) -> None:
    site, env = warm
    preexec = None
    if os.geteuid() == 0:
        if not _can_drop_dac_override():
            pytest.skip("running as root without CAP_SETPCAP: permission bits cannot be enforced")
        preexec = _without_dac_override
    cache = site.root / "cache"
    for path in sorted([cache, *cache.rglob("*")], reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    result = run_build(site, env, emulator, preexec=preexec)
    assert_built(result, {**dict.fromkeys(OLD, "cached"), NEW: "generated"})
    assert result.requests == 1
    [warning] = cache_warnings(result)
    assert warning.startswith(f"WARNING -  answer cache read-only: {cache / 'v2'}: ")
    assert "readonly database" in warning or "Permission denied" in warning, warning
    assert warning.endswith("cached answers are used; new answers are kept in memory for this build only")
    [note] = [note for note in result.report["notes"] if "could not be stored" in note]
    assert note.startswith("1 new answer(s) could not be stored in the answer cache")


# A full disk ---------------------------------------------------------------------------------------------------


def test_a_full_disk_keeps_cached_answers_publishes_new_ones_and_says_they_were_not_stored(
    warm: tuple[Site, dict[str, str]], emulator: AzureEmulator
) -> None:
    site, env = warm
    database = site.root / "cache" / "v2" / "cache.db"
    limit = database.stat().st_size  # the cache cannot grow by a byte

    def full_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = run_build(site, env, emulator, preexec=full_disk)
    assert_built(result, {**dict.fromkeys(OLD, "cached"), NEW: "generated"})
    assert result.requests == 1
    [warning] = cache_warnings(result)
    assert warning.startswith(f"WARNING -  answer cache read-only: {site.root / 'cache' / 'v2'}: disk I/O error")
    [note] = [note for note in result.report["notes"] if "could not be stored" in note]
    assert note.startswith("1 new answer(s) could not be stored")
    assert "will generate (and pay for) them again" in note
    # The failed writes evicted nothing: with space again, the old answers are still there and the new one is stored.
    after = run_build(site, env, emulator)
    assert_built(after, {**dict.fromkeys(OLD, "cached"), NEW: "generated"})
    assert cache_warnings(after) == []
    assert run_build(site, env, emulator).statuses() == dict.fromkeys((*OLD, NEW), "cached")


# A hostile cache: pickles planted where answers were -----------------------------------------------------------


def test_pickles_planted_in_the_cache_never_run_and_are_regenerated(
    warm: tuple[Site, dict[str, str]], emulator: AzureEmulator, tmp_path: Path
) -> None:
    site, env = warm
    proof = tmp_path / "code-ran"
    payload = pickle.dumps(Planted(proof))
    cache = site.root / "cache"
    with sqlite3.connect(cache / "v2" / "cache.db") as connection:
        updated = connection.execute(
            "UPDATE Cache SET mode = ?, value = ? WHERE key LIKE 'answer:%'", (diskcache.core.MODE_PICKLE, payload)
        ).rowcount
    assert updated == len(OLD)
    old_format = diskcache.Cache(str(cache))  # the previous, pickled layout at the top of cache_dir
    for key in list(old_format.iterkeys()) or ["answer:x"]:
        old_format.set(key, Planted(proof))
    old_format.close()
    result = run_build(site, env, emulator)
    assert not proof.exists()
    assert_built(result, dict.fromkeys((*OLD, NEW), "generated"))
    assert "2 cached entries did not validate and were ignored." in result.report["notes"]
    assert run_build(site, env, emulator).statuses() == dict.fromkeys((*OLD, NEW), "cached")  # overwritten
    assert not proof.exists()
