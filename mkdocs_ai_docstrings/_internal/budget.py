"""The per-build token ledger: worst-case reservations before each request, settlement from `usage`."""

from __future__ import annotations

import contextvars
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mkdocs_ai_docstrings._internal.logger import logger

if TYPE_CHECKING:
    import asyncio

ALERT_THRESHOLDS = (0.5, 0.8, 1.0)

RATIO_MARGIN = 0.02
"""Safety margin on the learned ratio of server to local prompt counts (prompts vary a little)."""


ON_RESERVED: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar("on_reserved", default=None)
"""Called (in the reserving task's context) after each reservation it obtains: lets a scheduler hand the next job
its turn only once this one holds its tokens."""


@dataclass
class Reservation:
    """Tokens set aside for one HTTP request."""

    tokens: int
    open: bool = True


class PromptRatio:
    """Learns how the server counts prompt tokens compared with the local counter.

    `size(local)` is the local count scaled by the largest ratio seen so far (never below 1.0), plus a small
    margin once a ratio above 1.0 was seen; so when the server counts more than the client, reservations grow.
    """

    def __init__(self) -> None:
        self.ratio = 1.0
        """The largest server/local ratio observed (at least 1.0)."""
        self.observations = 0

    def observe(self, server: int, local: int) -> None:
        """Record the server's `prompt_tokens` for a prompt the client counted as `local`."""
        if local <= 0 or server <= 0:
            return
        self.observations += 1
        self.ratio = max(self.ratio, server / local)

    def size(self, local: int) -> int:
        """Prompt tokens to reserve for a prompt counted locally as `local`."""
        factor = self.ratio * (1 + RATIO_MARGIN) if self.ratio > 1.0 else 1.0
        return math.ceil(local * factor)


class TokenLedger:
    """A hard ceiling on billed tokens: a request is sent only when its worst case fits.

    `spent + possibly_billed + reserved <= budget` holds whenever the server bills no more than the reservation,
    and reservations learn the server's counting from its responses. `spent` is what the server reported as billed;
    `possibly_billed` holds the reservations of requests whose outcome is unknown (timed out or lost after they were
    sent): they stay counted against the ceiling, but are not reported as spent. A request that never reached the
    server is released and costs nothing.
    """

    def __init__(self, budget: int | None) -> None:
        self.budget = budget
        self.spent = 0
        self.possibly_billed = 0
        self.reserved = 0
        self.refused = 0
        self.overshoot = 0
        """Tokens billed beyond their reservation, added over all responses."""
        self.calibrated = False
        """Whether a response has shown how the server counts (until then, a budgeted build sends one at a time)."""
        self._alerted: set[float] = set()
        self._lock = threading.Lock()
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def committed(self) -> int:
        """Tokens that count against the ceiling for good: billed plus possibly billed."""
        return self.spent + self.possibly_billed

    @property
    def remaining(self) -> int | None:
        """Tokens still free, or `None` without a budget."""
        if self.budget is None:
            return None
        return max(0, self.budget - self.committed - self.reserved)

    def try_reserve(self, tokens: int) -> Reservation | None:
        """Reserve `tokens`, or return `None` when they do not fit in what is left."""
        with self._lock:
            return self._try_reserve(tokens)

    def _try_reserve(self, tokens: int) -> Reservation | None:
        if self.budget is not None and self.committed + self.reserved + tokens > self.budget:
            return None
        self.reserved += tokens
        return Reservation(tokens)

    async def reserve(self, tokens: int | Callable[[], int]) -> Reservation | None:
        """Reserve tokens, waiting (woken on every settlement) while open reservations may free enough.

        `tokens` may be a callable, asked again after every wake-up (reservations learn the server's counting).
        Under a budget, while no response has shown how the server counts, only one request is reserved at a
        time. Returns `None` at once when the request can never fit.
        """
        while True:
            size = tokens() if callable(tokens) else tokens
            with self._lock:
                calibrating = self.budget is not None and not self.calibrated and self.reserved > 0
                if not calibrating:
                    reservation = self._try_reserve(size)
                    if reservation is not None:
                        if (on_reserved := ON_RESERVED.get()) is not None:
                            on_reserved()
                        return reservation
                    if self.budget is None or self.reserved == 0 or self.committed + size > self.budget:
                        self._refuse(size)
                        return None
                import asyncio  # imported when a request is waited for: a warm build runs no event loop

                waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
            try:
                await waiter
            finally:
                with self._lock:
                    if waiter in self._waiters:
                        self._waiters.remove(waiter)

    def _refuse(self, tokens: int) -> None:
        self.refused += 1
        if self.refused == 1:
            self._alerted.update(ALERT_THRESHOLDS)  # lower alerts after exhaustion would come out of order
            logger.warning(
                "token budget exhausted (100%% alert): %d of %d tokens spent%s and the next request needs up to %d; "
                "objects whose worst case does not fit are skipped",
                self.spent,
                self.budget,
                f" (+{self.possibly_billed} possibly billed)" if self.possibly_billed else "",
                tokens,
            )

    def settle(self, reservation: Reservation, billed: int | None) -> int:
        """Turn a reservation into spending: `billed` tokens, or all of it when unknown; return the overshoot.

        The overshoot is what the server billed beyond the reservation (0 when it stayed within).
        """
        with self._lock:
            if not reservation.open:
                return 0
            reservation.open = False
            self.reserved -= reservation.tokens
            charged = reservation.tokens if billed is None else billed
            self.spent += charged
            over = max(0, charged - reservation.tokens)
            self.overshoot += over
            if billed is not None and billed > 0:
                self.calibrated = True
            self._alert()
            self._wake()
            return over

    def settle_unknown(self, reservation: Reservation) -> None:
        """The request was sent but its outcome is unknown: keep its reservation as possibly billed."""
        with self._lock:
            if not reservation.open:
                return
            reservation.open = False
            self.reserved -= reservation.tokens
            self.possibly_billed += reservation.tokens
            self._alert()
            self._wake()

    def release(self, reservation: Reservation) -> None:
        """Give a reservation back: the request never reached the server, or was refused and billed nothing."""
        with self._lock:
            if not reservation.open:
                return
            reservation.open = False
            self.reserved -= reservation.tokens
            self._wake()

    def calibrate(self) -> None:
        """Note that the server answered (with or without usage): later requests need not go one at a time."""
        with self._lock:
            self.calibrated = True
            self._wake()

    def _wake(self) -> None:
        """Wake every waiting reservation (called with the lock held; safe from any thread)."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.get_loop().call_soon_threadsafe(_resolve, waiter)

    def _alert(self) -> None:
        if not self.budget:
            return
        share = self.committed / self.budget
        for threshold in ALERT_THRESHOLDS:
            if share >= threshold and threshold not in self._alerted:
                self._alerted.add(threshold)
                logger.warning(
                    "token budget %d%% used: %d of %d tokens spent%s%s",
                    int(threshold * 100),
                    self.spent,
                    self.budget,
                    f" (+{self.possibly_billed} possibly billed)" if self.possibly_billed else "",
                    "; remaining objects are skipped" if threshold == 1.0 else "",
                )


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
