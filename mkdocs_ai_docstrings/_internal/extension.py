"""The griffe extension: when a package is loaded, fill its missing docstrings.

It works under the MkDocs plugin (which hands it the build session) and on its own, listed under
mkdocstrings' `handlers.python.options.extensions` (then it reads its options from its own
arguments and keeps a session per loaded package).
"""

from __future__ import annotations

import re
import sysconfig
from pathlib import Path
from typing import Any

import griffe

from mkdocs_ai_docstrings._internal.discovery import discover
from mkdocs_ai_docstrings._internal.generator import Generator
from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.session import BuildSession
from mkdocs_ai_docstrings._internal.settings import Settings, SettingsError

_ACTIVE: dict[str, Any] = {"session": None, "packages": None}
"""The plugin's session for the running build, and the packages the site documents."""

IDENTIFIER = re.compile(r"^\s*:::\s+([A-Za-z_][\w.]*)", re.MULTILINE)


def activate(session: BuildSession | None, packages: set[str] | None) -> None:
    """Hand the running build's session to extensions (called by the plugin; `None` ends the build)."""
    _ACTIVE["session"] = session
    _ACTIVE["packages"] = packages


def documented_packages(docs_dir: str | Path) -> set[str]:
    """Top-level packages named by `:::` blocks in the Markdown files of `docs_dir`."""
    found: set[str] = set()
    for path in Path(docs_dir).rglob("*.md"):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        found.update(match.group(1).split(".", 1)[0] for match in IDENTIFIER.finditer(text))
    return found


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


def _standalone_packages() -> set[str] | None:
    """Without the plugin: the packages named in the current directory's MkDocs docs, if any."""
    config = Path("mkdocs.yml")
    if not config.exists():
        return None
    docs_dir = "docs"
    match = re.search(r"^docs_dir:\s*['\"]?([^'\"\n#]+)", config.read_text(encoding="utf-8"), re.MULTILINE)
    if match:
        docs_dir = match.group(1).strip()
    found = documented_packages(Path(docs_dir))
    return found or None


class AIDocstringsExtension(griffe.Extension):
    """Fill missing docstrings of the documented packages with AI-written, marked docstrings."""

    def __init__(self, **options: Any) -> None:
        """Keep the options (the same names as the MkDocs plugin's) for standalone use."""
        super().__init__()
        self.options = options
        self._settings: Settings | None = None

    def _standalone_session(self) -> BuildSession | None:
        try:
            self._settings = Settings.from_options(self.options)
        except SettingsError as error:
            logger.error("ai-docstrings extension: %s", error)
            return None
        return BuildSession(self._settings)

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader | None = None, **kwargs: Any) -> None:
        """Collect the package's objects that need a docstring and generate them concurrently."""
        session: BuildSession | None = _ACTIVE["session"]
        standalone = session is None
        wanted: set[str] | None = _ACTIVE["packages"]
        if standalone:
            session = self._standalone_session()
            if session is None:
                return
            wanted = set(session.settings.packages) or _standalone_packages()
        elif session.settings.packages:
            wanted = set(session.settings.packages)
        if wanted is not None:
            if pkg.name not in wanted:
                return
        elif _installed_or_stdlib(pkg):
            return
        try:
            self._generate(session, pkg, loader)
        except Exception:
            logger.exception("ai-docstrings: unexpected error while documenting %s; the build goes on", pkg.path)
        if standalone:
            self._finish_standalone(session)

    def _generate(self, session: BuildSession, pkg: griffe.Module, loader: Any) -> None:
        candidates = discover(pkg, session.settings)
        if not candidates:
            logger.info("AI docstrings: every documented object of %s has a docstring", pkg.path)
            return
        logger.info("AI docstrings: %d object(s) of %s lack a docstring", len(candidates), pkg.path)
        generator = Generator(session, pkg, loader)
        session.run(generator.run(candidates))

    @staticmethod
    def _finish_standalone(session: BuildSession) -> None:
        report = session.finish()
        path = Path(session.settings.report_file)
        if not path.is_absolute():
            path = session.cache.directory / path
        report.write(path)
        logger.info("%s Report: %s", report.summary(), path)
