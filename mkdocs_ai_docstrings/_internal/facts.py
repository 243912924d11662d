"""What the code says about one griffe object: parameters, return value, yields, exceptions, attributes, callees.

These facts bound what a generated docstring may claim. They come from griffe's tree (signatures, members,
aliases) and from the object's own source parsed with `ast`; an object without parsable source gets neutral facts
(nothing claimed beyond its signature).

Variadic parameters are named `*args` and `**kwargs`: griffe's `Parameters` container strips leading stars when
it looks a name up, so its google, numpy and sphinx parsers accept `*args` (and `args`) in a parameters section
without a warning, and mkdocstrings shows the stars as in the signature.
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib
import inspect
import re
import sys
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import griffe

MAX_CALLEE_DEPTH = 2
"""How many call hops are followed when collecting the exceptions a callee can raise."""

_NO_VALUE_ANNOTATIONS = frozenset({"None", "NoReturn", "Never"})
_GENERATOR_ANNOTATIONS = frozenset({"Generator", "AsyncGenerator"})
_CATCH_ALL = frozenset({"Exception", "BaseException"})
_CLASS_LIKE_NAME = re.compile(r"^_?[A-Z][A-Za-z0-9_]*[a-z][A-Za-z0-9_]*$")
_GRIFFE_ERRORS = (griffe.GriffeError, KeyError, AttributeError, ValueError, OSError, TypeError)


def source_of(obj: griffe.Object) -> str:
    """The source code of `obj` as griffe reads it, or `""` when it has none or it cannot be read."""
    try:
        return obj.source or ""
    except (OSError, ValueError, TypeError):
        return ""


@dataclass(frozen=True)
class CodeFacts:
    """What the code of one object says, used to ground a generated docstring."""

    kind: str
    """`module`, `class`, `function`, `method`, `attribute` or `property`."""
    parameters: tuple[str, ...] = ()
    """Names to document, in signature order, without `self`/`cls`; variadic ones as `*args`/`**kwargs`."""
    returns_value: bool = False
    """The function returns a value (generators yield instead)."""
    is_generator: bool = False
    """The function body contains `yield` or `yield from` (async generators too)."""
    raises: tuple[str, ...] = ()
    """Display names (last dotted component) of the exceptions the object can let escape."""
    raise_paths: tuple[str, ...] = ()
    """Full paths of `raises`, same order; the display name when the exception cannot be resolved."""
    attributes: tuple[str, ...] = ()
    """Classes: public attribute members (class and instance attributes, properties) that are not constructor
    parameters."""
    callees: tuple[str, ...] = ()
    """Paths of the same package's functions, methods and classes this object calls (classes: bases + `__init__`)."""
    bases: tuple[str, ...] = ()
    """Classes: paths of the base classes, resolved as far as griffe can."""


@dataclass(frozen=True)
class _Raised:
    name: str
    path: str
    cls: griffe.Object | None = None


@dataclass
class _BodyAnalysis:
    has_source: bool = False
    returns_value: bool = False
    is_generator: bool = False
    raised: list[tuple[_Raised, frozenset[str]]] = field(default_factory=list)
    calls: list[tuple[griffe.Object, frozenset[str]]] = field(default_factory=list)


def object_kind(obj: griffe.Object) -> str:
    """Name the kind of an object: `module`, `class`, `function`, `method`, `attribute` or `property`."""
    if obj.is_function:
        return "method" if obj.parent is not None and obj.parent.is_class else "function"
    if obj.is_attribute:
        return "property" if "property" in obj.labels else "attribute"
    if obj.is_class:
        return "class"
    if obj.is_module:
        return "module"
    return "attribute"


def final_object(obj: griffe.Object) -> griffe.Object | None:
    """Follow an alias to its final target; `None` when it cannot be resolved."""
    if not obj.is_alias:
        return obj
    try:
        return obj.final_target
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None


def _caller_parameters(obj: griffe.Object) -> list[griffe.Parameter]:
    """The parameters of a function, method or class `__init__` a caller passes (`self` and `cls` left out)."""
    try:
        parameters = list(obj.parameters)
    except _GRIFFE_ERRORS:
        return []
    drop_first = obj.is_class or (
        obj.is_function and obj.parent is not None and obj.parent.is_class and "staticmethod" not in obj.labels
    )
    first_kinds = (griffe.ParameterKind.positional_only, griffe.ParameterKind.positional_or_keyword)
    if drop_first and parameters and parameters[0].kind in first_kinds:
        parameters = parameters[1:]
    return parameters


