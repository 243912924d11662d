"""The per-build token ledger: worst-case reservations before each request, settlement from `usage`."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from mkdocs_ai_docstrings._internal.logger import logger

ALERT_THRESHOLDS = (0.5, 0.8, 1.0)


@dataclass
class Reservation:
    """Tokens set aside for one HTTP request."""

    tokens: int
    open: bool = True


class TokenLedger:
    """A hard ceiling on billed tokens: a request is sent only when its worst case fits.

    `spent + reserved <= budget` holds at every moment, and a reservation turns into spending
    only for the tokens the server says it billed, so billed usage can never exceed the budget.
    """

    def __init__(self, budget: int | None) -> None:
        self.budget = budget
        self.spent = 0
        self.reserved = 0
        self.refused = 0
        self._alerted: set[float] = set()
        self._lock = threading.Lock()

    @property
    def remaining(self) -> int | None:
        """Tokens still free, or `None` without a budget."""
        if self.budget is None:
            return None
        return max(0, self.budget - self.spent - self.reserved)

    def try_reserve(self, tokens: int) -> Reservation | None:
        """Reserve `tokens`, or return `None` when they do not fit in what is left."""
        with self._lock:
            if self.budget is not None and self.spent + self.reserved + tokens > self.budget:
                return None
            self.reserved += tokens
            return Reservation(tokens)

    async def reserve(self, tokens: int, *, poll: float = 0.02) -> Reservation | None:
        """Reserve `tokens`, waiting while open reservations may still free enough; `None` if they never can."""
        while True:
            reservation = self.try_reserve(tokens)
            if reservation is not None:
                return reservation
            with self._lock:
                hopeless = self.budget is None or self.reserved == 0 or self.spent + tokens > self.budget
                if hopeless:
                    self.refused += 1
                    if self.refused == 1:
                        self._alerted.update(ALERT_THRESHOLDS)  # lower alerts after exhaustion would come out of order
                        logger.warning(
                            "token budget exhausted (100%% alert): %d of %d tokens spent and the next request needs "
                            "up to %d; objects whose worst case does not fit are skipped",
                            self.spent,
                            self.budget,
                            tokens,
                        )
                    return None
            await asyncio.sleep(poll)

    def settle(self, reservation: Reservation, billed: int | None) -> None:
        """Turn a reservation into spending: `billed` tokens, or all of it when unknown."""
        with self._lock:
            if not reservation.open:
                return
            reservation.open = False
            self.reserved -= reservation.tokens
            self.spent += reservation.tokens if billed is None else billed
            self._alert()

    def release(self, reservation: Reservation) -> None:
        """Give a reservation back: the request was refused by the server and billed nothing."""
        self.settle(reservation, 0)

    def _alert(self) -> None:
        if not self.budget:
            return
        share = self.spent / self.budget
        for threshold in ALERT_THRESHOLDS:
            if share >= threshold and threshold not in self._alerted:
                self._alerted.add(threshold)
                logger.warning(
                    "token budget %d%% used: %d of %d tokens spent%s",
                    int(threshold * 100),
                    self.spent,
                    self.budget,
                    "; remaining objects are skipped" if threshold == 1.0 else "",
                )
