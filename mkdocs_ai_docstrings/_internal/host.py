"""The builder running the extension: its config folder, docs and site folders, and mkdocstrings' Python handler.

The griffe extension is only handed a loader. mkdocstrings' Python handler creates that loader inside its
`collect` method and shares one modules collection per build; its `base_dir` is the folder of the config file
(MkDocs, ProperDocs and Zensical all pass it). The handler and the builder's configuration are read from the
calling frames (read-only), and Zensical's from `zensical.config.get_config()`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

_BUILDER_MODULES = ("mkdocs.", "properdocs.")
"""Modules whose configuration objects (with `site_dir`, `docs_dir`, `config_file_path`) are looked for."""


@dataclass(frozen=True)
class Host:
    """Where the running build lives."""

    config_dir: Path
    """Folder of the config file: cache, lock and prompt files are relative to it."""
    docs_dir: Path | None = None
    site_dir: Path | None = None
    """The builder's output folder (`None`: unknown, the report goes beside the config file)."""
    handler_options: Mapping[str, Any] = field(default_factory=dict)
    """The Python handler's global options (for the `:::` blocks' defaults)."""
    paths: tuple[str, ...] = ()
    """The handler's search paths that are inside the config folder (the documented sources)."""
    builder: str = "unknown"
    pages: tuple[str, ...] | None = None
    """The Markdown of every page the builder holds, generated pages included (MkDocs, ProperDocs), else `None`."""


def _frames(start: FrameType | None) -> list[FrameType]:
    frames = []
    while start is not None:
        frames.append(start)
        start = start.f_back
    return frames


def _python_handler(frames: list[FrameType], collection: Any) -> Any:
    """The mkdocstrings Python handler whose `collect` created the loader of `collection`."""
    for frame in frames:
        candidate = frame.f_locals.get("self")
        if candidate is None or not type(candidate).__module__.startswith("mkdocstrings_handlers."):
            continue
        if collection is None or getattr(candidate, "_modules_collection", None) is collection:
            return candidate
    return None


def _builder_config(frames: list[FrameType]) -> Any:
    """The MkDocs (or ProperDocs) configuration being built, from the builder's `build(config)` frame."""
    for frame in frames:
        config = frame.f_locals.get("config")
        if (
            config is not None
            and type(config).__module__.startswith(_BUILDER_MODULES)
            and isinstance(getattr(config, "site_dir", None), str)
        ):
            return config
    return None


def _builder_pages(frames: list[FrameType]) -> tuple[str, ...] | None:
    """The Markdown of the documentation pages in the builder's `files` collection (after every `on_files`)."""
    for frame in frames:
        files = frame.f_locals.get("files")
        if files is None or not type(files).__module__.startswith(_BUILDER_MODULES):
            continue
        texts = []
        for page in files.documentation_pages():
            try:
                texts.append(page.content_string)
            except (OSError, UnicodeDecodeError):
                continue
        return tuple(texts)
    return None


def _zensical_config() -> Mapping[str, Any] | None:
    module = sys.modules.get("zensical.config")
    get_config = getattr(module, "get_config", None)
    if get_config is None:
        return None
    try:
        config = get_config()
    except Exception:  # a Zensical that changed its internals: fall back to the handler's folder
        return None
    return config if isinstance(config, Mapping) and "root_dir" in config else None


def find_host(loader: Any, *, start: FrameType | None = None) -> Host:
    """Describe the build that `loader` belongs to (falls back to the current folder when nothing is found)."""
    frames = _frames(start or sys._getframe(1))
    handler = _python_handler(frames, getattr(loader, "modules_collection", None))
    base_dir = getattr(handler, "base_dir", None)
    config_dir = Path(base_dir).resolve() if base_dir is not None else Path.cwd()
    options = getattr(handler, "global_options", None)
    handler_options = dict(options) if isinstance(options, Mapping) else {}
    paths = tuple(
        str(path)
        for path in getattr(handler, "_paths", ()) or ()
        if Path(path).resolve().is_relative_to(config_dir) and Path(path).is_dir()
    )
    docs_dir = site_dir = None
    pages = None
    builder = "unknown"
    config = _builder_config(frames)
    zensical = None if config is not None else _zensical_config()
    if config is not None:
        builder = type(config).__module__.split(".", 1)[0]
        if config.config_file_path:
            config_dir = Path(config.config_file_path).resolve().parent
        docs_dir, site_dir = Path(config.docs_dir), Path(config.site_dir)
        pages = _builder_pages(frames)
    elif zensical is not None:
        builder = "zensical"
        root = Path(zensical["root_dir"]).resolve()
        config_dir = root
        docs_dir = root / str(zensical.get("docs_dir") or "docs")
        site_dir = root / str(zensical.get("site_dir") or "site")
    return Host(
        config_dir=config_dir,
        docs_dir=docs_dir,
        site_dir=site_dir,
        handler_options=handler_options,
        paths=paths,
        builder=builder,
        pages=pages,
    )
