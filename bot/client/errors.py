"""What the client raises: setup mistakes, an unreachable server, refusals, and people's
decisions (cancel, restart, reject) that a producer must act on."""

from __future__ import annotations


class TaskTalkError(Exception):
    """Base of every error this client raises."""


class ClientSetupError(TaskTalkError, ValueError):
    """The server address or the token is missing."""


class ServerUnreachable(TaskTalkError):
    """No answer from the server where one was needed."""

    def __init__(self, server: str, reason: str, detail: str = "") -> None:
        super().__init__(f"Can't reach tasktalk at {server}: {reason}{detail}")
        self.server = server
        self.reason = reason


class RequestRefused(TaskTalkError):
    """A 4xx answer: a bug in the call, or a state of the task that forbids it (409)."""

    def __init__(
        self, method: str, path: str, status: int, code: str, message: str, field: str | None
    ) -> None:
        where = f" (field {field})" if field else ""
        super().__init__(f"{method} {path} refused with {status} {code}{where}: {message}")
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.message = message
        self.field = field


class Cancelled(TaskTalkError):
    """A person cancelled the task: stop working on it."""

    def __init__(self, task_id: str, message: str) -> None:
        super().__init__(message)
        self.task_id = task_id


class Restarted(Cancelled):
    """A person restarted the task: this one is cancelled; start over on `new_task_id`."""

    def __init__(self, task_id: str, new_task_id: str, message: str) -> None:
        super().__init__(task_id, message)
        self.new_task_id = new_task_id


class Rejected(TaskTalkError):
    """A person rejected a step that needed approval; `reason` says why."""

    def __init__(self, task_id: str, step: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.task_id = task_id
        self.step = step
        self.reason = reason


class _NoAnswer(Exception):
    """One attempt got no usable answer (network error, timeout, 5xx): worth retrying."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
