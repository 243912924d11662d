"""Specifications of `mkdocs-ai-docstrings apply`: the lock file's docstrings promoted into the source with libcst.

A real `mkdocs build` against the emulator writes the lock file; `apply` writes every record into three modules
full of comments, decorators, nested classes, async defs, properties and a module without docstring that starts
with `from __future__`; then the files are checked as code and the site rebuilt.
"""

from __future__ import annotations

import ast
import inspect
import io
import re
import shutil
import subprocess
import sys
import tokenize
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from mkdocs_ai_docstrings._internal.apply import Target, apply_command, docstring_literal, write_docstrings
from mkdocs_ai_docstrings._internal.lock import LockFile
from tests.conftest import build, build_env, make_site
from tests.emulator import AzureEmulator
from tests.test_build import assert_built, marked_ids

LOCK = "ai-docstrings.lock"

MODELS = '''#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Licence header comment.
from __future__ import annotations

import functools  # inline comment on an import


# comment above a decorated class
@functools.total_ordering  # comment on a decorator
class Point:
    # comment first in a class body
    x: int = 0

    class Meta:  # comment on a nested class
        # comment inside the nested class
        def describe(self) -> str:  # comment on a nested method
            # comment first in a nested method body
            return "meta"  # trailing comment

    @property
    def norm(self) -> int:
        # comment in a property
        return abs(self.x)

    def __lt__(self, other: Point) -> bool:
        """Order points by their x coordinate."""
        return self.x < other.x

    async def fetch(self, delay: float) -> int:  # async method
        return self.x


async def load(name: str) -> str: return name.upper()  # one-line body
'''

HELPERS = '''"""TODO"""

# comment between the module docstring and the code
import os


def join(a: str, b: str) -> str:
    "x"
    # the placeholder above is too short to count
    return os.path.join(a, b)


def documented(value: int) -> int:
    """Return the value unchanged, as people wrote it."""
    return value


class Registry:
    def register(self, key: str, value: object) -> None:
        # comment before code
        self.items = {key: value}  # inline
'''

INIT = '"""Package whose modules get their AI docstrings promoted into the source."""\n'

UTILS = '''"""Utilities with one missing docstring."""
# comment after the module docstring


def clamp(value: int, low: int, high: int) -> int:
    # clamp between the bounds
    return max(low, min(value, high))
'''

PACKAGE = {"applypkg/__init__.py": INIT, "applypkg/models.py": MODELS, "applypkg/helpers.py": HELPERS}
PACKAGE["applypkg/utils.py"] = UTILS
MODULES = ("applypkg/models.py", "applypkg/helpers.py", "applypkg/utils.py")
PAGES = {"index.md": "# API\n\n::: applypkg.models\n\n::: applypkg.helpers\n\n::: applypkg.utils\n"}


def comments(source: str) -> list[str]:
    """Every comment of `source`, in order."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [token.string for token in tokens if token.type == tokenize.COMMENT]


def without_docstrings(source: str) -> str:
    """`ast.dump` of `source` with every docstring removed: equal for files that differ only in docstrings."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                node.body = node.body[1:]
    return ast.dump(tree)


def docstrings(source: str) -> dict[str, str]:
    """The docstring of every module, class and function of `source`, by dotted name in the module."""
    found: dict[str, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                if (doc := ast.get_docstring(child)) is not None:
                    found.setdefault(name, doc)
                visit(child, name + ".")

    tree = ast.parse(source)
    if (doc := ast.get_docstring(tree)) is not None:
        found[""] = doc
    visit(tree, "")
    return found


def run_apply(site_root: Path, *args: str, **options: object) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert apply_command(str(site_root / "mkdocs.yml"), list(args), **options) == 0  # type: ignore[arg-type]
    return out.getvalue()


@pytest.fixture
def generated(tmp_path: Path, emulator: AzureEmulator):
    """The package built once with credentials: every missing docstring generated and locked."""
    site = make_site(tmp_path / "project", PACKAGE, PAGES)
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert_built(result)
    records = LockFile.load(site.root / LOCK).records
    assert "applypkg.models.Point.Meta.describe" in records and "applypkg.helpers.join" in records
    return site, result, records


def test_apply_writes_every_ai_docstring_and_changes_nothing_else(tmp_path: Path, generated) -> None:
    site, first, records = generated
    before = {name: (site.src / name).read_text() for name in MODULES}
    assert marked_ids(first) == set(records)
    output = run_apply(site.root)
    assert f"{len(records)} docstring(s) written into 3 file(s)" in output, output
    for name in MODULES:
        after = (site.src / name).read_text()
        assert after != before[name], name
        assert comments(after) == comments(before[name]), name  # every comment kept, in order
        assert without_docstrings(after) == without_docstrings(before[name]), name  # no other code changed
    for path, record in records.items():
        module, _, qualname = path.removeprefix("applypkg.").partition(".")
        written = docstrings((site.src / f"applypkg/{module}.py").read_text())
        assert written.get(qualname) == inspect.cleandoc(record.text), path
    # human docstrings untouched; the module comment headers stay above the new module docstring
    assert (
        docstrings((site.src / "applypkg/models.py").read_text())["Point.__lt__"]
        == "Order points by their x coordinate."
    )
    models = (site.src / "applypkg/models.py").read_text()
    assert models.startswith('#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n# Licence header comment.\n"""')
    assert LockFile.load(site.root / LOCK).records == {}  # human-written from now on

    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "D1", *MODULES],
        cwd=site.src,
        capture_output=True,
        text=True,
        check=False,
    )
    reported = set(re.findall(r"(D1\d\d)", ruff.stdout))
    # D105 (magic method) is `__lt__`, documented by people; D106 nested class `Meta` is in the records too.
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    assert not reported

    rebuilt = build(site, build_env(None, tmp_path))
    assert_built(rebuilt)
    assert marked_ids(rebuilt) == set()
    assert not any(o["status"] in ("cached", "generated") for o in rebuilt.report["objects"])