def is_required(parameter: griffe.Parameter) -> bool:
    """Whether a call must pass `parameter`: it has no default and is not `*args` or `**kwargs`."""
    return parameter.default is None and parameter.kind not in (
        griffe.ParameterKind.var_positional,
        griffe.ParameterKind.var_keyword,
    )


def parameter_names(obj: griffe.Object) -> tuple[str, ...]:
    """Parameters of a function, method or class `__init__` to document, in signature order."""
    names = []
    for parameter in _caller_parameters(obj):
        if parameter.kind is griffe.ParameterKind.var_positional:
            names.append(f"*{parameter.name}")
        elif parameter.kind is griffe.ParameterKind.var_keyword:
            names.append(f"**{parameter.name}")
        else:
            names.append(parameter.name)
    return tuple(names)


def code_facts(obj: griffe.Object) -> CodeFacts:
    """Collect what the code of `obj` says (neutral facts when its source is missing or unparsable)."""
    target = final_object(obj)
    if target is None:
        return CodeFacts(kind="attribute")
    kind = object_kind(target)
    memo: dict[str, _BodyAnalysis] = {}
    if kind in ("function", "method"):
        analysis = _analysis(target, memo)
        is_generator = analysis.is_generator
        if not analysis.has_source:
            is_generator = _annotation_base(target.returns) in _GENERATOR_ANNOTATIONS
        return CodeFacts(
            kind=kind,
            parameters=parameter_names(target),
            returns_value=_returns_value(target, analysis, is_generator),
            is_generator=is_generator,
            **_raise_fields(target, memo),
            callees=_unique(callee.path for callee, _ in analysis.calls),
        )
    if kind == "property":
        analysis = _analysis(target, memo)
        return CodeFacts(
            kind=kind, **_raise_fields(target, memo), callees=_unique(callee.path for callee, _ in analysis.calls)
        )
    if kind == "class":
        init = _init_method(target)
        init_calls = [callee.path for callee, _ in _analysis(init, memo).calls] if init is not None else []
        package_bases = [base.path for base in _resolved_bases(target) if _same_package(base, target)]
        parameters = parameter_names(target)
        return CodeFacts(
            kind=kind,
            parameters=parameters,
            **_raise_fields(target, memo),
            # An attribute that stores a constructor parameter is documented once, as the parameter: a class
            # with a dozen options otherwise costs the model (and the reader) every sentence twice.
            attributes=tuple(name for name in _public_attributes(target) if name not in parameters),
            callees=_unique([*package_bases, *init_calls]),
            bases=tuple(_base_path(base) for base in target.bases),
        )
    return CodeFacts(kind=kind)


# Source and body analysis ---------------------------------------------------------------------------------------


def _definition(obj: griffe.Object) -> ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | None:
    """Parse the object's own source and return its `def`/`class` node."""
    try:
        source = obj.source
    except _GRIFFE_ERRORS:
        return None
    if not source or not source.strip():
        return None
    candidates = [source]
    if source[:1].isspace():
        # `dedent` gives up when a multi-line string starts at column 0: wrap the indented block instead.
        candidates.append("if True:\n" + source)
    for text in candidates:
        tree = _parse(text)
        if tree is None:
            continue
        statements = tree.body
        if statements and isinstance(statements[0], ast.If) and text is not source:
            statements = statements[0].body
        definitions = [
            node for node in statements if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        ]
        for node in definitions:
            if node.name == obj.name:
                return node
        return definitions[0] if definitions else None
    return None


@functools.lru_cache(maxsize=4096)  # a class and its `__init__`, a callee followed for its raises: parsed once
def _parse(text: str) -> ast.Module | None:
    """The AST of `text` (shared: never modified), or `None` when it does not parse."""
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


