"""The griffe extension: when a package is loaded, fill its missing docstrings.

It is listed under mkdocstrings' `handlers.python.options.extensions` (by the user, or by the MkDocs plugin with
the plugin's options), reads its options from its own arguments and keeps one session per build: see
`standalone.py`. Its scope is what the host collects: see `_scope`.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path
from typing import Any

import griffe

from mkdocs_ai_docstrings._internal.discovery import SecretScans, discover
from mkdocs_ai_docstrings._internal.generator import fill
from mkdocs_ai_docstrings._internal.host import collected_root
from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.scope import DocumentedRoot
from mkdocs_ai_docstrings._internal.secrets import scrub
from mkdocs_ai_docstrings._internal.session import BuildSession
from mkdocs_ai_docstrings._internal.settings import Settings
from mkdocs_ai_docstrings._internal.standalone import standalone_build
from mkdocs_ai_docstrings._internal.style import style_markers


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
        build = standalone_build(self.options, loader)
        if build is None or build.failed:
            return
        session = build.session
        in_scope, roots = _scope(pkg, session.settings, build.roots, collected_root())
        if not in_scope:
            return
        try:
            self._generate(session, pkg, loader, roots)
            if not build.host.stylesheet_linked:  # no plugin links the stylesheet: each marker carries it
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
        build.checkpoint(pkg.name)

    def _generate(
        self, session: BuildSession, pkg: griffe.Module, loader: Any, roots: list[DocumentedRoot] | None
    ) -> None:
        scans = SecretScans(session.cache, pkg.path)  # each source scanned once, not once a build
        candidates = discover(pkg, session.settings, roots, scans=scans)
        if not candidates:
            logger.info("AI docstrings: every documented object of %s has a docstring", pkg.path)
            session.prune_lock(pkg)
            session.coverage.add_package(pkg, session.settings, roots)
            return
        logger.info("AI docstrings: %d object(s) of %s lack a docstring", len(candidates), pkg.path)
        fill(session, pkg, candidates, loader)
        session.prune_lock(pkg)  # after a complete walk: records of objects now documented by people go
        session.coverage.add_package(pkg, session.settings, roots)


def _scope(
    pkg: griffe.Module,
    settings: Settings,
    by_pkg: dict[str, list[DocumentedRoot]] | None,
    collected: DocumentedRoot | None,
) -> tuple[bool, list[DocumentedRoot] | None]:
    """Whether the site documents `pkg`, and the `:::` roots to walk (`None`: the whole package).

    The host decides: a package loaded by the handler's `collect` of one of its own identifiers is rendered.
    The pages the builder holds (generated ones included) give the roots of the other blocks of the package;
    when the block being collected is not among them (a page this view cannot see, such as one Zensical
    generates itself), the whole package is walked, so nothing the host renders is left out. A package
    loaded on the side (preloaded, reached through an alias) is in scope only when a page or `packages`
    names it.
    """
    if settings.packages and pkg.name not in settings.packages:
        return False, None
    roots = (by_pkg or {}).get(pkg.name)
    rendered_now = collected is not None and collected.package == pkg.name
    if roots and (not rendered_now or any(root.identifier == collected.identifier for root in roots)):  # type: ignore[union-attr]
        return True, roots
    if rendered_now or settings.packages:
        return True, None
    if by_pkg is not None or collected is not None:
        return False, None
    return not _installed_or_stdlib(pkg), None
