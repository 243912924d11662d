"""Warm rebuild cost: a site whose every AI docstring is cached, against the same site without the extension.

Copies an installed package (default: Python-Markdown, `markdown`) into a temporary site, strips the docstrings
of every `--strip-every`-th documented function and class (so a few hundred public objects are undocumented),
fills the answer cache (and the lock file) once with a cold build against the loopback Azure OpenAI emulator, then
times fresh `mkdocs build` processes, best of `--rounds`, of four configurations of the same pages:

    a     the plain site: no extension, undocumented objects not rendered
    b     the site rendering its undocumented objects without the extension (`show_if_no_docstring: true`)
    c     the warm build: the griffe extension under the handler's options (no plugin), every answer in the lock
    c_nolock  the same with `lock_file: false`: every answer found in the answer cache

and prints `key: value` lines, among them `c/b` and `c/a` (targets: at most 1.02 and 1.15; of the best times, then
the median of each round's ratio, which a slow spell of the machine moves less) and the requests the
emulator received during the warm builds (0: nothing was asked again). The same ratios of CPU time (user + system,
best of the rounds) follow: on a machine shared with other work they move much less than wall times. Last, the
product's own seconds inside warm builds (`_own_share.py`: import, `on_package`, end of build; best of the rounds
for each) and their share of `b`: the part of `c - b` the product spends itself, the rest being the rendering of
the docstrings it adds.

Usage:
    python bench/warm_rebuild.py [--package markdown] [--strip-every 3] [--rounds 5]
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.emulator import AzureEmulator  # noqa: E402

API_KEY = "bench-key"


def strip_docstrings(source: str, every: int) -> tuple[str, int]:
    """Remove the docstring of every `every`-th documented function or class of `source`; return it and the count."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source, 0
    lines = source.splitlines(keepends=True)
    cuts: list[tuple[int, int, str | None]] = []
    seen = 0
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or not node.body:
            continue
        first = node.body[0]
        if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)):
            continue
        if not isinstance(first.value.value, str) or first.lineno == node.lineno or first.end_lineno is None:
            continue
        seen += 1
        if seen % every:
            continue
        indent = lines[first.lineno - 1][: first.col_offset]
        filler = f"{indent}...\n" if len(node.body) == 1 else None
        cuts.append((first.lineno - 1, first.end_lineno, filler))
    for start, end, filler in sorted(cuts, reverse=True):
        lines[start:end] = [filler] if filler else []
    return "".join(lines), len(cuts)


def copy_package(name: str, destination: Path, every: int) -> int:
    """Copy the installed package `name` under `destination`, stripping docstrings; return how many were removed."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{name} is not an installed package")
    source = Path(next(iter(spec.submodule_search_locations)))
    target = destination / name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    removed = 0
    for path in sorted(target.rglob("*.py")):
        text, count = strip_docstrings(path.read_text(encoding="utf-8"), every)
        path.write_text(text, encoding="utf-8")
        removed += count
    return removed


def write_config(root: Path, name: str, package: str, *, show_all: bool, extension: dict[str, object] | None) -> Path:
    """Write `mkdocs-NAME.yml` (shared `docs/`, own site folder) documenting `package` with its submodules."""
    options: dict[str, object] = {
        "docstring_style": "google",
        "show_submodules": True,
        "show_if_no_docstring": show_all,
    }
    if extension is not None:
        options["extensions"] = [{"mkdocs_ai_docstrings": extension}]
    config = {
        "site_name": "warm",
        "site_dir": f"site-{name}",
        "theme": {"name": "mkdocs"},
        "plugins": [{"mkdocstrings": {"handlers": {"python": {"paths": ["src"], "options": options}}}}],
    }
    path = root / f"mkdocs-{name}.yml"
    path.write_text("\n".join(f"{key}: {json.dumps(value)}" for key, value in config.items()) + "\n", encoding="utf-8")
    return path


def build(config: Path, env: dict[str, str], *, profile: Path | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one fresh `mkdocs build` process (it must succeed)."""
    prefix = [sys.executable, "-m", "cProfile", "-o", str(profile)] if profile else [sys.executable]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [*prefix, "-m", "mkdocs", "build", "-q", "-f", str(config)],
        cwd=config.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"build of {config.name} failed:\n{done.stdout}{done.stderr}")
    return elapsed, (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)


