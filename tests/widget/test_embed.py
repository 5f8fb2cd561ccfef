"""The widget embedded with one script tag on another site, browser notifications for the
person's web subscriptions, a server restart, and no token in any log line."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.bot.server_process import ServerProcess, free_port
from tests.conftest import CRM_TASK
from tests.widget.conftest import WidgetServer, launch_chromium, needs_chromium, start_widget_server
from tests.widget.test_widget import create_task, open_page, report, sign_in

pytestmark = [needs_chromium, pytest.mark.browser]

FAKE_NOTIFICATIONS = """
window.__asked = 0;
window.__shown = [];
let permission = "default";
function FakeNotification(title, options) {
  window.__shown.push({ title: title, body: options && options.body });
}
Object.defineProperty(FakeNotification, "permission", { get: () => permission });
FakeNotification.requestPermission = () => {
  window.__asked += 1;
  permission = "granted";
  return Promise.resolve("granted");
};
window.Notification = FakeNotification;
"""


async def _host_page(script_src: str, port: int) -> TestServer:
    """Another site (another origin) whose page carries only the widget's script tag."""
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Shop</title></head><body><h1>Cellphone Store</h1>"
        f'<script src="{script_src}" data-title="Tasks" defer></script></body></html>'
    )

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    site = TestServer(app, host="127.0.0.1", port=port)
    await site.start_server()
    return site


async def test_embedded_on_another_origin(tmp_path: Path) -> None:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    server = await start_widget_server(tmp_path, {"server.allowed_origins": [origin]})
    site = await _host_page(server.url + "/widget.js", port)
    try:
        task_id = await create_task(server)
        async with launch_chromium() as browser:
            page = await open_page(browser, server, viewport={"width": 375, "height": 740})
            await page.goto(origin + "/")
            launcher = page.get_by_role("button", name="Tasks")
            await launcher.click()
            await page.locator("#tt-token").fill(server.alice)
            await page.keyboard.press("Enter")
            await page.locator(".tt-root[data-connection=live]").wait_for()
            await page.locator(".tt-progress").wait_for()

            document = await report(server, task_id, 1, status="running", progress=50)
            await page.locator(f'.tt-bar[aria-valuenow="{document["progress"]}"]').wait_for()
            await page.locator("#tt-chat-input").fill("How's my CRM task going?")
            await page.keyboard.press("Enter")
            await page.locator(".tt-msg-bot", has_text="Cellphone Store CRM").wait_for()
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375

            await page.keyboard.press("Escape")
            assert await page.locator(".tt-root").is_hidden()
            assert await launcher.evaluate("b => b === document.activeElement")
            assert page.errors == []
            await page.context.close()
    finally:
        await site.close()
        await server.client.close()


async def test_notifications_for_web_subscriptions_after_a_click(
    browser: Any, server: WidgetServer
) -> None:
    task_id = await create_task(server)
    page = await open_page(browser, server)
    await page.add_init_script(FAKE_NOTIFICATIONS)
    await sign_in(page, server)
    assert await page.evaluate("window.__asked") == 0  # never asked on load

    await page.get_by_role("button", name="Turn on notifications").click()
    assert await page.evaluate("window.__asked") == 1
    await page.get_by_role("button", name="Turn on notifications").wait_for(state="hidden")

    async def web_subscription() -> list[dict[str, Any]]:
        found = await server.client.get("/api/subscriptions", headers=server.auth())
        return [s for s in await found.json() if s["channel"] == "web"]

    for _ in range(100):
        if await web_subscription():
            break
        await asyncio.sleep(0.05)
    assert "approval_needed" in (await web_subscription())[0]["events"]
    await page.wait_for_function("TaskTalk.widgets[0].webSubscriptions.length === 1")

    await report(server, task_id, 1, status="completed")  # step_complete: not subscribed
    await report(server, task_id, 2, status="completed")
    await report(server, task_id, 3, status="running")  # approval_needed: subscribed
    await page.locator(".tt-state", has_text="Waiting for your approval").wait_for()
    shown = await page.evaluate("window.__shown")
    assert shown == [
        {"title": "Cellphone Store CRM", "body": "Approval needed: Step 3 Add search and filters"}
    ]


async def test_a_server_restart_loses_nothing(tmp_path: Path) -> None:
    process = ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'restart.db'}", tmp_path)
    token = await process.token("alice")
    await process.start()
    try:
        async with launch_chromium() as browser:
            context = await browser.new_context()
            page = await context.new_page()
            page.set_default_timeout(15_000)
            await page.goto(process.url + "/")
            await page.locator("#tt-token").fill(token)
            await page.keyboard.press("Enter")
            await page.locator(".tt-root[data-connection=live]").wait_for()
            client = _Client(process.url, token)
            task_id = await client.create()
            await client.report(task_id, 1, {"status": "running", "progress": 10})
            await page.locator('.tt-bar[aria-valuenow="3"]').wait_for()

            process.kill()  # a crash; a graceful stop waits for open WebSockets
            await page.locator(".tt-root[data-connection=offline]").wait_for(state="attached")
            await process.start()
            for percent in (40, 80):  # committed before the widget is back
                await client.report(task_id, 1, {"progress": percent})
            final = await client.report(task_id, 1, {"status": "completed"})

            await page.locator(".tt-root[data-connection=live]").wait_for(state="attached")
            await page.locator(f'.tt-bar[aria-valuenow="{final["progress"]}"]').wait_for()
            shown = await page.locator(".tt-activity li").evaluate_all(
                "items => items.map(i => Number(i.dataset.seq))"
            )
            expected = await client.seqs()
            assert len(shown) == len(set(shown))
            assert sorted(shown) == [s for s in expected if s >= min(shown)]
            await context.close()
    finally:
        process.stop()


class _Client:
    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"}

    async def create(self) -> str:
        import aiohttp

        async with (
            aiohttp.ClientSession(headers=self.headers) as session,
            session.post(f"{self.url}/api/tasks", json=CRM_TASK) as response,
        ):
            task_id: str = (await response.json())["task_id"]
            return task_id

    async def report(self, task_id: str, order: int, body: dict[str, Any]) -> dict[str, Any]:
        import aiohttp

        url = f"{self.url}/api/tasks/{task_id}/steps/{order}"
        async with (
            aiohttp.ClientSession(headers=self.headers) as session,
            session.patch(url, json=body) as response,
        ):
            assert response.status == 200, await response.text()
            task: dict[str, Any] = (await response.json())["task"]
            return task

    async def seqs(self) -> list[int]:
        import aiohttp

        url = self.url.replace("http", "ws", 1) + "/ws/tasks?since=0"
        seqs = []
        async with (
            aiohttp.ClientSession(headers=self.headers) as session,
            session.ws_connect(url) as ws,
        ):
            async for message in ws:
                data = message.json()
                if data["type"] == "ready":
                    break
                seqs.append(int(data["seq"]))
        return seqs


async def test_no_token_is_ever_logged(
    browser: Any, server: WidgetServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    task_id = await create_task(server)
    page = await open_page(browser, server)
    await sign_in(page, server)
    await report(server, task_id, 1, status="running", progress=20)
    await page.locator("#tt-chat-input").fill("pause my CRM task")
    await page.keyboard.press("Enter")
    await page.locator(".tt-msg-bot").first.wait_for()
    await page.evaluate("TaskTalk.widgets[0].socket.close()")
    await page.locator(".tt-root[data-connection=live]").wait_for(state="attached")
    await page.context.close()
    assert caplog.records
    for record in caplog.records:
        assert server.alice not in record.getMessage()
        assert server.alice[3:] not in str(record.args)
