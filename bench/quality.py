"""Quality of AI docstrings without human labels: hide a real module's docstrings, regenerate them, compare.

Usage (a local OpenAI-compatible server, e.g. ../shared/tools/real-model-server.sh; never in CI):

    python bench/quality.py --module textwrap --module difflib --limit 20 \\
        --base-url http://127.0.0.1:8768/v1 --model qwen2.5-coder-1.5b-instruct

Each module (installed in this environment: the standard library or a dependency) is copied into a scratch
package with every docstring removed (`ast`; relative imports made absolute so the copy imports like the
original). The first `--limit` undocumented public objects (by path, taken in turn from each module) are
generated twice, on the same objects:

- product: a build session of mkdocs-ai-docstrings (`provider: openai`: schema, grounding, prose checks,
  examples checked and run, one targeted retry);
- naive: one plain chat request per object asking for a Google-style docstring with an example, given the
  object's source; no schema, no checks, no retry.

Both results are parsed with griffe's Google parser and measured the same way: examples re-checked
independently (static check, then a run in an isolated process), summaries holding the dotted path,
parameter defaults misstated, return texts contradicting the annotation, summaries restating the name,
coverage of the parameters, agreement with the human Returns and Raises sections, summary length against
the human one, and billed tokens per published docstring. One line per figure: `figure: product | naive`.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import html
import importlib.util
import inspect
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import griffe  # noqa: E402
import openai  # noqa: E402

from mkdocs_ai_docstrings._internal.checks import is_restatement, prose_problems  # noqa: E402
from mkdocs_ai_docstrings._internal.discovery import Candidate, discover  # noqa: E402
from mkdocs_ai_docstrings._internal.examples import (  # noqa: E402
    ExampleRunner,
    example_code,
    package_search_paths,
    static_problems,
)
from mkdocs_ai_docstrings._internal.facts import code_facts  # noqa: E402
from mkdocs_ai_docstrings._internal.generator import fill  # noqa: E402
from mkdocs_ai_docstrings._internal.mark import SUMMARY_MARK  # noqa: E402
from mkdocs_ai_docstrings._internal.session import BuildSession  # noqa: E402
from mkdocs_ai_docstrings._internal.settings import Settings  # noqa: E402

PACKAGE = "benchpkg"
_FENCE = re.compile(r"```(?:python|py|pycon)?\n(.*?)```", re.DOTALL)


# Copy without docstrings -------------------------------------------------------------------------------------------


class _Strip(ast.NodeTransformer):
    """Remove docstrings; turn relative imports into absolute ones of the original package."""

    def __init__(self, package: str) -> None:
        self.package = package

    def _body(self, node: Any) -> Any:
        self.generic_visit(node)
        body = node.body
        first = body[0] if body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            body = body[1:]
        node.body = body or [ast.Pass()]
        return node

    visit_Module = visit_ClassDef = visit_FunctionDef = visit_AsyncFunctionDef = _body

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.ImportFrom:
        if node.level:
            parts = self.package.split(".")
            base = parts[: len(parts) - node.level + 1]
            node.module = ".".join([*base, *([node.module] if node.module else [])])
            node.level = 0
        return node


def copy_without_docstrings(module: str, target: Path) -> str:
    """Write `module`'s source, stripped, as `benchpkg/<name>.py` under `target`; return the copy's module name."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, f"module {module} not found"
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    package = module if spec.submodule_search_locations else module.rpartition(".")[0]
    tree = ast.fix_missing_locations(_Strip(package or module).visit(tree))
    name = module.replace(".", "_")
    folder = target / PACKAGE
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").write_text("", encoding="utf-8")
    (folder / f"{name}.py").write_text(ast.unparse(tree) + "\n", encoding="utf-8")
    return name


# Measuring one docstring -------------------------------------------------------------------------------------------


