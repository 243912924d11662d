"""What the site shows: the `:::` blocks of its pages, with the options that change which members render."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)(?:\#{1,6}[ \t]*)?:::[ \t]*(?P<identifier>[A-Za-z_][\w.]*)[ \t]*(?:\n|\Z)"
    r"(?P<body>(?:(?P=indent)[ \t]+.*\n?|[ \t]*\n)*)",
    re.MULTILINE,
)
"""A `:::` line as mkdocstrings reads it: `::: pkg`, `:::pkg`, or after a heading (`## ::: pkg`), options indented below."""

_FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2[ \t]*$", re.MULTILINE | re.DOTALL)
"""Fenced code blocks: a `:::` line inside one is an example, not a block mkdocstrings renders."""


@dataclass(frozen=True)
class DocumentedRoot:
    """One `::: identifier` block and the options that decide which of its members are rendered."""

    identifier: str
    show_submodules: bool = False
    members: tuple[str, ...] | None = None
    """Names listed in the `members` option; `None` = all, `()` = none (`members: false`)."""

    @property
    def package(self) -> str:
        """The top-level package the identifier belongs to."""
        return self.identifier.split(".", 1)[0]


class _TolerantLoader(yaml.SafeLoader):
    """A YAML loader that ignores MkDocs' custom tags (`!ENV`, `!!python/name:`...)."""


def _ignore_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_TolerantLoader.add_multi_constructor("", _ignore_tag)


def load_yaml(text: str) -> Any:
    """Parse YAML written for MkDocs, ignoring its custom tags."""
    try:
        return yaml.load(text, Loader=_TolerantLoader)
    except yaml.YAMLError:
        return None


def _root(identifier: str, options: Mapping[str, Any], defaults: Mapping[str, Any]) -> DocumentedRoot:
    merged = {**defaults, **options}
    members = merged.get("members")
    if members is False:
        listed: tuple[str, ...] | None = ()
    elif isinstance(members, list):
        listed = tuple(str(member) for member in members)
    else:
        listed = None
    return DocumentedRoot(identifier, bool(merged.get("show_submodules", False)), listed)


def root_from_options(identifier: str, options: Any) -> DocumentedRoot:
    """The root of one block the Python handler collects, from its final options (a mapping or `PythonOptions`)."""
    if isinstance(options, Mapping):
        return _root(identifier, options, {})
    fields = {name: getattr(options, name) for name in ("members", "show_submodules") if hasattr(options, name)}
    return _root(identifier, fields, {})


def roots_in_markdown(text: str, defaults: Mapping[str, Any] | None = None) -> list[DocumentedRoot]:
    """Find the `:::` blocks of one Markdown text, with their local options over `defaults`."""
    roots = []
    for match in _BLOCK.finditer(_FENCE.sub("", text)):
        body = load_yaml(match.group("body")) if match.group("body").strip() else None
        options = body.get("options") if isinstance(body, Mapping) else None
        roots.append(_root(match.group("identifier"), options if isinstance(options, Mapping) else {}, defaults or {}))
    return roots


def roots_in_pages(texts: Iterable[str], defaults: Mapping[str, Any] | None = None) -> list[DocumentedRoot]:
    """Find the `:::` blocks of the site's pages as the builder holds them (generated pages included)."""
    return [root for text in texts for root in roots_in_markdown(text, defaults)]


def documented_roots(docs_dir: str | Path, defaults: Mapping[str, Any] | None = None) -> list[DocumentedRoot]:
    """Find every `:::` block in the Markdown files under `docs_dir`."""
    roots: list[DocumentedRoot] = []
    for path in sorted(Path(docs_dir).rglob("*.md")):
        try:
            roots.extend(roots_in_markdown(path.read_text(encoding="utf-8"), defaults))
        except (OSError, UnicodeDecodeError):
            continue
    return roots


def handler_options(mkdocstrings_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The global options of mkdocstrings' Python handler from the plugin's config."""
    if not isinstance(mkdocstrings_config, Mapping):
        return {}
    handlers = mkdocstrings_config.get("handlers") or {}
    python = handlers.get("python") or {} if isinstance(handlers, Mapping) else {}
    options = python.get("options") if isinstance(python, Mapping) else None
    return dict(options) if isinstance(options, Mapping) else {}


def roots_from_mkdocs_yml(config_file: str | Path = "mkdocs.yml") -> list[DocumentedRoot] | None:
    """Without the plugin: read `mkdocs.yml` (docs_dir, mkdocstrings options) and scan the docs."""
    path = Path(config_file)
    if not path.exists():
        return None
    config = load_yaml(path.read_text(encoding="utf-8"))
    if not isinstance(config, Mapping):
        return None
    defaults: dict[str, Any] = {}
    plugins = config.get("plugins") or []
    entries = (
        plugins.items()
        if isinstance(plugins, Mapping)
        else (
            next(iter(plugin.items())) if isinstance(plugin, Mapping) and plugin else (plugin, None)
            for plugin in plugins
        )
    )
    for name, plugin_config in entries:
        if name == "mkdocstrings":
            defaults = handler_options(plugin_config)
    docs_dir = path.parent / str(config.get("docs_dir") or "docs")
    return documented_roots(docs_dir, defaults) or None


def by_package(roots: Iterable[DocumentedRoot]) -> dict[str, list[DocumentedRoot]]:
    """Group roots by their top-level package."""
    grouped: dict[str, list[DocumentedRoot]] = {}
    for root in roots:
        grouped.setdefault(root.package, []).append(root)
    return grouped
