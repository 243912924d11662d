"""A batch round trip for a real package of a few hundred objects, against the emulator's Batch API.

Copies a standard-library package (default: `email`, renamed `mailpkg`) into a site with its docstrings removed,
builds it once live (the reference), then runs `mkdocs-ai-docstrings batch submit` / `collect` rounds on a second
copy until nothing is pending, and builds it: that build must send no request and publish the reference's pages.
Results are printed as `key: value` lines.

Usage:
    python bench/batch_roundtrip.py [--package email]
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mkdocs_ai_docstrings._internal.batch import STATE_FILE  # noqa: E402
from mkdocs_ai_docstrings._internal.prices import estimate_cost, price_for  # noqa: E402
from tests.conftest import Site, build, build_env, make_site  # noqa: E402
from tests.emulator import AzureEmulator  # noqa: E402

RENAMED = "benchpkg"


class _Strip(ast.NodeTransformer):
    """Remove docstrings and rename the package in imports and names."""

    def __init__(self, package: str) -> None:
        self.package = package

    def _rename(self, name: str) -> str:
        head, dot, tail = name.partition(".")
        return RENAMED + dot + tail if head == self.package else name

    def _strip(self, node: ast.AST) -> ast.AST:
        body = getattr(node, "body", None)
        first = body[0] if body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
        return self.generic_visit(node)

    visit_Module = visit_ClassDef = visit_FunctionDef = visit_AsyncFunctionDef = _strip

    def visit_Import(self, node: ast.Import) -> ast.AST:
        for alias in node.names:
            alias.name = self._rename(alias.name)
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        if node.module and node.level == 0:
            node.module = self._rename(node.module)
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id == self.package:
            node.id = RENAMED
        return node


def package_source(package: str) -> dict[str, str]:
    """The package's modules without docstrings, renamed `benchpkg` (relative path -> code)."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, f"{package} is not a package"
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = {}
    for path in sorted(folder.rglob("*.py")):
        tree = _Strip(package).visit(ast.parse(path.read_text(encoding="utf-8")))
        files[f"{RENAMED}/{path.relative_to(folder)}"] = ast.unparse(ast.fix_missing_locations(tree)) + "\n"
    return files


def batch(site: Site, env: dict[str, str], action: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mkdocs_ai_docstrings._internal.cli", "batch", action, "-f", str(site.config_file)]
    done = subprocess.run(command, cwd=site.root, env=env, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        raise SystemExit(f"batch {action} failed:\n{done.stdout}\n{done.stderr}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", default="email", help="standard-library package to copy (default: email)")
    args = parser.parse_args(argv)
    source = package_source(args.package)
    pages = {"index.md": f"# API\n\n::: {RENAMED}\n    options:\n      show_submodules: true\n"}
    options = {"lock_file": False, "run_examples": False}
    with tempfile.TemporaryDirectory(prefix="ai-docstrings-bench-") as tmp, AzureEmulator() as emulator:
        env = build_env(emulator, Path(tmp))
        started = time.monotonic()
        live = build(make_site(Path(tmp) / "live", source, pages, options), env, emulator=emulator, timeout=1800)
        live_seconds = time.monotonic() - started
        assert live.report is not None, live.output
        generated = sum(1 for item in live.report["objects"] if item["status"] == "generated")
        live_cost = live.report["totals"]["cost"]

        site = make_site(Path(tmp) / "batch", source, pages, options)
        rounds: list[tuple[int, int, int]] = []
        batch_cost = 0.0
        started = time.monotonic()
        while True:
            submitted = batch(site, env, "submit")
            if submitted.stdout.startswith("Nothing to submit"):
                break
            state = json.loads((site.root / STATE_FILE).read_text())
            batch(site, env, "collect")
            state = json.loads((site.root / STATE_FILE).read_text())
            collected = state["collected"]
            rounds.append((len(state["requests"]), len(collected["stored"]), len(collected["left_for_live"])))
            batch_cost += collected["cost"] or 0.0
        batch_seconds = time.monotonic() - started
        lines = [line for line in emulator.batch_lines if line.usage]
        same_tokens_live = estimate_cost(
            price_for("gpt-4o-mini"),
            prompt_tokens=sum(line.usage["prompt_tokens"] for line in lines if line.usage),
            completion_tokens=sum(line.usage["completion_tokens"] for line in lines if line.usage),
        )
        after = build(site, env, emulator=emulator, timeout=1800)
        assert after.report is not None, after.output

    print(f"package: {args.package} ({len(source)} modules, docstrings removed)")
    print(f"objects documented by the live build: {len(live.report['objects'])} ({generated} generated)")
    print(f"live build: {live.requests} requests, {live_seconds:.1f} s, cost ${live_cost:.4f}")
    print(f"batch rounds: {len(rounds)}")
    for number, (sent, stored, left) in enumerate(rounds, start=1):
        print(f"  round {number}: submitted {sent}, collected {stored}, left for the live path {left}")
    print(f"objects submitted: {sum(r[0] for r in rounds)}")
    print(f"objects collected: {sum(r[1] for r in rounds)}")
    print(f"batch rounds time: {batch_seconds:.1f} s")
    live_tokens = live.report["totals"]["prompt_tokens"] + live.report["totals"]["completion_tokens"]
    batch_tokens = sum(line.usage["total_tokens"] for line in lines if line.usage)
    print(f"tokens billed: live build {live_tokens}, batch {batch_tokens}")
    print(f"batch cost at the batch price: ${batch_cost:.4f} (the same tokens live: ${same_tokens_live or 0:.4f})")
    print(f"requests made by the following build: {after.requests}")
    statuses = {item["status"] for item in after.report["objects"]}
    print(f"statuses of the following build: {sorted(statuses)}")
    print(f"pages identical to the live build: {after.html == live.html}")
    return 0 if after.requests == 0 and after.html == live.html else 1


if __name__ == "__main__":
    sys.exit(main())
