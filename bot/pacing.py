"""Pacing sends under a channel's rate limits: a token bucket per channel and per recipient.

Waiting here is pacing that we chose, measured in milliseconds; a channel that still
answers 429 gets its rows rescheduled instead (see bot/notifier.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

#: Just below the stated limit: with a burst of one, any 1-second window then holds at most
#: `limit` sends, and late wake-ups only lengthen the gaps.
MARGIN = 0.99
MAX_RECIPIENTS = 10_000


class TokenBucket:
    def __init__(self, rate: float, burst: float = 1.0) -> None:
        self.rate = rate * MARGIN
        self.burst = burst
        self._tokens = burst
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        """Wait until a send is allowed, then spend it (first come, first served)."""
        async with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens < 1:
                await asyncio.sleep((1 - self._tokens) / self.rate)
                self._tokens = 1
                self._stamp = time.monotonic()
            self._tokens -= 1


class Pacer:
    """One channel's overall bucket plus a bucket per recipient, made on demand."""

    def __init__(self, rate: float | None, recipient_rate: float | None) -> None:
        self._overall = TokenBucket(rate) if rate else None
        self._recipient_rate = recipient_rate
        self._recipients: OrderedDict[str, TokenBucket] = OrderedDict()

    async def take(self, recipient: str) -> None:
        if self._recipient_rate:
            bucket = self._recipients.get(recipient)
            if bucket is None:
                bucket = self._recipients[recipient] = TokenBucket(self._recipient_rate)
                while len(self._recipients) > MAX_RECIPIENTS:
                    self._recipients.popitem(last=False)
            self._recipients.move_to_end(recipient)
            await bucket.take()
        if self._overall is not None:
            await self._overall.take()
