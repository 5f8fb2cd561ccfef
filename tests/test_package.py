"""The installed distribution: `import tasktalk` gives producers the client."""

from __future__ import annotations

import subprocess
import sys

import bot.client
import tasktalk


def test_tasktalk_exports_the_client() -> None:
    assert tasktalk.TaskClient is bot.client.TaskClient
    assert tasktalk.AsyncTaskClient is bot.client.AsyncTaskClient
    assert set(tasktalk.__all__) == set(bot.client.__all__)


def test_console_script_lists_every_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("serve", "demo", "token", "db", "watch", "run"):
        assert command in result.stdout
