"""Command line: `plan` (dry run with estimates), `review` and `apply` (the lock file), `cache`, `options`.

Each subcommand is added by one function of `REGISTRARS` that creates its parser and sets `run`; a command group
from another module is one more entry there.
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import inspect
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from mkdocs_ai_docstrings._internal.lock import LockFile, LockRecord
from mkdocs_ai_docstrings._internal.prices import format_cost
from mkdocs_ai_docstrings._internal.report import Reason, Status
from mkdocs_ai_docstrings._internal.settings import redis_url_problem
from mkdocs_ai_docstrings._internal.shared_cache import LayeredCache, open_cache, shared_cache_options
from mkdocs_ai_docstrings._internal.site_config import SiteConfig


def _load(config_file: str, site_dir: str) -> Any:
    from mkdocs.config import load_config

    config = load_config(config_file, site_dir=site_dir)
    if "ai-docstrings" not in config.plugins:
        raise SystemExit(f"{config_file}: the `ai-docstrings` plugin is not enabled")
    return config


def plan(config_file: str, *, budget: int | None, as_json: bool) -> int:
    """Build the site into a temporary folder in plan mode and print what would be generated."""
    from mkdocs.commands.build import build

    from mkdocs_ai_docstrings._internal.standalone import close_open_builds

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    with tempfile.TemporaryDirectory(prefix="ai-docstrings-plan-") as site_dir:
        config = _load(config_file, site_dir)
        plugin_config = config.plugins["ai-docstrings"].config
        plugin_config["dry_run"] = True
        if budget is not None:
            plugin_config["token_budget"] = budget
        build(config)
        report = json.loads((Path(site_dir) / (plugin_config.get("report_file") or "ai-docstrings.json")).read_text())
        close_open_builds()  # while the folder exists: a build ended at exit would write into it again
    if as_json:
        print(json.dumps(report, indent=2))
        return 0
    objects = report["objects"]
    planned = [o for o in objects if o["status"] == Status.PLANNED]
    left_out = [o for o in objects if Reason.of(o["reason"]) is Reason.BUDGET]
    cached = [o for o in objects if o["status"] == Status.CACHED]
    tokens = sum(o["estimated_tokens"] or 0 for o in planned)
    costs = [o["cost"] for o in planned]
    cost = None if any(c is None for c in costs) else sum(costs)
    print(f"{'object':70} {'kind':10} {'est. tokens':>11}  status")
    for o in objects:
        status = (
            "cached"
            if o["status"] == Status.CACHED
            else ("left out: budget" if o in left_out else "generate" if o in planned else o["status"])
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
    site = SiteConfig.load(config_file)
    lock = LockFile.load(site.required_lock_path())
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
    search_paths = list(site.search_paths)
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


def cache_command(
    action: str,
    cache_dir: str | Path,
    patterns: Sequence[str],
    *,
    cache_url: str | None = None,
    namespace: str | None = None,
    config_dir: Path | None = None,
) -> int:
    """Show, clear or invalidate the answer cache in `cache_dir` (and the shared one, with a Redis URL)."""
    url, chosen = shared_cache_options(cache_url, namespace, os.environ, config_dir=config_dir)
    cache = open_cache(cache_dir, url=url, namespace=chosen)
    try:
        if action == "stats":
            shared = cache.shared_count() if isinstance(cache, LayeredCache) else None
            print(f"{len(cache)} cached answer(s) in {cache.directory}")
            if shared is not None:
                print(f"{shared} cached answer(s) in {cache.url} (namespace {chosen})")
        elif action == "clear":
            print(f"removed {cache.clear()} entries from {cache.where}")
        else:
            removed = cache.invalidate(lambda path: any(fnmatch.fnmatchcase(path, p) for p in patterns))
            print(f"invalidated {removed} answer(s) matching {', '.join(patterns)} in {cache.where}")
    finally:
        cache.close()
    return 0


def options_command(write: str | None) -> int:
    """Print the options table, or write it into the options section of `write` (the README)."""
    from mkdocs_ai_docstrings._internal.options_table import options_table, replace_table

    if write is None:
        print(options_table())
        return 0
    path = Path(write)
    try:
        path.write_text(replace_table(path.read_text(encoding="utf-8")), encoding="utf-8")
    except ValueError as error:
        raise SystemExit(f"{write}: {error}") from None
    print(f"options table written into {path}")
    return 0


# Parsers -------------------------------------------------------------------------------------------------------


def _subcommand(commands: Any, name: str, register: Callable[[Any], None]) -> argparse.ArgumentParser:
    """A subcommand parser whose help comes from the docstring of its `register` function.

    The docstring's first line is the summary shown in the main help, the paragraphs after it the description,
    and the indented lines after `Examples:` the examples shown at the end of the subcommand's help.
    """
    doc = inspect.cleandoc(register.__doc__ or "")
    summary, _, rest = doc.partition("\n\n")
    description, _, examples = rest.partition("Examples:\n")
    return commands.add_parser(
        name,
        help=summary,
        description=description.strip(),
        epilog=f"examples:\n{examples.rstrip()}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_config_file(parser: argparse.ArgumentParser) -> None:
    """The `-f/--config-file` option: paths in the site's options are relative to that file, from any folder."""
    parser.add_argument(
        "-f",
        "--config-file",
        default="mkdocs.yml",
        metavar="FILE",
        help="the site's mkdocs.yml; cache and lock paths are relative to its folder (default: %(default)s)",
    )


