"""The widget in real headless Chromium (Debian's), driven by Playwright, against the app.

Browser tests skip, saying why, when /usr/bin/chromium is missing (`apt-get install chromium`).
Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from tests.app_setup import app_settings, user_tokens

CHROMIUM = os.environ.get("TASKTALK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
HAVE_CHROMIUM = Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is not None


def _needs_chromium() -> Any:
    return pytest.mark.skipif(
        not HAVE_CHROMIUM,
        reason=f"Chromium not found at {CHROMIUM}: apt-get install -y chromium "
        "(or set TASKTALK_CHROMIUM)",
    )


needs_chromium = _needs_chromium()


@dataclass
class WidgetServer:
    """The whole app on 127.0.0.1 with a token for alice."""

    client: TestClient[Any, Any]
    alice: str
    database_url: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return str(self.client.make_url("")).rstrip("/")

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.alice}"}


async def start_widget_server(
    tmp_path: Path, overrides: dict[str, Any] | None = None
) -> WidgetServer:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'tasktalk.db'}"
    settings = app_settings(database_url, {"websocket.poll_seconds": 0.2, **(overrides or {})})
    server = TestServer(build_app(settings), host="127.0.0.1")
    await server.start_server(access_log=None)  # as `tasktalk serve` runs it
    client: TestClient[Any, Any] = TestClient(server)
    [alice] = await user_tokens(database_url, "alice")
    return WidgetServer(client, alice, database_url)


@pytest.fixture
async def server(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[WidgetServer]:
    """Settings overrides may come from indirect parametrisation."""
    running = await start_widget_server(tmp_path, getattr(request, "param", None))
    yield running
    await running.client.close()


@pytest.fixture
async def browser(server: WidgetServer) -> AsyncIterator[Any]:
    """Chromium, closed before the server so no WebSocket holds the server's shutdown."""
    async with launch_chromium() as launched:
        yield launched


@asynccontextmanager
async def launch_chromium() -> AsyncIterator[Any]:
    if not HAVE_CHROMIUM:
        pytest.skip(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()
