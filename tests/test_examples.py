"""Specification of example checks: nothing is published that fails statically or when run, in an isolated process."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import griffe
import pytest

from mkdocs_ai_docstrings._internal.discovery import discover
from mkdocs_ai_docstrings._internal.example_call import (
    escaped_newlines,
    example_of,
    repair_messages,
    with_imports,
    worth_an_example,
)
from mkdocs_ai_docstrings._internal.examples import example_code, static_problems
from mkdocs_ai_docstrings._internal.generator import fill
from mkdocs_ai_docstrings._internal.mark import SUMMARY_MARK
from mkdocs_ai_docstrings._internal.prompts import (
    ContextInputs,
    annotation_imports,
    build_sections,
    example_messages,
)
from mkdocs_ai_docstrings._internal.report import BuildReport, ObjectOutcome
from mkdocs_ai_docstrings._internal.session import BuildSession
from mkdocs_ai_docstrings._internal.settings import Settings
from tests.emulator import AzureEmulator, fenced, is_example_request, request_schema, synthesize

API_KEY = "sk-example-0123456789abcdef0123456789abcdef"
TARGET = "pkg.core.add"
SOURCE = {
    "__init__.py": '"""A package to document."""\n',
    "core.py": textwrap.dedent(
        '''\
        """Core helpers."""

        from collections.abc import Sequence
        from pathlib import Path

        def add(first: int, second: int = 2) -> int:
            return first + second


        class Counter:
            """Count things."""

            def __init__(self, start: int = 0) -> None:
                """Start at `start`."""
                self.value = start

            def bump(self, step: int = 1) -> int:
                """Add `step` to the count and return the new count."""
                self.value += step
                return self.value


        def pack(words, sep=b","):
            """Join byte strings with `sep`."""
            return sep.join(words)


        def stem(path: Path, suffixes: Sequence[str] = ()) -> str:
            """The name of `path` without its suffix."""
            return path.stem
        '''
    ),
}
GOOD = "from pkg.core import add\n\ntotal = add(1, 2)\nprint(total)"


@pytest.fixture(scope="module")
def source_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("src")
    for name, text in SOURCE.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def load(source_dir: Path) -> Callable[[], griffe.Module]:
    return lambda: griffe.load("pkg", search_paths=[str(source_dir)])


@pytest.fixture(scope="module")
def package(source_dir: Path) -> griffe.Module:
    return griffe.load("pkg", search_paths=[str(source_dir)])


def answering(*examples: str, broken_retry: bool = False) -> Callable[[dict], dict | str]:
    """An answer callable: a grounded docstring, then `examples[0]` for the example request and `examples[1]` for
    its repair."""

    def answer(body: dict) -> dict | str:
        schema = request_schema(body)
        retry = "This example fails:" in body["messages"][-1]["content"]
        if is_example_request(body):
            if retry and broken_retry:
                return "not json"
            return fenced(examples[min(int(retry), len(examples) - 1)])
        value = synthesize(schema)
        value["summary"] = "Sum two integers."
        value["description"] = "The second one is optional."
        return value

    return answer


def build(pkg: griffe.Module, emu: AzureEmulator, cache: Path, **options: Any) -> BuildReport:
    settings = Settings.from_options({"cache_dir": str(cache), "request_timeout": 10.0, **options})
    session = BuildSession(settings, environ={"AZURE_OPENAI_ENDPOINT": emu.url, "AZURE_OPENAI_API_KEY": emu.api_key})
    fill(session, pkg, discover(pkg, settings))
    return session.finish()


def counts(outcome: ObjectOutcome) -> tuple[int, int, int, int, int]:
    return (
        outcome.examples_checked,
        outcome.examples_run,
        outcome.examples_passed,
        outcome.examples_repaired,
        outcome.examples_dropped,
    )


def published(pkg: griffe.Module) -> str:
    docstring = pkg["core.add"].docstring
    assert docstring is not None
    return docstring.value.removeprefix(SUMMARY_MARK)  # the summary-table marker is ours, not the model's


def retry_feedback(emu: AzureEmulator) -> str:
    """The feedback message of the last retry request."""
    return str(emu.requests[-1].body["messages"][-1]["content"])


# Static check ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        GOOD,
        "import pkg.core\n\npkg.core.add(1)",
        "import pkg.core as core\n\nprint(core.add(first=1, second=3))",
        ">>> from pkg.core import add\n>>> add(1, 2)\n3",
        # comprehension variables, walrus, for/with targets, functions and their parameters, global, del
        textwrap.dedent(
            """\
            from pkg.core import add
            totals = [add(i, j) for i in range(3) for j in range(i) if (last := j) >= 0]
            for index in range(2):
                pass
            with open("scratch.txt", "w") as handle:
                handle.write(str(totals))
            def twice(value, *rest, **options):
                global seen
                seen = [add(value, value) for _ in rest]
                return seen
            twice(index, last)
            print(seen)
            del index
            """
        ),
    ],
)
def test_the_static_check_accepts_examples_that_bind_every_name_and_use_the_object(
    package: griffe.Module, code: str
) -> None:
    assert static_problems(example_code(code), package["core.add"], package) == []


@pytest.mark.parametrize(
    ("code", "kind", "detail"),
    [
        ("from pkg.core import add\nadd(1, 2", "example_syntax", "not valid Python"),
        ("from pkg.core import add\nadd(first, 2)", "example_undefined_name", "`first`"),
        ("from pkg.core import add\nprint(add(value))\nvalue = 1", "example_undefined_name", "before it is defined"),
        ("print(pkg.core.add(1, 2))", "example_undefined_name", "`pkg`"),
        ("from pkg.core import plus\nplus(1, 2)", "example_import", "`pkg.core` has no member `plus`"),
        ("from pkg.helpers import add\nadd(1)", "example_import", "no module `pkg.helpers`"),
        ("import not_a_module_anywhere\nfrom pkg.core import add\nadd(1)", "example_import", "not installed"),
        ("from pkg.core import add\nadd(1, 2, 3)", "example_call", "at most 2 positional"),
        ("from pkg.core import add\nadd(second=2)", "example_call", "required argument(s) first"),
        ("from pkg.core import add\nadd(1, third=3)", "example_call", "no parameter 'third'"),
        ("from pkg.core import Counter\nCounter(1).value", "example_unused_object", "never uses `add`"),
        (
            "from pkg.core import add\nadd('1', 2)",
            "example_argument_type",
            "takes first: `int`, but the example passes a str",
        ),
        (
            "from pkg.core import add, pack\nadd(1)\npack([b'a'], ',')",
            "example_argument_type",
            "sep: bytes (its default",
        ),
        (
            "from pkg.core import Counter, add\nc = Counter()\nadd(c.bump([1]))",
            "example_argument_type",
            "passes a list",
        ),
        ("from pkg.core import Counter, add\nc = Counter()\nadd(c.reset())", "example_import", "no member `reset`"),
        (
            "import subprocess\nfrom pkg.core import add\nadd(1)\nsubprocess.run(['ls'])",
            "example_unsafe",
            "`subprocess`",
        ),
        ("from os import remove\nfrom pkg.core import add\nremove('x')\nadd(1)", "example_unsafe", "calls `os.remove`"),
        ("from pkg.core import add\nadd(eval('1'))", "example_unsafe", "calls `eval`"),
    ],
)
def test_the_static_check_rejects_broken_examples_with_a_message_for_the_model(
    package: griffe.Module, code: str, kind: str, detail: str
) -> None:
    problems = static_problems(example_code(code), package["core.add"], package)

    assert kind in {problem.kind for problem in problems}
    assert any(detail in problem.detail for problem in problems), problems


def test_a_method_is_used_when_an_instance_calls_it(package: griffe.Module) -> None:
    method = package["core.Counter.bump"]
    calls = "from pkg.core import Counter\ncounter = Counter()\nprint(counter.bump(2))"
    reads_other = "from pkg.core import Counter\ncounter = Counter()\nprint(counter.value)"

    assert static_problems(example_code(calls), method, package) == []
    assert [p.kind for p in static_problems(example_code(reads_other), method, package)] == ["example_unused_object"]


def test_an_instance_may_read_attributes_griffe_does_not_list_but_only_call_methods_its_class_has(
    package: griffe.Module,
) -> None:
    method = package["core.Counter.bump"]
    reads = "from pkg.core import Counter\ncounter = Counter(start=1)\ncounter.label = 'x'\nprint(counter.bump(), counter.label)"
    rebound = "from pkg.core import Counter\ncounter = Counter()\ncounter = 'text'\ncounter.bump()\ncounter.upper()"

    assert static_problems(example_code(reads), method, package) == []
    assert static_problems(example_code(rebound), method, package) == []  # not known to be an instance any more


# Pipeline: repair once, else drop --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ("from pkg.core import add\ntotal = add(first, 2)", "`first`, which it never defines or imports"),
        ("print(pkg.core.add(1, 2))", "`pkg`, which it never defines or imports"),
        ("import math\nprint(math.sqrt(4))", "never uses `add`"),
    ],
)
def test_an_example_that_fails_the_static_check_twice_is_dropped_and_the_rest_published(
    load: Callable[[], griffe.Module], tmp_path: Path, broken: str, reason: str
) -> None:
    pkg = load()
    with AzureEmulator(api_key=API_KEY, answer=answering(broken)) as emu:
        report = build(pkg, emu, tmp_path)
        feedback = retry_feedback(emu)
        requests = len(emu.requests)

    outcome = report.outcomes[TARGET]
    assert outcome.status == "generated"
    assert requests == 3  # the docstring, its example, one targeted repair of the example
    assert reason in feedback
    assert counts(outcome) == (2, 0, 0, 0, 1)
    assert any(repair.startswith("example dropped") and reason in repair for repair in outcome.repairs)
    text = published(pkg)
    assert text.startswith("Sum two integers.")
    assert "Examples" not in text
    assert "Examples: 2 checked, 0 run, 0 passed, 0 repaired, 1 dropped." in report.summary()


@pytest.mark.parametrize(
    ("broken", "error"),
    [
        ("from pkg.core import add\nadd(1, 2) / 0", "ZeroDivisionError"),
        (">>> from pkg.core import add\n>>> add(1, 2)\n4", "Expected:\n    4\nGot:\n    3"),
        (
            # a route the static screen does not list: the run's own socket block stops it
            "import xmlrpc.client\nfrom pkg.core import add\nxmlrpc.client.ServerProxy('http://127.0.0.1:9/').f()\nadd(1)",
            "network access is disabled",
        ),
        ("import os\nfrom pkg.core import add\nadd(len(os.environ['AZURE_OPENAI_API_KEY']))", "KeyError"),
    ],
)
def test_an_example_that_fails_when_run_gets_one_repair_with_the_error(
    load: Callable[[], griffe.Module], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: str, error: str
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)  # the build's own environment holds the key
    pkg = load()
    with AzureEmulator(api_key=API_KEY, answer=answering(broken, GOOD)) as emu:
        report = build(pkg, emu, tmp_path)
        feedback = retry_feedback(emu)

    outcome = report.outcomes[TARGET]
    assert error in feedback
    assert API_KEY not in feedback
    assert counts(outcome) == (2, 2, 1, 1, 0)
    text = published(pkg)
    assert "total = add(1, 2)" in text
    assert broken.splitlines()[-1] not in text


def test_an_endless_example_times_out_and_its_process_is_killed(
    load: Callable[[], griffe.Module], tmp_path: Path
) -> None:
    pkg = load()
    endless = "from pkg.core import add\nwhile True:\n    add(1)"
    with AzureEmulator(api_key=API_KEY, answer=answering(endless, GOOD)) as emu:
        report = build(pkg, emu, tmp_path, example_timeout=1.0)
        feedback = retry_feedback(emu)

    assert "did not finish within 1 s" in feedback
    assert counts(report.outcomes[TARGET]) == (2, 2, 1, 1, 0)
    assert "while True" not in published(pkg)


def test_the_example_runs_in_a_scratch_folder_not_the_build_s(
    load: Callable[[], griffe.Module], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    writes = "from pkg.core import add\nopen('left-behind.txt', 'w').write(str(add(1)))"
    with AzureEmulator(api_key=API_KEY, answer=answering(writes)) as emu:
        report = build(load(), emu, tmp_path / "cache")

    assert counts(report.outcomes[TARGET]) == (1, 1, 1, 0, 0)
    assert not (tmp_path / "left-behind.txt").exists()


def test_when_the_example_repair_is_unusable_the_docstring_is_published_without_an_example(
    load: Callable[[], griffe.Module], tmp_path: Path
) -> None:
    pkg = load()
    with AzureEmulator(api_key=API_KEY, answer=answering("add(missing)", broken_retry=True)) as emu:
        report = build(pkg, emu, tmp_path)

    outcome = report.outcomes[TARGET]
    assert outcome.status == "generated"
    assert counts(outcome) == (1, 0, 0, 0, 1)
    assert published(pkg).startswith("Sum two integers.")
    assert "Examples" not in published(pkg)


def test_a_cached_example_is_not_run_again(load: Callable[[], griffe.Module], tmp_path: Path) -> None:
    with AzureEmulator(api_key=API_KEY, answer=answering(GOOD)) as emu:
        first = build(load(), emu, tmp_path)
        pkg = load()
        second = build(pkg, emu, tmp_path)
        requests = len(emu.requests)

    assert counts(first.outcomes[TARGET]) == (1, 1, 1, 0, 0)
    assert requests == 2  # the docstring and its example, once
    assert second.outcomes[TARGET].status == "cached"
    assert counts(second.outcomes[TARGET]) == (0, 0, 0, 0, 0)
    assert "total = add(1, 2)" in published(pkg)


def test_without_execution_only_statically_checked_examples_are_published(
    load: Callable[[], griffe.Module], tmp_path: Path
) -> None:
    doctest_example = ">>> from pkg.core import add\n>>> add(1, 2)\n3"
    with AzureEmulator(api_key=API_KEY, answer=answering(GOOD)) as emu:
        plain = build(pkg := load(), emu, tmp_path / "plain", run_examples=False)
    assert counts(plain.outcomes[TARGET]) == (1, 0, 1, 0, 0)
    assert "total = add(1, 2)" in published(pkg)

    with AzureEmulator(api_key=API_KEY, answer=answering(doctest_example)) as emu:
        shown = build(pkg := load(), emu, tmp_path / "doctest", run_examples=False)
        feedback = retry_feedback(emu)
    assert "only a run can confirm" in feedback
    assert counts(shown.outcomes[TARGET]) == (2, 0, 0, 0, 1)
    assert ">>>" not in published(pkg)


def test_a_statically_checked_cached_example_is_not_published_once_execution_is_on(
    load: Callable[[], griffe.Module], tmp_path: Path
) -> None:
    with AzureEmulator(api_key=API_KEY, answer=answering(GOOD)) as emu:
        build(load(), emu, tmp_path, run_examples=False)
        pkg = load()
        report = build(pkg, emu, tmp_path)

    assert report.outcomes[TARGET].status == "cached"
    assert "Examples" not in published(pkg)


def test_the_example_request_tells_the_model_how_the_example_imports_the_target(package: griffe.Module) -> None:
    def prompt(path: str) -> str:
        return example_messages(package[path], "pkg", "Do it.")[-1]["content"]

    assert "starts with `from pkg.core import add` and calls `add`" in prompt("core.add")
    assert "starts with `from pkg.core import Counter`, makes an instance of `Counter` and calls `bump`" in prompt(
        "core.Counter.bump"
    )
    assert "imports it" not in build_sections(ContextInputs(package["core.add"], source=""))[0].text  # not twice


@pytest.mark.parametrize("run_examples", [True, False])
def test_a_hazardous_example_is_neither_run_nor_published(
    load: Callable[[], griffe.Module], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_examples: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    hostile = "import os\nfrom pkg.core import add\nos.system('touch pwned')\nprint(add(1))"
    pkg = load()
    with AzureEmulator(api_key=API_KEY, answer=answering(hostile)) as emu:
        report = build(pkg, emu, tmp_path / "cache", run_examples=run_examples)
        feedback = retry_feedback(emu)

    assert "calls `os.system`" in feedback
    assert counts(report.outcomes[TARGET]) == (2, 0, 0, 0, 1)
    assert report.outcomes[TARGET].status == "generated"
    assert "os.system" not in published(pkg)
    assert not any(tmp_path.rglob("pwned"))


def test_the_documented_package_is_never_hazardous_itself() -> None:
    with griffe.temporary_visited_package(
        "requests", {"__init__.py": "def get(url: str) -> str:\n    return url\n"}
    ) as pkg:
        code = example_code("import requests\nprint(requests.get('http://127.0.0.1/'))")

        assert static_problems(code, pkg["get"], pkg) == []


# The example request ---------------------------------------------------------------------------------------------


def test_the_example_has_a_small_request_of_its_own_after_the_docstring_was_accepted(
    load: Callable[[], griffe.Module], tmp_path: Path
) -> None:
    pkg = load()
    with AzureEmulator(api_key=API_KEY, answer=answering(GOOD)) as emu:
        report = build(pkg, emu, tmp_path)
        bodies = [request.body for request in emu.requests]

    docstring, example = bodies
    assert "examples" not in request_schema(docstring)["properties"]
    assert is_example_request(example)
    assert "response_format" not in example and "tools" not in example  # plain text: a fenced code block
    prompt = example["messages"][-1]["content"]
    assert "def add(first: int, second: int = 2) -> int" in prompt
    assert "Summary: Sum two integers." in prompt  # the accepted summary, for the example to agree with
    assert "starts with `from pkg.core import add`" in prompt
    assert len(str(example["messages"])) < len(str(docstring["messages"]))
    assert counts(report.outcomes[TARGET]) == (1, 1, 1, 0, 0)
    assert "total = add(1, 2)" in published(pkg)


def test_a_method_s_example_request_shows_its_class_and_asks_for_an_instance(
    load: Callable[[], griffe.Module], tmp_path: Path
) -> None:
    pkg = load()
    calls = "from pkg.core import Counter\ncounter = Counter(1)\nprint(counter.bump(2))"
    with AzureEmulator(api_key=API_KEY, answer=answering(calls)) as emu:
        settings = Settings.from_options({"cache_dir": str(tmp_path), "request_timeout": 10.0, "style_examples": 0})
        session = BuildSession(settings, environ={"AZURE_OPENAI_ENDPOINT": emu.url, "AZURE_OPENAI_API_KEY": API_KEY})
        method = pkg["core.Counter.bump"]
        method.docstring = None
        candidates = [c for c in discover(pkg, settings) if c.path == "pkg.core.Counter.bump"]
        fill(session, pkg, candidates)
        report = session.finish()
        prompt = emu.requests[-1].body["messages"][-1]["content"]

    assert "Its class Counter" in prompt
    assert "def __init__(self, start: int = 0)" in prompt
    assert "makes an instance of `Counter` and calls `bump` on it" in prompt
    assert counts(report.outcomes["pkg.core.Counter.bump"]) == (1, 1, 1, 0, 0)
    assert method.docstring is not None and "counter.bump(2)" in method.docstring.value


def test_with_examples_off_no_example_is_asked_for(load: Callable[[], griffe.Module], tmp_path: Path) -> None:
    pkg = load()
    with AzureEmulator(api_key=API_KEY, answer=answering(GOOD)) as emu:
        report = build(pkg, emu, tmp_path, examples=False)
        requests = len(emu.requests)

    assert requests == 1
    assert counts(report.outcomes[TARGET]) == (0, 0, 0, 0, 0)
    assert "Examples" not in published(pkg)


def test_an_example_without_the_import_line_it_was_told_to_start_with_gets_it_without_a_repair(
    load: Callable[[], griffe.Module], tmp_path: Path
) -> None:
    pkg = load()
    with AzureEmulator(api_key=API_KEY, answer=answering("total = add(1, 2)\nprint(total)")) as emu:
        report = build(pkg, emu, tmp_path)
        requests = len(emu.requests)

    assert requests == 2  # the docstring and its example: no repair
    assert counts(report.outcomes[TARGET]) == (1, 1, 1, 0, 0)
    assert "from pkg.core import add\n    total = add(1, 2)" in published(pkg)


def test_the_example_request_shows_the_source_only_of_what_takes_arguments() -> None:
    source = """\
