"""What the person means: text -> intents (`parse`), task phrase -> task (`resolve`).

Pure functions over data: no database, no I/O, no engine or bot imports. The conversation
calls `parse(text)` once per message and hands each `Intent` (the match object) to its
handler; `resolve(intent.reference, candidates, last_task_id, fits=intent.fitting_statuses)`
then names the task, or says it is ambiguous (ask, with `options`) or unknown.

Decisions:
- "Cancel my CRM task and start over" is ONE restart: the engine's restart already is
  "cancel and start over as a new attempt", so one command, one confirmation, and no
  half-done state if the second command were refused.
- Greetings, thanks and filler give way to any real command in the same message.
- A pronoun or a missing task in a compound borrows the task named in the message
  ("pause the build and show me its logs": both on "the build").
- Never guess: equal matches are AMBIGUOUS unless an id, a hint ("old", "paused"), being
  the only active one or the only one the command fits tells them apart. `Resolution.clear`
  is False when only activity, fit, a typo match or the lone active task decided, so a
  destructive intent (`Intent.destructive`) asks for confirmation first.
"""

from __future__ import annotations

from intents.model import DESTRUCTIVE, TASK_INTENTS, Intent, IntentName, StepRef
from intents.parsing import parse
from intents.resolution import Basis, Candidate, CandidateIndex, Outcome, Resolution, resolve

__all__ = [
    "DESTRUCTIVE",
    "TASK_INTENTS",
    "Basis",
    "Candidate",
    "CandidateIndex",
    "Intent",
    "IntentName",
    "Outcome",
    "Resolution",
    "StepRef",
    "parse",
    "resolve",
]
