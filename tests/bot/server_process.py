"""`tasktalk serve` in a child process on 127.0.0.1, started and killed like an operator would."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

from engine.accounts import create_token
from engine.clock import SystemClock
from engine.database import open_database
from engine.migrate import upgrade


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """One server on a fixed port and database, so it can be killed and started again."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        #: Extra environment for the server (settings overrides such as TASKTALK_EMAIL__HOST).
        self.env: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "bot.cli", *args, "--database", self.database_url]

    async def token(self, user: str) -> str:
        """A new token for `user`, written straight to the database (migrated first)."""
        database = open_database(self.database_url)
        try:
            await upgrade(database)
            async with database.write() as conn:
                return await create_token(conn, user, SystemClock().now())
        finally:
            await database.dispose()

    def _spawn(self) -> subprocess.Popen[bytes]:
        with open(self.workdir / "server.log", "ab") as log:  # the child keeps its own copy
            return subprocess.Popen(
                self._cli("serve", "--port", str(self.port)),
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
            )

    async def start(self) -> None:
        """Start the server and wait until it answers /healthz."""
        self.process = self._spawn()
        async with aiohttp.ClientSession() as session:
            for _ in range(400):
                try:
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if self.process.poll() is not None:
                    break
                await asyncio.sleep(0.025)
        raise AssertionError((self.workdir / "server.log").read_text())

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
