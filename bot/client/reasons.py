"""Why a connection failed, in the operating system's words ("connection refused").

Shared by the producer client and the CLI's session, so both say the same thing and a
person can look the words up.
"""

from __future__ import annotations

import errno
import os
import re

_ERRNO = re.compile(r"\[Errno (\d+)\]")


def why_unreachable(error: BaseException) -> str:
    """The reason a connection attempt failed, lower-cased, for "can't reach … (reason)"."""
    if isinstance(error, TimeoutError):
        return os.strerror(errno.ETIMEDOUT).lower()
    cause = getattr(error, "os_error", error)
    if isinstance(cause, OSError):
        if cause.errno is not None and cause.errno > 0:
            return os.strerror(cause.errno).lower()
        if cause.strerror:
            return cause.strerror.lower()
    text = str(error) or type(error).__name__
    numbered = _ERRNO.search(text)  # "Multiple exceptions: [Errno 111] ..." (IPv6 and IPv4)
    if numbered:
        return os.strerror(int(numbered.group(1))).lower()
    return text[:1].lower() + text[1:]