class Color:
    def __init__(self, value: str):
        self.value = value

    def as_hex(self) -> str:
        return '#' + self.value

    def mix(self, other: str) -> str:
        return self.value + other

    @classmethod
    def parse(cls, text: str) -> 'Color':
        return cls(text)
"""
    with griffe.temporary_visited_module(source) as module:

        def prompt(path: str) -> str:
            return example_messages(module[path], "pkg", "Do it.")[-1]["content"]

        assert "## Source" not in prompt("Color.as_hex")  # `self` only: the signature and summary say it all
        assert "## Source" in prompt("Color.mix") and "return self.value + other" in prompt("Color.mix")
        assert "## Source" in prompt("Color.parse")  # `cls` is not counted, `text` is
        assert "def as_hex(self) -> str" in prompt("Color.as_hex")
        assert "## Signature" in prompt("Color.as_hex") and "## Signature" not in prompt("Color.mix")  # not twice


def test_a_nested_class_s_method_is_called_on_an_instance_of_that_class() -> None:
    source = """\
class Hook:
    class Context:
        def __init__(self, domain: str):
            self.domain = domain

        def as_dict(self) -> dict:
            return {"domain": self.domain}

    def run(self):
        pass
"""
    with griffe.temporary_visited_module(source) as module:
        prompt = example_messages(module["Hook.Context.as_dict"], "pkg", "Return it as a dict.")[-1]["content"]

    assert "## Its class Hook.Context" in prompt and "def __init__(self, domain: str)" in prompt
    assert "Methods of Hook.Context: as_dict." in prompt  # not the outer class's `run`
    assert "makes an instance of `Hook.Context` and calls `as_dict` on it" in prompt


def test_a_class_s_example_request_lists_its_public_methods(package: griffe.Module) -> None:
    prompt = example_messages(package["core.Counter"], "pkg", "Count things.")[-1]["content"]

    assert "Methods of Counter: bump." in prompt


def test_the_example_request_gives_the_import_lines_of_the_parameters_types(package: griffe.Module) -> None:
    prompt = example_messages(package["core.stem"], "pkg", "Name a path.")[-1]["content"]

    assert "starts with `from pkg.core import stem` and `from pathlib import Path` and calls `stem`" in prompt
    assert "collections.abc" not in prompt  # an abstract type is not built by an example
    assert annotation_imports(package["core.add"], "pkg") == {}


def test_an_annotation_type_used_without_its_import_gets_it_without_a_repair() -> None:
    types = {"Path": "from pathlib import Path"}
    first = "from pkg.core import stem"

    assert with_imports("print(stem(Path('a.txt')))", first, types) == (
        "from pkg.core import stem\nfrom pathlib import Path\nprint(stem(Path('a.txt')))"
    )
    bound = "from pathlib import PurePath as Path\nprint(stem(Path('a.txt')))"
    assert with_imports(bound, first, types) == f"{first}\n{bound}"  # bound by the example itself: left alone
    assert with_imports(f"{first}\nprint(stem)", first, types) == f"{first}\nprint(stem)"


def test_a_standard_library_module_used_without_its_import_is_imported_not_paid_a_repair() -> None:
    first = "from pkg.core import load"

    assert with_imports("print(load(json.dumps([1])))", first, {}) == (
        f"{first}\nimport json\nprint(load(json.dumps([1])))"
    )
    assert with_imports("import json\nprint(load(json.dumps([1])))", first, {}).count("import json") == 1
    assert with_imports("print(load(this))", first, {}) == f"{first}\nprint(load(this))"  # `import this` prints
    assert with_imports("print(load(jsn.dumps([1])))", first, {}) == f"{first}\nprint(load(jsn.dumps([1])))"


def test_an_example_repair_sends_the_failing_code_and_error_not_the_first_conversation_again(
    load: Callable[[], griffe.Module], tmp_path: Path
) -> None:
    broken = "from pkg.core import add\nprint(add(1, 2) / 0)"
    with AzureEmulator(api_key=API_KEY, answer=answering(broken, GOOD)) as emu:
        report = build(load(), emu, tmp_path)
        first, repair = (r.body["messages"] for r in emu.requests if is_example_request(r.body))

    assert counts(report.outcomes[TARGET]) == (2, 2, 1, 1, 0)
    text = repair[-1]["content"]
    assert "print(add(1, 2) / 0)" in text and "ZeroDivisionError" in text
    assert "Summary:" in first[-1]["content"] and "Summary:" not in text  # summary, parameters, source not resent
    assert "## Source" in first[-1]["content"] and "## Source" not in text
    assert "starts with `from pkg.core import add`" in text
    assert not any(message["role"] == "assistant" for message in repair)
    assert len(text) < len(first[-1]["content"]) + len(broken) + 120  # the code and error, on a shorter prompt


def test_no_example_request_where_an_example_cannot_be_worth_it() -> None:
    source = """\
