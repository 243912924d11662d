"""One build of the griffe extension: one session, budget, report, coverage page and summary per build.

A build is one mkdocstrings Python handler, i.e. one griffe modules collection (every loader of the build shares
it; MkDocs, ProperDocs and Zensical make a new handler for each build, `serve` rebuilds included). After each
package the report (and lock file) is written as it stands, so a killed build leaves a valid one, and `strict`,
`frozen` and, once every package the pages name is done, the coverage gates are checked; the build ends when its
collection is garbage-collected, when the next build of the process starts, or at interpreter exit, whichever
comes first: then the session is closed, the final report and the coverage page written and the summary logged.

A failing check is one error line and a non-zero exit under every builder: MkDocs and ProperDocs print the
`PluginError` raised at the checkpoint as one line; Zensical prints any exception from a Markdown extension with
its traceback, so there the line is logged, the site finished, and the process exits with status 1.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import os
import sys
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

from mkdocs_ai_docstrings._internal.coverage import gate_failures, publish_coverage
from mkdocs_ai_docstrings._internal.host import Host, find_host
from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.prompts import PromptTemplates
from mkdocs_ai_docstrings._internal.report import BuildReport, Reason, ReportPathError, Status
from mkdocs_ai_docstrings._internal.scope import (
    DocumentedRoot,
    by_package,
    documented_roots,
    roots_from_mkdocs_yml,
    roots_in_pages,
)
from mkdocs_ai_docstrings._internal.session import BuildSession
from mkdocs_ai_docstrings._internal.settings import Settings, SettingsError


def with_prompt_files_from(folder: Path, settings: Settings) -> Settings:
    """Settings whose prompt files are absolute (relative ones start from `folder`), checked by loading them."""
    files = {
        name: str(folder / Path(value).expanduser())
        for name in ("system_prompt_file", "user_prompt_file")
        if (value := getattr(settings, name)) is not None
    }
    settings = dataclasses.replace(settings, **files)
    PromptTemplates.load(settings.system_prompt_file, settings.user_prompt_file, base_dir=folder)
    return settings


def failure_message(session: BuildSession, report: BuildReport) -> str | None:
    """Why the build must fail (frozen objects without a lock record, or `strict` with missing objects), if so."""
    frozen = session.frozen_failures()
    if frozen:
        return (
            f"ai-docstrings (frozen): {len(frozen)} object(s) have no up-to-date lock record; build with "
            "credentials, review and commit the lock file"
        )
    if session.settings.strict:
        missing = [o for o in report.outcomes.values() if o.status is Status.FAILED or o.reason_kind is Reason.BUDGET]
        if missing:
            listed = "; ".join(f"{o.path} ({o.reason})" for o in missing[:20])
            return f"ai-docstrings (strict): {len(missing)} object(s) not documented: {listed}"
    return None


@dataclass
class StandaloneBuild:
    """The extension's state for one build."""

    session: BuildSession
    host: Host
    roots: dict[str, list[DocumentedRoot]] | None
    """The site's `:::` roots by top-level package (`None`: none found, every local package counts)."""
    closed: bool = False
    failed: str | None = None
    """Why the build fails (logged or raised once); later packages are not generated."""
    done: set[str] = field(default_factory=set)
    """Top-level packages documented so far."""

    @property
    def report_root(self) -> Path:
        """The site folder when the builder has one, else the config file's folder."""
        return self.host.site_dir or self.host.config_dir

    def _write(self, report: BuildReport) -> Path | None:
        try:
            return report.write(self.session.settings.report_file, root=self.report_root)
        except (OSError, ReportPathError) as error:
            logger.error("ai-docstrings: the report was not written: %s", error)
            return None

    def _all_named_packages_done(self) -> bool:
        wanted = set(self.roots or ())
        packages = self.session.settings.packages
        if packages:
            wanted &= set(packages)
        return bool(wanted) and wanted <= self.done

    def checkpoint(self, package: str) -> None:
        """After a package: write the report and the lock as they stand; fail the build if a check says so.

        The gates are checked once every package the pages name is documented (before, the figures are partial).

        Raises:
            PluginError: `strict` with objects failed or left out, a frozen build missing lock records, or a
                failing gate (MkDocs and ProperDocs print it as one error line; under Zensical see `fail`).
        """
        self.done.add(package)
        report = self.session.snapshot()
        self._write(report)
        self.session.save_lock()
        message = failure_message(self.session, report)
        if message is None and not self.session.settings.dry_run and self._all_named_packages_done():
            gates = gate_failures(self.session.coverage, self.session.settings)
            message = "; ".join(gates) if gates else None
        if message:
            self.fail(message)

    def fail(self, message: str) -> None:
        """Fail the build with one error line and a non-zero exit status.

        Raises:
            PluginError: under MkDocs and ProperDocs (their build stops with the message as one line).
        """
        self.failed = message
        if self.host.builder != "zensical":
            raise PluginError(message)
        _ensure_log_output()
        logger.error("%s", message)
        _exit_non_zero_at_exit()

    def close(self) -> None:
        """End the build: close the session, write the final report and coverage page, log the summary (once)."""
        if self.closed:
            return
        self.closed = True
        if self in _OPEN:
            _OPEN.remove(self)
        report = self.session.finish()
        path = self._write(report)
        _ensure_log_output()  # at exit, MkDocs has removed its log handler already
        logger.info("%s Report: %s", report.summary(), path) if path else logger.info("%s", report.summary())
        gates = publish_coverage(self.session, self.report_root)
        if gates and self.failed is None:  # a package the pages name was never loaded: checked now
            self.failed = "; ".join(gates)
            logger.error("%s", self.failed)
            if self.host.builder == "zensical":
                _exit_non_zero_at_exit()


