"""Per-object outcomes, build totals, the JSON report and the log summary."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any

from mkdocs_ai_docstrings._internal.prices import format_cost


class _TextEnum(str, Enum):
    """A string enum that prints, formats and serializes as its value."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Status(_TextEnum):
    """What happened to an object that lacked a human docstring."""

    GENERATED = "generated"
    """A fresh answer from the model this build."""
    CACHED = "cached"
    """Published from the answer cache or the lock file."""
    PLANNED = "planned"
    """Dry run: the plan would generate it (within the budget, if any)."""
    SKIPPED = "skipped"
    """Not generated, and no error (budget, disabled, secret, waiting for review...)."""
    FAILED = "failed"
    """Asked, or required, and no publishable answer came of it."""


PUBLISHED = frozenset({Status.GENERATED, Status.CACHED})
"""Statuses whose object shows an AI docstring."""

STATUSES = tuple(Status)


class Reason(_TextEnum):
    """The fixed reasons of a skip or failure; an outcome's `reason` is the value, or `"<value>: <detail>"`."""

    BUDGET = "budget"
    """The token budget cannot cover the object's worst case."""
    SECRET = "secret"
    """The object's code holds a credential: documenting it would publish it."""
    DISABLED = "disabled"
    NOT_CONFIGURED = "not configured"
    STOPPED = "stopped"
    """Generation stopped for the rest of the build (bad credentials, deadline...)."""
    FROZEN = "frozen"
    """A frozen build found no up-to-date lock record."""
    STALE = "stale"
    """Published from a lock record whose code changed since."""
    WAITING_FOR_REVIEW = "waiting for review (`publish: accepted`)"
    REJECTED_IN_REVIEW = "rejected in review"
    INTERNAL_ERROR = "internal error"

    def with_detail(self, detail: str | None) -> str:
        """The reason text: this reason, then `detail` after a colon."""
        return f"{self.value}: {detail}" if detail else self.value

    @classmethod
    def of(cls, text: str | None) -> Reason | None:
        """The fixed reason a reason text starts with, if any."""
        if not text:
            return None
        for reason in cls:
            if text == reason.value or text.startswith(f"{reason.value}:"):
                return reason
        return None


class ReportPathError(ValueError):
    """The report would be written outside its folder."""


