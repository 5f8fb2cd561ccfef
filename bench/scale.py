"""Scale-out benchmark: 1, 2 and 3 `tasktalk serve` replicas on one PostgreSQL.

    python bench/scale.py                         # postgresql://postgres@127.0.0.1:5432/test
    python bench/scale.py --seconds 10 --concurrency 64 --database postgresql://...

For each replica count, on a fresh scratch database (created next to --database and dropped
after): start the replicas, create one task per producer, then for `--seconds`:
- producers send step reports round-robin to the replicas (keep-alive connections), or
  each to one replica with --sticky;
- a probe reports on its own task through replica i every 100 ms while a WebSocket client
  on replica i+1 waits for the event: the cross-replica delivery latency.
Prints reports per second, p50/p99 report latency and p50/p99 cross-replica delivery, then
the scaling ratios against one replica. Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Replicas:
    def __init__(self, url: str, count: int, workdir: Path) -> None:
        self.url = url
        self.ports = [free_port() for _ in range(count)]
        self.workdir = workdir
        self.processes: list[subprocess.Popen[bytes]] = []

    def cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "bot.cli", *args, "--database", self.url]

    def token(self) -> str:
        out = subprocess.run(
            self.cli("token", "create", "bench"), cwd=ROOT, capture_output=True, check=True
        )
        return out.stdout.decode().strip().splitlines()[-1]

    def spawn(self) -> None:
        env = {**os.environ, "TASKTALK_LOGGING__LEVEL": "WARNING"}
        for port in self.ports:
            with open(self.workdir / f"replica-{port}.log", "ab") as log:  # the child keeps it
                self.processes.append(
                    subprocess.Popen(
                        self.cli("serve", "--port", str(port)),
                        cwd=ROOT,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        env=env,
                    )
                )

    async def start(self) -> None:
        await asyncio.to_thread(self.spawn)
        async with aiohttp.ClientSession() as http:
            for port in self.ports:
                for _ in range(400):
                    with contextlib.suppress(aiohttp.ClientError):
                        async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                            if response.status == 200:
                                break
                    await asyncio.sleep(0.05)
                else:
                    raise RuntimeError(f"replica on port {port} did not start")

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


async def measure(
    url: str, count: int, seconds: float, concurrency: int, workdir: Path, sticky: bool
) -> dict[str, Any]:
    replicas = Replicas(url, count, workdir)
    token = await asyncio.to_thread(replicas.token)
    await replicas.start()
    bases = [f"http://127.0.0.1:{port}" for port in replicas.ports]
    headers = {"Authorization": f"Bearer {token}"}
    plan = {"title": "Load", "steps": [{"name": "Work"}]}
    connector = aiohttp.TCPConnector(limit=concurrency + 8)
    try:
        async with aiohttp.ClientSession(headers=headers, connector=connector) as http:
            tasks = []
            for n in range(concurrency + 1):
                async with http.post(f"{bases[n % count]}/api/tasks", json=plan) as response:
                    tasks.append((await response.json())["task_id"])
            probe_task, tasks = tasks[0], tasks[1:]
            deadline = time.perf_counter() + seconds
            latencies: list[float] = []
            delivery: list[float] = []

            async def producer(n: int) -> None:
                task_id, progress = tasks[n], 0
                while time.perf_counter() < deadline:
                    progress = (progress + 1) % 100
                    started = time.perf_counter()
                    base = bases[n % count] if sticky else bases[(n + progress) % count]
                    body = {"status": "running", "progress": progress}
                    async with http.patch(f"{base}/api/tasks/{task_id}/steps/1", json=body) as r:
                        await r.read()
                        if r.status == 200:
                            latencies.append(time.perf_counter() - started)

            async def probe() -> None:
                listen = bases[1 % count]
                ws = await http.ws_connect(f"{listen}/ws/tasks/{probe_task}")
                await ws.receive()  # ready
                progress = 0
                while time.perf_counter() < deadline:
                    progress = (progress + 1) % 100
                    body = {"status": "running", "progress": progress}
                    sent = time.perf_counter()
                    async with http.patch(
                        f"{bases[0]}/api/tasks/{probe_task}/steps/1", json=body
                    ) as r:
                        await r.read()
                    while True:
                        message = json.loads((await ws.receive(timeout=10)).data)
                        if message.get("step_percent") == progress:
                            break
                    delivery.append(time.perf_counter() - sent)
                    await asyncio.sleep(0.1)
                await ws.close()

            started = time.perf_counter()
            await asyncio.gather(probe(), *(producer(n) for n in range(concurrency)))
            elapsed = time.perf_counter() - started
    finally:
        replicas.stop()
    return {
        "replicas": count,
        "rate": len(latencies) / elapsed,
        "p50": percentile(latencies, 0.5) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "ws_p50": percentile(delivery, 0.5) * 1000,
        "ws_p99": percentile(delivery, 0.99) * 1000,
    }


async def scratch_database(base: str) -> tuple[str, str]:
    parsed = make_url(base)
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return parsed.set(database=name).render_as_string(hide_password=False), name


async def drop_database(base: str, name: str) -> None:
    admin = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def run(args: argparse.Namespace) -> int:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for count in args.replicas:
            url, name = await scratch_database(args.database)
            try:
                rows.append(
                    await measure(
                        url, count, args.seconds, args.concurrency, Path(folder), args.sticky
                    )
                )
            finally:
                await drop_database(args.database, name)
            row = rows[-1]
            print(
                f"{row['replicas']} replica(s): {row['rate']:,.0f} reports/s "
                f"(p50 {row['p50']:.1f} ms, p99 {row['p99']:.1f} ms); cross-replica "
                f"delivery p50 {row['ws_p50']:.1f} ms, p99 {row['ws_p99']:.1f} ms",
                flush=True,
            )
    base = rows[0]["rate"]
    print("\n| replicas | reports/s | x one | report p50 / p99 ms | WS delivery p50 / p99 ms |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['replicas']} | {row['rate']:,.0f} | {row['rate'] / base:.2f} | "
            f"{row['p50']:.1f} / {row['p99']:.1f} | {row['ws_p50']:.1f} / {row['ws_p99']:.1f} |"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database",
        default=os.environ.get(
            "TASKTALK_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=48)
    parser.add_argument(
        "--sticky",
        action="store_true",
        help="each producer keeps to one replica (a sticky load balancer) instead of rotating",
    )
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
