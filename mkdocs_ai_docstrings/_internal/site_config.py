"""A site's configuration as the command line sees it: its folder, its options, and the paths they resolve to.

Every path an option names (cache folder, lock file) is relative to the folder of `mkdocs.yml`, as in a build,
whatever the current directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs_ai_docstrings._internal.errors import SettingsError
from mkdocs_ai_docstrings._internal.lock import DEFAULT_LOCK_FILE
from mkdocs_ai_docstrings._internal.settings import Settings

PLUGIN = "ai-docstrings"
EXTENSION = "mkdocs_ai_docstrings"


def _extension_options(handler_options: Mapping[str, Any]) -> dict[str, Any] | None:
    """The options of the griffe extension listed under the Python handler's `extensions`, if it is listed."""
    for item in handler_options.get("extensions") or []:
        name, options = next(iter(item.items())) if isinstance(item, Mapping) else (item, {})
        if str(name).split(":", 1)[0].split(".", 1)[0] == EXTENSION:
            return dict(options or {})
    return None


@dataclass(frozen=True)
class SiteConfig:
    """The loaded `mkdocs.yml` and the validated options of the plugin (or, without it, of the extension)."""

    config_dir: Path
    """Folder of `mkdocs.yml`: every relative path of the options starts there."""
    settings: Settings
    search_paths: tuple[str, ...]
    """The Python handler's `paths`, absolute (default: the config folder)."""
    plugin: bool
    """Whether the MkDocs plugin is enabled (else the options come from the extension)."""
    config_file: str = "mkdocs.yml"

    @classmethod
    def load(cls, config_file: str | Path, **mkdocs_options: Any) -> SiteConfig:
        """Load `config_file` with MkDocs; `SystemExit` with one line when it has neither the plugin nor the extension."""
        from mkdocs.config import load_config

        config = load_config(str(config_file), **mkdocs_options)
        config_dir = Path(config.config_file_path).resolve().parent
        mkdocstrings = config.plugins["mkdocstrings"].config if "mkdocstrings" in config.plugins else {}
        python = (mkdocstrings.get("handlers") or {}).get("python") or {}
        plugin = PLUGIN in config.plugins
        if plugin:
            options = {key: value for key, value in config.plugins[PLUGIN].config.items() if value is not None}
        else:
            found = _extension_options(python.get("options") or {})
            if found is None:
                raise SystemExit(f"{config_file}: neither the `{PLUGIN}` plugin nor the `{EXTENSION}` extension is set")
            options = found
        try:
            settings = Settings.from_options(options)
        except SettingsError as error:
            raise SystemExit(f"{config_file}: {error}") from None
        paths = python.get("paths") or ["."]
        return cls(config_dir, settings, tuple(str(config_dir / str(path)) for path in paths), plugin, str(config_file))

    def resolve(self, path: str | Path) -> Path:
        """`path` relative to the config folder (absolute paths unchanged)."""
        path = Path(path).expanduser()
        return path if path.is_absolute() else self.config_dir / path

    @property
    def cache_dir(self) -> Path:
        """The answer cache folder."""
        return self.resolve(self.settings.cache_dir)

    @property
    def lock_path(self) -> Path | None:
        """The lock file (`None`: turned off with `lock_file: false`)."""
        option = self.settings.lock_file
        if option is False:
            return None
        return self.resolve(DEFAULT_LOCK_FILE if option is True else option)

    def required_lock_path(self) -> Path:
        """The lock file, or `SystemExit` with one line when the site turned it off."""
        if self.lock_path is None:
            raise SystemExit(f"{self.config_file}: the lock file is turned off (`lock_file: false`)")
        return self.lock_path
