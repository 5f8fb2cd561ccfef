"""Word lists for finding the task phrase: what is command or filler, what is a pronoun."""

from __future__ import annotations

from intents.text import COMMON_WORDS, VOCABULARY

#: Kept in a task phrase ("my CRM task", "the crm one") but naming nothing on their own.
DETERMINERS: frozenset[str] = frozenset(
    {"my", "the", "our", "task", "one", "job", "thing", "work", "project", "process"}
)
#: Point back at the task last talked about.
PRONOUNS: frozenset[str] = frozenset({"it", "its", "that", "this", "them", "those"})
#: Hints about which of several same-named tasks: older or newer.
OLDER: frozenset[str] = frozenset({"old", "older", "previous", "yesterday", "earlier", "prior"})
NEWER: frozenset[str] = frozenset({"new", "newer", "latest", "current", "today", "newest"})
#: "the paused deploy": a status word picks among same-named tasks.
STATUS_WORDS: dict[str, str] = {
    "paused": "paused",
    "running": "running",
    "active": "running",
    "failed": "failed",
    "failing": "failed",
    "broken": "failed",
    "completed": "completed",
    "finished": "completed",
    "done": "completed",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "pending": "pending",
    "queued": "pending",
}
#: Kept in a task phrase but naming nothing by themselves.
MODIFIERS: frozenset[str] = OLDER | NEWER | frozenset(STATUS_WORDS)

#: "this morning", "that week": a time, not a task.
TIME_WORDS: frozenset[str] = frozenset(
    {"morning", "afternoon", "evening", "week", "weekend", "hour", "minute", "time", "year"}
)

#: Words that never name a task: command words, question words, filler.
JUNK: frozenset[str] = (COMMON_WORDS | VOCABULARY | TIME_WORDS) - (
    DETERMINERS | PRONOUNS | MODIFIERS | {"email", "report", "build", "import", "export"}
) | {":", "q"}
