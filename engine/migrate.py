"""Schema migrations (Alembic), applied by `tasktalk db upgrade` and on every start.

Several processes may start at once: SQLite's BEGIN IMMEDIATE and a PostgreSQL advisory
lock make them take turns, and the second finds nothing left to do.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from engine.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")
#: Arbitrary constant naming tasktalk's migration lock among PostgreSQL advisory locks.
MIGRATION_LOCK_ID = 7_405_001


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(database: Database, revision: str = "head") -> None:
    async with database.write() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        await conn.run_sync(_upgrade, revision)


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)
