"""Checks of a model-written usage example before it is published: static analysis, then an isolated run.

The static check parses the example, follows its name spaces (with `symtable`, plus a source-order pass over
module-level statements), resolves its imports (members of the documented package through griffe, other
modules through `importlib.util.find_spec`, which imports nothing), checks calls of the package's functions
and classes against their signatures, and requires the documented object to be used. The run executes the
example in a separate `python -I` process (never in the build's own), in a scratch folder, with an almost
empty environment, sockets disabled and a timeout; a `>>>` example runs under `doctest` and its shown outputs
are compared. This is a guard against honest mistakes of a model, not a sandbox against hostile code: see
docs/grounding.md for its limits.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import contextlib
import doctest
import importlib.util
import json
import os
import re
import signal
import symtable
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import griffe

from mkdocs_ai_docstrings._internal.checks import Problem
from mkdocs_ai_docstrings._internal.facts import final_object, is_required

EXAMPLE_PROBLEM_KINDS = (
    "example_syntax",
    "example_undefined_name",
    "example_import",
    "example_call",
    "example_argument_type",
    "example_unsafe",
    "example_unused_object",
    "example_unverifiable",
    "example_failed",
    "example_timeout",
)
"""Every kind of problem an example check reports."""

KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT")
"""The only variables of the build's environment an example process sees (no keys, tokens or proxies)."""

UNSAFE_MODULES = frozenset(
    {
        "ctypes",
        "subprocess",
        "socket",
        "_socket",
        "multiprocessing",
        "pty",
        "signal",
        "shutil",
        "webbrowser",
        "ftplib",
        "smtplib",
        "telnetlib",
        "urllib.request",
        "http.client",
        "requests",
        "httpx",
        "asyncio.subprocess",
    }
)
"""Modules an example must not use: they start programs, reach the network, send signals or delete trees."""
UNSAFE_CALLS = frozenset(
    {"eval", "exec", "compile", "__import__", "breakpoint", "input"}
    | {
        f"os.{name}"
        for name in (
            *("system", "popen", "kill", "killpg", "fork", "forkpty", "_exit", "abort"),
            *("remove", "unlink", "rmdir", "removedirs", "rename", "renames", "replace", "chmod", "chown", "truncate"),
            *(
                f"{prefix}{suffix}"
                for prefix in ("exec", "spawn")
                for suffix in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")
            ),
        )
    }
)
"""Builtins and `os` functions an example must not call: dynamic code, prompts, process control, deletions."""

_IMPLICIT_GLOBALS = frozenset({"__name__", "__doc__", "__builtins__"})
_BUILTINS = frozenset(dir(builtins))
_ERROR_CHARS = 600


@dataclass(frozen=True)
class ExampleCode:
    """An example as Python source, and whether it is a doctest (`>>>` prompts with expected outputs)."""

    text: str
    """The example as the model wrote it (sanitized)."""
    source: str
    """The Python code: the example itself, or the statements of its `>>>` lines."""
    doctest: bool


def example_code(text: str) -> ExampleCode:
    """Read an example: a doctest when a line starts with `>>>`, else plain code."""
    if any(line.lstrip().startswith(">>>") for line in text.splitlines()):
        try:
            parsed = doctest.DocTestParser().get_examples(text)
        except ValueError:
            parsed = []
        return ExampleCode(text, "".join(example.source for example in parsed), True)
    return ExampleCode(text, text, False)


# Static check ------------------------------------------------------------------------------------------------------