import abc
import contextlib


def public(x): ...


def _helper(x): ...


def version(): ...


@contextlib.contextmanager
def quiet():
    yield


def ticks():
    yield 1


class Shape(abc.ABC):
    def area(self): ...


class Drawable(Shape):
    @abc.abstractmethod
    def draw(self, canvas): ...

    def named(self, name):
        return name


class Box:
    def __repr__(self): ...

    def _grow(self): ...

    def fill(self): ...


class _Hidden:
    def run(self): ...


class Point:
    def __repr__(self): ...


def stub(text):
    raise NotImplementedError("a subclass says how")


class Reader:
    def read(self, size):
        "Read."
        raise NotImplementedError
"""
    with griffe.temporary_visited_module(source) as module:
        worth = {path: worth_an_example(module[path]) for path in ("public", "Point", "Box.fill", "quiet", "ticks")}
        not_worth = {
            path: worth_an_example(module[path])
            for path in (
                *("_helper", "Shape.area", "Box.__repr__", "Box._grow", "_Hidden.run", "Box", "version"),
                *("stub", "Reader.read", "Shape", "Drawable", "Drawable.draw", "Drawable.named"),
            )
        }

    assert all(worth.values()), worth  # quiet and ticks take no argument but are used in a block
    assert not any(not_worth.values()), (
        "Box: the example of Box.fill makes a Box; version(): print(version()); stub, Reader.read: only raise; "
        "Shape, Drawable: an ABC, a class with an abstract method (no instance to make)"
    )


def test_no_example_request_where_a_required_argument_cannot_be_built_from_literals() -> None:
    source = """\
