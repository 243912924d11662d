"""The MkDocs plugin, a thin convenience: it registers the griffe extension, adds the stylesheet, watches sources.

The extension does everything else itself (session, budget, report, coverage page, strict and gates), exactly as
when it is listed under mkdocstrings' handler options without the plugin (Zensical, ProperDocs, MkDocs).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from mkdocs.config import base
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files

from mkdocs_ai_docstrings._internal.host import STYLESHEET
from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.settings import Settings, SettingsError
from mkdocs_ai_docstrings._internal.standalone import with_prompt_files_from
from mkdocs_ai_docstrings._internal.style import stylesheet

EXTENSION_PATH = "mkdocs_ai_docstrings.AIDocstringsExtension"
"""How mkdocstrings loads the extension (a dotted path, never mistaken for a folder of the same name)."""


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

    @event_priority(100)
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        """Check the options (one error line naming a wrong one) and register the extension with them.

        Runs before mkdocstrings' own `on_config`, which copies the handler's options.
        """
        options = {key: value for key, value in self.config.items() if value is not None}
        config_dir = Path(config.config_file_path or ".").resolve().parent
        try:
            with_prompt_files_from(config_dir, Settings.from_options(options))
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
            extensions.append({EXTENSION_PATH: options})
        elif options:
            logger.warning(
                "ai-docstrings: the extension is also listed under the handler's options; its own options are "
                "used, the plugin's are ignored"
            )
        config.extra_css.append(STYLESHEET)
        return config

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        """Add the marker's stylesheet to the site."""
        files.append(File.generated(config, STYLESHEET, content=stylesheet()))
        return files

    def on_serve(self, server: Any, *, config: MkDocsConfig, builder: Any) -> Any:
        """Watch the documented packages' source folders (the Python handler's `paths`) for `mkdocs serve`."""
        for folder in source_folders(config):
            server.watch(str(folder))
        return server


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
