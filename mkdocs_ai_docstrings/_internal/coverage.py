"""Docstring coverage of the public objects in scope, per module: by people, by AI (reviewed or not), or none.

The scope is discovery's: the objects the site renders (`walk_public` from the `:::` roots) of the kinds and
paths the options select. An object is AI-documented when this build published an AI docstring for it (marked
in the site); improve mode's added sections leave it human-documented.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import griffe

from mkdocs_ai_docstrings._internal.discovery import _matches, _wanted_kind, missing_reason, walk_public
from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.mark import EXTRA_NAMESPACE
from mkdocs_ai_docstrings._internal.report import ReportPathError, report_path
from mkdocs_ai_docstrings._internal.scope import DocumentedRoot
from mkdocs_ai_docstrings._internal.settings import Settings
from mkdocs_ai_docstrings._internal.style import inline_style

DEFAULT_COVERAGE_PAGE = "ai-docstrings-coverage.html"
STYLESHEET = "assets/ai-docstrings.css"
"""The marker's stylesheet in the site (the plugin adds it), linked from the page like from every other page."""


@dataclass
class ModuleFigures:
    """Counts of one module's public objects in scope (the module itself included)."""

    module: str
    human: int = 0
    ai_reviewed: int = 0
    ai_unreviewed: int = 0
    undocumented: int = 0
    ai_entries: list[str] = field(default_factory=list)
    """Paths (the heading ids in the site) of the AI-documented objects."""

    @property
    def total(self) -> int:
        """Public objects in scope."""
        return self.human + self.ai_reviewed + self.ai_unreviewed + self.undocumented


@dataclass
class Coverage:
    """Coverage figures of one build, per module."""

    modules: dict[str, ModuleFigures] = field(default_factory=dict)
    packages: set[str] = field(default_factory=set)

    def add_package(self, package: griffe.Module, settings: Settings, roots: Sequence[DocumentedRoot] | None) -> None:
        """Count the objects of `package` in scope (once per build); call it after its docstrings were attached."""
        if package.path in self.packages:
            return
        self.packages.add(package.path)
        for obj, _, shown_as in walk_public(package, settings, roots):
            if not _wanted_kind(obj, settings) or _matches(obj.path, settings.exclude):
                continue
            if settings.include and not _matches(obj.path, settings.include):
                continue
            module = obj.path if obj.is_module else obj.module.path
            figures = self.modules.setdefault(module, ModuleFigures(module))
            mark = obj.extra.get(EXTRA_NAMESPACE) or {}
            if mark and mark.get("status") != "improved":
                if mark.get("review") in ("accepted", "edited"):
                    figures.ai_reviewed += 1
                else:
                    figures.ai_unreviewed += 1
                figures.ai_entries.append(shown_as or obj.path)
            elif missing_reason(obj, settings.min_docstring_length) is None:
                figures.human += 1
            else:
                figures.undocumented += 1

    def totals(self) -> dict[str, int]:
        """Counts over every module."""
        names = ("human", "ai_reviewed", "ai_unreviewed", "undocumented")
        counts = {name: sum(getattr(m, name) for m in self.modules.values()) for name in names}
        counts["ai"] = counts["ai_reviewed"] + counts["ai_unreviewed"]
        counts["total"] = counts["human"] + counts["ai"] + counts["undocumented"]
        return counts

    def percentages(self) -> dict[str, float | None]:
        """`human`, `total` (human + AI) and `ai` shares of the objects in scope, in percent (`None`: no object)."""
        counts = self.totals()
        if not counts["total"]:
            return {"human": None, "total": None, "ai": None}
        share = lambda count: round(100 * count / counts["total"], 2)  # noqa: E731
        return {
            "human": share(counts["human"]),
            "total": share(counts["human"] + counts["ai"]),
            "ai": share(counts["ai"]),
        }

    def to_dict(self) -> dict[str, Any]:
        """The report's `coverage` section: totals, percentages and per-module figures, sorted by module."""
        modules = []
        for name in sorted(self.modules):
            figures = self.modules[name]
            entry = asdict(figures)
            entry["ai_entries"] = sorted(figures.ai_entries)
            entry["total"] = figures.total
            modules.append(entry)
        return {"totals": self.totals(), "percent": self.percentages(), "modules": modules}


