"""The example request of one job: asked after its docstring was accepted, checked, repaired once, else dropped.

A small model writes far better examples when that is its only task, and a failing example then costs a
repair of the example alone (a few hundred tokens), not of the whole docstring. The request shows the
signature, the accepted summary and parameter texts, the source when it is short, and the exact import line
the example must start with. Nothing fails the docstring here: an example that cannot be had is left out.

The answer is plain text, a fenced code block, not a JSON string: code escaped into JSON is worse code, and a
server enforcing a JSON grammar ends the string at the first unescaped double quote the model writes inside
it (`'{"a": 1}'`), which cut every example of a JSON module a small model wrote.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import sys
from typing import Any

from mkdocs_ai_docstrings._internal.client import CallFailure, parse_content
from mkdocs_ai_docstrings._internal.examples import check_example, undefined_names
from mkdocs_ai_docstrings._internal.facts import worth_an_example
from mkdocs_ai_docstrings._internal.grounding import Attempt, example_runner
from mkdocs_ai_docstrings._internal.jobs import Job, PackageContext
from mkdocs_ai_docstrings._internal.prompts import annotation_imports, example_import, example_messages
from mkdocs_ai_docstrings._internal.request import PreparedRequest
from mkdocs_ai_docstrings._internal.sanitize import sanitize_code
from mkdocs_ai_docstrings._internal.schema import EXAMPLE_KINDS, TEXT_MODE
from mkdocs_ai_docstrings._internal.secrets import scrub


def wants_example(context: PackageContext, job: Job) -> bool:
    """Whether `job`'s docstring gets an example: functions, methods and classes, with `examples` on, not in
    improve mode, and only where an example can be worth its request (`worth_an_example`)."""
    return (
        context.settings.examples
        and job.facts.kind in EXAMPLE_KINDS
        and not job.candidate.improve
        and worth_an_example(job.candidate.obj)
    )


async def add_example(
    context: PackageContext,
    job: Job,
    request: PreparedRequest,
    answer: dict[str, Any],
    attempt: Attempt,
    usage: dict[str, int],
) -> dict[str, Any]:
    """`answer` with a checked example under `examples` (an empty one when none passed); counts in `attempt`."""
    from mkdocs_ai_docstrings._internal.call import ask  # call imports this module

    if not wants_example(context, job):
        return answer
    session, obj = context.session, job.candidate.obj
    secrets = session.secrets
    messages = example_messages(obj, context.package.path, str(answer.get("summary") or ""), _parameters(answer))
    messages = [{**m, "content": context.redacted(m["content"]).text} for m in messages]
    small = dataclasses.replace(request, messages=messages, schema=None, mode=TEXT_MODE)
    first = example_import(obj)
    examples, repairs = attempt.examples, attempt.repairs
    conversation = list(messages)
    problem = ""
    for round_ in range(2):
        try:
            response = await ask(context, conversation, small, usage)
        except CallFailure as error:
            repairs.append(f"no example: {error.kind.replace('_', ' ')}")
            break
        code = example_of(response.content or "", cut=response.finish_reason == "length")
        if not code.strip():
            break  # no example offered: nothing to check or drop
        code = with_imports(escaped_newlines(code), first, annotation_imports(obj, context.package.path))
        examples.checked += 1
        problems, ran = await check_example(code, obj, context.package, example_runner(context))
        examples.run += ran
        if not problems:
            examples.passed += 1
            examples.repaired += round_
            return {**answer, "examples": code}
        problem = scrub(problems[0].detail, secrets)
        if round_:
            break
        repairs.append(f"example repaired: {problem}")
        brief = example_messages(obj, context.package.path, "", brief=True)
        brief = [{**m, "content": context.redacted(m["content"]).text} for m in brief]
        conversation = repair_messages(brief, code, problem)
    if problem:
        examples.dropped += 1
        repairs.append(f"example dropped: {problem}")
    return {**answer, "examples": ""}


_NOT_IMPORTED = frozenset({"this", "antigravity", "__future__"})
"""Standard library modules never imported for an example that reads their name (importing them does something)."""


def with_imports(code: str, first: str, types: dict[str, str]) -> str:
    """`code` with the import lines it was told to use added where missing (not paid a repair for): the line
    importing the target, the line of each annotation type (`Path`) it uses without binding it, and `import
    json` for a standard library module it uses by name without importing it (a small model often does)."""
    lines = code.splitlines()
    undefined = undefined_names(code)
    added = [line for name, line in types.items() if line not in lines and name in undefined]
    added += [
        f"import {name}"
        for name in undefined
        if name in sys.stdlib_module_names and name not in _NOT_IMPORTED and name not in types
    ]
    if first not in lines:
        added.insert(0, first)
    return "\n".join([*added, code]) if added else code


def escaped_newlines(code: str, *, limit: int = 4) -> str:
    """`code` with a line break inside a one-line string literal written back as the `\\n` escape it was.

    A model writing Python inside a JSON string often writes `"\\n"` for the escape `\\n` of a Python string
    (`'{"a": 1}\\n'`): decoded, that is a real line break, and the example no longer parses. The code is only
    rewritten where that makes it parse; it is then checked and run like any other example.
    """
    fixed = code
    for _ in range(limit):
        try:
            ast.parse(fixed)
        except SyntaxError as error:
            if not (error.msg or "").startswith("unterminated string literal") or not error.lineno:
                return code
            lines = fixed.split("\n")
            if error.lineno >= len(lines):
                return code
            index = error.lineno - 1
            lines[index : index + 2] = [lines[index] + "\\n" + lines[index + 1]]
            fixed = "\n".join(lines)
        else:
            return fixed
    return code


def repair_messages(brief: list[dict[str, str]], code: str, problem: str) -> list[dict[str, str]]:
    """The repair of a failing example: the `brief` request (signatures and import lines), the failing code and
    its error. Not the first conversation again: summary, parameter texts and source are not resent."""
    fence = "```"
    *head, user = brief
    return [
        *head,
        {
            "role": "user",
            "content": f"{user['content']}\n\nThis example fails:\n{fence}python\n{code}\n{fence}\n"
            f"Error: {problem}\nAnswer again with the corrected example in one {fence}python code block.",
        },
    ]


_FENCED = re.compile(
    r"^[ \t]*```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)^[ \t]*```[ \t]*$", re.DOTALL | re.MULTILINE | re.IGNORECASE
)


def example_of(content: str, *, cut: bool = False) -> str:
    """The example code in an answer: its first fenced code block, else a JSON `{"example": ...}` object (what a
    server forcing JSON may send), else the whole answer when it is Python code. `cut` (the answer hit
    `max_completion_tokens`): only a code block whose closing fence arrived."""
    fenced = _FENCED.search(content)
    if fenced:
        return sanitize_code(fenced.group(1))
    if cut:
        return ""
    text = content.strip()
    try:
        value = parse_content(text)
    except (ValueError, TypeError):
        value = None
    else:
        return sanitize_code(str(value.get("example") or "")) if isinstance(value, dict) else ""
    if "(" not in text or text.startswith("`"):
        return ""  # no call, so no example of anything
    try:
        ast.parse(text)
    except SyntaxError:
        return ""  # prose, or no example offered
    return sanitize_code(text)


def _parameters(answer: dict[str, Any]) -> str:
    """The accepted parameter texts, one line each, their first sentence only (what the types are)."""
    items = answer.get("parameters") or []
    return "\n".join(
        f"- {item.get('name')}: {_SENTENCE_END.split(str(item.get('description') or ''), maxsplit=1)[0]}"
        for item in items
        if isinstance(item, dict)
    )


_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