import antigravity
import unittest.__main__
from collections.abc import Sequence
from http.cookiejar import CookieJar
from logging import LogRecord
from pathlib import Path
from typing import Callable, ClassVar, Optional

from markdown import Markdown


class Point:
    def __init__(self, x: int, y: int): ...


def handle(record: LogRecord): ...
def render(md: Markdown, text: str): ...
def union_of_objects(md: Markdown | LogRecord): ...
def fly(to: antigravity.Sky): ...
def main(runner: unittest.__main__.Runner): ...
def at(path: Path, times: int): ...
def either(md: str | Markdown): ...
def maybe(md: Optional[Markdown]): ...
def defaulted(text: str, md: Markdown = None): ...
def hooked(callback: Callable[[str], Markdown]): ...
def listed(items: Sequence[str | Markdown]): ...
def baked(jar: CookieJar): ...
def plotted(point: Point): ...
def untyped(md): ...


class Processor:
    def __init__(self, md: Markdown, name: str): ...

    def run(self, text: str): ...

    @classmethod
    def named(cls, name: str): ...


class Cleaner:
    def clean(self, record: LogRecord): ...


class Handler:
    name: ClassVar[str]

    def run(self, text: str): ...
"""
    with griffe.temporary_visited_module(source) as module:
        worth = {
            path: worth_an_example(module[path])
            for path in (
                *("at", "either", "maybe", "defaulted", "hooked", "listed", "baked", "plotted", "untyped"),
                "Processor.named",
            )
        }
        not_worth = {
            path: worth_an_example(module[path])
            for path in (
                *("handle", "render", "union_of_objects", "fly", "main", "Processor", "Processor.run"),
                *("Cleaner.clean", "Handler.run"),
            )
        }

    assert all(worth.values()), worth  # a literal, [], None, a lambda, CookieJar(), the package's own type will do
    assert not any(not_worth.values()), (
        "a LogRecord or a Markdown cannot be built from literals: the example (and its repair) would fail; "
        "Processor.run needs a Processor, whose constructor needs a Markdown; a Handler lacks its `name`"
    )
    # A standard library module that acts when imported (opens a browser, runs the tests) is never imported.
    assert "antigravity" not in sys.modules and "unittest.__main__" not in sys.modules


def build_core(core: str, tmp_path: Path, **options: Any) -> tuple[BuildReport, list[dict]]:
    """Build a package whose `core` module holds `core`; return the report and the example requests' bodies."""
    files = {"__init__.py": '"""A package."""\n', "core.py": f'"""Core."""\n\n\n{core}'}
    with (
        griffe.temporary_visited_package("pkg", files) as pkg,
        AzureEmulator(api_key=API_KEY, answer=answering(GOOD)) as emu,
    ):
        report = build(pkg, emu, tmp_path, **options)
    return report, [r.body for r in emu.requests if is_example_request(r.body)]


