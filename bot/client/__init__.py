"""The producer client: create tasks, report progress and logs, obey a person's commands.

Reports and log lines are buffered in order, each stamped with the moment the caller made
it, and a background sender delivers them one request at a time, retrying network errors
and 5xx answers with capped, jittered exponential backoff. A server restart or a short
outage therefore loses nothing. `report()` returns once the server acknowledged it (so a
refusal raises there), or at once while the server is unreachable; `log()` never waits.
Refusals of buffered entries raise from the next call. `checkpoint()` is where a producer
honours pause, cancel, restart and approval. `TaskClient` is the same API for plain scripts.

Limits: at most `buffer_limit` (default 10,000) reports and log lines wait per task; when
that many are buffered, the next call waits up to `patience` seconds for room. A log
request whose answer is lost in transit is sent again, so a log line may be stored twice.
"""

from __future__ import annotations

from bot.client.connection import AsyncTaskClient, Backoff
from bot.client.errors import (
    Cancelled,
    ClientSetupError,
    Rejected,
    RequestRefused,
    Restarted,
    ServerUnreachable,
    TaskTalkError,
)
from bot.client.sync import Task, TaskClient
from bot.client.task import AsyncTask

__all__ = [
    "AsyncTask",
    "AsyncTaskClient",
    "Backoff",
    "Cancelled",
    "ClientSetupError",
    "Rejected",
    "RequestRefused",
    "Restarted",
    "ServerUnreachable",
    "Task",
    "TaskClient",
    "TaskTalkError",
]
