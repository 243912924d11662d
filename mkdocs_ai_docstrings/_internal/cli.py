"""Command line: `plan` (dry run with estimates), `review` and `apply` (the lock file), `cache stats|clear|invalidate`."""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import json
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mkdocs_ai_docstrings._internal.batch import add_batch_parser, run_batch
from mkdocs_ai_docstrings._internal.cache import AnswerCache
from mkdocs_ai_docstrings._internal.lock import DEFAULT_LOCK_FILE, LockFile, LockRecord
from mkdocs_ai_docstrings._internal.prices import format_cost


def _load(config_file: str, site_dir: str) -> Any:
    from mkdocs.config import load_config

    config = load_config(config_file, site_dir=site_dir)
    if "ai-docstrings" not in config.plugins:
        raise SystemExit(f"{config_file}: the `ai-docstrings` plugin is not enabled")
    return config


def plan(config_file: str, *, budget: int | None, as_json: bool) -> int:
    """Build the site into a temporary folder in plan mode and print what would be generated."""
    from mkdocs.commands.build import build

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    with tempfile.TemporaryDirectory(prefix="ai-docstrings-plan-") as site_dir:
        config = _load(config_file, site_dir)
        plugin_config = config.plugins["ai-docstrings"].config
        plugin_config["dry_run"] = True
        if budget is not None:
            plugin_config["token_budget"] = budget
        build(config)
        report = json.loads((Path(site_dir) / (plugin_config.get("report_file") or "ai-docstrings.json")).read_text())
    if as_json:
        print(json.dumps(report, indent=2))
        return 0
    objects = report["objects"]
    planned = [o for o in objects if o["status"] == "skipped" and o["reason"] == "plan: would be generated"]
    left_out = [o for o in objects if o["reason"] == "budget"]
    cached = [o for o in objects if o["status"] == "cached"]
    tokens = sum(o["estimated_tokens"] or 0 for o in planned)
    costs = [o["cost"] for o in planned]
    cost = None if any(c is None for c in costs) else sum(costs)
    print(f"{'object':70} {'kind':10} {'est. tokens':>11}  status")
    for o in objects:
        status = (
            "cached" if o["status"] == "cached" else ("left out: budget" if o["reason"] == "budget" else "generate")
        )
        print(f"{o['path'][:70]:70} {o['kind']:10} {o['estimated_tokens'] or 0:>11}  {status}")
    print(
        f"\nPlan for model {report['model']}: {len(planned)} to generate (~{tokens} tokens, {format_cost(cost)}), "
        f"{len(cached)} cached (free), {len(left_out)} left out by the budget "
        f"{report['totals']['budget'] if report['totals']['budget'] is not None else '(none)'}."
    )
    return 0


def _source_of(path: str, search_paths: list[str]) -> str | None:
    """The current source of the object at `path`, or `None` when it cannot be loaded."""
    import griffe

    top, _, rest = path.partition(".")
    try:
        module = griffe.load(top, search_paths=search_paths, resolve_aliases=False)
        obj = module[rest] if rest else module
        return obj.source or None
    except Exception:  # any loading problem: the listing goes on without the code
        return None


REVIEW_CODE_LINES = 40
"""Lines of an object's code shown by `review` (a module's code is cut there)."""


def _indented(text: str, limit: int | None = None) -> str:
    lines = text.splitlines()
    shown = lines if limit is None else lines[:limit]
    more = [f"    | ... ({len(lines) - len(shown)} more line(s))"] if len(shown) < len(lines) else []
    return "\n".join([f"    | {line}" for line in shown] + more)


