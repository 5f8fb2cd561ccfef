"""`tasktalk demo`: the server on SQLite plus the spec's CRM task, run through the client.

Everything a newcomer needs in one command: a demo user and token, the URLs, a few
finished sample tasks (so estimates have history), and the Cellphone Store CRM task
reported with realistic pacing. The task has an idempotency key, so running the demo
again picks the same task up where it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from datetime import UTC, datetime, timedelta

from aiohttp import web

from bot.api_session import ApiRefused, ApiSession
from bot.app import build_app
from bot.client import AsyncTask, AsyncTaskClient, Cancelled, Rejected, Restarted
from bot.client_options import ClientOptions, local_server
from bot.demo_plan import CRM_STEPS, SAMPLE_RUNS, crm_task_body, total_seconds
from bot.plain_text import render
from bot.settings import Settings
from engine.accounts import create_token
from engine.clock import SystemClock
from engine.database import open_database
from engine.login_codes import create_login_code
from engine.migrate import upgrade

DEMO_USER = "demo"


async def run_demo(settings: Settings, *, speed: float, approve_after: float | None) -> None:
    """Serve, seed, run the CRM task; returns when it finishes or on Ctrl-C (cancellation)."""
    token, login = await _demo_token(settings)
    runner = web.AppRunner(build_app(settings), access_log=None)
    await runner.setup()
    host, port = settings.server.host, settings.server.port
    await web.TCPSite(runner, host, port).start()
    base = local_server(host, port)  # 0.0.0.0 is where it listens, not where to connect
    try:
        _say(
            "banner",
            base=base,
            user=DEMO_USER,
            token=token,
            login=login,
            seconds=total_seconds(speed),
        )
        async with ApiSession(ClientOptions(base, token)) as api:
            await _import_samples(api)
            async with AsyncTaskClient(base, token) as client:
                await _run_crm(client, api, token, speed, approve_after)
        _say("finished")
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def _demo_token(settings: Settings) -> tuple[str, str]:
    """A token for the CLI lines and a one-time sign-in code for the web page."""
    database = open_database(settings.database.url)
    try:
        await upgrade(database)
        async with database.write() as conn:
            now = SystemClock().now()
            token = await create_token(conn, DEMO_USER, now, "tasktalk demo")
            login = await create_login_code(conn, DEMO_USER, now, "tasktalk demo page")
            return token, login
    finally:
        await database.dispose()


async def _run_crm(
    client: AsyncTaskClient,
    api: ApiSession,
    token: str,
    speed: float,
    approve_after: float | None,
) -> None:
    base = api.server
    body = crm_task_body()
    task = await client.create_task(
        body["title"],
        body["steps"],
        kind=body["kind"],
        complexity=body["complexity"],
        idempotency_key=body["idempotency_key"],
    )
    while task.document.get("next_task_id"):  # restarted since: follow to the newest attempt
        task = await client.task(task.document["next_task_id"])
    if task.document["status"] in ("completed", "cancelled"):
        _say("fresh_attempt")
        restarted = await api.post(f"/api/tasks/{task.id}/restart")
        task = await client.task(restarted["task_id"])
    document = task.document
    _say(
        "task",
        task_id=task.id,
        status=document["status"],
        progress=document["progress"],
        base=base,
        token=token,
    )
    while True:
        try:
            await _report_steps(task, api, token, speed, approve_after)
            return
        except Restarted as restarted:
            _say("restarted", task_id=restarted.new_task_id)
            task = await client.task(restarted.new_task_id)
        except Cancelled:
            _say("cancelled")
            return
        except Rejected as rejected:
            _say("rejected", order=rejected.step, reason=rejected.reason)
            return


async def _report_steps(
    task: AsyncTask, api: ApiSession, token: str, speed: float, approve_after: float | None
) -> None:
    for order, step in enumerate(CRM_STEPS, 1):
        current = task.document["steps"][order - 1]
        if current["status"] in ("completed", "skipped"):
            continue
        await task.checkpoint()
        await task.start(order)
        if step.requires_approval:
            _say("approval", order=order, token=token, base=api.server, task_id=task.id)
            approver = None
            if approve_after is not None:
                approver = asyncio.create_task(_approve_later(api, task.id, order, approve_after))
            try:
                await task.checkpoint()
            finally:
                if approver is not None:
                    approver.cancel()
        done = {s["name"] for s in current.get("substeps", []) if s["done"]}
        await _work(task, order, step.seconds / speed, step.substeps, done, step.logs)
        await task.complete(order)
        await task.checkpoint()


async def _work(
    task: AsyncTask,
    order: int,
    seconds: float,
    substeps: tuple[str, ...],
    done: set[str],
    logs: tuple[str, ...],
) -> None:
    """Advance the step in ticks, finishing substeps and logging along the way."""
    ticks = max(4, int(seconds))
    todo = [name for name in substeps if name not in done]
    logged = 0
    for tick in range(1, ticks + 1):
        await asyncio.sleep(seconds / ticks * random.uniform(0.8, 1.2))
        states = []
        if todo:
            finished = int(len(todo) * tick / ticks)
            states = [{"name": name, "done": i < finished} for i, name in enumerate(todo)]
            if finished < len(todo):
                states[finished] = {"name": todo[finished], "status": "running"}
        base_done = len(done) / len(substeps) if substeps else 0.0
        percent = min(99.0, 100.0 * (base_done + (1 - base_done) * tick / ticks))
        await task.progress(order, round(percent, 1), substeps=states or None)
        while logged < math.ceil(len(logs) * tick / ticks):  # spread evenly, all by the end
            await task.log(logs[logged], step=order)
            logged += 1
        await task.checkpoint()


async def _approve_later(api: ApiSession, task_id: str, order: int, delay: float) -> None:
    await asyncio.sleep(delay)
    with contextlib.suppress(ApiRefused):  # someone decided first
        await api.post(f"/api/tasks/{task_id}/steps/{order}/approve")
        _say("auto_approved", delay=delay, order=order)


async def _import_samples(api: ApiSession) -> None:
    """Finished sibling tasks with past timestamps: history for the estimates."""
    for index, (key, title, tables, durations) in enumerate(SAMPLE_RUNS):
        body = crm_task_body() | {"title": title, "complexity": tables, "idempotency_key": key}
        for step in body["steps"]:
            step["requires_approval"] = False  # finished history: the approval wait is not work
        document = await api.post("/api/tasks", body)
        if document["status"] == "completed":
            continue
        moment = datetime.now(UTC) - timedelta(days=len(SAMPLE_RUNS) - index, hours=2)
        for order, seconds in enumerate(durations, 1):
            url = f"/api/tasks/{document['task_id']}/steps/{order}"
            await api.patch(url, {"status": "running", "at": moment.isoformat()})
            moment += timedelta(seconds=seconds)
            await api.patch(url, {"status": "completed", "at": moment.isoformat()})


def _say(kind: str, **details: object) -> None:
    print(render("demo.txt.j2", kind=kind, **details).strip("\n"), flush=True)


def main_demo(settings: Settings, *, speed: float, approve_after: float | None) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_demo(settings, speed=speed, approve_after=approve_after))
    print()
    _say("stopped")
    return 0