def static_problems(code: ExampleCode, obj: griffe.Object, package: griffe.Module) -> list[Problem]:
    """Every problem found without running the example (empty when it passes).

    Checked: it parses; every name is a builtin or bound in the example (imports, assignments, `def`/`class`,
    `for`/`with`/`except` targets, walrus, comprehension variables, parameters, `global`), and module-level
    names are bound before they are used; imports name modules that are installed and members of the documented
    package that exist; attribute chains into the package (also through an instance, `x = Class(...)`) name
    existing members; calls of the package's functions, classes and methods fit their signatures, and literal
    arguments fit the parameter's annotation (or its `str`/`bytes` default); it uses no module or call of
    `UNSAFE_MODULES`/`UNSAFE_CALLS`; and the documented object is used.
    """
    if not code.source.strip():
        return [Problem("example_syntax", "the example has no code")]
    try:
        tree = ast.parse(code.source)
        table = symtable.symtable(code.source, "<example>", "exec")
    except (SyntaxError, ValueError) as error:
        line = getattr(error, "lineno", None)
        where = f" (line {line})" if line else ""
        return [Problem("example_syntax", f"the example is not valid Python{where}: {getattr(error, 'msg', error)}")]
    problems = [
        Problem("example_undefined_name", f"the example uses `{name}`, which it never defines or imports")
        for name in _undefined_names(table)
    ]
    problems += [
        Problem("example_undefined_name", f"the example uses `{name}` on line {line} before it is defined")
        for name, line in _used_before_bound(tree, table)
    ]
    imports = _Imports(package)
    imports.visit(tree)
    problems += imports.problems
    usage = _Usage(imports.aliases, package, _assigned_once(tree))
    usage.visit(tree)
    problems += usage.problems
    problems += _unsafe_problems(tree, imports, usage, _module_bound(table))
    if not _uses(obj, usage, package):
        problems.append(Problem("example_unused_object", _unused_detail(obj, package)))
    return problems


def undefined_names(code: str) -> list[str]:
    """The names `code` reads but neither binds, imports nor finds among the builtins (none when it does not parse)."""
    try:
        return _undefined_names(symtable.symtable(code, "<example>", "exec"))
    except (SyntaxError, ValueError):
        return []


def _tables(table: symtable.SymbolTable) -> Iterator[symtable.SymbolTable]:
    yield table
    for child in table.get_children():
        yield from _tables(child)


def _module_bound(top: symtable.SymbolTable) -> set[str]:
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
    return bound | _global_from_functions(top)


def _global_from_functions(top: symtable.SymbolTable) -> set[str]:
    """Module names that functions assign through `global` (bound whenever those functions ran)."""
    names: set[str] = set()
    for table in _tables(top):
        if table is not top:
            names |= {s.get_name() for s in table.get_symbols() if s.is_declared_global() and s.is_assigned()}
    return names


def _undefined_names(top: symtable.SymbolTable) -> list[str]:
    bound = _module_bound(top)
    undefined: dict[str, None] = {}
    for table in _tables(top):
        for symbol in table.get_symbols():
            name = symbol.get_name()
            if not symbol.is_referenced() or name in bound or name in _BUILTINS or name in _IMPLICIT_GLOBALS:
                continue
            if table is top or symbol.is_global():
                undefined[name] = None
    return list(undefined)


class _Order(ast.NodeVisitor):
    """Module-level statements in execution order: names loaded before any binding of them."""

    def __init__(self, late: set[str]) -> None:
        self.late = late
        """Names bound somewhere at module level (only those can be used too early)."""
        self.bound: set[str] = set()
        self.early: dict[str, int] = {}

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            if node.id in self.late and node.id not in self.bound:
                self.early.setdefault(node.id, node.lineno)
        else:
            self.bound.add(node.id)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.visit(ast.Name(node.target.id, ast.Load(), lineno=node.lineno))
        self.visit(node.target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.visit(node.target)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.visit(node.target)
        for statement in [*node.body, *node.orelse]:
            self.visit(statement)

    visit_AsyncFor = visit_For

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        for expr in [*getattr(node, "decorator_list", []), *node.args.defaults, *node.args.kw_defaults]:
            if expr is not None:
                self.visit(expr)
        if not isinstance(node, ast.Lambda):
            self.bound.add(node.name)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *(keyword.value for keyword in node.keywords)]:
            self.visit(expr)
        self.bound.add(node.name)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            self.bound.add(alias.asname or alias.name.split(".")[0])

    visit_ImportFrom = visit_Import

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.bound.add(node.name)
        for statement in node.body:
            self.visit(statement)

    def visit_Global(self, node: ast.Global) -> None:
        self.bound.update(node.names)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        self.generic_visit(node)
        if node.name:
            self.bound.add(node.name)

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> None:
        self.visit(node.generators[0].iter)
        outer = set(self.bound)
        for index, generator in enumerate(node.generators):
            if index:
                self.visit(generator.iter)
            self.visit(generator.target)
            for condition in generator.ifs:
                self.visit(condition)
        for part in (node.key, node.value) if isinstance(node, ast.DictComp) else (node.elt,):
            self.visit(part)
        self.bound = outer | {name for name in self.bound - outer if name in self.late}

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension


