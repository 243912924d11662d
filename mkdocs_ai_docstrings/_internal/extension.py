"""The griffe extension: when a package is loaded, fill its missing docstrings.

It works under the MkDocs plugin (which hands it the build session) and on its own, listed under
mkdocstrings' `handlers.python.options.extensions` (then it reads its options from its own
arguments and keeps one session per build: see `standalone.py`).
"""

from __future__ import annotations

import sysconfig
from pathlib import Path
from typing import Any

import griffe

from mkdocs_ai_docstrings._internal.client import scrub
from mkdocs_ai_docstrings._internal.discovery import SecretScans, discover
from mkdocs_ai_docstrings._internal.generator import Generator
from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.scope import DocumentedRoot
from mkdocs_ai_docstrings._internal.session import BuildSession
from mkdocs_ai_docstrings._internal.settings import Settings
from mkdocs_ai_docstrings._internal.standalone import StandaloneBuild, standalone_build
from mkdocs_ai_docstrings._internal.style import style_markers

_ACTIVE: dict[str, Any] = {"session": None, "roots": None}
"""The plugin's session for the running build, and the `:::` roots of the site by top-level package."""


def activate(session: BuildSession | None, roots: dict[str, list[DocumentedRoot]] | None) -> None:
    """Hand the running build's session and the site's roots to extensions (`None` ends the build)."""
    _ACTIVE["session"] = session
    _ACTIVE["roots"] = roots


def _installed_or_stdlib(package: griffe.Module) -> bool:
    try:
        filepath = package.filepath
    except (AttributeError, ValueError):
        return True
    first = filepath[0] if isinstance(filepath, list) else filepath
    if first is None:
        return True
    resolved = str(Path(first).resolve())
    roots = {sysconfig.get_paths()[name] for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    return any(resolved.startswith(str(Path(root).resolve())) for root in roots)


class AIDocstringsExtension(griffe.Extension):
    """Fill missing docstrings of the documented packages with AI-written, marked docstrings."""

    def __init__(self, **options: Any) -> None:
        """Keep the options (the same names as the MkDocs plugin's) for standalone use."""
        super().__init__()
        self.options = options
        self._settings: Settings | None = None

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader | None = None, **kwargs: Any) -> None:
        """Collect the package's objects that need a docstring and generate them concurrently."""
        session: BuildSession | None = _ACTIVE["session"]
        build: StandaloneBuild | None = None
        if session is None:
            build = standalone_build(self.options, loader)
            if build is None:
                return
            session, by_pkg = build.session, build.roots
        else:
            by_pkg = _ACTIVE["roots"]
        in_scope, roots = _scope(pkg, session.settings, by_pkg)
        if not in_scope:
            return
        try:
            self._generate(session, pkg, loader, roots)
            if build is not None:  # no plugin adds the stylesheet: each marker carries it
                style_markers(pkg)
        except Exception as error:
            # One line for the build log (no traceback in it); the traceback is there with `mkdocs build -v`.
            logger.error(
                "ai-docstrings: unexpected %s while documenting %s: %s; the build goes on",
                type(error).__name__,
                pkg.path,
                scrub(str(error), session.secrets),
            )
            logger.debug("traceback of the error above", exc_info=True)
        if build is not None:
            build.checkpoint()

    def _generate(
        self, session: BuildSession, pkg: griffe.Module, loader: Any, roots: list[DocumentedRoot] | None
    ) -> None:
        scans = SecretScans(session.cache, pkg.path, session.secrets)  # each source scanned once, not once a build
        candidates = discover(pkg, session.settings, roots, scans=scans)
        if not candidates:
            logger.info("AI docstrings: every documented object of %s has a docstring", pkg.path)
            session.prune_lock(pkg)
            session.coverage.add_package(pkg, session.settings, roots)
            return
        logger.info("AI docstrings: %d object(s) of %s lack a docstring", len(candidates), pkg.path)
        generator = Generator(session, pkg, loader)
        session.run(generator.run(candidates))
        session.prune_lock(pkg)  # after a complete walk: records of objects now documented by people go
        session.coverage.add_package(pkg, session.settings, roots)


def _scope(
    pkg: griffe.Module, settings: Settings, by_pkg: dict[str, list[DocumentedRoot]] | None
) -> tuple[bool, list[DocumentedRoot] | None]:
    """Whether the site documents `pkg`, and the `:::` roots to walk (`None`: the whole package)."""
    if settings.packages:
        return pkg.name in settings.packages, (by_pkg or {}).get(pkg.name)
    if by_pkg is not None:
        return pkg.name in by_pkg, by_pkg.get(pkg.name)
    return not _installed_or_stdlib(pkg), None