def test_a_private_helper_gets_its_docstring_without_an_example_request(tmp_path: Path) -> None:
    report, example_requests = build_core(
        "def _double(x: int) -> int:\n    return 2 * x\n", tmp_path, include_private=True
    )

    assert report.outcomes["pkg.core._double"].status == "generated"
    assert example_requests == []


def test_a_function_taking_no_argument_gets_no_example_request_and_is_complete_without_one(tmp_path: Path) -> None:
    report, example_requests = build_core('def version() -> str:\n    return "1.0"\n', tmp_path)

    outcome = report.outcomes["pkg.core.version"]
    assert outcome.status == "generated"
    assert example_requests == []  # its example would be `print(version())`
    assert outcome.completeness is not None and outcome.completeness[0] == outcome.completeness[1]


def test_a_line_break_inside_a_string_literal_is_read_as_the_escape_it_was() -> None:
    broken = "import json\nprint(json.loads('[1]\n'))"

    assert escaped_newlines(broken) == "import json\nprint(json.loads('[1]\\n'))"
    assert escaped_newlines("print('a\nb\nc')") == "print('a\\nb\\nc')"
    assert escaped_newlines("print(1") == "print(1"  # another syntax error: left for the check to report
    assert escaped_newlines('x = """a\nb"""') == 'x = """a\nb"""'


