"""The lock file: the published AI docstrings, one reviewable TOML record per object, sorted by path."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mkdocs_ai_docstrings._internal.logger import logger

if TYPE_CHECKING:
    from mkdocs_ai_docstrings._internal.cache import AnswerCache

DEFAULT_LOCK_FILE = "ai-docstrings.lock"
REVIEW_STATES = ("pending", "accepted", "edited", "rejected")
"""`pending` until a maintainer reviews the record; `edited` text is the maintainer's own."""
REVIEWED = frozenset({"accepted", "edited"})
MODES = ("generate", "improve")

HEADER = (
    "# AI-written docstrings published by mkdocs-ai-docstrings: one record per object, sorted by path.\n"
    "# Commit this file. Builds reproduce these texts without credentials; `review` records who checked them.\n"
)
_TABLE = re.compile(r'^\[(?:"(?:[^"\\\n]|\\.)*"|[A-Za-z0-9_-]+)\]\s*$')
"""A record's first line: its dotted path as a quoted TOML table name."""


@dataclass(frozen=True)
class LockRecord:
    """One object's published AI docstring and what it was written from."""

    path: str
    """Canonical dotted path of the object."""
    kind: str
    fingerprint: str
    """`code_fingerprint` of the object when the text was written; another value means the record is stale."""
    style: str
    """Docstring style of `text` (`google`, `numpy`, `sphinx`)."""
    text: str
    """The docstring exactly as published (improve mode: only the added sections)."""
    mode: str = "generate"
    review: str = "pending"
    model: str = ""
    deployment: str = ""
    prompt_version: str = ""
    schema_version: str = ""
    date: str = ""
    """UTC day the text was written (`SOURCE_DATE_EPOCH` when set)."""

    @property
    def reviewed(self) -> bool:
        """Whether a maintainer accepted or edited the text."""
        return self.review in REVIEWED

    def to_table(self) -> dict[str, str]:
        """The record's fields in file order (the path is the table name)."""
        fields = dataclasses.asdict(self)
        del fields["path"]
        order = ("kind", "review", "fingerprint", "mode", "style", "model", "deployment")
        order += ("prompt_version", "schema_version", "date", "text")
        return {name: str(fields[name]) for name in order}


def today() -> str:
    """The UTC date of this build, reproducible under `SOURCE_DATE_EPOCH`."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    seconds = int(epoch) if epoch.isdigit() else time.time()
    return time.strftime("%Y-%m-%d", time.gmtime(seconds))


def _record(path: str, table: Any) -> LockRecord:
    """Validate one parsed table; raise `ValueError` naming the first problem."""
    if not isinstance(table, dict):
        raise ValueError("not a table")
    values: dict[str, str] = {}
    for field in dataclasses.fields(LockRecord):
        if field.name == "path":
            continue
        value = table.get(field.name)
        if value is None:
            if field.default is dataclasses.MISSING:
                raise ValueError(f"missing field '{field.name}'")
            continue
        if not isinstance(value, str):
            raise ValueError(f"field '{field.name}' must be a string")
        values[field.name] = value
    if values.get("review", "pending") not in REVIEW_STATES:
        raise ValueError(f"review must be one of {', '.join(REVIEW_STATES)}")
    if values.get("mode", "generate") not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    return LockRecord(path=path, **values)


def _chunks(text: str) -> list[tuple[int, str]]:
    """Split the file at record headers: `(first line number, text)` of each record."""
    chunks: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if _TABLE.match(line) or not chunks:
            chunks.append((number, []))
        chunks[-1][1].append(line)
    return [(number, "".join(lines)) for number, lines in chunks]


def parse_lock(text: str, *, name: str = DEFAULT_LOCK_FILE) -> dict[str, LockRecord]:
    """Records by path; a malformed record is skipped with one warning naming its line, the rest is kept.

    A path recorded twice (a union merge of two branches) keeps its newest record.
    """
    return _parse(text, name)[0]


def _parse(text: str, name: str) -> tuple[dict[str, LockRecord], int]:
    """`parse_lock`'s records and the number of records skipped."""
    if sys.version_info >= (3, 11):  # imported on first use: a warm build reads the parsed records (see below)
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    records: dict[str, LockRecord] = {}
    skipped = 0
    for line, chunk in _chunks(text):
        try:
            document = tomllib.loads(chunk)
        except tomllib.TOMLDecodeError as error:
            logger.warning("%s:%d: malformed record skipped (%s)", name, line, error)
            skipped += 1
            continue
        for path, table in document.items():
            try:
                record = _record(path, table)
            except ValueError as error:
                logger.warning("%s:%d: record %s skipped: %s", name, line, path, error)
                skipped += 1
                continue
            previous = records.get(path)
            if previous is None or (record.date, record.fingerprint) > (previous.date, previous.fingerprint):
                records[path] = record
    return records, skipped