def close_open_builds() -> None:
    """End every build of this process not closed yet (a caller that removes the site folder after building)."""
    for build in list(_OPEN):
        build.close()


_EXIT_REGISTERED: list[bool] = []


def _exit_non_zero_at_exit() -> None:
    """Make the process exit with status 1 once it is done (Zensical keeps its own exit status otherwise)."""
    if _EXIT_REGISTERED:
        return
    _EXIT_REGISTERED.append(True)

    def _exit() -> None:
        close_open_builds()  # registered last, run first: end the builds before leaving
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)

    atexit.register(_exit)


_BUILDS: weakref.WeakKeyDictionary[Any, StandaloneBuild | None] = weakref.WeakKeyDictionary()
"""The build of each griffe modules collection (`None`: its options were wrong, nothing is generated)."""
_OPEN: list[StandaloneBuild] = []
"""Builds of this process not closed yet."""
_MEMORY: dict[Path, dict[str, dict[str, Any]]] = {}
"""Answers by cache key, per config folder, kept across the rebuilds of one process (`serve`)."""
_REPORTED_ERRORS: set[tuple[int, str]] = set()
"""Option errors already logged, by collection id, so each is logged once per build, not once per package."""


class _Process:
    """The key of the build of a loader without a modules collection."""


_NO_COLLECTION = _Process()


def _ensure_log_output() -> None:
    """Under a builder that shows no Python log (Zensical), print the extension's info lines to stderr."""
    if not logger.hasHandlers():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
        logger.addHandler(handler)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)


def _settings(options: dict[str, Any], host: Host, key: int) -> Settings | None:
    """The extension's own settings, prompt files relative to the config file; a bad option is one error line."""
    try:
        return with_prompt_files_from(host.config_dir, Settings.from_options(options))
    except SettingsError as error:
        if (key, str(error)) not in _REPORTED_ERRORS:
            _REPORTED_ERRORS.add((key, str(error)))
            logger.error("ai-docstrings extension: %s; no docstring is generated", error)
        return None


def _roots(host: Host) -> dict[str, list[DocumentedRoot]] | None:
    if host.unseen_pages:  # pages no file holds: what the handler collects decides alone
        return None
    if host.pages is not None:
        found = roots_in_pages(host.pages, host.handler_options)
    elif host.docs_dir is not None:
        found = documented_roots(host.docs_dir, host.handler_options)
    else:
        found = roots_from_mkdocs_yml(host.config_dir / "mkdocs.yml") or []
    return by_package(found) if found else None


def standalone_build(options: dict[str, Any], loader: Any) -> StandaloneBuild | None:
    """The build `loader` belongs to, started on its first package (`None`: the options are wrong)."""
    collection = getattr(loader, "modules_collection", None)
    key = collection if collection is not None else _NO_COLLECTION
    try:
        if key in _BUILDS:
            return _BUILDS[key]
    except TypeError:  # not weakly referenceable: one build for the process
        key = _NO_COLLECTION
        if key in _BUILDS:
            return _BUILDS[key]
    _ensure_log_output()
    close_open_builds()  # a new handler: the previous build of this process (`serve`) is over
    host = find_host(loader, start=sys._getframe(1))
    settings = _settings(options, host, id(key))
    if settings is None:
        _BUILDS[key] = None
        return None
    memory = _MEMORY.setdefault(host.config_dir, {})
    session = BuildSession(settings, base_dir=host.config_dir, config_dir=host.config_dir, memory=memory)
    session.log_start()
    build = StandaloneBuild(session, host, _roots(host))
    _BUILDS[key] = build
    _OPEN.append(build)
    if key is _NO_COLLECTION:
        atexit.register(build.close)
    else:
        weakref.finalize(key, build.close)  # also runs at exit when the collection is still alive
    return build