def review(
    config_file: str,
    *,
    accept: Sequence[str] = (),
    reject: Sequence[str] = (),
    accept_all: bool = False,
    show_all: bool = False,
) -> int:
    """List the lock file's records waiting for review with their code, or accept / reject them by path glob."""
    from mkdocs.config import load_config

    config = load_config(config_file)
    if "ai-docstrings" not in config.plugins:
        raise SystemExit(f"{config_file}: the `ai-docstrings` plugin is not enabled")
    base = Path(config.config_file_path).resolve().parent
    lock_option = config.plugins["ai-docstrings"].config.get("lock_file")
    if lock_option is False:
        raise SystemExit(f"{config_file}: the lock file is turned off (`lock_file: false`)")
    name = DEFAULT_LOCK_FILE if lock_option in (None, True) else str(lock_option)
    lock = LockFile.load(Path(name) if Path(name).is_absolute() else base / name)
    if accept or reject or accept_all:
        changed = {"accepted": 0, "rejected": 0}
        for path, record in sorted(lock.records.items()):
            state = None
            if any(fnmatch.fnmatchcase(path, pattern) for pattern in reject):
                state = "rejected"
            elif (accept_all and record.review == "pending") or any(
                fnmatch.fnmatchcase(path, pattern) for pattern in accept
            ):
                state = "accepted" if record.review != "edited" else None
            if state is not None and record.review != state:
                lock.put(dataclasses.replace(record, review=state))
                changed[state] += 1
        lock.write()
        print(f"{changed['accepted']} record(s) accepted, {changed['rejected']} rejected in {lock.path}")
        return 0
    handlers = config.plugins["mkdocstrings"].config.get("handlers", {}) if "mkdocstrings" in config.plugins else {}
    paths = (handlers.get("python") or {}).get("paths") or ["."]
    search_paths = [str(base / path) for path in paths]
    listed: list[LockRecord] = [r for _, r in sorted(lock.records.items()) if show_all or r.review == "pending"]
    for record in listed:
        print(f"{record.path} ({record.kind}, {record.review}, {record.date}, {record.model or 'unknown model'})")
        source = _source_of(record.path, search_paths)
        print("  code:" if source else "  code: (not found)")
        if source:
            print(_indented(source, REVIEW_CODE_LINES))
        print("  docstring:")
        print(_indented(record.text) + "\n")
    waiting = sum(1 for r in lock.records.values() if r.review == "pending")
    print(f"{waiting} record(s) waiting for review in {lock.path}; accept with --accept PATH|GLOB or --all")
    return 0


def cache_command(action: str, cache_dir: str, patterns: Sequence[str]) -> int:
    """Show or clear the answer cache."""
    cache = AnswerCache(cache_dir)
    try:
        if action == "stats":
            print(f"{len(cache)} cached answer(s) in {cache.directory}")
        elif action == "clear":
            print(f"removed {cache.clear()} entries from {cache.directory}")
        else:
            removed = cache.invalidate(lambda path: any(fnmatch.fnmatchcase(path, p) for p in patterns))
            print(f"invalidated {removed} answer(s) matching {', '.join(patterns)}")
    finally:
        cache.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `mkdocs-ai-docstrings`."""
    parser = argparse.ArgumentParser(prog="mkdocs-ai-docstrings", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    plan_parser = commands.add_parser("plan", help="list what would be generated, with estimated tokens and cost")
    plan_parser.add_argument("-f", "--config-file", default="mkdocs.yml")
    plan_parser.add_argument("--budget", type=int, default=None, help="token budget to plan against")
    plan_parser.add_argument("--json", action="store_true", help="print the plan report as JSON")
    review_parser = commands.add_parser("review", help="list the AI docstrings waiting for review; accept or reject")
    review_parser.add_argument("-f", "--config-file", default="mkdocs.yml")
    review_parser.add_argument("--accept", nargs="+", default=[], metavar="PATH", help="accept records (globs)")
    review_parser.add_argument("--reject", nargs="+", default=[], metavar="PATH", help="reject records (globs)")
    review_parser.add_argument("--all", action="store_true", help="accept every pending record")
    review_parser.add_argument("--list-all", action="store_true", help="list every record, reviewed or not")
    apply_parser = commands.add_parser("apply", help="write the lock file's docstrings into the Python source")
    apply_parser.add_argument("-f", "--config-file", default="mkdocs.yml")
    apply_parser.add_argument("paths", nargs="*", metavar="PATH", help="files, folders or dotted-path globs")
    apply_parser.add_argument("--accepted-only", action="store_true", help="only records a maintainer reviewed")
    apply_parser.add_argument("--diff", metavar="FILE", default=None, help="write a unified patch ('-': stdout)")
    cache_parser = commands.add_parser("cache", help="inspect or invalidate the answer cache")
    cache_parser.add_argument("action", choices=["stats", "clear", "invalidate"])
    cache_parser.add_argument("patterns", nargs="*", help="glob patterns on dotted paths (invalidate)")
    cache_parser.add_argument("--cache-dir", default=".cache/ai-docstrings")
    add_batch_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "batch":
        return run_batch(args)
    if args.command == "plan":
        return plan(args.config_file, budget=args.budget, as_json=args.json)
    if args.command == "review":
        return review(
            args.config_file, accept=args.accept, reject=args.reject, accept_all=args.all, show_all=args.list_all
        )
    if args.command == "apply":
        from mkdocs_ai_docstrings._internal.apply import apply_command

        return apply_command(args.config_file, args.paths, accepted_only=args.accepted_only, diff_file=args.diff)
    if args.action == "invalidate" and not args.patterns:
        parser.error("invalidate needs at least one pattern")
    return cache_command(args.action, args.cache_dir, args.patterns)


if __name__ == "__main__":
    sys.exit(main())