def own_share(config: Path, env: dict[str, str], rounds: int) -> dict[str, float]:
    """The product's own seconds in a build of `config` (`_own_share.py`), best of `rounds` for each phase."""
    best: dict[str, float] = {}
    for _ in range(rounds):
        done = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("_own_share.py")), str(config)],
            cwd=config.parent,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        phases = json.loads(done.stdout.splitlines()[-1])
        for phase in ("import", "on_package", "end_of_build"):
            best[phase] = min(best.get(phase, phases[phase]), phases[phase])
    best["total"] = sum(best.values())
    return {phase: round(value, 3) for phase, value in best.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", default="markdown", help="installed package to copy (default markdown)")
    parser.add_argument("--strip-every", type=int, default=3, help="strip every N-th docstring (default 3)")
    parser.add_argument("--rounds", type=int, default=5, help="builds per configuration; the best counts (default 5)")
    parser.add_argument("--profile", type=Path, default=None, help="also write a cProfile of one warm build here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary site and print its folder")
    args = parser.parse_args(argv)

    # As a wheel install does (and `PYTHONDONTWRITEBYTECODE` or an editable install may not): bytecode for the
    # product, so each build's import does not compile it again (the packages it is measured against have theirs).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "mkdocs_ai_docstrings")], check=True)
    tmp = Path(tempfile.mkdtemp(prefix="ai-docstrings-warm-"))
    try:
        stripped = copy_package(args.package, tmp / "src", args.strip_every)
        (tmp / "docs").mkdir()
        (tmp / "docs" / "index.md").write_text(f"# API\n\n::: {args.package}\n", encoding="utf-8")
        configs = {
            "a": write_config(tmp, "a", args.package, show_all=False, extension=None),
            "b": write_config(tmp, "b", args.package, show_all=True, extension=None),
            "c": write_config(tmp, "c", args.package, show_all=False, extension={}),
            "c_nolock": write_config(tmp, "c_nolock", args.package, show_all=False, extension={"lock_file": False}),
        }
        env = {key: value for key, value in os.environ.items() if not key.startswith(("AZURE_", "OPENAI_"))}
        env.update({"NO_MKDOCS_2_WARNING": "1", "SOURCE_DATE_EPOCH": "1700000000"})
        env["TIKTOKEN_CACHE_DIR"] = str(tmp / "tiktoken-cache")
        with AzureEmulator(api_key=API_KEY) as emulator:
            env.update({"AZURE_OPENAI_ENDPOINT": emulator.url, "AZURE_OPENAI_API_KEY": API_KEY})
            fill, _ = build(configs["c"], env)
            report = json.loads((tmp / "site-c" / "ai-docstrings.json").read_text(encoding="utf-8"))
            statuses: dict[str, int] = {}
            for item in report["objects"]:
                statuses[item["status"]] = statuses.get(item["status"], 0) + 1
            cold_requests = len(emulator.requests)
            build(configs["c"], env)  # settles what the first build left (the lock file's last records)
            build(configs["c_nolock"], env)
            before = len(emulator.requests)
            times: dict[str, list[tuple[float, float]]] = {name: [] for name in configs}
            for _ in range(args.rounds):
                for name, config in configs.items():  # interleaved: load changes hit every configuration alike
                    times[name].append(build(config, env))
            warm_requests = len(emulator.requests) - before
            own = {name: own_share(configs[name], env, args.rounds) for name in ("c", "c_nolock")}
            if args.profile is not None:
                build(configs["c"], env, profile=args.profile)
        warm = json.loads((tmp / "site-c" / "ai-docstrings.json").read_text(encoding="utf-8"))
        warm_statuses: dict[str, int] = {}
        for item in warm["objects"]:
            warm_statuses[item["status"]] = warm_statuses.get(item["status"], 0) + 1
        best = {name: min(wall for wall, _ in values) for name, values in times.items()}
        cpu = {name: min(used for _, used in values) for name, values in times.items()}
        results = {
            "package": args.package,
            "docstrings_stripped": stripped,
            "objects_in_report": len(report["objects"]),
            "cold_statuses": json.dumps(statuses, sort_keys=True),
            "cold_requests": cold_requests,
            "cold_fill_s": round(fill, 2),
            "warm_statuses": json.dumps(warm_statuses, sort_keys=True),
            "warm_requests": warm_requests,
            "rounds": args.rounds,
            **{f"best_{name}_s": round(value, 3) for name, value in best.items()},
            "c/b": round(best["c"] / best["b"], 3),
            "c/a": round(best["c"] / best["a"], 3),
            "median round c/b": _median_ratio(times["c"], times["b"]),
            "median round c/a": _median_ratio(times["c"], times["a"]),
            "c_nolock/b": round(best["c_nolock"] / best["b"], 3),
            "c_nolock/a": round(best["c_nolock"] / best["a"], 3),
            **{f"best_cpu_{name}_s": round(value, 3) for name, value in cpu.items()},
            "cpu c/b": round(cpu["c"] / cpu["b"], 3),
            "cpu c/a": round(cpu["c"] / cpu["a"], 3),
            "cpu c_nolock/b": round(cpu["c_nolock"] / cpu["b"], 3),
            "cpu c_nolock/a": round(cpu["c_nolock"] / cpu["a"], 3),
            **{f"own_{name}_{phase}_s": value for name, phases in own.items() for phase, value in phases.items()},
            "own c / b": round(own["c"]["total"] / best["b"], 3),
            "own c_nolock / b": round(own["c_nolock"]["total"] / best["b"], 3),
        }
        for key, value in results.items():
            print(f"{key}: {value}")
        if args.keep:
            print(f"site: {tmp}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _median_ratio(over: list[tuple[float, float]], under: list[tuple[float, float]]) -> float:
    """The median over rounds of one configuration's wall time divided by another's in the same round.

    Builds of one round run back to back, so a slow spell of the machine slows both sides of a round's ratio;
    the best times of the two sides may come from different spells.
    """
    return round(statistics.median(mine / theirs for (mine, _), (theirs, _) in zip(over, under, strict=True)), 3)


if __name__ == "__main__":
    raise SystemExit(main())
