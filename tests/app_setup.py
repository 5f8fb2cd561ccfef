"""What tests that run the whole app share: its settings and tokens for named users."""

from __future__ import annotations

from typing import Any

from bot.settings import Settings, load_settings
from engine.accounts import create_token
from engine.clock import SystemClock
from engine.database import open_database


def app_settings(database_url: str, overrides: dict[str, Any] | None = None) -> Settings:
    """Settings as in production, on this database, without the environment's overrides."""
    return load_settings(
        None,
        environ={},
        overrides={
            "database.url": database_url,
            "database.sqlite_synchronous": "NORMAL",
            **(overrides or {}),
        },
    )


async def user_tokens(database_url: str, *names: str) -> list[str]:
    """A new API token for each user (created if new), in order."""
    database = open_database(database_url)
    try:
        async with database.write() as conn:
            return [await create_token(conn, name, SystemClock().now()) for name in names]
    finally:
        await database.dispose()