def _used_before_bound(tree: ast.Module, top: symtable.SymbolTable) -> list[tuple[str, int]]:
    order = _Order(_module_bound(top) - _global_from_functions(top))
    order.visit(tree)
    return list(order.early.items())


class _Imports(ast.NodeVisitor):
    """Local names bound by imports (to dotted paths), and imports that cannot work."""

    def __init__(self, package: griffe.Module) -> None:
        self.package = package
        self.aliases: dict[str, str] = {}
        self.problems: list[Problem] = []

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if self._module_problem(alias.name):
                continue
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.aliases[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.problems.append(
                Problem("example_import", "the example uses a relative import: import from the package by its name")
            )
            return
        module = node.module or ""
        if self._module_problem(module):
            return
        for alias in node.names:
            if alias.name == "*":
                self.problems.append(Problem("example_import", "the example uses `import *`: import names explicitly"))
                continue
            path = f"{module}.{alias.name}"
            if _in_package(path, self.package) and _resolve(self.package, path) is None:
                self.problems.append(Problem("example_import", _missing_member(module, alias.name, self.package)))
                continue
            self.aliases[alias.asname or alias.name] = path

    def _module_problem(self, module: str) -> bool:
        if _in_package(module, self.package):
            found = _resolve(self.package, module)
            if found is None or not found.is_module:
                self.problems.append(Problem("example_import", f"there is no module `{module}` to import"))
                return True
            return False
        top = module.split(".")[0]
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            self.problems.append(Problem("example_import", f"the module `{top}` is not installed"))
            return True
        return False


class _Usage(ast.NodeVisitor):
    """Dotted paths the example refers to (through its imports), attribute names it accesses, call problems."""

    def __init__(self, aliases: dict[str, str], package: griffe.Module, once: frozenset[str] = frozenset()) -> None:
        self.aliases = aliases
        self.package = package
        self.once = once
        """Module-level names bound exactly once (by an assignment): they may stand for an instance."""
        self.instances: dict[str, str] = {}
        """Names bound to an instance of one of the package's classes (`x = Class(...)`), to the class path."""
        self.paths: set[str] = set()
        self.attributes: set[str] = set()
        self.problems: list[Problem] = []

    def _path(self, node: ast.expr) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        if node.id in self.aliases:
            return ".".join([self.aliases[node.id], *reversed(parts)])
        if node.id in self.instances and parts:
            return ".".join([self.instances[node.id], *reversed(parts)])
        return None

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        target = node.targets[0] if len(node.targets) == 1 else None
        if not isinstance(target, ast.Name) or target.id not in self.once or target.id in self.aliases:
            return
        path = self._path(node.value.func) if isinstance(node.value, ast.Call) else None
        cls = _resolve(self.package, path) if path is not None and _in_package(path, self.package) else None
        if cls is not None and cls.is_class and _closed(cls):
            self.instances[target.id] = cls.path

    def visit_Name(self, node: ast.Name) -> None:
        path = self._path(node)
        if path is not None:
            self.paths.add(path)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.attributes.add(node.attr)
        path = self._path(node)
        if path is None:
            self.generic_visit(node)
            return
        self.paths.add(path)
        if not self._through_instance(node):  # an instance may gain attributes outside `__init__`: see calls
            self._check_member(path)

    def _through_instance(self, node: ast.expr) -> bool:
        while isinstance(node, ast.Attribute):
            node = node.value
        return isinstance(node, ast.Name) and node.id not in self.aliases and node.id in self.instances

    def _check_member(self, path: str) -> None:
        if _in_package(path, self.package) and _resolve(self.package, path) is None:
            owner, _, name = path.rpartition(".")
            parent = _resolve(self.package, owner)
            if parent is not None and (parent.is_module or parent.is_class):
                self.problems.append(Problem("example_import", _missing_member(owner, name, self.package)))

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        path = self._path(node.func)
        if path is not None and self._through_instance(node.func):
            self._check_member(path)  # a method the class does not have
        target = _resolve(self.package, path) if path is not None and _in_package(path, self.package) else None
        if target is not None and (target.is_function or target.is_class):
            problem = _call_problem(node, target, path or "")
            if problem is not None:
                self.problems.append(problem)


def _assigned_once(tree: ast.Module) -> frozenset[str]:
    """Names that exactly one module-level statement binds, by a plain assignment, and nothing else rebinds."""
    counts: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            counts[node.id] = counts.get(node.id, 0) + 1
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            counts[node.name] = counts.get(node.name, 0) + 2
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                counts[bound] = counts.get(bound, 0) + 2
        elif isinstance(node, ast.Global):
            for bound in node.names:
                counts[bound] = counts.get(bound, 0) + 2
    single = {
        target.id
        for statement in tree.body
        if isinstance(statement, ast.Assign)
        for target in statement.targets
        if isinstance(target, ast.Name)
    }
    return frozenset(name for name in single if counts.get(name) == 1)


def _closed(cls: griffe.Object) -> bool:
    """Whether griffe knows every member of the class's instances: no outside bases, no dynamic attributes."""
    try:
        bases = list(cls.resolved_bases)
        members = cls.all_members
    except (griffe.AliasResolutionError, griffe.CyclicAliasError, ValueError, AttributeError, KeyError):
        return False
    if len(bases) != len(cls.bases) or any(not _closed(base) for base in bases):
        return False
    return not any(name in members for name in ("__getattr__", "__getattribute__", "__slots__", "__dict__"))


def _unsafe_problems(tree: ast.Module, imports: _Imports, usage: _Usage, bound: set[str]) -> list[Problem]:
    """Uses of `UNSAFE_MODULES` and calls of `UNSAFE_CALLS`: never in a published example."""
    modules = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    modules += [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
    modules += list(imports.aliases.values())
    found: dict[str, None] = {}
    for module in modules:
        if _in_package(module, imports.package):  # the documented package itself (`requests` documenting itself)
            continue
        parts = module.split(".")
        for end in range(1, len(parts) + 1):
            if ".".join(parts[:end]) in UNSAFE_MODULES:
                found[".".join(parts[:end])] = None
    problems = [
        Problem(
            "example_unsafe",
            f"the example uses `{module}`: show the object without starting programs, "
            "sending signals, deleting files or reaching the network",
        )
        for module in found
    ]
    calls: dict[str, None] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name) and node.func.id not in bound and node.func.id in UNSAFE_CALLS:
            calls[node.func.id] = None
        path = usage._path(node.func)
        if path in UNSAFE_CALLS:
            calls[path] = None
    problems += [
        Problem("example_unsafe", f"the example calls `{name}`: show the object with plain code only") for name in calls
    ]
    return problems


def _in_package(path: str, package: griffe.Module) -> bool:
    return path == package.path or path.startswith(package.path + ".")


def _resolve(package: griffe.Module, path: str) -> griffe.Object | None:
    if path == package.path:
        return package
    try:
        return final_object(package[path[len(package.path) + 1 :]])
    except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None


def _missing_member(owner: str, name: str, package: griffe.Module) -> str:
    detail = f"`{owner}` has no member `{name}`"
    homes = _homes(name, package)
    if homes:
        detail += f"; it is defined in `{homes[0]}` (use `from {homes[0]} import {name}`)"
    return detail


def _homes(name: str, package: griffe.Module) -> list[str]:
    """Modules of the package where a public object named `name` is defined or re-exported."""
    found = []
    stack: list[griffe.Object] = [package]
    seen = 0
    while stack and seen < 500:
        module = stack.pop()
        seen += 1
        member = module.members.get(name)
        if member is not None and (not member.is_alias or member.is_public):
            found.append(module.path)
        stack.extend(m for m in module.members.values() if not m.is_alias and m.is_module)
    return sorted(found, key=len)


def _call_problem(node: ast.Call, target: griffe.Object, path: str) -> Problem | None:
    """A call that cannot bind to the signature: too many positional arguments, unknown or missing ones."""
    if any(isinstance(arg, ast.Starred) for arg in node.args) or any(kw.arg is None for kw in node.keywords):
        return None
    if target.is_class:
        init = final_object(target.all_members["__init__"]) if "__init__" in target.all_members else None
        if init is None or not init.is_function:
            return None
    try:
        parameters = list(target.parameters)
    except (AttributeError, griffe.AliasResolutionError, griffe.CyclicAliasError, ValueError):
        return None
    kinds = griffe.ParameterKind
    bound_first = target.is_class or (target.parent is not None and target.parent.is_class)
    if bound_first and parameters and parameters[0].name in ("self", "cls"):
        parameters = parameters[1:]
    if any(p.kind is kinds.var_keyword for p in parameters) and any(p.kind is kinds.var_positional for p in parameters):
        return None
    positional = [p for p in parameters if p.kind in (kinds.positional_only, kinds.positional_or_keyword)]
    name = path.rsplit(".", 1)[-1]
    if len(node.args) > len(positional) and not any(p.kind is kinds.var_positional for p in parameters):
        return Problem(
            "example_call",
            f"`{name}` takes at most {len(positional)} positional argument(s), the example passes {len(node.args)}",
        )
    keywords = {kw.arg for kw in node.keywords}
    named = {p.name for p in parameters if p.kind is not kinds.positional_only}
    if not any(p.kind is kinds.var_keyword for p in parameters):
        unknown = sorted(k for k in keywords if k not in named)
        if unknown:
            return Problem("example_call", f"`{name}` has no parameter {', '.join(map(repr, unknown))}")
    supplied = {p.name for p in positional[: len(node.args)]} | keywords
    missing = [p.name for p in parameters if is_required(p) and p.name not in supplied]
    if missing:
        return Problem("example_call", f"the call of `{name}` lacks the required argument(s) {', '.join(missing)}")
    by_name = {p.name: p for p in parameters}
    pairs = [
        *zip(node.args, positional, strict=False),
        *((kw.value, by_name.get(kw.arg or "")) for kw in node.keywords),
    ]
    for value, parameter in pairs:
        problem = _argument_type_problem(value, parameter, name)
        if problem is not None:
            return problem
    return None


_LITERAL_KINDS: dict[type, str] = {bool: "bool", int: "int", float: "float", str: "str", bytes: "bytes"}
_DISPLAY_KINDS: dict[type, str] = {
    ast.JoinedStr: "str",
    ast.List: "list",
    ast.ListComp: "list",
    ast.Dict: "dict",
    ast.DictComp: "dict",
    ast.Tuple: "tuple",
    ast.Set: "set",
    ast.SetComp: "set",
}
_ANNOTATION_KINDS = {
    "str": "str",
    "bytes": "bytes",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "list": "list",
    "List": "list",
    "dict": "dict",
    "Dict": "dict",
    "tuple": "tuple",
    "Tuple": "tuple",
    "set": "set",
    "Set": "set",
    "None": "None",
}
_ACCEPTS = {"float": {"float", "int", "bool"}, "int": {"int", "bool"}}


def _literal_kind(node: ast.expr) -> str | None:
    """The type of a literal argument (`"str"`, `"bytes"`, `"list"`, …), or `None` for anything computed."""
    if isinstance(node, ast.Constant):
        return "None" if node.value is None else _LITERAL_KINDS.get(type(node.value))
    return _DISPLAY_KINDS.get(type(node))


def _annotation_kinds(annotation: str) -> set[str] | None:
    """The types a simple annotation admits (`str | None` → {str, None}); `None` when it is not that simple."""
    text = annotation.replace(" ", "").replace("typing.", "")
    match = re.fullmatch(r"(Optional|Union)\[(.+)\]", text)
    if match:
        text = match.group(2).replace(",", "|") + ("|None" if match.group(1) == "Optional" else "")
    kinds = set()
    for part in text.split("|"):
        kind = _ANNOTATION_KINDS.get(part.split("[", 1)[0])
        if kind is None or ("[" in part and "]" not in part):
            return None
        kinds.add(kind)
    return kinds


def _argument_type_problem(value: ast.expr, parameter: griffe.Parameter | None, name: str) -> Problem | None:
    """A literal argument of a type the parameter cannot take (by its annotation, or `str` vs `bytes` default)."""
    given = _literal_kind(value)
    if parameter is None or given is None:
        return None
    if parameter.annotation is not None:
        expected = _annotation_kinds(str(parameter.annotation))
        wanted = f"`{parameter.annotation}`"
    else:
        default = _literal_kind(_parse_expression(str(parameter.default))) if parameter.default is not None else None
        expected = {default} if default in ("str", "bytes") else None
        wanted = f"{default} (its default is {parameter.default})"
    if expected is None or any(given in _ACCEPTS.get(kind, {kind}) for kind in expected):
        return None
    return Problem(
        "example_argument_type",
        f"`{name}` takes {parameter.name}: {wanted}, but the example passes a {given} literal",
    )


def _parse_expression(text: str) -> ast.expr:
    try:
        return ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError):
        return ast.Name("?", ast.Load())


