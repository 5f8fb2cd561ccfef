"""REST handlers for ../shared/spec/api.md. Each validates, calls the engine, returns JSON."""

from __future__ import annotations

import re

from aiohttp import web

from bot.auth import current_account
from bot.http import json_response, read_json
from bot.json_fields import RequestInvalid
from bot.keys import LIMITS, SERVICE
from bot.validation import (
    parse_log_lines,
    parse_reject,
    parse_step_report,
    parse_task_plan,
)
from engine.errors import NotFound
from engine.service import STEP_ACTIONS, TASK_ACTIONS
from engine.states import TaskStatus

_TASK_ID = re.compile(r"^[0-9a-f]{1,32}$")
_DIGITS = re.compile(r"^[0-9]{1,9}$")
MAX_TAIL = 10_000


def add_routes(app: web.Application) -> None:
    # aiohttp tries resources in the order added: producers' hot paths first.
    app.router.add_patch("/api/tasks/{task_id}/steps/{order}", report_step)
    app.router.add_post("/api/tasks/{task_id}/logs", post_logs)
    app.router.add_get("/api/tasks/{task_id}/logs", get_logs)
    app.router.add_post("/api/tasks", create_task)
    app.router.add_get("/api/tasks", list_tasks)
    app.router.add_get("/api/tasks/{task_id}", get_progress)
    app.router.add_get("/api/tasks/{task_id}/progress", get_progress)
    app.router.add_get("/api/tasks/{task_id}/history", get_history)
    for action in TASK_ACTIONS:
        app.router.add_post(f"/api/tasks/{{task_id}}/{action}", task_action)
    for action in STEP_ACTIONS:
        app.router.add_post(f"/api/tasks/{{task_id}}/steps/{{order}}/{action}", step_action)
    app.router.add_get("/api/me", me)


async def create_task(request: web.Request) -> web.Response:
    account = current_account(request)
    plan = parse_task_plan(await read_json(request), request.app[LIMITS])
    document, created = await request.app[SERVICE].create_task(account.id, plan)
    headers = None if created else {"Idempotent-Replayed": "true"}
    return json_response(document, status=201, headers=headers)


async def list_tasks(request: web.Request) -> web.Response:
    account = current_account(request)
    status = request.query.get("status")
    if status is not None and status not in {s.value for s in TaskStatus}:
        options = ", ".join(s.value for s in TaskStatus)
        raise RequestInvalid("status", f"status must be one of {options}.")
    limit = _query_int(request, "limit", default=100, low=1, high=1000)
    tasks = await request.app[SERVICE].list_tasks(account.id, status, limit)
    return json_response(tasks)


async def get_progress(request: web.Request) -> web.Response:
    account = current_account(request)
    return json_response(await request.app[SERVICE].progress(account.id, task_id(request)))


async def get_history(request: web.Request) -> web.Response:
    account = current_account(request)
    rows = await request.app[SERVICE].history(account.id, task_id(request))
    return json_response(rows)


async def get_logs(request: web.Request) -> web.Response:
    account = current_account(request)
    tail = _query_int(request, "tail", default=100, low=1, high=MAX_TAIL)
    lines = await request.app[SERVICE].logs(account.id, task_id(request), tail)
    return json_response(lines)


async def post_logs(request: web.Request) -> web.Response:
    account = current_account(request)
    ident = task_id(request)
    lines = parse_log_lines(await read_json(request), request.app[LIMITS])
    accepted, control = await request.app[SERVICE].append_logs(account.id, ident, lines)
    return json_response({"accepted": accepted, "control": control})


async def report_step(request: web.Request) -> web.Response:
    account = current_account(request)
    ident, order = task_id(request), step_order(request)
    report, at = parse_step_report(await read_json(request), request.app[LIMITS])
    outcome = await request.app[SERVICE].report_step(account.id, ident, order, report, at)
    body = {"task": outcome.task, "control": outcome.control}
    if outcome.restarted_as is not None:
        body["restarted_as"] = outcome.restarted_as
    return json_response(body)


async def task_action(request: web.Request) -> web.Response:
    account = current_account(request)
    action = request.path.rsplit("/", 1)[1]
    document = await request.app[SERVICE].task_action(
        account.id, task_id(request), action, account.name
    )
    return json_response(document)


async def step_action(request: web.Request) -> web.Response:
    account = current_account(request)
    action = request.path.rsplit("/", 1)[1]
    ident, order = task_id(request), step_order(request)
    reason = None
    if action == "reject" and request.can_read_body:
        reason = parse_reject(await read_json(request), request.app[LIMITS])
    document = await request.app[SERVICE].step_action(
        account.id, ident, order, action, account.name, reason
    )
    return json_response(document)


async def me(request: web.Request) -> web.Response:
    account = current_account(request)
    return json_response({"id": account.id, "name": account.name})


def task_id(request: web.Request) -> str:
    value = request.match_info["task_id"]
    if not _TASK_ID.match(value):
        raise NotFound(f"There is no task {value}.", field="task_id")
    return value


def step_order(request: web.Request) -> int:
    value = request.match_info["order"]
    if not _DIGITS.match(value) or not 1 <= int(value) <= 100_000:
        raise NotFound(f"There is no step {value}.", field="order")
    return int(value)


def _query_int(request: web.Request, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not _DIGITS.match(raw) or not low <= int(raw) <= high:
        raise RequestInvalid(name, f"{name} must be a whole number from {low} to {high}.")
    return int(raw)