@dataclass
class Measure:
    """Figures of one approach over the same objects."""

    objects: int = 0
    filled: int = 0
    tokens: int = 0
    examples: int = 0
    examples_bad: int = 0
    summary_paths: int = 0
    restatements: int = 0
    wrong_defaults: int = 0
    return_contradictions: int = 0
    parameters: int = 0
    parameters_covered: int = 0
    returns_compared: int = 0
    returns_agree: int = 0
    raises_compared: int = 0
    raises_agree: int = 0
    summary_words: list[int] = field(default_factory=list)
    human_summary_words: list[int] = field(default_factory=list)
    log: list[str] | None = None
    """With `--dump`: what was found wrong, for the dump file."""


def parse(text: str, obj: griffe.Object) -> dict[str, Any]:
    """A docstring read back into answer-like fields (summary, description, parameters, returns, raises, examples)."""
    sections = griffe.Docstring(text, parent=obj, parser=griffe.Parser.google).parse(warnings=False)
    answer: dict[str, Any] = {"summary": "", "description": "", "parameters": [], "raises": [], "examples": []}
    texts = []
    for section in sections:
        kind = section.kind
        if kind is griffe.DocstringSectionKind.text:
            texts.append(str(section.value))
        elif kind is griffe.DocstringSectionKind.parameters:
            answer["parameters"] += [{"name": p.name, "description": p.description} for p in section.value]
        elif kind is griffe.DocstringSectionKind.returns:
            answer["returns"] = {"description": " ".join(r.description for r in section.value)}
        elif kind is griffe.DocstringSectionKind.raises:
            answer["raises"] += [{"exception": str(r.annotation), "description": r.description} for r in section.value]
        elif kind is griffe.DocstringSectionKind.examples:
            answer["examples"].append("\n".join(str(value) for _, value in section.value))
    prose = "\n\n".join(texts)
    for code in _FENCE.findall(prose):  # examples written in prose rather than in an Examples section
        answer["examples"].append(code)
    prose = _FENCE.sub("", prose).strip()
    first, _, rest = prose.partition("\n\n")
    answer["summary"], answer["description"] = " ".join(first.split()), rest.strip()
    answer["examples"] = [code for code in (_example_text(e) for e in answer["examples"]) if code.strip()]
    return answer


def _example_text(text: str) -> str:
    found = _FENCE.findall(text)
    return "\n".join(found) if found else text


async def measure(
    measure_: Measure,
    text: str | None,
    obj: griffe.Object,
    human: griffe.Object | None,
    package: griffe.Module,
    runner: ExampleRunner,
    path: str,
) -> None:
    """Add one object's docstring (`None`: not filled) to the figures."""
    measure_.objects += 1
    facts = code_facts(obj)
    measure_.parameters += len(facts.parameters)  # over every object: an unfilled one documents none
    if not text or not text.strip():
        return
    measure_.filled += 1
    # Measured as the reader sees it: sanitization writes `[` as `&#91;` (no accidental cross-reference).
    answer = parse(html.unescape(text.replace(SUMMARY_MARK, "")), obj)
    for code in answer["examples"]:
        measure_.examples += 1
        parsed = example_code(code)
        problems = static_problems(parsed, obj, package) or [p for p in [await runner.run(parsed)] if p]
        measure_.examples_bad += bool(problems)
        if problems and measure_.log is not None:
            measure_.log.append(f"  example problem: {problems[0].kind}: {problems[0].detail}")
    kinds = [p.kind for p in prose_problems(answer, obj, paths=(path,))]
    if measure_.log is not None and kinds:
        measure_.log.append(f"  prose problems: {', '.join(kinds)}")
    measure_.summary_paths += "summary_path" in kinds
    measure_.wrong_defaults += kinds.count("wrong_default")
    measure_.return_contradictions += "return_contradiction" in kinds
    measure_.restatements += "summary_restates_name" in kinds or is_restatement(
        answer["summary"], obj.name, facts.parameters
    )
    documented = {str(p["name"]).lstrip("*") for p in answer["parameters"] if str(p.get("description", "")).strip()}
    measure_.parameters_covered += sum(name.lstrip("*") in documented for name in facts.parameters)
    measure_.summary_words.append(len(answer["summary"].split()))
    if human is None or not human.docstring:
        return
    human_answer = parse(human.docstring.value, human)
    measure_.human_summary_words.append(len(human_answer["summary"].split()))
    human_sections = {s.kind for s in human.docstring.parse(warnings=False)}
    if griffe.DocstringSectionKind.returns in human_sections and facts.returns_value:
        measure_.returns_compared += 1
        measure_.returns_agree += "returns" in answer
    human_raises = {r["exception"].rsplit(".", 1)[-1] for r in human_answer["raises"]}
    if human_raises:
        measure_.raises_compared += 1
        measure_.raises_agree += {r["exception"].rsplit(".", 1)[-1] for r in answer["raises"]} <= human_raises | set(
            facts.raises
        )