def _register_plan(commands: Any) -> None:
    """List what would be generated, with estimated tokens and cost (no request is sent).

    Build the site into a temporary folder in dry-run mode and print every object that lacks a docstring:
    cached (free), to generate (with its estimated tokens), or left out by the token budget.

    Examples:
        mkdocs-ai-docstrings plan
        mkdocs-ai-docstrings plan -f docs/mkdocs.yml --budget 20000 --json
    """
    parser = _subcommand(commands, "plan", _register_plan)
    add_config_file(parser)
    parser.add_argument("--budget", type=int, default=None, metavar="TOKENS", help="token budget to plan against")
    parser.add_argument("--json", action="store_true", help="print the plan report as JSON instead of a table")
    parser.set_defaults(run=lambda args: plan(args.config_file, budget=args.budget, as_json=args.json))


def _register_review(commands: Any) -> None:
    """List the AI docstrings waiting for review, with their code; accept or reject them.

    Without options, list the lock file's records waiting for review, each with its object's current code.
    With --accept, --reject or --all, change their review state (`publish: accepted` shows only accepted ones).

    Examples:
        mkdocs-ai-docstrings review
        mkdocs-ai-docstrings review --accept 'mypkg.api.*' --reject mypkg.api.legacy
        mkdocs-ai-docstrings review -f site/mkdocs.yml --all
    """
    parser = _subcommand(commands, "review", _register_review)
    add_config_file(parser)
    parser.add_argument("--accept", nargs="+", default=[], metavar="PATH", help="accept records (dotted paths, globs)")
    parser.add_argument("--reject", nargs="+", default=[], metavar="PATH", help="reject records (dotted paths, globs)")
    parser.add_argument("--all", action="store_true", help="accept every pending record")
    parser.add_argument("--list-all", action="store_true", help="list every record, reviewed or not")
    parser.set_defaults(
        run=lambda args: review(
            args.config_file, accept=args.accept, reject=args.reject, accept_all=args.all, show_all=args.list_all
        )
    )


def _register_apply(commands: Any) -> None:
    """Write the lock file's docstrings into the Python source.

    Insert the lock file's docstrings into the source files as plain docstrings (formatting kept), or write
    them as a unified patch. Objects whose code changed since the docstring was written are skipped.

    Examples:
        mkdocs-ai-docstrings apply --accepted-only
        mkdocs-ai-docstrings apply src/mypkg/api.py 'mypkg.core.*' --diff ai-docstrings.patch
    """
    parser = _subcommand(commands, "apply", _register_apply)
    add_config_file(parser)
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files, folders or dotted-path globs (default: all)")
    parser.add_argument("--accepted-only", action="store_true", help="only records a maintainer accepted or edited")
    parser.add_argument("--diff", metavar="FILE", default=None, help="write a unified patch instead ('-': stdout)")

    def run(args: argparse.Namespace) -> int:
        from mkdocs_ai_docstrings._internal.apply import apply_command

        return apply_command(args.config_file, args.paths, accepted_only=args.accepted_only, diff_file=args.diff)

    parser.set_defaults(run=run)


