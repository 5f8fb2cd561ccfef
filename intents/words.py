"""Word lists for finding the task phrase: what is command or filler, what is a pronoun."""

from __future__ import annotations

from intents.lexicon import COMMON_WORDS, VOCABULARY, words

#: Kept in a task phrase ("my CRM task", "the crm one") but naming nothing on their own.
DETERMINERS: frozenset[str] = frozenset(
    {"my", "the", "our", "task", "one", "job", "thing", "work", "project", "process"}
)
#: Point back at the task last talked about.
PRONOUNS: frozenset[str] = frozenset({"it", "its", "that", "this", "them", "those"})
#: Hints about which of several same-named tasks: older or newer.
OLDER: frozenset[str] = frozenset({"old", "older", "previous", "yesterday", "earlier", "prior"})
NEWER: frozenset[str] = frozenset(
    {"new", "newer", "latest", "current", "today", "newest", "recent", "todays"}
)
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
    "halted": "paused",
    "suspended": "paused",
    "approval": "approval",
}
#: Kept in a task phrase but naming nothing by themselves.
MODIFIERS: frozenset[str] = OLDER | NEWER | frozenset(STATUS_WORDS)

#: "this morning", "that week": a time, not a task.
TIME_WORDS: frozenset[str] = frozenset(
    {"morning", "afternoon", "evening", "week", "weekend", "hour", "minute", "time", "year"}
)

#: Everyday subjects people ask a chat bot about that are never one of their tasks:
#: "how's the weather", "tell me about the football" are small talk, not status questions.
OFF_TOPIC: frozenset[str] = words(
    """
    weather forecast temperature rain snow sun traffic joke jokes lunch dinner breakfast food
    coffee tea pizza beer music song songs movie movies film game games match score football
    soccer basketball baseball cricket life family kids wife husband mom dad weekend holiday
    holidays vacation stock stocks market bitcoin crypto president election news cup league
    tournament olympics password laptop computer printer wifi pasta recipe meeting meetings
    standup appointment dentist doctor machine kitchen office place restaurant restaurants pub
    bar gym bot chatbot
    """
)

#: Words that never name a task: command words, question words, filler.
JUNK: frozenset[str] = (COMMON_WORDS | VOCABULARY | TIME_WORDS) - (
    DETERMINERS | PRONOUNS | MODIFIERS | {"email", "report", "build", "import", "export"}
) | {":", "q"}
