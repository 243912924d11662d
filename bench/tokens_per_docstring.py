"""Billed tokens per generated docstring: mkdocs-ai-docstrings versus a naive whole-module prompt.

Usage: `python bench/tokens_per_docstring.py [--package diskcache] [--concurrency 8]`

Both approaches run against the local Azure OpenAI emulator (`tests/emulator.py`), which bills `usage.total_tokens`
like Azure (cl100k counts of the messages plus the response schema). The package is a real one installed in the
venv, loaded with griffe; its docstrings are cleared in memory (the files are untouched) so every public object
needs one.

- product: a build session generates every candidate (priorities, context selection and truncation, schema, one
  targeted retry when needed); tokens/docstring = everything the emulator billed / docstrings generated.
- naive: one request per object, through the `openai` SDK, whose single user message holds an instruction and the
  whole source file of the object's module, with the same JSON schema and output cap; no retry.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import griffe  # noqa: E402
import openai  # noqa: E402

from mkdocs_ai_docstrings._internal.discovery import Candidate, discover  # noqa: E402
from mkdocs_ai_docstrings._internal.facts import code_facts  # noqa: E402
from mkdocs_ai_docstrings._internal.generator import fill  # noqa: E402
from mkdocs_ai_docstrings._internal.schema import answer_schema  # noqa: E402
from mkdocs_ai_docstrings._internal.session import BuildSession  # noqa: E402
from mkdocs_ai_docstrings._internal.settings import DEFAULT_API_VERSION, Settings  # noqa: E402
from tests.emulator import AzureEmulator  # noqa: E402

API_KEY = "test-key"
DEPLOYMENT = "gpt-4o-mini"


def load_undocumented(name: str) -> griffe.Module:
    """Load an installed package; clear the docstrings of its modules, classes, functions, properties (in memory)."""
    package = griffe.load(name, docstring_parser=griffe.Parser.google)
    assert isinstance(package, griffe.Module)

    def clear(obj: griffe.Object) -> None:
        if obj.is_module or obj.is_class or obj.is_function or "property" in obj.labels:
            obj.docstring = None
        for member in obj.members.values():
            if not member.is_alias and member.parent is obj:
                clear(member)

    clear(package)
    return package


def run_product(emu: AzureEmulator, package: griffe.Module, settings: Settings) -> tuple[list[Candidate], int, int]:
    """Generate every candidate; return the candidates, the docstrings generated, and the tokens billed."""
    session = BuildSession(settings, environ={"AZURE_OPENAI_ENDPOINT": emu.url, "AZURE_OPENAI_API_KEY": API_KEY})
    candidates = discover(package, settings)
    before = emu.billed_total_tokens
    fill(session, package, candidates)
    report = session.finish()
    return candidates, report.counts()["generated"], emu.billed_total_tokens - before


def module_source(obj: griffe.Object) -> str:
    """The whole source file of the module holding `obj`."""
    module = obj if obj.is_module else obj.module
    filepath = module.filepath
    path = filepath[0] if isinstance(filepath, list) else filepath
    return Path(path).read_text(encoding="utf-8")


async def run_naive(emu: AzureEmulator, candidates: list[Candidate], settings: Settings) -> tuple[int, int]:
    """One whole-module request per candidate; return the answers received and the tokens billed."""
    client = openai.AsyncAzureOpenAI(
        azure_endpoint=emu.url, api_key=API_KEY, api_version=DEFAULT_API_VERSION, max_retries=0
    )
    gate = asyncio.Semaphore(settings.concurrency)
    answered = 0
    before = emu.billed_total_tokens

    async def ask(candidate: Candidate) -> None:
        nonlocal answered
        prompt = (
            f"Write the Google-style docstring of the {candidate.kind} `{candidate.path}` defined in this module, "
            f"as JSON following the schema.\n\n```python\n{module_source(candidate.obj)}\n```"
        )
        schema = answer_schema(code_facts(candidate.obj))
        async with gate:
            response = await client.chat.completions.create(
                model=DEPLOYMENT,
                messages=[{"role": "user", "content": prompt}],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "docstring", "strict": True, "schema": schema},
                },
                max_tokens=settings.max_completion_tokens,
                temperature=settings.temperature,
            )
        if response.choices and response.choices[0].message.content:
            answered += 1

    try:
        await asyncio.gather(*(ask(candidate) for candidate in candidates))
    finally:
        await client.close()
    return answered, emu.billed_total_tokens - before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--package", default="diskcache", help="an installed pure-Python package")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-tokens-") as cache_dir, AzureEmulator(api_key=API_KEY) as emu:
        settings = Settings.from_options({"cache_dir": cache_dir, "concurrency": args.concurrency})
        candidates, generated, product_billed = run_product(emu, load_undocumented(args.package), settings)
        answered, naive_billed = asyncio.run(run_naive(emu, candidates, settings))

    product = product_billed / generated if generated else float("nan")
    naive = naive_billed / answered if answered else float("nan")
    print(f"package                  {args.package}")
    print(
        f"objects                  {len(candidates)} ({generated} generated by the product, {answered} naive answers)"
    )
    print(f"product tokens/docstring {product:,.0f}  ({product_billed:,} billed)")
    print(f"naive tokens/docstring   {naive:,.0f}  ({naive_billed:,} billed)")
    print(f"ratio naive/product      {naive / product:.2f}")
    print(f"elapsed                  {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