def test_interrogate_no_longer_reports_the_applied_objects(tmp_path: Path, generated) -> None:
    if shutil.which("interrogate", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("interrogate is not installed")
    site, _, _ = generated
    command = [str(Path(sys.executable).parent / "interrogate"), "-vv", "--fail-under", "100", "-i", "-p", "-S"]
    missing_before = subprocess.run(
        [*command, "-c", "/dev/null", *MODULES], cwd=site.src, capture_output=True, text=True
    )
    assert missing_before.returncode != 0
    run_apply(site.root)
    after = subprocess.run([*command, "-c", "/dev/null", *MODULES], cwd=site.src, capture_output=True, text=True)
    assert after.returncode == 0, after.stdout


def test_diff_writes_a_patch_that_git_applies_and_leaves_the_files_alone(tmp_path: Path, generated) -> None:
    site, _, records = generated
    before = {name: (site.src / name).read_text() for name in MODULES}
    patch = tmp_path / "docstrings.patch"
    output = run_apply(site.root, diff_file=str(patch))
    assert "written as a patch" in output
    assert {name: (site.src / name).read_text() for name in MODULES} == before
    assert set(LockFile.load(site.root / LOCK).records) == set(records)  # nothing applied yet
    text = patch.read_text()
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs_ai_docstrings._internal.cli",
            "apply",
            "-f",
            str(site.config_file),
            "--diff",
            "-",
        ],
        cwd=site.root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert cli.stdout == text  # the command line prints the same patch, messages on stderr
    assert "+++ b/src/applypkg/models.py" in text and "+++ b/src/applypkg/helpers.py" in text
    subprocess.run(["git", "init", "-q"], cwd=site.root, check=True)
    subprocess.run(["git", "apply", str(patch)], cwd=site.root, check=True)
    assert docstrings((site.src / "applypkg/utils.py").read_text())["clamp"]


def test_paths_and_accepted_only_select_the_records(tmp_path: Path, generated) -> None:
    site, _, records = generated
    output = run_apply(site.root, str(site.src / "applypkg/utils.py"), accepted_only=True)
    assert "0 docstring(s)" in output and "not reviewed (--accepted-only)" in output
    output = run_apply(site.root, "applypkg.helpers.*")
    remaining = set(LockFile.load(site.root / LOCK).records)
    assert remaining == {path for path in records if not path.startswith("applypkg.helpers.")}
    assert "join" in docstrings((site.src / "applypkg/helpers.py").read_text())
    assert "clamp" not in docstrings((site.src / "applypkg/utils.py").read_text())


@pytest.mark.parametrize(
    "text",
    [
        "Plain.",
        'Ends with a "quote"',
        'Has """ inside.',
        "Back\\slash.",
        'Back\\slash and """.',
        "Ends\\",
        "Two.\n\nLines:\n    x: y.",
    ],
)
def test_the_literal_gives_the_text_back(text: str) -> None:
    literal = docstring_literal(text, "        ")
    assert inspect.cleandoc(ast.literal_eval(literal)) == inspect.cleandoc(text)
    assert literal.startswith(('"""', 'r"""'))


def test_a_property_with_a_setter_gets_its_docstring_on_the_getter() -> None:
    source = "class A:\n    @property\n    def p(self):\n        return 1\n\n    @p.setter\n    def p(self, v):\n        pass\n"
    new, done = write_docstrings(source, [Target("m.A.p", "A.p", 2, "The p.", replace=False)])
    assert done == {"m.A.p"}
    assert '    def p(self):\n        """The p."""\n        return 1' in new
    assert new.count('"""') == 2


def test_stale_rejected_and_human_documented_records_are_not_applied(tmp_path: Path) -> None:
    import griffe

    from mkdocs_ai_docstrings._internal.apply import apply_records
    from mkdocs_ai_docstrings._internal.facts import code_facts
    from mkdocs_ai_docstrings._internal.fingerprint import code_fingerprint
    from mkdocs_ai_docstrings._internal.lock import LockRecord

    package = tmp_path / "smallpkg"
    package.mkdir()
    source = 'def f():\n    return 1\n\n\ndef g():\n    return 2\n\n\ndef h():\n    """Written by a person."""\n'
    (package / "__init__.py").write_text(source)
    module = griffe.load("smallpkg", search_paths=[str(tmp_path)])
    current = {name: code_fingerprint(module[name], code_facts(module[name])) for name in "fgh"}

    def record(name: str, **fields: str) -> LockRecord:
        values = {"kind": "function", "fingerprint": current[name], "style": "google", "text": "Do it.", **fields}
        return LockRecord(path=f"smallpkg.{name}", **values)

    records = [record("f", fingerprint="fp-of-older-code"), record("g", review="rejected"), record("h")]
    result = apply_records(records, [str(tmp_path)])
    assert result.applied == [] and result.changed == {}
    assert result.skipped["smallpkg.f"].startswith("stale")
    assert result.skipped["smallpkg.g"] == "rejected in review"
    assert result.skipped["smallpkg.h"] == "already documented by a person"
    assert apply_records([record("f")], [str(tmp_path)]).applied == ["smallpkg.f"]
