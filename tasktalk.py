"""`import tasktalk`: the producer client under the distribution's own name.

The code lives in `bot.client`; this module only gives producers the import they expect
(`from tasktalk import TaskClient`).
"""

from __future__ import annotations

from bot.client import (
    AsyncTask,
    AsyncTaskClient,
    Backoff,
    Cancelled,
    ClientSetupError,
    Rejected,
    RequestRefused,
    Restarted,
    ServerUnreachable,
    Task,
    TaskClient,
    TaskTalkError,
)

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
