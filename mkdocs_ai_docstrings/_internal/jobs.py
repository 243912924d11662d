"""What one build step works on: a job (one candidate) and the package it belongs to."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import griffe

from mkdocs_ai_docstrings._internal.discovery import Candidate, human_documented
from mkdocs_ai_docstrings._internal.facts import CodeFacts, code_facts
from mkdocs_ai_docstrings._internal.fingerprint import code_fingerprint
from mkdocs_ai_docstrings._internal.render import render_docstring
from mkdocs_ai_docstrings._internal.report import ObjectOutcome, Status
from mkdocs_ai_docstrings._internal.secrets import redact_source
from mkdocs_ai_docstrings._internal.session import BuildSession

if TYPE_CHECKING:
    from mkdocs_ai_docstrings._internal.examples import ExampleRunner
    from mkdocs_ai_docstrings._internal.request import PreparedRequest
    from mkdocs_ai_docstrings._internal.secrets import Redaction


@dataclass
class Job:
    """One candidate with what the pipeline computed for it (its facts: on first use, since a locked one needs none)."""

    candidate: Candidate
    priority: tuple[int, ...] = ()
    deps: list[str] = field(default_factory=list)
    fingerprint: str | None = None
    """`code_fingerprint` of the object, computed (or found in the warm path's memo) once the lock file needs it."""
    raw_facts: CodeFacts | None = None
    """`code_facts` of the object, before improve mode narrows them: computed once, or found in the warm path's memo."""
    _facts: CodeFacts | None = None

    @property
    def facts(self) -> CodeFacts:
        """What the code says, in improve mode narrowed to the sections the human docstring lacks."""
        if self._facts is None:
            if self.raw_facts is None:
                self.raw_facts = code_facts(self.candidate.obj)
            facts = self.raw_facts
            if self.candidate.improve:
                facts = dataclasses.replace(
                    facts,
                    parameters=self.candidate.missing_parameters,
                    returns_value=self.candidate.missing_returns,
                    is_generator=False,
                    raises=(),
                    attributes=(),
                )
            self._facts = facts
        return self._facts

    @property
    def mode(self) -> str:
        """`improve` (complete a human docstring) or `generate`."""
        return "improve" if self.candidate.improve else "generate"

    def code_fingerprint(self) -> str:
        """The object's code fingerprint (computed once)."""
        if self.fingerprint is None:
            self.fingerprint = code_fingerprint(self.candidate.obj, self.facts, mode=self.mode)
        return self.fingerprint


class AnswerRoute(Protocol):
    """Another route for a build's answers (the `batch` command): told the plan, consulted instead of the model."""

    def planned(self, context: PackageContext, job: Job, request: PreparedRequest, result: ObjectOutcome) -> None:
        """A dry run planned (or, under the budget, left out) `request`: the exact request a live build sends."""

    async def answer(self, context: PackageContext, job: Job, request: PreparedRequest) -> ObjectOutcome:
        """The outcome of `job` with the answer this route has for `request`, in place of the live call."""
        ...


_ROUTE: list[AnswerRoute] = []


@contextlib.contextmanager
def answer_route(route: AnswerRoute) -> Iterator[None]:
    """Builds started inside this block (in this process) take their answers from `route`, not from the model."""
    _ROUTE.append(route)
    try:
        yield
    finally:
        _ROUTE.remove(route)


class PackageContext:
    """One package's build: the session, the docstring parser and style, and the human docstrings to imitate."""

    def __init__(self, session: BuildSession, package: griffe.Module, loader: Any = None) -> None:
        self.session = session
        self.settings = session.settings
        self.package = package
        self.loader = loader
        parser = getattr(loader, "docstring_parser", None) if loader is not None else None
        self.parser: griffe.Parser | str = parser if parser is not None else griffe.Parser.google
        self.parser_options: dict[str, Any] = (
            dict(getattr(loader, "docstring_options", None) or {}) if loader is not None else {}
        )
        self.style = self.parser.value if isinstance(self.parser, griffe.Parser) else str(self.parser)
        self.documented: Sequence[griffe.Object] = human_documented(package, self.settings)
        """Objects with human docstrings (style examples), found before this build attaches any AI text."""
        self.example_runner: ExampleRunner | None = None
        self.route: AnswerRoute | None = _ROUTE[-1] if _ROUTE else None
        """Where answers come from instead of the model (`answer_route`); `None`: the live call."""

    def redacted(self, text: str) -> Redaction:
        """`text` as a prompt may carry it: credentials redacted (when enabled) and, always, this build's key."""
        return redact_source(text, self.session.secrets, detect=self.settings.redact_secrets)

    def render(self, answer: Any, obj: griffe.Object) -> str:
        """An answer as docstring text in the site's style."""
        returns = str(obj.returns) if obj.is_function and obj.returns else None
        return render_docstring(answer, self.style, return_annotation=returns, yield_annotation=returns)


def outcome(job: Job, status: Status, reason: str | None = None, **fields: Any) -> ObjectOutcome:
    """The outcome record of `job`."""
    candidate = job.candidate
    return ObjectOutcome(
        path=candidate.public_path,
        kind=candidate.kind,
        status=status,
        reason=reason,
        canonical_path=candidate.path,
        **fields,
    )