def _percent(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") + "%"


def gate_failures(coverage: Coverage, settings: Settings) -> list[str]:
    """One line per failing gate (`fail_under_human`, `fail_under_total`, `max_ai_share`)."""
    shares = coverage.percentages()
    lines = []
    gates = (
        ("fail_under_human", "human", "human docstring coverage", "is under", lambda v, t: v < t),
        ("fail_under_total", "total", "docstring coverage (human + AI)", "is under", lambda v, t: v < t),
        ("max_ai_share", "ai", "AI-written share", "is over", lambda v, t: v > t),
    )
    for option, key, figure, verb, fails in gates:
        threshold = getattr(settings, option)
        value = shares[key]
        if threshold is None or value is None or not fails(value, threshold):
            continue
        lines.append(f"ai-docstrings: {figure} {_percent(value)} {verb} {option} {_percent(threshold)}")
    return lines


_ID = re.compile(r'id="([^"]+)"')
"""An `id` attribute; a literal start, so the scan skips ahead (a leading `\\b` made it ~30x slower on a 3 MB page)."""


def anchors_in_site(site_dir: str | os.PathLike[str], wanted: set[str]) -> dict[str, str]:
    """The first page (URL relative to the site root) holding each wanted heading id."""
    found: dict[str, str] = {}
    root = Path(site_dir)
    for page in sorted(root.rglob("*.html")):
        if len(found) == len(wanted):
            break
        try:
            text = page.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for match in _ID.finditer(text):
            if match.start() and (text[match.start() - 1].isalnum() or text[match.start() - 1] in "_-:"):
                continue  # the end of another attribute's name (`data-id`, `xml:id`), not `id`
            identifier = html.unescape(match.group(1))
            if identifier in wanted and identifier not in found:
                found[identifier] = page.relative_to(root).as_posix()
    return found


def render_page(coverage: Coverage, links: dict[str, str], page: str, *, linked: bool = True) -> str:
    """The coverage page: a table per module and a link to every AI-written entry (all text escaped).

    `linked`: the site holds the marker's stylesheet (the plugin added it); else the page carries it inline.
    """
    depth = page.count("/")
    up = "../" * depth
    style = f'<link rel="stylesheet" href="{up}{STYLESHEET}">\n' if linked else inline_style()
    totals = coverage.totals()
    shares = coverage.percentages()
    rows = []
    for name in sorted(coverage.modules):
        m = coverage.modules[name]
        rows.append(
            f"<tr><td><code>{html.escape(name)}</code></td><td>{m.total}</td><td>{m.human}</td>"
            f"<td>{m.ai_reviewed}</td><td>{m.ai_unreviewed}</td><td>{m.undocumented}</td></tr>"
        )
    entries = []
    for name in sorted(coverage.modules):
        for path in sorted(coverage.modules[name].ai_entries):
            target = links.get(path)
            label = f"<code>{html.escape(path)}</code>"
            href = html.escape(f"{up}{target}#{path}", quote=True) if target else None
            entries.append(f'<li><a href="{href}">{label}</a></li>' if href else f"<li>{label} (not found)</li>")

    def share(key: str) -> str:
        return _percent(shares[key]) if shares[key] is not None else "n/a"

    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        + style
        + "<title>Docstring coverage</title>\n</head>\n<body>\n<h1>Docstring coverage</h1>\n"
        f"<p>{totals['total']} public object(s) in scope: {totals['human']} documented by people ({share('human')}), "
        f"{totals['ai']} by AI ({totals['ai_reviewed']} reviewed, {totals['ai_unreviewed']} not reviewed; "
        f"{share('ai')}), {totals['undocumented']} not documented. Documented in all: {share('total')}.</p>\n"
        '<table class="ai-docstrings-coverage">\n<thead><tr><th>Module</th><th>Objects</th><th>People</th>'
        "<th>AI, reviewed</th><th>AI, not reviewed</th><th>Undocumented</th></tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody>\n</table>\n<h2>AI-written entries</h2>\n<ul>\n"
        + "\n".join(entries)
        + "\n</ul>\n</body>\n</html>\n"
    )


def write_page(coverage: Coverage, site_dir: str | os.PathLike[str], page: str) -> Path:
    """Write the coverage page into the site; links found by scanning the built pages for the entries' ids.

    Raises:
        ReportPathError: `page`, links resolved, is outside `site_dir`.
    """
    wanted = {path for m in coverage.modules.values() for path in m.ai_entries}
    links = anchors_in_site(site_dir, wanted)
    target = report_path(page, site_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    report_path(target, site_dir)  # again, once the folders exist: a link among them may point elsewhere
    linked = (Path(site_dir) / STYLESHEET).is_file()
    target.write_text(render_page(coverage, links, page, linked=linked), encoding="utf-8")
    return target


def publish_coverage(session: Any, site_dir: str | os.PathLike[str]) -> list[str]:
    """Write the coverage page of a finished build session (unless turned off) and return the failing gates.

    A plan (`dry_run`) checks no gate.
    """
    settings: Settings = session.settings
    coverage: Coverage = session.coverage
    page = settings.coverage_page
    if page is not False and coverage.modules:
        name = DEFAULT_COVERAGE_PAGE if page is True else str(page)
        try:
            path = write_page(coverage, site_dir, name)
        except (OSError, ReportPathError) as error:
            logger.error("ai-docstrings: the coverage page was not written: %s", error)
        else:
            logger.info("ai-docstrings: coverage page: %s", path)
    if settings.dry_run:
        return []
    return gate_failures(coverage, settings)
