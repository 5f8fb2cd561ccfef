"""Telegram's flood limits, kept on our side so a busy bot is paced, not refused."""

from __future__ import annotations

from collections import OrderedDict

from bot.pacing import TokenBucket


class FloodControl:
    """Telegram's limits on what a bot posts: 30 messages a second overall, about one a
    second per chat (short bursts allowed) and 20 a minute per group."""

    BURST = 3
    MAX_CHATS = 10_000

    def __init__(self) -> None:
        self._overall = TokenBucket(30)
        self._chats: OrderedDict[str, TokenBucket] = OrderedDict()

    async def take(self, chat: str) -> None:
        bucket = self._chats.get(chat)
        if bucket is None:
            group = chat.startswith(("-", "@"))  # groups, supergroups and channels
            rate = 20 / 60 if group else 1.0
            bucket = self._chats[chat] = TokenBucket(rate, burst=self.BURST)
            while len(self._chats) > self.MAX_CHATS:
                self._chats.popitem(last=False)
        self._chats.move_to_end(chat)
        await bucket.take()
        await self._overall.take()
