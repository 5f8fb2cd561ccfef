"""`tasktalk ask "How's my CRM task going?"`: one chat message to a running server.

Consecutive asks share one conversation (the server keeps it per user), so "pause it" after
"how's the CRM going?" means the CRM task. Buttons are listed under each reply; answering a
question by typing ("the second one", "yes") works as in any chat.
"""

from __future__ import annotations

from typing import Any, TextIO

from bot.api_session import ApiSession
from bot.client_options import ClientOptions
from bot.plain_text import render


async def ask(options: ClientOptions, text: str, conversation: str | None, out: TextIO) -> int:
    body: dict[str, Any] = {"text": text}
    if conversation:
        body["conversation"] = conversation
    async with ApiSession(options) as session:
        answer = await session.post("/api/chat", body)
    out.write(render("ask.txt.j2", replies=answer.get("replies", [])))
    return 0
