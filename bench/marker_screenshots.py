"""Build the tiny test site with only the griffe extension under Zensical, Material light/dark, mkdocs and readthedocs,
and screenshot each index.html with headless Chromium (`apt-get install -y chromium`); prints the PNG paths.

Run: .venv/bin/python bench/marker_screenshots.py [VARIANT...]   (needs `pip install zensical` for the first)
"""

import pathlib
import shutil
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from tests.conftest import build_env, make_site
from tests.emulator import AzureEmulator
from tests.test_build import TINY_PACKAGE, TINY_PAGES

out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 and "/" in sys.argv[1] else "/tmp/ai-docstrings-shots")
shutil.rmtree(out, ignore_errors=True)
out.mkdir(parents=True)
variants = {
    "zensical-default": ("zensical", {"name": "material"}),
    "mkdocs-material-light": ("mkdocs", {"name": "material"}),
    "mkdocs-material-dark": ("mkdocs", {"name": "material", "palette": {"scheme": "slate"}}),
    "mkdocs-theme": ("mkdocs", {"name": "mkdocs"}),
    "readthedocs": ("mkdocs", {"name": "readthedocs"}),
}
only = [a for a in sys.argv[1:] if "/" not in a] or list(variants)
with AzureEmulator(api_key="test-key") as emu:
    for name in only:
        tool, theme = variants[name]
        root = out / name
        site = make_site(
            root,
            TINY_PACKAGE,
            TINY_PAGES,
            handler_options={"extensions": ["mkdocs_ai_docstrings"]},
            plugins_order=("mkdocstrings",),
            extra_config={"theme": theme},
        )
        env = build_env(emu, out)
        r = subprocess.run(
            [sys.prefix + "/bin/" + tool, "build", "-f", str(site.config_file)],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
        )
        print(name, "rc", r.returncode, r.stderr[-300:] if r.returncode else "")
        png = out / f"{name}.png"
        subprocess.run(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={out}/ud-{name}",
                "--window-size=1200,1400",
                f"--screenshot={png}",
                f"file://{site.site_dir}/index.html",
            ],
            capture_output=True,
            timeout=60,
        )
        print(png, png.exists())
