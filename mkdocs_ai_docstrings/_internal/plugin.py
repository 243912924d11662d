"""The MkDocs plugin: registers the griffe extension, owns the build session, writes the report."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from mkdocs.config import base
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import Abort, PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files

from mkdocs_ai_docstrings._internal.coverage import publish_coverage
from mkdocs_ai_docstrings._internal.extension import activate
from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.report import ReportPathError
from mkdocs_ai_docstrings._internal.scope import by_package, handler_options, roots_in_pages
from mkdocs_ai_docstrings._internal.session import BuildSession
from mkdocs_ai_docstrings._internal.settings import Settings, SettingsError
from mkdocs_ai_docstrings._internal.standalone import failure_message, with_prompt_files_from
from mkdocs_ai_docstrings._internal.style import stylesheet

EXTENSION_PATH = "mkdocs_ai_docstrings.AIDocstringsExtension"
"""How mkdocstrings loads the extension (a dotted path, never mistaken for a folder of the same name)."""
STYLESHEET = "assets/ai-docstrings.css"


class _Any(base.BaseConfigOption[Any]):
    """Accept any value; `Settings.from_options` validates and names the option on error."""

    def __init__(self, default: Any = None) -> None:
        super().__init__()
        self.default = default

    def run_validation(self, value: object) -> Any:
        return value


_PluginConfig = type("_PluginConfig", (base.Config,), {field.name: _Any() for field in dataclasses.fields(Settings)})
"""The plugin's options: one per `Settings` field, validated by `Settings.from_options`."""


def _extension_names(extensions: list[Any]) -> set[str]:
    names = set()
    for item in extensions:
        name = next(iter(item)) if isinstance(item, dict) else item
        names.add(str(name).split(":", 1)[0].split(".", 1)[0])
    return names


class AIDocstringsPlugin(BasePlugin[_PluginConfig]):
    """Fill missing API docstrings with AI-written, clearly marked text during `mkdocs build` and `serve`."""

    def __init__(self) -> None:
        self.settings: Settings | None = None
        self.session: BuildSession | None = None
        self.memory: dict[str, dict[str, Any]] = {}
        """Answers kept across `mkdocs serve` rebuilds (the instance survives them thanks to `on_startup`)."""
        self.config_dir = Path()

    def on_startup(self, *, command: str, dirty: bool) -> None:
        """Exist: defining this hook keeps the plugin instance across `mkdocs serve` rebuilds."""

    @event_priority(100)
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        """Validate options and register the griffe extension with mkdocstrings' Python handler."""
        options = {key: value for key, value in self.config.items() if value is not None}
        self.config_dir = Path(config.config_file_path or ".").resolve().parent
        try:
            self.settings = with_prompt_files_from(self.config_dir, Settings.from_options(options))
        except SettingsError as error:
            raise PluginError(f"ai-docstrings: {error}") from None
        plugins = config.plugins
        if "mkdocstrings" not in plugins:
            logger.warning("ai-docstrings needs the mkdocstrings plugin; add `- mkdocstrings` to `plugins`")
            return config
        mkdocstrings = plugins["mkdocstrings"]
        handlers = mkdocstrings.config.setdefault("handlers", {})
        python = handlers.setdefault("python", {})
        handler_options = python.setdefault("options", {})
        extensions = handler_options.setdefault("extensions", [])
        if "mkdocs_ai_docstrings" not in _extension_names(extensions):
            extensions.append(EXTENSION_PATH)
        config.extra_css.append(STYLESHEET)
        return config

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        """Start a new build session (fresh budget and report, shared memory of answers)."""
        assert self.settings is not None
        settings = self.settings
        cache_dir = Path(settings.cache_dir)
        if not cache_dir.is_absolute():
            settings = dataclasses.replace(settings, cache_dir=str(self.config_dir / cache_dir))
        self.session = BuildSession(settings, base_dir=self.config_dir, memory=self.memory, config_dir=self.config_dir)
        self.session.log_start()
        activate(self.session, None)

    @event_priority(-100)
    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        """Add the marker's stylesheet; read the `:::` roots from every page, generated ones included.

        Runs after other plugins' `on_files` (mkdocs-gen-files adds its pages there), before any page renders.
        """
        files.append(File.generated(config, STYLESHEET, content=stylesheet()))
        defaults = handler_options(config.plugins["mkdocstrings"].config) if "mkdocstrings" in config.plugins else {}
        texts = []
        for page in files.documentation_pages():
            try:
                texts.append(page.content_string)
            except (OSError, UnicodeDecodeError):
                continue
        roots = roots_in_pages(texts, defaults)
        activate(self.session, by_package(roots) if roots else None)
        return files

    def on_serve(self, server: Any, *, config: MkDocsConfig, builder: Any) -> Any:
        """Watch the documented packages' source folders (the Python handler's `paths`) for `mkdocs serve`."""
        for folder in source_folders(config):
            server.watch(str(folder))
        return server

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        """Write the report into the site and log the summary; fail in strict mode when something is missing."""
        session = self.session
        if session is None:
            return
        activate(None, None)
        self.session = None
        report = session.finish()
        try:
            path = report.write(session.settings.report_file, root=config.site_dir)
        except (OSError, ReportPathError) as error:
            logger.error("ai-docstrings: the report was not written: %s", error)
            logger.info("%s", report.summary())
        else:
            logger.info("%s Report: %s", report.summary(), path)
        gates = publish_coverage(session, config.site_dir)
        message = failure_message(session, report)
        if message:
            raise Abort(message)
        if gates:
            raise Abort("; ".join(gates))

    def on_build_error(self, *, error: Exception) -> None:
        """Release the session when the build fails; answers already cached stay cached."""
        if self.session is not None:
            activate(None, None)
            self.session.finish()
            self.session = None

    def on_shutdown(self) -> None:
        """Forget the in-memory answers."""
        self.memory.clear()


def source_folders(config: MkDocsConfig) -> list[Path]:
    """The Python handler's `paths` (relative to `mkdocs.yml`; default: its folder), existing folders only."""
    mkdocstrings = config.plugins.get("mkdocstrings")
    handlers = (getattr(mkdocstrings, "config", None) or {}).get("handlers") or {}
    python = handlers.get("python") or {}
    base = Path(config.config_file_path or ".").resolve().parent
    paths = python.get("paths") or ["."]
    folders = []
    for path in paths if isinstance(paths, list) else []:
        folder = (base / str(path)).resolve()
        if folder.is_dir() and folder not in folders:
            folders.append(folder)
    return folders
