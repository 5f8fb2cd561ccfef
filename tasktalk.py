"""`import tasktalk`: the producer client under the distribution's own name.

The code lives in `bot.client`; this module only gives producers the import they expect
(`from tasktalk import TaskClient`), re-exporting exactly what `bot.client` exports.
"""

from __future__ import annotations

from bot.client import *  # noqa: F403 - the re-export is the point
from bot.client import __all__ as __all__