def _register_cache(commands: Any) -> None:
    """Count, clear or invalidate the cached answers.

    Work on the answer cache named by the site's `cache_dir` option (relative to mkdocs.yml's folder),
    or on the folder given with --cache-dir.

    Examples:
        mkdocs-ai-docstrings cache stats
        mkdocs-ai-docstrings cache invalidate 'mypkg.api.*' -f docs/mkdocs.yml
        mkdocs-ai-docstrings cache clear --cache-dir .cache/ai-docstrings
    """
    parser = _subcommand(commands, "cache", _register_cache)
    parser.add_argument(
        "action", choices=["stats", "clear", "invalidate"], help="count the answers, remove all, or remove matching"
    )
    parser.add_argument("patterns", nargs="*", metavar="PATTERN", help="glob patterns on dotted paths (invalidate)")
    add_config_file(parser)
    parser.add_argument("--cache-dir", default=None, metavar="DIR", help="this cache folder instead of the site's")
    parser.add_argument(
        "--cache-url",
        default=None,
        metavar="URL",
        help="the shared Redis cache too (default: the site's cache_url, else $AI_DOCSTRINGS_CACHE_URL)",
    )
    parser.add_argument(
        "--namespace", default=None, help="its namespace (default: the site's cache_namespace, else the folder's name)"
    )

    def run(args: argparse.Namespace) -> int:
        if args.action == "invalidate" and not args.patterns:
            parser.error("invalidate needs at least one pattern")
        if args.cache_url is not None and redis_url_problem(args.cache_url) is not None:
            parser.error(
                "--cache-url must be a redis:// or rediss:// URL (the value is not shown: it may hold a password)"
            )
        if args.cache_dir:
            return cache_command(
                args.action, args.cache_dir, args.patterns, cache_url=args.cache_url, namespace=args.namespace
            )
        site = SiteConfig.load(args.config_file)
        return cache_command(
            args.action,
            site.cache_dir,
            args.patterns,
            cache_url=args.cache_url or site.settings.cache_url,
            namespace=args.namespace or site.settings.cache_namespace,
            config_dir=site.config_dir,
        )

    parser.set_defaults(run=run)


def _register_options(commands: Any) -> None:
    """Print every option with what it accepts, its default and its meaning.

    Print the options table (Markdown), written from the one declaration of the options.

    Examples:
        mkdocs-ai-docstrings options
        mkdocs-ai-docstrings options --write README.md
    """
    parser = _subcommand(commands, "options", _register_options)
    parser.add_argument("--write", metavar="FILE", default=None, help="replace the options table inside FILE")
    parser.set_defaults(run=lambda args: options_command(args.write))


def _register_batch(commands: Any) -> None:
    """Send the pending requests as one Batch API job at the batch price, then cache its answers.

    `submit` writes the request each pending object would send (same body, its cache key as `custom_id`) as
    JSONL, uploads it and starts a batch (Azure OpenAI Global Batch or OpenAI's Batch API); `status` shows its
    progress; `collect` checks each answer exactly like a live one and stores the sound ones in the cache, so
    the next build asks nothing for them. The state file beside mkdocs.yml holds the batch id (no secret).

    Examples:
        mkdocs-ai-docstrings batch submit --dry-run
        mkdocs-ai-docstrings batch submit -f docs/mkdocs.yml --deployment gpt-4o-mini-batch
        mkdocs-ai-docstrings batch status
        mkdocs-ai-docstrings batch collect
    """
    from mkdocs_ai_docstrings._internal.batch import add_batch_actions

    add_batch_actions(_subcommand(commands, "batch", _register_batch), add_config_file)


REGISTRARS: list[Callable[[Any], None]] = [
    _register_plan,
    _register_review,
    _register_apply,
    _register_cache,
    _register_options,
    _register_batch,
]
"""One function per subcommand (or group): each adds its parser to the subcommands and sets `run`."""


def _version() -> str:
    try:
        return version("mkdocs-ai-docstrings")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The `mkdocs-ai-docstrings` parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="mkdocs-ai-docstrings",
        description="Plan, review, apply and cache the AI-written docstrings of an MkDocs site.",
        epilog="Run `mkdocs-ai-docstrings COMMAND --help` for the options and examples of a command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in REGISTRARS:
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `mkdocs-ai-docstrings`."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
