"""What crosses the wire: JSON shapes, timestamps and the limits the client keeps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

Document = dict[str, Any]
StepSpec = str | Mapping[str, Any]
Substeps = Mapping[str, bool] | Sequence[Mapping[str, Any]]
ReportStatus = Literal["running", "completed", "failed", "skipped"]
LogLevel = Literal["debug", "info", "warning", "error", "critical"]

#: Log lines per request and their total characters, well inside the server's limits.
LOG_BATCH_LINES = 500
LOG_BATCH_CHARS = 200_000
#: Answers worth retrying: the server is there but can't answer now.
RETRY_STATUSES = frozenset({408, 425, 429})


def now_iso() -> str:
    """The caller's moment as ISO 8601 UTC with milliseconds, the precision the server keeps."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def substep_list(substeps: Substeps) -> list[dict[str, Any]]:
    if isinstance(substeps, Mapping):
        return [{"name": name, "done": done} for name, done in substeps.items()]
    return [dict(item) for item in substeps]


def error_field(data: Any, key: str) -> Any:
    error = data.get("error") if isinstance(data, dict) else None
    return error.get(key) if isinstance(error, dict) else None
