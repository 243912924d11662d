"""The one estimate of a request's tokens and cost, used by the dry run and by the build's plan alike."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mkdocs_ai_docstrings._internal.prices import Price, estimate_cost
from mkdocs_ai_docstrings._internal.request import PreparedRequest
from mkdocs_ai_docstrings._internal.schema import wire_format
from mkdocs_ai_docstrings._internal.session import BuildSession

EXPECTED_FIELD_TOKENS = {"summary": 15, "description": 25, "returns": 25, "yields": 25}
"""Guess of the completion tokens each answer field takes (key and JSON syntax included).

Calibrated on usage billed for schema answers (the emulator's: 35 tokens for summary and description together,
26 for returns or yields, about 30 per named item), rounded up for real models' longer prose.
"""
EXPECTED_EXAMPLE_TOKENS = 25
"""Guess of an example answer's completion tokens (its code block; models often offer none)."""
EXPECTED_OTHER_FIELD_TOKENS = 20
"""Guess for an answer field not listed in `EXPECTED_FIELD_TOKENS`."""
EXPECTED_ITEM_TOKENS = 30
"""Guess per entry of a list of named items (one entry per parameter, exception or attribute)."""
EXPECTED_ANSWER_OVERHEAD = 5
"""Guess of the answer's own JSON syntax (braces)."""

QUOTE_MARGIN = 2.0
"""Worst-case allowance for a quoted callee docstring, as a multiple of its expected size."""
QUOTED_SUMMARY_TOKENS = 30
"""Expected size of a quoted callee docstring: prompts quote its first paragraph (a summary sentence), at most
the whole docstring."""


@dataclass(frozen=True)
class Estimate:
    """What one request is expected to cost, and the most it may reserve."""

    expected: int
    """Best-estimate prompt + completion tokens."""
    worst: int
    """The reservation's worst case: the provable prompt over-count plus `max_completion_tokens`."""
    cost: float | None
    """Expected cost (`None` when the price is unknown)."""
    completion: int = 0
    """The expected completion tokens (about the size of the docstring the answer becomes)."""
    worst_per_token: float = 1.0
    """Reserved prompt tokens per expected prompt token (the reservation counter over-counts when it must)."""

    def quoting(self, docstring_tokens: int, cap: int, price: Price | None) -> Estimate:
        """This estimate once the prompt quotes docstrings expected to take `docstring_tokens` (callees generated
        before it); the worst case allows them `QUOTE_MARGIN` times that, at most `cap` (their output caps)."""
        if docstring_tokens <= 0:
            return self
        expected = self.expected + docstring_tokens
        worst = self.worst + math.ceil(min(cap, QUOTE_MARGIN * docstring_tokens) * self.worst_per_token)
        cost = estimate_cost(price, prompt_tokens=expected - self.completion, completion_tokens=self.completion)
        return dataclasses.replace(self, expected=expected, worst=worst, cost=cost)

    def with_example(self, example: Estimate) -> Estimate:
        """This estimate once the example request that follows an accepted docstring is added to what is expected.

        The worst case stays the docstring's own: an example request that does not fit is left out, and the
        docstring is published without an example.
        """
        expected = self.expected + example.expected
        cost = None if self.cost is None or example.cost is None else self.cost + example.cost
        return dataclasses.replace(self, expected=expected, cost=cost)


def estimate_example(session: BuildSession, request: PreparedRequest, messages: list[dict[str, str]]) -> Estimate:
    """Estimate the example request of `request`'s object from its `messages` before the docstring is known.

    The accepted summary and parameter texts it will quote are left out, and so is the example's code beyond
    the field itself: models often offer no example, and a plan that counts on tokens the build does not spend
    lists too little (calibrated on `bench/plan_vs_build.py`: expected within about 10% of billed).
    """
    prompt = session.estimate_counter.count_messages(messages)  # plain text: no schema sent
    completion = min(request.max_tokens, EXPECTED_EXAMPLE_TOKENS)
    cost = estimate_cost(session.price, prompt_tokens=prompt, completion_tokens=completion)
    return Estimate(expected=prompt + completion, worst=prompt + completion, cost=cost, completion=completion)


def estimate(session: BuildSession, request: PreparedRequest) -> Estimate:
    """Estimate the tokens and cost of sending `request` once."""
    settings = session.settings
    wire = wire_format(request.schema, request.mode)
    prompt = session.estimate_counter.count_messages(request.messages, extra=wire)
    completion = min(request.max_tokens, expected_completion(request.schema))
    local = session.reservation_counter.count_messages(request.messages, extra=wire)
    client = session.client  # once responses came in, it scales reservations by how the server counts
    worst = client.reservation_size(local) if client is not None else local + settings.max_completion_tokens
    cost = estimate_cost(session.price, prompt_tokens=prompt, completion_tokens=completion)
    scale = (worst - settings.max_completion_tokens) / prompt if prompt > 0 else 1.0
    return Estimate(
        expected=prompt + completion, worst=worst, cost=cost, completion=completion, worst_per_token=max(1.0, scale)
    )


FIRST_ANSWER_CAP = (1.5, 40)
"""A first docstring answer is capped at `1.5 * expected + 40` tokens (at most `max_completion_tokens`): above the
answers seen from a real model that stopped by themselves (largest: 243 tokens, 1.45 times its expected 168,
against a cap of 292), while a small model's description running on until the cap (seen: 6 of 12 objects of
`pygments.util` and `markdown.util`, 280 tokens each under an earlier `4 * expected + 100`; 7 of 9 of urllib3's
`Url` under `2 * expected + 60`) stops early and is kept to its first sentences, or left empty
(`call.closed_prefix`): the description comes last and is kept to two sentences anyway. The retry gets the whole
`max_completion_tokens`."""


def first_answer_cap(schema: Mapping[str, Any] | None, ceiling: int) -> int:
    """The output cap of the first request for an answer to `schema`: see `FIRST_ANSWER_CAP`."""
    if schema is None:
        return ceiling
    factor, slack = FIRST_ANSWER_CAP
    return min(ceiling, int(factor * expected_completion(schema)) + slack)


def expected_completion(schema: Mapping[str, Any]) -> int:
    """Guess the completion tokens of an answer from its schema: a share per field, and per named item."""
    total = EXPECTED_ANSWER_OVERHEAD
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, Mapping) and prop.get("type") == "array":
            item = (prop.get("items") or {}).get("properties") or {}
            names = next((p["enum"] for p in item.values() if isinstance(p.get("enum"), list)), [None])
            total += 3 + EXPECTED_ITEM_TOKENS * len(names)
        else:
            total += EXPECTED_FIELD_TOKENS.get(name, EXPECTED_OTHER_FIELD_TOKENS)
    return total
