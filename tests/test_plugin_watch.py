"""The MkDocs plugin is thin: it registers the extension, links the stylesheet and watches the sources on serve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.config import load_config

from mkdocs_ai_docstrings._internal.plugin import AIDocstringsPlugin
from tests.conftest import make_site
from tests.test_build import TINY_PACKAGE, TINY_PAGES


class _Server:
    def __init__(self) -> None:
        self.watched: list[str] = []

    def watch(self, path: str) -> None:
        self.watched.append(path)


def test_serve_watches_the_handlers_source_paths_relative_to_the_config_file(tmp_path: Path) -> None:
    site = make_site(tmp_path / "root", TINY_PACKAGE, TINY_PAGES, handler_config={"paths": ["src", "missing"]})
    config = load_config(str(site.config_file))
    plugin: Any = config.plugins["ai-docstrings"]
    assert isinstance(plugin, AIDocstringsPlugin)
    server = _Server()
    plugin.on_serve(server, config=config, builder=None)
    assert server.watched == [str((site.root / "src").resolve())]


def test_the_plugin_only_registers_the_extension_with_its_options_and_links_the_stylesheet(tmp_path: Path) -> None:
    site = make_site(tmp_path / "root", TINY_PACKAGE, TINY_PAGES, plugin_options={"token_budget": 5000})
    config = load_config(str(site.config_file))
    plugin: Any = config.plugins["ai-docstrings"]
    plugin.on_config(config)
    extensions = config.plugins["mkdocstrings"].config["handlers"]["python"]["options"]["extensions"]
    assert extensions == [{"mkdocs_ai_docstrings.AIDocstringsExtension": {"examples": False, "token_budget": 5000}}]
    assert config.extra_css == ["assets/ai-docstrings.css"]
    # The session, report, coverage page, strict and gates belong to the extension: no build hook of its own.
    hooks = {name for name in dir(plugin) if name.startswith("on_")}
    assert hooks == {"on_config", "on_files", "on_serve"}


def test_an_extension_already_listed_is_not_registered_twice(tmp_path: Path) -> None:
    site = make_site(
        tmp_path / "root", TINY_PACKAGE, TINY_PAGES, handler_options={"extensions": ["mkdocs_ai_docstrings"]}
    )
    config = load_config(str(site.config_file))
    config.plugins["ai-docstrings"].on_config(config)
    assert config.plugins["mkdocstrings"].config["handlers"]["python"]["options"]["extensions"] == [
        "mkdocs_ai_docstrings"
    ]
