"""The `tasktalk` command: serve, demo, token create, link, db upgrade, watch, ask, run."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shlex
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
from bot.plain_text import render
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
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per job is noise
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
    create.add_argument(
        "--link",
        action="store_true",
        help="print a one-time sign-in link for the web page instead (expires, works once)",
    )
    create.add_argument(
        "--url",
        metavar="URL",
        help="the page's address in the link (default: this server, http://HOST:PORT)",
    )
    _database_options(create)
    create.set_defaults(run=_token_create)

    link = commands.add_parser(
        "link", help="print a one-time code that links a Telegram/Slack/Rasa identity to USER"
    )
    link.add_argument("user", metavar="USER", help="user name (created if new)")
    _database_options(link)
    link.set_defaults(run=_link)

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

    ask = commands.add_parser(
        "ask",
        help="say something to your tasks, as in chat",
        description='tasktalk ask "How\'s my CRM task going?"   |   tasktalk ask "pause it"',
    )
    ask.add_argument("text", nargs="+", metavar="TEXT", help="the message (quote it)")
    ask.add_argument("--conversation", help="keep a separate conversation context under this name")
    add_client_options(ask)
    ask.set_defaults(run=_ask)

    run = commands.add_parser(
        "run",
        help="run a command as a tracked task (pause/resume/cancel reach its process group)",
        description="tasktalk run --title 'Nightly build' -- make all   |   "
        "tasktalk run --title Deploy --step build='make' --step ship='./ship.sh'",
    )
    run.add_argument("--title", help="task title (default: the command line)")
    run.add_argument(
        "--step",
        action="append",
        default=[],
        metavar="NAME=CMD",
        help="a step running CMD through the shell; repeat for several, run in order",
    )
    run.add_argument(
        "--grace",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="after SIGTERM on cancel, wait this long before SIGKILL (default 10)",
    )
    run.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ARGS... (one step)")
    add_client_options(run)
    run.set_defaults(run=_run)

    demo = commands.add_parser(
        "demo", help="serve on SQLite and run the spec's Cellphone Store CRM task"
    )
    demo.add_argument("--host", help="interface to listen on (server.host)")
    demo.add_argument("--port", type=int, help="port to listen on (server.port)")
    demo.add_argument(
        "--speed", type=float, default=1.0, help="pace multiplier (default 1: about 3 minutes)"
    )
    demo.add_argument(
        "--approve-after",
        type=float,
        default=45.0,
        metavar="SECONDS",
        help="approve step 3 yourself within this time, or the demo does (0: wait for you)",
    )
    _database_options(demo)
    demo.set_defaults(run=_demo)
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
    from engine.login_codes import create_login_code

    async def run() -> str:
        database = await _upgraded(settings)
        try:
            async with database.write() as conn:
                if args.link:
                    return await create_login_code(conn, args.user, SystemClock().now(), args.label)
                return await create_token(conn, args.user, SystemClock().now(), args.label)
        finally:
            await database.dispose()

    secret = asyncio.run(run())
    if args.link:
        base = args.url or local_server(settings.server.host, settings.server.port)
        print(f"{base.rstrip('/')}/#login={secret}")
    else:
        print(secret)
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


def _link(args: argparse.Namespace, settings: Settings) -> int:
    from engine.identities import CODE_LIFETIME, create_link_code

    async def run() -> str:
        database = await _upgraded(settings)
        try:
            async with database.write() as conn:
                code, _ = await create_link_code(conn, args.user, SystemClock().now())
                return code
        finally:
            await database.dispose()

    code = asyncio.run(run())
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    print(render("link_code.txt.j2", code=code, user=args.user, minutes=minutes), end="")
    return 0


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ask import ask

    options = client_options(args, settings)
    return asyncio.run(ask(options, " ".join(args.text), args.conversation, sys.stdout))


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.client import AsyncTaskClient, TaskTalkError
    from bot.runner import StepCommand, run_task

    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]  # only the separator; a later "--" belongs to the command
    if command and args.step:
        raise ClientProblem("run_steps_and_command")
    if not command and not args.step:
        raise ClientProblem("run_nothing")
    steps = [_step_command(spec) for spec in args.step]
    if command:
        steps = [StepCommand(shlex.join(command), tuple(command))]
    title = args.title or " && ".join(step.name for step in steps)
    options = client_options(args, settings)

    async def go() -> int:
        async with AsyncTaskClient(options.server, options.token) as client:
            return await run_task(client, title, steps, grace_seconds=args.grace)

    try:
        return asyncio.run(go())
    except TaskTalkError as error:
        print(f"tasktalk: {error}", file=sys.stderr)
        return 1


def _step_command(spec: str) -> Any:
    from bot.runner import StepCommand

    name, separator, command = spec.partition("=")
    if not separator or not name.strip() or not command.strip():
        raise ClientProblem("bad_step", value=spec)
    return StepCommand(name.strip(), (command,), shell=True)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import main_demo

    if args.speed <= 0:
        raise ClientProblem("bad_speed", value=args.speed)
    approve_after = args.approve_after / args.speed if args.approve_after > 0 else None
    return main_demo(settings, speed=args.speed, approve_after=approve_after)


async def _upgraded(settings: Settings) -> Any:
    from engine.migrate import upgrade

    database = open_database(
        settings.database.url, sqlite_synchronous=settings.database.sqlite_synchronous
    )
    await upgrade(database)
    return database


if __name__ == "__main__":
    sys.exit(main())