def _uses(obj: griffe.Object, usage: _Usage, package: griffe.Module) -> bool:
    target = final_object(obj) or obj
    resolved = {path: _resolve(package, path) for path in usage.paths if _in_package(path, package)}
    if any(found is not None and found.path == target.path for found in resolved.values()):
        return True
    parent = target.parent
    if parent is not None and parent.is_class:
        uses_parent = any(found is not None and found.path == parent.path for found in resolved.values())
        if target.name.startswith("__") and target.name.endswith("__"):
            return uses_parent
        uses_package = any(found is not None for found in resolved.values())
        return target.name in usage.attributes and (uses_parent or uses_package)
    return False


def _unused_detail(obj: griffe.Object, package: griffe.Module) -> str:
    target = final_object(obj) or obj
    parent = target.parent
    if parent is not None and parent.is_class:
        module = parent.module.path
        return (
            f"the example never uses `{target.name}`: import `{parent.name}` with `from {module} import "
            f"{parent.name}` and use `{target.name}` on an instance"
        )
    module = target.module.path if not target.is_module else target.path
    return f"the example never uses `{target.name}`: import it with `from {module} import {target.name}` and call it"


# Run -----------------------------------------------------------------------------------------------------------------

RUNNER = r"""
import io, json, sys
config = json.load(open(sys.argv[1], encoding="utf-8"))

def report(ok, error=""):
    with open(config["result"], "w", encoding="utf-8") as file:
        json.dump({"ok": ok, "error": error}, file)

try:
    import resource
    for limit, value in ((resource.RLIMIT_CPU, config["cpu_seconds"]), (resource.RLIMIT_FSIZE, 16 << 20)):
        soft, hard = resource.getrlimit(limit)
        resource.setrlimit(limit, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))
except (ImportError, ValueError, OSError):
    pass

import socket

class NetworkDisabled(OSError):
    pass

def no_network(*args, **kwargs):
    raise NetworkDisabled("network access is disabled while examples are checked")

for name in ("connect", "connect_ex", "sendto", "sendmsg", "bind"):
    setattr(socket.socket, name, no_network)
socket.create_connection = socket.getaddrinfo = socket.gethostbyname = socket.gethostbyname_ex = no_network

class Capped(io.StringIO):
    def write(self, text):
        if self.tell() < 65536:
            super().write(text[:65536])
        return len(text)

sys.path[:0] = config["paths"]
sys.stdin = io.StringIO("")
sys.stdout = sys.stderr = Capped()
globs = {"__name__": "__main__", "__builtins__": __builtins__}
try:
    if config["doctest"]:
        import doctest
        test = doctest.DocTestParser().get_doctest(config["code"], globs, "example", "<example>", 0)
        lines = []
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        runner.run(test, out=lines.append)
        if runner.failures:
            text = "".join(lines)
            text = text.split("\n", 2)[-1] if text.startswith("*") else text
            report(False, "the shown output does not match:\n" + text.strip())
        else:
            report(True)
    else:
        exec(compile(config["code"], "<example>", "exec"), globs)
        report(True)
except BaseException as error:
    if isinstance(error, SystemExit) and error.code in (None, 0):
        report(True)
    else:
        import traceback
        line = None
        tb = error.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == "<example>":
                line = tb.tb_lineno
            tb = tb.tb_next
        message = traceback.format_exception_only(type(error), error)[-1].strip()
        report(False, (f"line {line}: " if line else "") + message)
"""
"""The program an example process runs: limits, no sockets, capped output, then the example (or its doctest)."""


