"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text

from engine.database import open_database
from engine.migrate import upgrade
from engine.models import Base
from tests.conftest import _backends, scratch_postgres


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


@pytest.fixture(params=_backends())
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of each backend (the shared fixture copies a migrated one)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    async with scratch_postgres(migrated=False) as url:
        yield url


async def test_migrations_match_models_and_rerun_is_a_no_op(empty_database_url: str) -> None:
    database = open_database(empty_database_url)
    try:
        await upgrade(database)
        await upgrade(database)  # a second start finds nothing to do
        async with database.write() as conn:
            assert await conn.run_sync(_diff) == []
            counter = (await conn.execute(text("SELECT id, value FROM event_counter"))).all()
            assert [tuple(row) for row in counter] == [(1, 0)]
    finally:
        await database.dispose()