def report_path(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> Path:
    """`path` (relative to `root` when one is given), checked to stay inside `root` once links are resolved."""
    if root is None:
        return Path(path)
    base = Path(root).resolve()
    target = (base / path).resolve()
    if not target.is_relative_to(base):
        raise ReportPathError(f"the report file {target} would be outside {base}; it is not written")
    return target


@dataclass
class ObjectOutcome:
    """What happened to one object that lacked a human docstring."""

    path: str
    kind: str
    status: Status
    """`generated` (fresh call this build), `cached`, `planned` (dry run), `skipped` or `failed`."""
    reason: str | None = None
    """Why it was skipped or failed: a [`Reason`][mkdocs_ai_docstrings._internal.report.Reason], alone or followed
    by `: ` and details (`budget`, `not configured: ...`), or a free text (`content filter: ...`)."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    requests: int = 0
    possibly_billed_tokens: int = 0
    """Tokens of requests sent whose outcome is unknown (timed out or lost): counted against the budget, not here."""
    estimated_tokens: int | None = None
    """Plan mode: the estimated prompt + completion tokens."""
    cost: float | None = None
    redactions: int = 0
    repairs: list[str] = field(default_factory=list)
    """Ungrounded parts dropped or fixed by a targeted retry."""
    completeness: tuple[int, int] | None = None
    references: tuple[int, int] | None = None
    """Backticked references (resolved, total)."""
    truncated_context: bool = False
    canonical_path: str | None = None
    """Where the object is defined, when the site shows it under another (re-exported) path."""
    lock: str | None = None
    """Lock record: `fresh` (published from it), `stale` (its code changed), `written` (added or updated)."""
    examples_checked: int = 0
    """Examples of this object's answers checked this build (a retry's answer brings a second one)."""
    examples_run: int = 0
    """Examples run in an isolated process (those that passed the static check, when running is on)."""
    examples_passed: int = 0
    examples_repaired: int = 0
    """1 when an example failed and the retry's example passed."""
    examples_dropped: int = 0
    """1 when the published docstring lost its example because it still failed."""

    def __post_init__(self) -> None:
        self.status = Status(self.status)

    @property
    def reason_kind(self) -> Reason | None:
        """The fixed reason of this outcome, if its reason is one."""
        return Reason.of(self.reason)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready record (`dataclasses.asdict` without its deep copies: every field is flat)."""
        values = ((item.name, getattr(self, item.name)) for item in fields(self))
        return {name: list(value) if isinstance(value, list) else value for name, value in values}


@dataclass
class BuildTotals:
    """Figures for the whole build."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    """Tokens the server reported as billed."""
    possibly_billed_tokens: int = 0
    """Reservations of requests sent whose outcome is unknown (timeouts, lost connections): may have been billed."""
    cache_hits: int = 0
    cache_misses: int = 0
    cost: float | None = 0.0
    budget: int | None = None
    budget_remaining: int | None = None
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    timeouts: int = 0
    connection_failures: int = 0
    """Attempts that never reached the server (connection refused, DNS, connect timeout): they cost nothing."""
    mean_latency_s: float | None = None
    latency_p50_s: float | None = None
    """Median latency of the HTTP attempts (failed ones included), in seconds."""
    latency_p95_s: float | None = None
    """95th percentile latency of the HTTP attempts, in seconds."""
    cache_hit_rate: float | None = None
    """Cache hits over cache look-ups (hits and misses), 0 to 1."""
    redactions: int = 0
    repaired: int = 0
    rejected: int = 0
    completeness: float | None = None
    reference_resolution: float | None = None
    examples_checked: int = 0
    examples_run: int = 0
    examples_passed: int = 0
    examples_repaired: int = 0
    examples_dropped: int = 0


def _dumps(report: Mapping[str, Any]) -> str:
    """The report's JSON: one top-level key, and one object of `objects`, per line.

    As readable and diffable as an indented dump, at the speed of the C encoder (an indented dump runs the pure-Python
    one: twice a build, it cost a warm rebuild of 195 objects about 10 ms).
    """
    lines = []
    for key, value in report.items():
        if key == "objects" and value:
            body = ",\n".join(f"    {json.dumps(item, ensure_ascii=False)}" for item in value)
            lines.append(f'  "objects": [\n{body}\n  ]')
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


@dataclass
class BuildReport:
    """The report of one build: outcomes by path, and totals."""

    model: str = ""
    connection: str = ""
    dry_run: bool = False
    token_counter: str = ""
    outcomes: dict[str, ObjectOutcome] = field(default_factory=dict)
    totals: BuildTotals = field(default_factory=BuildTotals)
    notes: list[str] = field(default_factory=list)
    coverage: dict[str, Any] | None = None
    """Docstring coverage of the objects in scope (see `coverage.Coverage.to_dict`), set when the build ends."""
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Requests, billed tokens and cost by the module that defines the object (see `monitor.ModuleFigures`)."""

    @classmethod
    def combine(cls, reports: list[BuildReport]) -> BuildReport:
        """One report for several packages' reports (numeric totals added, quality recomputed)."""
        combined = cls(
            model=reports[0].model,
            connection=reports[0].connection,
            dry_run=reports[0].dry_run,
            token_counter=reports[0].token_counter,
        )
        totals = combined.totals
        for report in reports:
            combined.outcomes.update(report.outcomes)
            combined.notes.extend(note for note in report.notes if note not in combined.notes)
            for name, value in asdict(report.totals).items():
                current = getattr(totals, name)
                if name in ("budget", "budget_remaining", "mean_latency_s", "latency_p50_s", "latency_p95_s"):
                    setattr(totals, name, value if current in (None, 0.0) else current)
                elif isinstance(value, (int, float)) and isinstance(current, (int, float)):
                    setattr(totals, name, current + value)
                elif name == "cost":
                    setattr(totals, name, None)
            for module, figures in report.modules.items():
                merged = combined.modules.setdefault(module, dict.fromkeys(figures, 0))
                for key, value in figures.items():
                    current = merged[key]
                    both = isinstance(value, (int, float)) and isinstance(current, (int, float))
                    merged[key] = current + value if both else None
        looked_up = totals.cache_hits + totals.cache_misses
        totals.cache_hit_rate = round(totals.cache_hits / looked_up, 4) if looked_up else None
        return combined

    def add(self, outcome: ObjectOutcome) -> None:
        """Record an outcome (the latest one for a path wins)."""
        self.outcomes[outcome.path] = outcome

    def counts(self) -> dict[str, int]:
        """Objects per status."""
        counts = {status.value: 0 for status in Status}
        for outcome in self.outcomes.values():
            status = str(outcome.status)
            counts[status] = counts.get(status, 0) + 1
        return counts

    def quality(self) -> None:
        """Compute completeness and reference resolution over published AI docstrings."""
        published = [o for o in self.outcomes.values() if o.status in PUBLISHED]
        present = sum(o.completeness[0] for o in published if o.completeness)
        required = sum(o.completeness[1] for o in published if o.completeness)
        self.totals.completeness = round(present / required, 4) if required else None
        resolved = sum(o.references[0] for o in published if o.references)
        total = sum(o.references[1] for o in published if o.references)
        self.totals.reference_resolution = round(resolved / total, 4) if total else None
        self.totals.redactions = sum(o.redactions for o in self.outcomes.values())
        self.totals.repaired = sum(1 for o in self.outcomes.values() if o.repairs and o.status is not Status.FAILED)
        self.totals.rejected = sum(1 for o in self.outcomes.values() if o.status is Status.FAILED)
        for name in ("checked", "run", "passed", "repaired", "dropped"):
            setattr(
                self.totals, f"examples_{name}", sum(getattr(o, f"examples_{name}") for o in self.outcomes.values())
            )

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready report."""
        self.quality()
        return {
            "tool": "mkdocs-ai-docstrings",
            "model": self.model,
            "connection": self.connection,
            "dry_run": self.dry_run,
            "token_counter": self.token_counter,
            "counts": self.counts(),
            "totals": asdict(self.totals),
            "notes": self.notes,
            "objects": [outcome.to_dict() for _, outcome in sorted(self.outcomes.items())],
            **({"coverage": self.coverage} if self.coverage is not None else {}),
            **({"modules": self.modules} if self.modules else {}),
        }

    def write(self, path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None) -> Path:
        """Write the report atomically to `path` (relative to `root`, and never outside it, when one is given).

        The file gets the permissions MkDocs gives the site's files (`0o666` less the umask).

        Raises:
            ReportPathError: `path`, links resolved, is outside `root`.
        """
        target = report_path(path, root)
        target.parent.mkdir(parents=True, exist_ok=True)
        if root is not None:
            report_path(target, root)  # again, now that the folders exist: a link among them may point elsewhere
        data = _dumps(self.to_dict())
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the kernel applies the umask
        try:
            with open(descriptor, "w", encoding="utf-8") as file:
                file.write(data)
            temporary.replace(target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return target

    def summary(self) -> str:
        """One paragraph for the build log."""
        counts = self.counts()
        totals = self.totals
        self.quality()
        waiting = len(self.outcomes)
        text = (
            f"AI docstrings: {waiting} object(s) without a human docstring: {counts['generated']} generated, "
            f"{counts['cached']} from cache, "
            + (f"{counts['planned']} planned, " if self.dry_run or counts["planned"] else "")
            + f"{counts['skipped']} skipped, {counts['failed']} failed. "
            f"{totals.requests} request(s), {totals.prompt_tokens} prompt + {totals.completion_tokens} completion = "
            f"{totals.total_tokens} tokens"
        )
        if totals.possibly_billed_tokens:
            text += f" (+{totals.possibly_billed_tokens} possibly billed by requests whose answer was lost)"
        text += f", cost {format_cost(totals.cost)}"
        if counts["generated"]:
            text += f" ({totals.total_tokens // counts['generated']} billed tokens per generated docstring)"
        if totals.budget is not None:
            text += f", budget {totals.budget} ({totals.budget_remaining} left)"
        text += f"; cache {totals.cache_hits} hit(s) / {totals.cache_misses} miss(es)."
        if totals.retries or totals.rate_limited:
            text += f" {totals.retries} retries, {totals.rate_limited} throttled (429)."
        if totals.latency_p50_s is not None:
            text += (
                f" Latency per attempt p50 {totals.latency_p50_s:.2f} s, p95 {totals.latency_p95_s:.2f} s; "
                f"{totals.timeouts} timeout(s); cache hit rate {totals.cache_hit_rate or 0:.0%}."
            )
        billed = [(name or "(no object)", figures) for name, figures in self.modules.items() if figures["total_tokens"]]
        if billed:
            shown = ", ".join(
                f"{name} {f['total_tokens']}" + (f" ({format_cost(f['cost'])})" if f["cost"] is not None else "")
                for name, f in billed[:3]
            )
            text += f" Tokens by module: {shown}{f' and {len(billed) - 3} more' if len(billed) > 3 else ''}."
        if totals.redactions:
            text += f" {totals.redactions} secret(s) redacted from prompts."
        if totals.completeness is not None:
            text += f" Completeness {totals.completeness:.0%}"
            if totals.reference_resolution is not None:
                text += f", references resolved {totals.reference_resolution:.0%}"
            text += f", {totals.repaired} repaired, {totals.rejected} rejected."
        if totals.examples_checked:
            text += (
                f" Examples: {totals.examples_checked} checked, {totals.examples_run} run, "
                f"{totals.examples_passed} passed, {totals.examples_repaired} repaired, "
                f"{totals.examples_dropped} dropped."
            )
        reasons: dict[str, int] = {}
        for outcome in self.outcomes.values():
            if outcome.status in (Status.SKIPPED, Status.FAILED) and outcome.reason:
                key = outcome.reason.split(":", 1)[0]
                reasons[key] = reasons.get(key, 0) + 1
        if reasons:
            text += (
                " Not generated: " + ", ".join(f"{count} × {reason}" for reason, count in sorted(reasons.items())) + "."
            )
        for note in self.notes:
            text += f" {note}"
        return text