def package_search_paths(package: griffe.Module, loader: object = None) -> list[str]:
    """Folders to put first on an example process's `sys.path` so that it imports the documented package.

    The folder holding the package (from griffe's `filepath`), then the loader's search paths (the
    mkdocstrings handler's `paths`).
    """
    paths: list[str] = []
    try:
        filepath = package.filepath
    except (AttributeError, ValueError):
        filepath = None
    for path in filepath if isinstance(filepath, list) else [filepath]:
        if path is None:
            continue
        path = Path(path).resolve()
        root = path.parent.parent if path.stem == "__init__" else path.parent
        if isinstance(filepath, list):  # a namespace package: its folders are listed
            root = path.parent
        paths.append(str(root))
    finder = getattr(loader, "finder", None)
    paths += [str(Path(p).resolve()) for p in getattr(finder, "search_paths", None) or []]
    return list(dict.fromkeys(paths))


class ExampleRunner:
    """Runs examples in separate Python processes, a bounded number at a time, without blocking the event loop."""

    def __init__(self, search_paths: Sequence[str], *, timeout: float, slots: int | None = None) -> None:
        self.search_paths = list(search_paths)
        self.timeout = timeout
        self._slots = asyncio.Semaphore(slots or max(1, min(2, os.cpu_count() or 1)))

    async def run(self, code: ExampleCode) -> Problem | None:
        """Run one example; `None` when it finished without error (and its doctest outputs matched)."""
        async with self._slots:
            with tempfile.TemporaryDirectory(prefix="ai-docstrings-example-") as scratch:
                return await self._run_in(Path(scratch), code)

    async def _run_in(self, scratch: Path, code: ExampleCode) -> Problem | None:
        config = scratch / "config.json"
        result = scratch / "result.json"
        config.write_text(
            json.dumps(
                {
                    "code": code.text if code.doctest else code.source,
                    "doctest": code.doctest,
                    "paths": self.search_paths,
                    "result": str(result),
                    "cpu_seconds": int(self.timeout) + 2,
                }
            ),
            encoding="utf-8",
        )
        env = {name: os.environ[name] for name in KEPT_ENVIRONMENT if name in os.environ}
        env.update(HOME=str(scratch), TMPDIR=str(scratch), TEMP=str(scratch), TMP=str(scratch))
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-c",
            RUNNER,
            str(config),
            cwd=scratch,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            await asyncio.wait_for(process.wait(), self.timeout)
        except asyncio.TimeoutError:
            return Problem(
                "example_timeout",
                f"the example did not finish within {self.timeout:g} s (an endless loop, or waiting for input?)",
            )
        finally:
            _kill_group(process)
            with contextlib.suppress(ProcessLookupError):
                await process.wait()
        try:
            outcome = json.loads(result.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return Problem("example_failed", f"the example stopped the interpreter (exit code {process.returncode})")
        if outcome.get("ok"):
            return None
        return Problem("example_failed", "running the example failed: " + str(outcome.get("error"))[:_ERROR_CHARS])


def _kill_group(process: asyncio.subprocess.Process) -> None:
    """Kill the example's process group (it may have started children), or the process alone."""
    killpg = getattr(os, "killpg", None)
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        if killpg is not None:
            killpg(process.pid, signal.SIGKILL)
        elif process.returncode is None:
            process.kill()


# The whole check --------------------------------------------------------------------------------------------------


@dataclass
class ExampleCounts:
    """What happened to the examples of one object's answers (one per answer, so at most two)."""

    checked: int = 0
    run: int = 0
    passed: int = 0
    repaired: int = 0
    dropped: int = 0

    def fields(self) -> dict[str, int]:
        """The counters as `ObjectOutcome` fields."""
        return {f"examples_{name}": value for name, value in vars(self).items()}


async def check_example(
    text: str, obj: griffe.Object, package: griffe.Module, runner: ExampleRunner | None
) -> tuple[list[Problem], bool]:
    """Check one (sanitized) example statically, then run it when `runner` is given; return problems and ran.

    Without a runner (`run_examples: false`), a static pass is all there is, so a doctest, whose shown outputs
    only a run can confirm, is reported as unverifiable.
    """
    code = example_code(text)
    problems = static_problems(code, obj, package)
    if problems:
        return problems, False
    if runner is None:
        if code.doctest:
            detail = "the example shows outputs, which only a run can confirm (running examples is off): show code only"
            return [Problem("example_unverifiable", detail)], False
        return [], False
    problem = await runner.run(code)
    return ([problem] if problem is not None else []), True