class _BodyVisitor(ast.NodeVisitor):
    """Walk a function's own body (not nested functions, lambdas or classes) and record what it does."""

    def __init__(self) -> None:
        self.returns_value = False
        self.is_generator = False
        self.raised: list[tuple[str, frozenset[str]]] = []
        self.calls: list[tuple[str, frozenset[str]]] = []
        self.local_names: set[str] = set()
        self.local_imports: dict[str, tuple[int, str]] = {}
        self.exception_constructors: set[str] = set()
        self._caught: list[frozenset[str]] = []
        self._handlers: list[tuple[tuple[str, ...], str | None]] = []

    @property
    def caught(self) -> frozenset[str]:
        return frozenset().union(*self._caught)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.local_names.add(node.name)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.local_names.add(node.name)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.local_names.add(node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        return

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self.local_names.add(node.id)

    def visit_Import(self, node: ast.Import) -> None:
        for name in node.names:
            self.local_names.add((name.asname or name.name).split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for name in node.names:
            local = name.asname or name.name
            self.local_imports[local] = (node.level, f"{node.module}.{name.name}" if node.module else name.name)

    def visit_Try(self, node: ast.Try) -> None:
        handler_types = [_handler_types(handler) for handler in node.handlers]
        self._caught.append(frozenset(name for names in handler_types for name in names))
        for statement in node.body:
            self.visit(statement)
        self._caught.pop()
        for handler, names in zip(node.handlers, handler_types, strict=True):
            if handler.name:
                self.local_names.add(handler.name)
            self._handlers.append((names, handler.name))
            for statement in handler.body:
                self.visit(statement)
            self._handlers.pop()
        for statement in [*node.orelse, *node.finalbody]:
            self.visit(statement)

    visit_TryStar = visit_Try

    def visit_Raise(self, node: ast.Raise) -> None:
        if node.exc is None:
            if self._handlers:
                self.raised.extend((name, self.caught) for name in self._handlers[-1][0])
        elif isinstance(node.exc, ast.Name) and any(node.exc.id == bound for _, bound in self._handlers):
            names = next(names for names, bound in reversed(self._handlers) if bound == node.exc.id)
            self.raised.extend((name, self.caught) for name in names)
        elif isinstance(node.exc, ast.Call):
            dotted = _dotted(node.exc.func)
            if dotted is not None:
                self.raised.append((dotted, self.caught))
                self.exception_constructors.add(dotted)
        else:
            dotted = _dotted(node.exc)
            if dotted is not None:
                self.raised.append((dotted, self.caught))
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None and not (isinstance(node.value, ast.Constant) and node.value.value is None):
            self.returns_value = True
        self.generic_visit(node)

    def visit_Yield(self, node: ast.Yield) -> None:
        self.is_generator = True
        self.generic_visit(node)

    def visit_YieldFrom(self, node: ast.YieldFrom) -> None:
        self.is_generator = True
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        dotted = _dotted(node.func)
        if dotted is not None:
            self.calls.append((dotted, self.caught))
        self.generic_visit(node)


def _handler_types(handler: ast.ExceptHandler) -> tuple[str, ...]:
    if handler.type is None:
        return ("BaseException",)
    elements = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return tuple(name for name in map(_dotted, elements) if name)


def _dotted(expr: ast.expr) -> str | None:
    """`a.b.c` for a chain of attributes on a name; `super().m` for calls on `super()`; `None` otherwise."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
    elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "super" and not expr.args:
        parts.append("super()")
    else:
        return None
    return ".".join(reversed(parts))


def _analysis(obj: griffe.Object, memo: dict[str, _BodyAnalysis]) -> _BodyAnalysis:
    """Analyze the own body of a function, property getter or (through `__init__`) class; memoized by path."""
    if obj.path in memo:
        return memo[obj.path]
    memo[obj.path] = _BodyAnalysis()
    if obj.is_class:
        init = _init_method(obj)
        memo[obj.path] = _analysis(init, memo) if init is not None else _BodyAnalysis()
        return memo[obj.path]
    node = _definition(obj)
    if node is None or isinstance(node, ast.ClassDef):
        return memo[obj.path]
    visitor = _BodyVisitor()
    arguments = node.args
    for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]:
        if argument is not None:
            visitor.local_names.add(argument.arg)
    for statement in node.body:
        visitor.visit(statement)
    scope = _Scope(obj, visitor.local_names, visitor.local_imports)
    analysis = _BodyAnalysis(has_source=True, returns_value=visitor.returns_value, is_generator=visitor.is_generator)
    for dotted, caught in visitor.raised:
        raised = scope.exception(dotted)
        if raised is not None:
            analysis.raised.append((raised, caught))
    for dotted, caught in visitor.calls:
        callee = scope.callee(dotted)
        if callee is None or callee.path == obj.path:
            continue
        if callee.is_class and dotted in visitor.exception_constructors:
            # `raise Error(...)`: the exception class is what is raised, not a callee worth following.
            continue
        analysis.calls.append((callee, caught))
    memo[obj.path] = analysis
    return analysis


# Name resolution inside code -------------------------------------------------------------------------------------


class _Scope:
    """Resolve names used in a function body the way Python would: locals, module globals, builtins."""

    def __init__(self, function: griffe.Object, local_names: set[str], local_imports: dict[str, tuple[int, str]]):
        self.function = function
        self.local_names = local_names
        self.local_imports = local_imports

    def resolve(self, dotted: str) -> tuple[griffe.Object | None, str | None]:
        """Return the griffe object a dotted name denotes, or the external path it imports, or `(None, None)`."""
        head, *rest = dotted.split(".")
        parent = self.function.parent
        owner_class = parent if parent is not None and parent.is_class else None
        if head in ("self", "cls") and owner_class is not None and rest:
            return follow_members(owner_class, rest)
        if head == "cls" and owner_class is not None and "classmethod" in self.function.labels:
            return owner_class, owner_class.path
        if head == "super()" and owner_class is not None and rest:
            for ancestor in _mro(owner_class):
                if rest[0] in ancestor.members:
                    return follow_members(ancestor, rest)
            return None, None
        if head in self.local_imports:
            level, imported = self.local_imports[head]
            absolute = _absolute_import(self.function.module, level, imported)
            return _walk_path(self.function, [*absolute.split("."), *rest])
        if head in self.local_names:
            return None, None
        module = self.function.module
        if head in module.members:
            return follow_members(module, [head, *rest])
        return None, None

    def callee(self, dotted: str) -> griffe.Object | None:
        target, _ = self.resolve(dotted)
        if target is None or not (target.is_function or target.is_class):
            return None
        return target if _same_package(target, self.function) else None

    def exception(self, dotted: str) -> _Raised | None:
        display = dotted.rsplit(".", 1)[-1]
        target, external_path = self.resolve(dotted)
        if target is not None:
            return _Raised(target.name, target.path, target) if target.is_class else None
        if not _CLASS_LIKE_NAME.match(display):
            return None
        if external_path is not None:
            return _Raised(display, external_path)
        head = dotted.split(".")[0]
        if head in self.local_names:
            return None
        return _Raised(display, display)


def follow_members(start: griffe.Object, parts: Sequence[str]) -> tuple[griffe.Object | None, str | None]:
    """Walk the members named by `parts` from `start`, following aliases.

    Returns:
        The object reached and its path; `(None, path)` when an alias on the way points outside the loaded
        packages (its target path plus the remaining parts); `(None, None)` when a member does not exist.
    """
    current: griffe.Object = start
    for index, part in enumerate(parts):
        resolved = final_object(current)
        if resolved is None:
            return None, ".".join([current.target_path, *parts[index:]])
        members = _all_members(resolved)
        if part not in members:
            return None, None
        current = members[part]
    resolved = final_object(current)
    if resolved is None:
        return None, current.target_path
    return resolved, resolved.path


def _walk_path(scope: griffe.Object, parts: list[str]) -> tuple[griffe.Object | None, str | None]:
    """Walk an absolute dotted path from the modules collection."""
    try:
        modules = scope.modules_collection.members
    except _GRIFFE_ERRORS:
        return None, None
    if parts[0] not in modules:
        return None, ".".join(parts)
    return follow_members(modules[parts[0]], parts[1:])


def _absolute_import(module: griffe.Object, level: int, imported: str) -> str:
    if level == 0:
        return imported
    package_parts = module.path.split(".")
    if not module.is_init_module:
        package_parts = package_parts[:-1]
    if level > 1:
        package_parts = package_parts[: len(package_parts) - (level - 1)]
    return ".".join([*package_parts, imported])


_Value = TypeVar("_Value")


def _kept_on_object(compute: Callable[[griffe.Object], _Value]) -> Callable[[griffe.Object], _Value]:
    """`compute(obj)` once per griffe object, kept on the object itself (as griffe keeps its own `_source_link`).

    The value lives and goes with the loaded tree: a module-level cache keyed by the objects, even a weak one,
    kept every tree of a `mkdocs serve` session alive, since the cached members point back to their class. The
    tree does not change while a build reads these facts; an alias is never given the attribute (griffe would
    forward it to its target).
    """
    attribute = "_ai_docstrings_" + compute.__name__.lstrip("_")

    @functools.wraps(compute)
    def kept(obj: griffe.Object) -> _Value:
        if obj.is_alias:
            return compute(obj)
        try:
            return obj.__dict__[attribute]
        except KeyError:
            value = obj.__dict__[attribute] = compute(obj)
            return value

    return kept


@_kept_on_object
def _all_members(obj: griffe.Object) -> dict[str, griffe.Object]:
    """The object's members; a class's inherited ones too (read-only: shared between calls)."""
    if not obj.is_class:
        return obj.members  # type: ignore[return-value]
    try:
        return dict(obj.all_members)  # type: ignore[return-value]  # griffe makes new inherited aliases each call
    except _GRIFFE_ERRORS:
        return dict(obj.members)  # type: ignore[return-value]


def _mro(cls: griffe.Object) -> list[griffe.Object]:
    try:
        return list(cls.mro())
    except _GRIFFE_ERRORS:
        return []


def _resolved_bases(cls: griffe.Object) -> list[griffe.Object]:
    try:
        return list(cls.resolved_bases)
    except _GRIFFE_ERRORS:
        return []


def _same_package(obj: griffe.Object, other: griffe.Object) -> bool:
    return obj.path.split(".")[0] == other.path.split(".")[0]


def _init_method(cls: griffe.Object) -> griffe.Object | None:
    init = _all_members(cls).get("__init__")
    if init is None:
        return None
    init = final_object(init)
    return init if init is not None and init.is_function and _same_package(init, cls) else None


def _base_path(base: str | griffe.Expr) -> str:
    if isinstance(base, str):
        return base
    try:
        return str(base.canonical_path)
    except _GRIFFE_ERRORS:
        return str(base)


# Facts ----------------------------------------------------------------------------------------------------------


def _annotation_base(annotation: str | griffe.Expr | None) -> str | None:
    """`Iterator` for `typing.Iterator[int]`, `None` for `"None"`; `None` when there is no annotation."""
    if annotation is None:
        return None
    text = str(annotation).strip().strip("\"'").strip()
    if not text:
        return None
    return text.split("[", 1)[0].strip().rsplit(".", 1)[-1]


def _returns_value(function: griffe.Object, analysis: _BodyAnalysis, is_generator: bool) -> bool:
    if is_generator or function.name == "__init__":
        return False
    base = _annotation_base(function.returns)
    if base is not None:
        return base not in _NO_VALUE_ANNOTATIONS
    return analysis.returns_value


def _raise_fields(obj: griffe.Object, memo: dict[str, _BodyAnalysis]) -> dict[str, tuple[str, ...]]:
    raised: dict[str, str] = {}
    for exception in _escaping(obj, memo, depth=0, visiting=frozenset({obj.path})):
        raised.setdefault(exception.name, exception.path)
    return {"raises": tuple(raised), "raise_paths": tuple(raised.values())}


def _escaping(
    obj: griffe.Object, memo: dict[str, _BodyAnalysis], *, depth: int, visiting: frozenset[str]
) -> list[_Raised]:
    """Exceptions that can leave `obj`: raised in its body or by callees, minus those caught around them."""
    analysis = _analysis(obj, memo)
    escaping = [raised for raised, caught in analysis.raised if not _is_caught(raised, caught)]
    if depth < MAX_CALLEE_DEPTH:
        for callee, caught in analysis.calls:
            if callee.path in visiting:
                continue
            for raised in _escaping(callee, memo, depth=depth + 1, visiting=visiting | {callee.path}):
                if not _is_caught(raised, caught):
                    escaping.append(raised)
    return escaping


def _is_caught(raised: _Raised, caught: frozenset[str]) -> bool:
    if not caught:
        return False
    handler_names = {name.rsplit(".", 1)[-1] for name in caught}
    return bool(_ancestry(raised) & handler_names)


def _ancestry(raised: _Raised) -> set[str]:
    """Names of the exception's class and of all its base classes (as far as they are known)."""
    builtin = getattr(builtins, raised.name, None) if raised.path == raised.name else None
    if isinstance(builtin, type) and issubclass(builtin, BaseException):
        return {cls.__name__ for cls in builtin.__mro__}
    names = {raised.name, *_CATCH_ALL}
    if raised.cls is not None:
        for cls in [raised.cls, *_mro(raised.cls)]:
            names.add(cls.name)
            for base in cls.bases:
                base_name = _annotation_base(base) or ""
                names.add(base_name)
                base_builtin = getattr(builtins, base_name, None)
                if isinstance(base_builtin, type) and issubclass(base_builtin, BaseException):
                    names.update(ancestor.__name__ for ancestor in base_builtin.__mro__)
    return names


def _public_attributes(cls: griffe.Object) -> tuple[str, ...]:
    return tuple(
        name
        for name, member in cls.members.items()
        if not name.startswith("_") and not member.is_alias and member.is_attribute
    )


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


_NO_INSTANCE_BASES = frozenset({"ABC", "Protocol"})
"""Bases of a class an example cannot make an instance of."""


@_kept_on_object  # asked again for each method of the class, on the warm path too (completeness)
def _cannot_instantiate(cls: griffe.Object) -> bool:
    """Whether an example cannot make a working instance of `cls`: an ABC or a protocol, a class with abstract
    methods, or one declaring a class variable without a value (`name: ClassVar[str]`: each subclass sets it, and
    the methods of an instance of the class itself fail on it).
    """
    bases = {str(base).rsplit(".", 1)[-1].split("[", 1)[0] for base in cls.bases}
    if bases & _NO_INSTANCE_BASES:
        return True
    members = [member for member in cls.members.values() if not member.is_alias]
    return any("abstractmethod" in member.labels for member in members) or any(
        member.is_attribute and member.value is None and _declared_class_var(member) for member in members
    )


_CLASS_VAR = re.compile(r":\s*(?:typing\.)?ClassVar\b")


def _declared_class_var(attribute: griffe.Object) -> bool:
    """Whether `attribute` is declared `name: ClassVar[...]` (griffe's annotation drops the `ClassVar`)."""
    if "class-attribute" not in attribute.labels:
        return False
    try:
        return bool(_CLASS_VAR.search(attribute.source))
    except (OSError, ValueError, TypeError):
        return False


TYPING_MODULES = frozenset({"typing", "typing_extensions", "collections.abc", "builtins", "types", "abc"})
"""Annotations from these modules are not built by an example (`Sequence`, `Any`): no import line, no value."""
_LITERAL_STDLIB_TYPES = frozenset(
    {
        "pathlib.Path",
        "pathlib.PurePath",
        "pathlib.PurePosixPath",
        "os.PathLike",
        "datetime.date",
        "datetime.datetime",
        "datetime.time",
        "datetime.timedelta",
        "decimal.Decimal",
        "fractions.Fraction",
        "re.Pattern",
        "io.StringIO",
        "io.BytesIO",
        "uuid.UUID",
        "collections.OrderedDict",
        "collections.Counter",
        "collections.defaultdict",
        "collections.deque",
    }
)
"""Standard library types an example builds from a literal in one call (`Path("a.txt")`, `Decimal("1.5")`)."""


def _buildable(annotation: object, package: str) -> bool:
    """Whether an example can pass a value of this annotation built from literals, importing nothing but the
    package and the standard library: a builtin or a container of anything (`[]` will do), a typing construct,
    `None` in a union, a callable (a lambda), the package's own type, a standard library type built from a
    literal (`Path("a")`) or without arguments (`CookieJar()`). Unknown names (`T`, a string) count as buildable.
    `package` is the top-level package's name.
    """
    if isinstance(annotation, griffe.ExprBinOp) and annotation.operator == "|":
        return _buildable(annotation.left, package) or _buildable(annotation.right, package)
    if isinstance(annotation, griffe.ExprSubscript):
        head = annotation.left
        last = (
            head.canonical_path.rsplit(".", 1)[-1] if isinstance(head, (griffe.ExprName, griffe.ExprAttribute)) else ""
        )
        elements = annotation.slice.elements if isinstance(annotation.slice, griffe.ExprTuple) else [annotation.slice]
        if last == "Union":
            return any(_buildable(element, package) for element in elements)
        if last == "Annotated":
            return _buildable(elements[0], package)
        return _buildable(head, package)  # `Optional[...]`, `Callable[...]`, `list[...]`: their head decides
    if isinstance(annotation, (griffe.ExprName, griffe.ExprAttribute)):
        return _buildable_type(annotation.canonical_path, package)
    return True


def _buildable_type(path: str, package: str) -> bool:
    module, _, _ = path.rpartition(".")
    top = module.split(".", 1)[0]
    if not module or module in TYPING_MODULES or path in _LITERAL_STDLIB_TYPES or top == package:
        return True
    return top in sys.stdlib_module_names and top not in _IMPORT_EFFECTS and _made_without_arguments(path)


_IMPORT_EFFECTS = frozenset({"antigravity", "this", "turtle", "turtledemo", "tkinter", "idlelib", "__main__"})
"""Standard library modules whose import does something (opens a browser, prints, starts a GUI): never imported."""


@functools.lru_cache(maxsize=256)
def _made_without_arguments(path: str) -> bool:
    """Whether the standard library class at `path` can be called with no argument (`CookieJar()`, not
    `LogRecord(...)`, which takes seven). Standard library modules only: the package's code is never imported.
    """
    module, _, name = path.rpartition(".")
    if module not in sys.modules and any(part.startswith("_") for part in module.split(".")):
        return False  # `__phello__` prints, `unittest.__main__` runs the tests, when imported
    try:
        cls = getattr(importlib.import_module(module), name)
        signature = inspect.signature(cls)
    except (ImportError, AttributeError, TypeError, ValueError):
        return False
    return all(
        parameter.default is not inspect.Parameter.empty
        or parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        for parameter in signature.parameters.values()
    )


@_kept_on_object  # asked again of a class for each of its methods
def _needs_an_object(function: griffe.Object) -> bool:
    """Whether a required parameter of `function` (or of a class's constructor) takes a value an example cannot
    build from literals (`record: LogRecord`, `md: Markdown`): told to import only the standard library and the
    package, a small model then passes `...` or a name it never defines, and the repair fails the same way.
    """
    if function.is_class:  # its own constructor: an inherited one costs griffe's member inheritance to find
        init = function.members.get("__init__")
        if init is None or init.is_alias or not init.is_function:
            return False
        function = init
    package = function.package.path
    return any(
        is_required(parameter) and not _buildable(parameter.annotation, package)
        for parameter in _caller_parameters(function)
    )


def worth_an_example(obj: griffe.Object) -> bool:
    """Whether a usage example of `obj` can be worth a request: not a private or special helper (`_split`,
    `__repr__`, or anything inside a private class), not an abstract class or protocol nor one of its methods
    (an example cannot make the instance it needs), not a class with a public method worth an example (the
    method's example makes the instance and shows what it is for; the class's would only make it), not a
    module's function taking no argument that is only called (`print(f())` shows nothing), not a function whose
    body only raises (`raise NotImplementedError`: its example could only show the error), not a function (or a
    method of a class) whose required argument cannot be built from literals (`record: LogRecord`). An example
    left out is fine; a broken one is not.
    """
    if obj.is_class and (
        _cannot_instantiate(obj)
        or any(
            member.is_function and not member.is_alias and worth_an_example(member) for member in obj.members.values()
        )
    ):
        return False
    owner: griffe.Object | None = obj
    while owner is not None and not owner.is_module:
        if owner.name.startswith("_"):
            return False
        owner = owner.parent
    if obj.is_function and _only_raises(obj):
        return False
    if _needs_an_object(obj):
        return False
    parent = obj.parent
    if obj.is_function and parent is not None and parent.is_class:
        instance_needed = "staticmethod" not in obj.labels and "classmethod" not in obj.labels
        return not _cannot_instantiate(parent) and not (instance_needed and _needs_an_object(parent))
    if obj.is_function and not parameter_names(obj):
        return _used_in_a_block(obj)
    return True


def _only_raises(function: griffe.Object) -> bool:
    """Whether the body of `function` is one `raise` statement (a docstring aside)."""
    try:
        source = function.source
    except (OSError, AttributeError):
        return False
    if "raise" not in source:  # most functions: no parse (publishing a cached answer asks this of every object)
        return False
    try:
        tree = ast.parse(textwrap.dedent(source))
    except (SyntaxError, ValueError):
        return False
    node = tree.body[0] if tree.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return len(body) == 1 and isinstance(body[0], ast.Raise)


def _used_in_a_block(function: griffe.Object) -> bool:
    """Whether a function taking no argument is used other than called (`with f():`, `for x in f():`).

    Otherwise its example would be `print(f())`, which says nothing the signature does not: not worth a request.
    """
    decorators = " ".join(str(decorator.value) for decorator in function.decorators)
    return "contextmanager" in decorators or code_facts(function).is_generator