# The two approaches ------------------------------------------------------------------------------------------------


def _tally_requests(breakdown: dict[str, list[int]]) -> None:
    """Count the product's billed tokens by request kind (docstring or example, first or repair) into `breakdown`."""
    from mkdocs_ai_docstrings._internal import call  # example_call imports `ask` from here when it runs

    original = call.ask

    async def ask(context: Any, messages: list[dict[str, str]], request: Any, usage: dict[str, int], *more: Any) -> Any:
        kind = "example" if request.schema is None else "docstring"  # the example request asks for plain text
        repair = len(messages) > len(request.messages) or "This example fails:" in messages[-1]["content"]
        kind += " repair" if repair else ""
        before = usage["prompt_tokens"], usage["completion_tokens"]
        try:
            return await original(context, messages, request, usage, *more)
        finally:
            row = breakdown.setdefault(kind, [0, 0, 0])
            row[0] += 1
            row[1] += usage["prompt_tokens"] - before[0]
            row[2] += usage["completion_tokens"] - before[1]

    call.ask = ask


def product(package: griffe.Module, candidates: Sequence[Candidate], args: argparse.Namespace, cache: Path) -> int:
    """Generate with mkdocs-ai-docstrings; return the billed tokens (the docstrings are attached to the objects).

    The billed tokens by request kind are printed to stderr.
    """
    breakdown: dict[str, list[int]] = {}
    _tally_requests(breakdown)
    settings = Settings.from_options(
        {
            "provider": "openai",
            "deployment": args.model,
            "cache_dir": str(cache),
            "concurrency": args.concurrency,
            "request_timeout": args.timeout,
            "max_attempts": 2,
            **({"call_log": str(args.call_log), "call_log_prompts": True} if args.call_log else {}),
        }
    )
    session = BuildSession(settings, environ={"OPENAI_BASE_URL": args.base_url, "OPENAI_API_KEY": args.api_key})
    fill(session, package, candidates)
    report = session.finish()
    print(f"# product summary: {report.summary()}", file=sys.stderr)
    for kind, (requests, prompt, completion) in sorted(breakdown.items()):
        print(
            f"# product tokens, {kind}: {requests} requests, prompt {prompt}, completion {completion}", file=sys.stderr
        )
    for outcome in report.outcomes.values():
        if outcome.status != "generated" or outcome.repairs:
            repairs = "; ".join(outcome.repairs)[:600]
            print(f"# product {outcome.path}: {outcome.status} {outcome.reason or ''} [{repairs}]", file=sys.stderr)
    return sum(outcome.total_tokens for outcome in report.outcomes.values())