def _parse_memoized(text: str, path: Path, cache: AnswerCache) -> dict[str, LockRecord]:
    """`parse_lock`, or the records a build parsed from the same text (a sealed record in the answer cache).

    TOML is parsed in pure Python (~15 ms for 200 records); a file with a record skipped is parsed every time, so
    its warnings are logged every build.
    """
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    name = f"parsed-lock:{path.resolve()}"
    stored = cache.sealed(name)
    if (
        isinstance(stored, dict)
        and stored.get("digest") == digest
        and isinstance(tables := stored.get("records"), dict)
    ):
        try:
            return {record_path: _record(record_path, table) for record_path, table in tables.items()}
        except ValueError:
            pass
    records, skipped = _parse(text, path.name)
    if not skipped:
        tables = {record_path: record.to_table() for record_path, record in records.items()}
        cache.put_sealed(name, {"digest": digest, "records": tables})
    return records


def dump_lock(records: dict[str, LockRecord]) -> str:
    """The file's text: the header, then each record sorted by path, a blank line between records."""
    import tomli_w  # imported on first use: most builds write no lock file

    parts = [tomli_w.dumps({path: records[path].to_table()}, multiline_strings=True) for path in sorted(records)]
    return HEADER + "".join("\n" + part for part in parts)


class LockFile:
    """The lock file of one build: loaded at the start, written (only when changed) at the end."""

    def __init__(self, path: str | os.PathLike[str], records: dict[str, LockRecord] | None = None) -> None:
        self.path = Path(path)
        self.records: dict[str, LockRecord] = dict(records or {})
        self.changed = False
        self.used: set[str] = set()
        """Paths whose record this build published, reproduced or rewrote."""

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, cache: AnswerCache | None = None) -> LockFile:
        """Read `path` (a missing file is an empty lock; an unreadable one logs one warning).

        With `cache`, the parsed records are kept (sealed) for the next build.
        """
        target = Path(path)
        try:
            text = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(target)
        except (OSError, UnicodeDecodeError) as error:
            logger.warning("ai-docstrings: cannot read the lock file %s (%s); building without it", target, error)
            return cls(target)
        if cache is None:
            return cls(target, parse_lock(text, name=target.name))
        return cls(target, _parse_memoized(text, target, cache))

    def get(self, path: str) -> LockRecord | None:
        """The record of `path`, if any."""
        return self.records.get(path)

    def put(self, record: LockRecord) -> None:
        """Add or replace a record (a record equal to the stored one changes nothing)."""
        self.used.add(record.path)
        if self.records.get(record.path) != record:
            self.records[record.path] = record
            self.changed = True

    def drop(self, path: str) -> None:
        """Remove the record of `path` (its object got a human docstring or left the site)."""
        if self.records.pop(path, None) is not None:
            self.changed = True

    def write(self) -> bool:
        """Write the file atomically when it changed; return whether it was written."""
        if not self.changed:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = dump_lock(self.records)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=self.path.parent, delete=False, suffix=".tmp", newline="\n"
        ) as tmp:
            tmp.write(data)
        Path(tmp.name).replace(self.path)
        self.changed = False
        return True
