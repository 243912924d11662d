"""The example site copied into a temporary folder and built once against the emulator: where several benches start.

Import it from a bench script (`from _site import built_example_site`); it puts the repository on `sys.path`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import BuildResult, Site, build, build_env  # noqa: E402
from tests.emulator import AzureEmulator  # noqa: E402


@dataclass
class BuiltSite:
    """A copy of `example_site/` after its first build with credentials."""

    tmp: Path
    site: Site
    emulator: AzureEmulator
    first: BuildResult


@contextmanager
def built_example_site(prefix: str) -> Iterator[BuiltSite]:
    """Copy `example_site/` (without caches, site or lock file), build it once, print its return code."""
    with tempfile.TemporaryDirectory(prefix=prefix) as folder, AzureEmulator(api_key="test-key") as emulator:
        tmp = Path(folder)
        site = Site(tmp / "project")
        shutil.copytree(ROOT / "example_site", site.root, ignore=shutil.ignore_patterns(".cache", "site", "*.lock"))
        first = build(site, build_env(emulator, tmp), emulator=emulator)
        print(f"first_build_rc: {first.returncode}")
        yield BuiltSite(tmp, site, emulator, first)