def test_an_example_broken_only_by_a_decoded_line_break_is_published_without_a_repair(
    load: Callable[[], griffe.Module], tmp_path: Path
) -> None:
    pkg = load()
    with AzureEmulator(
        api_key=API_KEY, answer=answering("from pkg.core import add\nprint(str(add(1, 2)) + '\n')")
    ) as emu:
        report = build(pkg, emu, tmp_path)
        requests = len(emu.requests)

    assert requests == 2  # the docstring and its example: no repair
    assert counts(report.outcomes[TARGET]) == (1, 1, 1, 0, 0)
    assert "print(str(add(1, 2)) + '\\n')" in published(pkg)


def test_the_repair_of_an_example_shows_its_code_and_error_and_asks_for_a_code_block() -> None:
    brief = [{"role": "system", "content": "S"}, {"role": "user", "content": "Target: `f`."}]

    repair = repair_messages(brief, "print(g())", "the example does not use `f`")

    assert repair[:-1] == brief[:-1] and repair[-1]["content"].startswith("Target: `f`.")
    assert "```python\nprint(g())\n```" in repair[-1]["content"]
    assert "Error: the example does not use `f`" in repair[-1]["content"]
    assert repair[-1]["content"].endswith("in one ```python code block.")


def test_an_example_answer_is_read_from_its_fenced_code_block_double_quotes_included() -> None:
    code = "import json\nprint(json.loads('{\"a\": 1}'))"  # a JSON string cut this at `'{`

    assert example_of(f"Here it is:\n\n```python\n{code}\n```\n\nIt prints a dict.") == code
    assert example_of(f"```\n{code}\n```") == code
    assert example_of(f"```python\n{code}\n```\n```python\nprint(2)\n```") == code  # the first block only


def test_an_example_answer_without_a_fence_is_taken_only_when_it_is_code() -> None:
    assert example_of('{"example": "print(f(1))"}') == "print(f(1))"  # a server that forced JSON anyway
    assert example_of('{"summary": "Adds."}') == ""  # a docstring answer is no example
    assert example_of("print(f(1))") == "print(f(1))"
    assert example_of("Sorry, I cannot write an example for this.") == ""
    assert example_of("```python\n```") == ""


def test_an_example_answer_cut_off_is_used_only_when_its_code_block_closed() -> None:
    assert example_of("```python\nprint(f(1))\n```\nThis prints the value of", cut=True) == "print(f(1))"
    assert example_of("```python\nprint(f(1))\nprint(f(", cut=True) == ""
    assert example_of("print(f(1))", cut=True) == ""
