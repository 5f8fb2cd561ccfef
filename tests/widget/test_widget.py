"""The widget in headless Chromium against the running app: chat, live Progress View,
controls, reconnect catch-up, approval, phone width and the one-time sign-in link."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import aiohttp
import pytest
from playwright.async_api import expect

from tests.conftest import CRM_TASK
from tests.widget.conftest import WidgetServer, needs_chromium

pytestmark = [needs_chromium, pytest.mark.browser]
WAIT_MS = 10_000


async def open_page(browser: Any, server: WidgetServer, **options: Any) -> Any:
    context = await browser.new_context(**options)
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return page


async def sign_in(page: Any, server: WidgetServer) -> None:
    await page.goto(server.url + "/")
    await page.locator("#tt-token").fill(server.alice)
    await page.keyboard.press("Enter")
    await page.locator(".tt-root[data-connection=live]").wait_for()
    await page.locator(".tt-progress, .tt-empty").first.wait_for()


async def create_task(server: WidgetServer, **changes: Any) -> str:
    response = await server.client.post(
        "/api/tasks", json={**CRM_TASK, **changes}, headers=server.auth()
    )
    assert response.status == 201
    task_id: str = (await response.json())["task_id"]
    return task_id


async def report(server: WidgetServer, task_id: str, order: int, **body: Any) -> dict[str, Any]:
    response = await server.client.patch(
        f"/api/tasks/{task_id}/steps/{order}", json=body, headers=server.auth()
    )
    assert response.status == 200, await response.text()
    document: dict[str, Any] = (await response.json())["task"]
    return document


async def progress(server: WidgetServer, task_id: str) -> dict[str, Any]:
    response = await server.client.get(f"/api/tasks/{task_id}/progress", headers=server.auth())
    document: dict[str, Any] = await response.json()
    return document


async def eventually(check: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    assert await check()


async def test_chat_answers_how_is_my_crm_task_going(browser: Any, server: WidgetServer) -> None:
    task_id = await create_task(server)
    await report(server, task_id, 1, status="completed")
    await report(server, task_id, 2, status="running", progress=50)
    page = await open_page(browser, server)
    await sign_in(page, server)

    await page.locator("#tt-chat-input").fill("How's my CRM task going?")
    await page.keyboard.press("Enter")
    reply = page.locator(".tt-msg-bot .tt-msg-text").first
    await reply.wait_for()

    expected = await server.client.post(
        "/api/chat",
        json={"text": "How's my CRM task going?", "conversation": "check"},
        headers=server.auth(),
    )
    first = (await expected.json())["replies"][0]
    shown = await reply.text_content() or ""
    # The same words, but the estimate may have moved between the two answers.
    assert _without_eta(shown) == _without_eta(first["text"])
    assert "ETA" in shown
    assert "Cellphone Store CRM" in first["text"]
    labels = await page.locator(".tt-msg-bot .tt-chat-button").all_text_contents()
    assert labels == [button["label"] for button in first["buttons"]]
    assert await page.locator(".tt-msg-you .tt-msg-text").text_content() == (
        "How's my CRM task going?"
    )
    assert page.errors == []


def _without_eta(text: str) -> list[str]:
    return [line for line in text.splitlines() if "ETA" not in line]


async def test_bar_moves_while_the_producer_reports(browser: Any, server: WidgetServer) -> None:
    task_id = await create_task(server)
    page = await open_page(browser, server)
    await sign_in(page, server)
    bar = page.locator(".tt-progress .tt-bar")
    await page.locator(".tt-progress .tt-step").wait_for()
    assert await page.locator(".tt-progress .tt-step").text_content() == (
        "Step 1 of 4: Create database tables"
    )

    seen = []
    await report(server, task_id, 1, status="running")
    for percent in (30, 60, 100):
        body: dict[str, Any] = {"progress": percent}
        if percent == 100:
            body["status"] = "completed"
        document = await report(server, task_id, 1, **body)
        await page.locator(
            f'.tt-progress .tt-bar[aria-valuenow="{document["progress"]}"]'
        ).wait_for()
        seen.append(await bar.get_attribute("aria-valuenow"))
    assert [int(p) for p in seen] == sorted(int(p) for p in seen)
    assert int(seen[-1]) > int(seen[0])

    await report(
        server,
        task_id,
        2,
        status="running",
        progress=50,
        substeps=[{"name": "Customer list", "done": True}, {"name": "Product list", "done": True}],
    )
    await page.locator(".tt-progress .tt-step", has_text="Step 2 of 4").wait_for()
    marks = page.locator(".tt-substep .tt-mark")
    await expect(page.locator('.tt-substep[data-mark="done"]')).to_have_count(2)
    assert [m.strip() for m in await marks.all_text_contents()] == ["✓", "✓", "◐", "○"]
    assert await page.locator(".tt-progress .tt-step").text_content() == (
        "Step 2 of 4: Generate application UI"
    )
    assert (await page.locator(".tt-started").text_content() or "").startswith("Started: ")
    assert (await page.locator(".tt-state").text_content() or "").startswith("ETA: ")
    assert page.errors == []


async def test_pause_button_pauses_the_task(browser: Any, server: WidgetServer) -> None:
    task_id = await create_task(server)
    await report(server, task_id, 1, status="running", progress=10)
    page = await open_page(browser, server)
    await sign_in(page, server)

    pause = page.get_by_role("button", name="Pause", exact=True)
    await pause.focus()
    await page.keyboard.press("Enter")  # a <button>: the keyboard presses it like a click

    async def paused() -> bool:
        return bool((await progress(server, task_id))["status"] == "paused")

    await eventually(paused)
    await page.locator(".tt-state", has_text="⏸ Paused").wait_for()
    await page.get_by_role("button", name="Resume", exact=True).wait_for()
    assert await page.get_by_role("button", name="Pause", exact=True).count() == 0
    assert page.errors == []


async def test_reconnect_catches_up_every_event_exactly_once(
    browser: Any, server: WidgetServer
) -> None:
    task_id = await create_task(server)
    page = await open_page(browser, server)
    await sign_in(page, server)
    await report(server, task_id, 1, status="running", progress=10)
    await page.locator(".tt-activity li").first.wait_for(state="attached")

    # Drop the socket and hold reconnects on a dead port while events are committed.
    await page.evaluate(
        """() => {
          const Real = window.WebSocket;
          window.__RealWebSocket = Real;
          window.WebSocket = function () { return new Real("ws://127.0.0.1:9/"); };
          TaskTalk.widgets[0].socket.close();
        }"""
    )
    await page.locator(".tt-root[data-connection=offline]").wait_for(state="attached")
    for percent in (40, 70):
        await report(server, task_id, 1, progress=percent)
    await report(server, task_id, 1, status="completed")
    await report(server, task_id, 2, status="running", progress=20)
    await page.evaluate("() => { window.WebSocket = window.__RealWebSocket; }")

    final = await progress(server, task_id)
    await page.locator(".tt-root[data-connection=live]").wait_for(state="attached")
    await page.locator(f'.tt-bar[aria-valuenow="{final["progress"]}"]').wait_for()
    await page.locator(".tt-progress .tt-step", has_text="Step 2 of 4").wait_for()

    expected = await _all_event_seqs(server)
    shown = [
        int(s)
        for s in await page.locator(".tt-activity li").evaluate_all(
            "items => items.map(i => i.dataset.seq)"
        )
    ]
    assert len(shown) == len(set(shown)), "an event was shown twice"
    first = min(shown)
    assert sorted(shown) == [seq for seq in expected if seq >= first], "an event was missed"
    assert page.errors == []


async def _all_event_seqs(server: WidgetServer) -> list[int]:
    url = server.url.replace("http", "ws", 1) + "/ws/tasks?since=0"
    seqs = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, headers=server.auth()) as ws,
    ):
        async for message in ws:
            data = message.json()
            if data["type"] == "ready":
                break
            seqs.append(int(data["seq"]))
    return seqs


async def test_approve_a_waiting_step_from_the_page(browser: Any, server: WidgetServer) -> None:
    task_id = await create_task(server)
    await report(server, task_id, 1, status="completed")
    await report(server, task_id, 2, status="completed")
    waiting = await report(server, task_id, 3, status="running")
    assert waiting["status"] == "approval"
    page = await open_page(browser, server)
    await sign_in(page, server)

    await page.locator(".tt-state", has_text="⚠ Waiting for your approval: Step 3").wait_for()
    await page.locator(".tt-substep, .tt-step").first.wait_for()
    await page.get_by_role("button", name="Reject step 3").wait_for()
    await page.get_by_role("button", name="Approve step 3").click()

    async def approved() -> bool:
        return bool((await progress(server, task_id))["steps"][2]["status"] == "running")

    await eventually(approved)
    await page.locator('.tt-progress[data-status="running"]').wait_for()
    assert await page.get_by_role("button", name="Approve step 3").count() == 0
    assert page.errors == []


async def test_a_phone_screen_has_no_horizontal_scroll(browser: Any, server: WidgetServer) -> None:
    long_title = "Cellphone Store CRM with an extraordinarily long title " + "X" * 80
    task_id = await create_task(server, title=long_title)
    await report(server, task_id, 2, status="running", progress=40)
    page = await open_page(browser, server, viewport={"width": 375, "height": 740})
    await sign_in(page, server)
    await page.locator("#tt-chat-input").fill("How's my CRM task going? " + "Y" * 120)
    await page.keyboard.press("Enter")
    await page.locator(".tt-msg-bot").first.wait_for()

    widths = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
        " document.body.scrollWidth]"
    )
    assert widths[0] <= 375 and widths[1] == 375 and widths[2] <= 375, widths
    box = await page.locator(".tt-progress").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375


async def test_the_one_time_login_link_works_once(browser: Any, server: WidgetServer) -> None:
    cli = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "token",
        "create",
        "carol",
        "--link",
        "--url",
        server.url,
        "--database",
        server.database_url,
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await asyncio.wait_for(cli.communicate(), 60)
    assert cli.returncode == 0
    link = output.decode().strip()
    assert link.startswith(server.url + "/#login=")

    page = await open_page(browser, server)
    await page.goto(link)
    await page.locator(".tt-who", has_text="carol").wait_for()
    assert await page.evaluate("location.hash") == ""
    stored = await page.evaluate("Object.entries(localStorage)")
    assert len(stored) == 1 and stored[0][1].startswith("tt_")
    me = await server.client.get("/api/me", headers=server.auth(stored[0][1]))
    assert (await me.json())["name"] == "carol"

    again = await open_page(browser, server)
    await again.goto(link)
    await again.locator(".tt-signin .tt-error", has_text="already used").wait_for()
    assert await again.evaluate("Object.keys(localStorage).length") == 0
    assert page.errors == [] and again.errors == []


async def test_server_text_is_shown_as_text_never_markup(
    browser: Any, server: WidgetServer
) -> None:
    title = '<img src=x onerror="window.__xss = 1"><b>CRM</b>'
    task_id = await create_task(server, title=title)
    await report(server, task_id, 1, status="running", progress=5)
    page = await open_page(browser, server)
    await sign_in(page, server)
    await page.locator(".tt-progress-title").wait_for()
    assert await page.locator(".tt-progress-title").text_content() == title
    assert await page.locator(".tt-progress img, .tt-tasks img, .tt-progress b").count() == 0
    await page.locator("#tt-chat-input").fill("status of <script>window.__xss = 2</script>")
    await page.keyboard.press("Enter")
    await page.locator(".tt-msg-bot").first.wait_for()
    assert await page.locator(".tt-chat-log script").count() == 0
    assert await page.evaluate("window.__xss") is None
