"""Shared fixtures: a fresh database per test on SQLite and (when configured) PostgreSQL.

`TASKTALK_TEST_DATABASE_URL` names a PostgreSQL server database we may create scratch
databases from; without it the PostgreSQL variants skip.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import make_url

from bot.app import build_app
from engine.clock import ManualClock
from engine.database import Database, normalise_url, open_database
from engine.migrate import upgrade
from engine.service import TaskService
from engine.writer import CommandWriter
from tests.app_setup import app_settings, user_tokens

PG_ENV = "TASKTALK_TEST_DATABASE_URL"


def _backends() -> list[Any]:
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgresql",
            id="postgresql",
            marks=pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} not set"),
        ),
    ]


@pytest.fixture(params=_backends())
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A URL to an empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'tasktalk.db'}"
        return
    async with scratch_postgres() as url:
        yield url


class scratch_postgres:
    """Create a throwaway PostgreSQL database and drop it afterwards.

    `migrated` (the default) copies a template migrated once per test run, which saves
    running every migration for every test; the migration tests ask for an empty one.
    """

    _template: str | None = None

    def __init__(self, *, migrated: bool = True) -> None:
        import asyncpg

        self._asyncpg = asyncpg
        self._base = make_url(normalise_url(os.environ[PG_ENV]))
        self._admin = self._base.set(drivername="postgresql").render_as_string(hide_password=False)
        self._migrated = migrated
        self.name = f"tt_{secrets.token_hex(6)}"
        self.url = self._url(self.name)

    def _url(self, name: str) -> str:
        return self._base.set(database=name).render_as_string(hide_password=False)

    async def __aenter__(self) -> str:
        template = await self._migrated_template() if self._migrated else None
        conn = await self._asyncpg.connect(self._admin)
        try:
            copy = f' TEMPLATE "{template}"' if template else ""
            await conn.execute(f'CREATE DATABASE "{self.name}"{copy}')
        finally:
            await conn.close()
        return self.url

    async def __aexit__(self, *_exc: object) -> None:
        await _drop_database(self._admin, self.name)

    async def _migrated_template(self) -> str:
        if scratch_postgres._template is None:
            name = f"tt_template_{secrets.token_hex(4)}"
            conn = await self._asyncpg.connect(self._admin)
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()
            database = open_database(self._url(name))
            try:
                await upgrade(database)
            finally:
                await database.dispose()
            scratch_postgres._template = name
            atexit.register(lambda: asyncio.run(_drop_database(self._admin, name)))
        return scratch_postgres._template


async def _drop_database(admin: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@dataclass
class Engine:
    database: Database
    service: TaskService
    writer: CommandWriter
    clock: ManualClock


@pytest.fixture
async def engine(database_url: str, clock: ManualClock) -> AsyncIterator[Engine]:
    """The engine on a migrated database, with a manual clock."""
    database = open_database(database_url, sqlite_synchronous="NORMAL")
    await upgrade(database)
    writer = CommandWriter(database, clock)
    service = TaskService(database, clock, writer)
    yield Engine(database, service, writer, clock)
    await writer.close()
    await database.dispose()


@dataclass
class Api:
    """A running app plus tokens for two users, alice and bob."""

    client: TestClient[Any, Any]
    alice: str
    bob: str
    database_url: str

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.alice}"}


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    """The whole aiohttp app on a real socket, against each backend."""
    app = build_app(app_settings(database_url, {"websocket.poll_seconds": 0.2}))
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    alice, bob = await user_tokens(database_url, "alice", "bob")
    yield Api(client, alice, bob, database_url)
    await client.close()


CRM_TASK: dict[str, Any] = {
    "title": "Cellphone Store CRM",
    "kind": "crm-app",
    "complexity": 4,
    "steps": [
        {"name": "Create database tables"},
        {
            "name": "Generate application UI",
            "substeps": ["Customer list", "Product list", "Sales form", "Repair board"],
        },
        {"name": "Add search and filters", "requires_approval": True},
        {"name": "Configure workflows"},
    ],
}


@pytest.fixture
def repo_root() -> Iterator[Path]:
    yield Path(__file__).resolve().parent.parent