async def naive(candidates: Sequence[Candidate], args: argparse.Namespace) -> tuple[dict[str, str], int]:
    """One plain request per object; return the docstrings by path and the billed tokens."""
    client = openai.AsyncOpenAI(base_url=args.base_url, api_key=args.api_key, timeout=args.timeout, max_retries=1)
    gate = asyncio.Semaphore(args.concurrency)
    texts: dict[str, str] = {}
    tokens = 0

    async def one(candidate: Candidate) -> None:
        nonlocal tokens
        try:
            source = candidate.obj.source
        except (OSError, ValueError, TypeError):
            source = ""
        prompt = (
            f"Write a Google-style docstring for the Python {candidate.kind} `{candidate.path}`, with an Examples "
            f"section. Answer with the docstring text only.\n\n```python\n{source}\n```"
        )
        async with gate:
            try:
                response = await client.chat.completions.create(
                    model=args.model, messages=[{"role": "user", "content": prompt}], max_tokens=700, temperature=0
                )
            except openai.OpenAIError as error:
                print(f"# naive: {candidate.path}: {type(error).__name__}", file=sys.stderr)
                return
        if response.usage is not None:
            tokens += response.usage.total_tokens
        text = (response.choices[0].message.content or "").strip()
        text = re.sub(r'^(?:```\w*\n)?\s*(?:r?"""|\'\'\')?', "", text)
        text = re.sub(r'(?:"""|\'\'\')?\s*(?:```)?\s*$', "", text)
        texts[candidate.path] = inspect.cleandoc(text)

    await asyncio.gather(*(one(candidate) for candidate in candidates))
    await client.close()
    return texts, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", required=True, help="installed module to document (repeatable)")
    parser.add_argument("--limit", type=int, default=20, help="objects generated (the first by path)")
    parser.add_argument("--base-url", default=os.environ.get("OPENAI_BASE_URL", "http://127.0.0.1:8768/v1"))
    parser.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY", "local"))
    parser.add_argument("--dump", type=Path, help="write every docstring of both approaches to this file")
    parser.add_argument(
        "--naive-cache", type=Path, help="JSON file keeping the baseline's answers: reused when the objects match"
    )
    parser.add_argument("--call-log", type=Path, help="write the product's call log here, prompts and answers included")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="quality-bench-") as scratch:
        root = Path(scratch)
        names = {copy_without_docstrings(module, root / "src"): module for module in args.module}
        loads = [griffe.load(PACKAGE, search_paths=[str(root / "src")]) for _ in range(2)]
        settings = Settings.from_options({"include_modules": False})
        chosen = _spread(sorted(discover(loads[0], settings), key=lambda c: c.path), args.limit)
        paths = [candidate.path for candidate in chosen]
        print(f"# {len(chosen)} objects of {', '.join(args.module)}", file=sys.stderr)
        humans = {name: griffe.load(module, docstring_parser=griffe.Parser.google) for name, module in names.items()}

        started = time.monotonic()
        product_tokens = product(loads[0], chosen, args, root / "cache")
        product_time = time.monotonic() - started
        naive_candidates = [c for c in discover(loads[1], settings) if c.path in paths]
        saved = _load_naive(args.naive_cache, paths)
        started = time.monotonic()
        if saved is not None:  # the baseline does not depend on the product: reuse its earlier answers
            naive_texts, naive_tokens, naive_time = saved
        else:
            naive_texts, naive_tokens = asyncio.run(naive(naive_candidates, args))
            naive_time = time.monotonic() - started
            if args.naive_cache:
                args.naive_cache.write_text(
                    json.dumps({"paths": paths, "texts": naive_texts, "tokens": naive_tokens, "time": naive_time}),
                    encoding="utf-8",
                )

        async def figures() -> tuple[Measure, Measure]:
            runner = ExampleRunner(package_search_paths(loads[0]), timeout=10)
            dump = [] if args.dump else None
            ours, theirs = Measure(log=dump), Measure(log=dump)
            for path in paths:
                module_name, _, rest = path.removeprefix(PACKAGE + ".").partition(".")
                human_module = humans[module_name]
                try:
                    human = human_module[rest] if rest else human_module
                except KeyError:
                    human = None
                mine = loads[0][path.removeprefix(PACKAGE + ".")]
                other = loads[1][path.removeprefix(PACKAGE + ".")]
                mine_text = mine.docstring.value if mine.docstring else None
                if dump is not None:
                    dump.append(f"=== {path}\n--- product\n{mine_text}")
                await measure(ours, mine_text, mine, human, loads[0], runner, path)
                if dump is not None:
                    dump.append(f"--- naive\n{naive_texts.get(path)}")
                await measure(theirs, naive_texts.get(path), other, human, loads[1], runner, path)
            if dump is not None:
                args.dump.write_text("\n".join(dump) + "\n", encoding="utf-8")
            return ours, theirs

        ours, theirs = asyncio.run(figures())
    ours.tokens, theirs.tokens = product_tokens, naive_tokens
    report(ours, theirs, product_time, naive_time)


