"""The `tasktalk` command: serve, token create, db upgrade, watch."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.client_options import (
    ClientOptions,
    ClientProblem,
    add_client_options,
    local_server,
    resolve_client_options,
)
from bot.settings import Settings, SettingsError, load_settings
from engine.clock import SystemClock
from engine.database import open_database
from engine.errors import DomainError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        settings = _settings(args)
    except SettingsError as error:
        print(f"tasktalk: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.logging.level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        result: int = args.run(args, settings)
    except DomainError as error:
        print(f"tasktalk: {error.sentence}", file=sys.stderr)
        return 1
    except ClientProblem as problem:
        print(f"tasktalk: {problem.sentence}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tasktalk", description="Talk to your long-running tasks."
    )
    commands = parser.add_subparsers(title="commands")

    serve = commands.add_parser("serve", help="run the HTTP/WebSocket server")
    serve.add_argument("--host", help="interface to listen on (server.host)")
    serve.add_argument("--port", type=int, help="port to listen on (server.port)")
    _database_options(serve)
    serve.set_defaults(run=_serve)

    token = commands.add_parser("token", help="manage API tokens")
    token_commands = token.add_subparsers(title="token commands", required=True)
    create = token_commands.add_parser("create", help="print a new API token for USER")
    create.add_argument("user", metavar="USER", help="user name (created if new)")
    create.add_argument("--label", help="a note on what the token is for")
    _database_options(create)
    create.set_defaults(run=_token_create)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(title="db commands", required=True)
    up = db_commands.add_parser("upgrade", help="create or upgrade the schema")
    _database_options(up)
    up.set_defaults(run=_db_upgrade)

    watch = commands.add_parser(
        "watch",
        help="show a task's progress live (keys: p pause, r resume, c cancel, q quit)",
    )
    watch.add_argument(
        "task",
        nargs="?",
        metavar="TASK",
        help="task id (default: your newest running task, else your newest)",
    )
    watch.add_argument("--once", action="store_true", help="print the progress box once and exit")
    add_client_options(watch)
    watch.set_defaults(run=_watch)
    return parser


def _database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", metavar="URL", help="database URL (database.url)")
    parser.add_argument("--config", metavar="FILE", help="config file (default ./config.yaml)")


def _settings(args: argparse.Namespace) -> Settings:
    config = getattr(args, "config", None) or os.environ.get("TASKTALK_CONFIG")
    if config is None and Path("config.yaml").is_file():
        config = "config.yaml"
    overrides: dict[str, Any] = {
        "database.url": getattr(args, "database", None),
        "server.host": getattr(args, "host", None),
        "server.port": getattr(args, "port", None),
    }
    return load_settings(config, overrides=overrides)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from aiohttp import web

    from bot.app import build_app

    app = build_app(settings)
    host, port = settings.server.host, settings.server.port
    web.run_app(
        app,
        host=host,
        port=port,
        print=lambda _: print(f"tasktalk serving on http://{host}:{port}", flush=True),
        access_log=None,
    )
    return 0


def _token_create(args: argparse.Namespace, settings: Settings) -> int:
    from engine.accounts import create_token

    async def run() -> str:
        database = await _upgraded(settings)
        try:
            async with database.write() as conn:
                return await create_token(conn, args.user, SystemClock().now(), args.label)
        finally:
            await database.dispose()

    print(asyncio.run(run()))
    return 0


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> None:
        database = await _upgraded(settings)
        await database.dispose()

    asyncio.run(run())
    shown = make_url(settings.database.url).render_as_string(hide_password=True)
    print(f"database is up to date: {shown}")
    return 0


def client_options(args: argparse.Namespace, settings: Settings) -> ClientOptions:
    """Server and token for a client command: flags, then TASKTALK_URL / TASKTALK_TOKEN."""
    return resolve_client_options(
        args.server,
        args.token,
        os.environ,
        local_server(settings.server.host, settings.server.port),
    )


def _watch(args: argparse.Namespace, settings: Settings) -> int:
    from bot.watch import watch

    options = client_options(args, settings)
    live = not args.once and sys.stdout.isatty()
    keys = live and sys.stdin.isatty()
    return asyncio.run(
        watch(
            options,
            args.task,
            out=sys.stdout,
            keyboard=sys.stdin.fileno() if keys else None,
            in_place=live,
            once=args.once,
        )
    )


async def _upgraded(settings: Settings) -> Any:
    from engine.migrate import upgrade

    database = open_database(
        settings.database.url, sqlite_synchronous=settings.database.sqlite_synchronous
    )
    await upgrade(database)
    return database


if __name__ == "__main__":
    sys.exit(main())
