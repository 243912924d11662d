"""Specifications of the lock file format and of code fingerprints (unit level; builds are in test_frozen.py)."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import griffe
import pytest

from mkdocs_ai_docstrings._internal import lock as lock_module
from mkdocs_ai_docstrings._internal.cache import AnswerCache
from mkdocs_ai_docstrings._internal.facts import code_facts
from mkdocs_ai_docstrings._internal.fingerprint import code_fingerprint
from mkdocs_ai_docstrings._internal.lock import LockFile, LockRecord, dump_lock, parse_lock
from mkdocs_ai_docstrings._internal.settings import Settings, SettingsError


def record(path: str, text: str = "Do the thing.", **fields: str) -> LockRecord:
    values = {"kind": "function", "fingerprint": f"fp1:{path}", "style": "google", "date": "2026-01-02", **fields}
    return LockRecord(path=path, text=text, **values)


TRICKY_TEXT = 'Quote """ triple, back\\slash, tab\tand [brackets]\n\nArgs:\n    a: `x` "y".\n["not.a.header"] inside'


def test_records_round_trip_through_the_text_exactly() -> None:
    records = {r.path: r for r in (record("pkg.b", TRICKY_TEXT, review="accepted"), record("pkg.a"))}
    assert parse_lock(dump_lock(records)) == records


def test_the_file_is_sorted_by_path_and_the_same_records_give_the_same_bytes() -> None:
    forward = {p: record(p) for p in ("pkg.a", "pkg.c", "pkg.b")}
    backward = {p: forward[p] for p in reversed(list(forward))}
    text = dump_lock(forward)
    assert text == dump_lock(backward)
    headers = [line for line in text.splitlines() if line.startswith('["')]
    assert headers == ['["pkg.a"]', '["pkg.b"]', '["pkg.c"]']


def test_each_record_starts_with_its_path_and_records_are_separated_by_a_blank_line() -> None:
    text = dump_lock({p: record(p) for p in ("pkg.a", "pkg.b")})
    blocks = [block for block in text.split("\n\n") if not block.startswith("#")]
    assert [block.splitlines()[0] for block in blocks] == ['["pkg.a"]', '["pkg.b"]']
    assert "review = " in blocks[0] and "fingerprint = " in blocks[0]


def test_a_malformed_record_is_skipped_with_one_warning_naming_its_line(caplog: pytest.LogCaptureFixture) -> None:
    good = dump_lock({p: record(p) for p in ("pkg.a", "pkg.c")})
    lines = good.splitlines(keepends=True)
    broken_at = next(i for i, line in enumerate(lines) if line.startswith('["pkg.c"]'))
    lines.insert(broken_at, '["pkg.b"]\nkind = "function\nthis is not toml\n\n')
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.mkdocs_ai_docstrings"):
        records = parse_lock("".join(lines), name="ai-docstrings.lock")
    assert sorted(records) == ["pkg.a", "pkg.c"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"ai-docstrings.lock:{broken_at + 1}: ")


def test_a_record_with_a_missing_field_or_unknown_review_state_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    text = dump_lock({"pkg.a": record("pkg.a")}) + '\n["pkg.b"]\nkind = "function"\n'
    text += '\n["pkg.c"]\n' + dump_lock({"x.y": record("x.y", review="maybe")}).split('["x.y"]\n', 1)[1]
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.mkdocs_ai_docstrings"):
        records = parse_lock(text)
    assert sorted(records) == ["pkg.a"]
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "pkg.b skipped: missing field" in messages and "pkg.c skipped: review must be" in messages


def test_a_path_recorded_twice_keeps_the_newest_record() -> None:
    old, new = record("pkg.a", "Old.", date="2026-01-01"), record("pkg.a", "New.", date="2026-02-01")
    text = dump_lock({"pkg.a": new}) + dump_lock({"pkg.a": old}).split("\n", 2)[2]
    assert parse_lock(text)["pkg.a"].text == "New."


def test_writing_is_atomic_and_only_when_something_changed(tmp_path: Path) -> None:
    path = tmp_path / "ai-docstrings.lock"
    lock = LockFile.load(path)
    assert lock.records == {} and not lock.write() and not path.exists()
    lock.put(record("pkg.a"))
    assert lock.write() and LockFile.load(path).records == {"pkg.a": record("pkg.a")}
    again = LockFile.load(path)
    again.put(record("pkg.a"))
    assert not again.write()
    assert [p.name for p in tmp_path.iterdir()] == ["ai-docstrings.lock"]  # no temporary file left behind


def test_lock_file_option_accepts_a_name_or_false_and_frozen_needs_it() -> None:
    assert Settings.from_options({}).lock_file == "ai-docstrings.lock"
    assert Settings.from_options({"lock_file": False}).lock_file is False
    assert Settings.from_options({"lock_file": "docs/ai.lock"}).lock_file == "docs/ai.lock"
    with pytest.raises(SettingsError, match="frozen"):
        Settings.from_options({"lock_file": False, "frozen": True})
    with pytest.raises(SettingsError, match="stale"):
        Settings.from_options({"stale": "hide"})