def _load_naive(file: Path | None, paths: Sequence[str]) -> tuple[dict[str, str], int, float] | None:
    """The baseline's answers saved by an earlier run on the same objects, or `None`."""
    if file is None or not file.is_file():
        return None
    data = json.loads(file.read_text(encoding="utf-8"))
    if data.get("paths") != list(paths):
        return None
    print(f"# naive: reused {file}", file=sys.stderr)
    return data["texts"], data["tokens"], data["time"]


def _spread(candidates: Sequence[Candidate], limit: int) -> list[Candidate]:
    """The first `limit` candidates taken in turn from each module (by path within a module)."""
    queues: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        queues.setdefault(candidate.obj.module.path, []).append(candidate)
    chosen: list[Candidate] = []
    while len(chosen) < limit and any(queues.values()):
        for queue in queues.values():
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return chosen


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.0%})" if whole else "n/a"


def _mean(values: Sequence[int]) -> str:
    return f"{sum(values) / len(values):.1f}" if values else "n/a"


def report(ours: Measure, theirs: Measure, product_time: float, naive_time: float) -> None:
    """Print one line per figure: `figure: product | naive`."""
    rows = [
        ("objects", str(ours.objects), str(theirs.objects)),
        ("filled", _share(ours.filled, ours.objects), _share(theirs.filled, theirs.objects)),
        (
            "examples that run and use their object",
            f"{ours.examples - ours.examples_bad} of {ours.examples} published",
            f"{theirs.examples - theirs.examples_bad} of {theirs.examples} published",
        ),
        (
            "examples failing or not using their object (target 0)",
            str(ours.examples_bad),
            str(theirs.examples_bad),
        ),
        ("summaries containing the dotted path (target 0)", str(ours.summary_paths), str(theirs.summary_paths)),
        ("parameter defaults misstated (target 0)", str(ours.wrong_defaults), str(theirs.wrong_defaults)),
        ("returns contradicting the annotation", str(ours.return_contradictions), str(theirs.return_contradictions)),
        ("summaries restating the name", str(ours.restatements), str(theirs.restatements)),
        (
            "parameters documented",
            _share(ours.parameters_covered, ours.parameters),
            _share(theirs.parameters_covered, theirs.parameters),
        ),
        (
            "returns present where the human docstring has them",
            _share(ours.returns_agree, ours.returns_compared),
            _share(theirs.returns_agree, theirs.returns_compared),
        ),
        (
            "raises within the human Raises sections (or the code's)",
            _share(ours.raises_agree, ours.raises_compared),
            _share(theirs.raises_agree, theirs.raises_compared),
        ),
        (
            "summary words (human mean " + _mean(ours.human_summary_words) + ")",
            _mean(ours.summary_words),
            _mean(theirs.summary_words),
        ),
        (
            "billed tokens per published docstring",
            f"{ours.tokens / ours.filled:.0f}" if ours.filled else "n/a",
            f"{theirs.tokens / theirs.filled:.0f}" if theirs.filled else "n/a",
        ),
        ("wall time (s)", f"{product_time:.0f}", f"{naive_time:.0f}"),
    ]
    for name, mine, other in rows:
        print(f"{name}: {mine} | {other}")


if __name__ == "__main__":
    main()
