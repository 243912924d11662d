"""The MkDocs plugin watches the documented packages' source folders for `mkdocs serve`."""

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