# ----------------------------------------------------------------------------------------------------------------------
# Merging two branches with git


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_two_branches_touching_different_objects_merge_without_conflict(tmp_path: Path) -> None:
    base = {p: record(p) for p in ("pkg.a", "pkg.c", "pkg.e", "pkg.g")}
    lock = tmp_path / "ai-docstrings.lock"
    assert _git(tmp_path, "init", "-q", "-b", "main").returncode == 0
    lock.write_text(dump_lock(base), encoding="utf-8")
    _git(tmp_path, "add", "ai-docstrings.lock")
    _git(tmp_path, "commit", "-q", "-m", "base")
    _git(tmp_path, "checkout", "-q", "-b", "one")
    lock.write_text(dump_lock({**base, "pkg.b": record("pkg.b"), "pkg.e": record("pkg.e", "Edited.")}))
    _git(tmp_path, "commit", "-q", "-am", "one")
    _git(tmp_path, "checkout", "-q", "main")
    lock.write_text(dump_lock({**base, "pkg.d": record("pkg.d"), "pkg.g": record("pkg.g", review="accepted")}))
    _git(tmp_path, "commit", "-q", "-am", "two")
    merged = _git(tmp_path, "merge", "-q", "--no-edit", "one")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    expected = {
        **base,
        "pkg.b": record("pkg.b"),
        "pkg.d": record("pkg.d"),
        "pkg.e": record("pkg.e", "Edited."),
        "pkg.g": record("pkg.g", review="accepted"),
    }
    assert lock.read_text(encoding="utf-8") == dump_lock(expected)


# ----------------------------------------------------------------------------------------------------------------------
# Fingerprints


def _fingerprints(tmp_path: Path, source: str) -> dict[str, str]:
    package = tmp_path / "fpkg"
    shutil.rmtree(package, ignore_errors=True)
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(source, encoding="utf-8")
    loader = griffe.GriffeLoader(search_paths=[str(tmp_path)])
    module = loader.load("fpkg")
    objects = [module, module["area"], module["Shape"], module["Shape.grow"]]
    return {obj.path: code_fingerprint(obj, code_facts(obj)) for obj in objects}


SHAPES = """\
def area(width: float, height: float) -> float:
    return width * height


class Shape:
    def __init__(self, size: int) -> None:
        self.size = size

    def grow(self, by: int = 1) -> int:
        self.size += by
        return self.size
"""


def test_comments_formatting_and_docstrings_keep_every_fingerprint(tmp_path: Path) -> None:
    before = _fingerprints(tmp_path, SHAPES)
    cosmetic = SHAPES.replace(
        "    return width * height\n",
        '    """Area."""\n    # the product of the sides\n    return (\n        width   *   height\n    )\n',
    ).replace("        self.size += by\n", "\n        self.size += by  # grow\n\n")
    assert _fingerprints(tmp_path, cosmetic) == before


def test_a_body_edit_changes_only_that_objects_fingerprint(tmp_path: Path) -> None:
    before = _fingerprints(tmp_path, SHAPES)
    after = _fingerprints(tmp_path, SHAPES.replace("return width * height", "return width * height / 2"))
    assert {path for path in before if before[path] != after[path]} == {"fpkg.area"}


def test_a_signature_edit_changes_the_fingerprint(tmp_path: Path) -> None:
    before = _fingerprints(tmp_path, SHAPES)
    after = _fingerprints(tmp_path, SHAPES.replace("by: int = 1", "by: int = 2"))
    assert before["fpkg.Shape.grow"] != after["fpkg.Shape.grow"]
    assert before["fpkg.area"] == after["fpkg.area"]


def test_a_lock_file_read_again_unchanged_is_not_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ai-docstrings.lock"
    path.write_text(dump_lock({p: record(p, TRICKY_TEXT) for p in ("pkg.a", "pkg.b")}), encoding="utf-8")
    cache = AnswerCache(tmp_path / "cache", seal_key=b"the build's key")
    parsed: list[str] = []
    original = lock_module._parse
    monkeypatch.setattr(lock_module, "_parse", lambda text, name: parsed.append(name) or original(text, name))

    first = LockFile.load(path, cache=cache).records
    again = LockFile.load(path, cache=cache).records
    assert (again, parsed) == (first, ["ai-docstrings.lock"])  # the second read: the sealed parsed records

    other = AnswerCache(tmp_path / "cache", seal_key=b"another key")
    assert LockFile.load(path, cache=other).records == first  # its seal does not match: parsed again
    path.write_text(dump_lock({"pkg.a": record("pkg.a", "Edited.")}), encoding="utf-8")
    assert LockFile.load(path, cache=cache).records == {"pkg.a": record("pkg.a", "Edited.")}
    assert len(parsed) == 3


def test_a_lock_file_with_a_skipped_record_warns_on_every_build(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "ai-docstrings.lock"
    path.write_text(dump_lock({"pkg.a": record("pkg.a")}) + '\n["pkg.b"]\nkind = "function"\n', encoding="utf-8")
    cache = AnswerCache(tmp_path / "cache", seal_key=b"k")
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.mkdocs_ai_docstrings"):
        for _ in range(2):
            assert sorted(LockFile.load(path, cache=cache).records) == ["pkg.a"]
    assert sum("pkg.b skipped" in r.getMessage() for r in caplog.records) == 2
