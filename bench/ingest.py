"""Ingest benchmark: step reports per second through tasktalk's REST API vs a bare baseline.

One run measures, on SQLite and 127.0.0.1 only:

* tasktalk: `python -m bot.cli serve` (aiohttp + SQLAlchemy, group-commit writer), with the
  project's own config.yaml (SQLite synchronous=FULL unless overridden);
* bare: a tiny aiohttp app defined in this file doing one raw aiosqlite INSERT + COMMIT per
  request on one shared connection (WAL, synchronous=NORMAL);

both driven by the same load generator (aiohttp client, keep-alive, N concurrent workers, one
task per worker, `PATCH /api/tasks/{id}/steps/1` with a changing `progress`). Servers and load
generator are separate processes. Afterwards the history rows are counted in the SQLite file
(server stopped) and compared with the number of acknowledged (200) reports.

    python bench/ingest.py                 # 2 s warm-up + 10 s per target, 64 workers
    python bench/ingest.py --seconds 8 --concurrency 64
    python bench/ingest.py --only tasktalk --tasktalk-synchronous NORMAL

Internal roles (started by the script itself):
    python bench/ingest.py --bare-server PORT DBPATH
    python bench/ingest.py --load-setup  CONFIG.json
    python bench/ingest.py --load-run    CONFIG.json

Exit status 0 when every request answered 2xx and every acknowledged report is in the file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve()
STEPS_PER_TASK = 3
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
DEFAULT_MAX_REQUESTS = 2_000_000
BARE_SYNCHRONOUS = "NORMAL"


# --------------------------------------------------------------------------------------------
# The bare baseline server
# --------------------------------------------------------------------------------------------


def bare_server(port: int, db_path: str) -> None:
    import aiosqlite
    import orjson
    from aiohttp import web

    async def on_startup(app: web.Application) -> None:
        db = await aiosqlite.connect(db_path)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute(f"PRAGMA synchronous={BARE_SYNCHRONOUS}")
        await db.execute("PRAGMA busy_timeout=30000")
        await db.execute(
            "CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, title TEXT NOT NULL, "
            "created_at TEXT NOT NULL)"
        )
        await db.execute(
            "CREATE TABLE IF NOT EXISTS task_progress (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "task_id TEXT NOT NULL, step INTEGER, percent REAL NOT NULL, status TEXT NOT NULL, "
            "updated_at TEXT NOT NULL)"
        )
        await db.execute(
            "CREATE INDEX IF NOT EXISTS ix_task_progress_task ON task_progress (task_id, id)"
        )
        await db.commit()
        app["db"] = db

    async def on_cleanup(app: web.Application) -> None:
        await app["db"].close()

    def reply(data: Any, status: int = 200) -> web.Response:
        return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")

    async def healthz(request: web.Request) -> web.Response:
        return reply({"status": "ok"})

    async def create_task(request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        task_id = secrets.token_hex(6)
        db = request.app["db"]
        await db.execute(
            "INSERT INTO tasks (id, title, created_at) VALUES (?, ?, datetime('now'))",
            (task_id, str(body.get("title", ""))),
        )
        await db.commit()
        return reply({"task_id": task_id, "status": "pending"}, status=201)

    async def report_step(request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        progress = body.get("progress")
        if not isinstance(progress, int | float) or not 0 <= progress <= 100:
            return reply({"error": {"code": "invalid", "field": "progress"}}, status=422)
        db = request.app["db"]
        await db.execute(
            "INSERT INTO task_progress (task_id, step, percent, status, updated_at) "
            "VALUES (?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            (
                request.match_info["task_id"],
                int(request.match_info["order"]),
                float(progress),
                str(body.get("status") or "running"),
            ),
        )
        await db.commit()
        return reply({"task": {"task_id": request.match_info["task_id"]}, "control": None})

    app = web.Application()
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/api/tasks", create_task)
    app.router.add_patch("/api/tasks/{task_id}/steps/{order}", report_step)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# --------------------------------------------------------------------------------------------
# The load generator (its own process)
# --------------------------------------------------------------------------------------------


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


async def load_setup(config: dict[str, Any]) -> bytes:
    """Create one task per producer and start its step 1; returns the ids as JSON."""
    import aiohttp

    base, token = config["base_url"], config["token"]
    plan = {
        "title": "bench task",
        "kind": "bench",
        "complexity": 3,
        "steps": [{"name": f"Step {i}"} for i in range(1, STEPS_PER_TASK + 1)],
    }
    if config["substeps"]:
        plan["steps"][0]["substeps"] = ["a", "b"]
    async with aiohttp.ClientSession(headers=_headers(token)) as session:

        async def one(index: int) -> str:
            async with session.post(f"{base}/api/tasks", json=plan) as resp:
                body = await resp.json()
                if resp.status != 201:
                    raise RuntimeError(f"POST /api/tasks answered {resp.status}: {body}")
                task_id = str(body["task_id"])
            start = {"status": "running", "progress": 0}
            async with session.patch(f"{base}/api/tasks/{task_id}/steps/1", json=start) as resp:
                if resp.status != 200:
                    raise RuntimeError(
                        f"starting step 1 answered {resp.status}: {await resp.text()}"
                    )
                await resp.read()
            return task_id

        ids = await asyncio.gather(*(one(i) for i in range(config["concurrency"])))
    return json.dumps({"task_ids": ids}).encode()


async def load_run(config: dict[str, Any]) -> bytes:
    """Warm up, then measure; returns counts, latencies and CPU time as JSON."""
    import aiohttp
    import orjson

    base, token = config["base_url"], config["token"]
    task_ids: list[str] = config["task_ids"]
    start_at: float = config["start_at"]  # wall clock, shared with the orchestrator
    warmup: float = config["warmup"]
    seconds: float = config["seconds"]
    cap: int = config["max_requests"]
    substeps: bool = config["substeps"]

    loop_clock = time.perf_counter
    # Map the shared wall-clock start onto the monotonic clock once.
    t_start = loop_clock() + (start_at - time.time())
    t_measure = t_start + warmup
    t_end = t_measure + seconds

    sent = 0
    acked = 0
    measured = 0
    latencies: list[float] = []
    errors: dict[str, int] = {}
    error_samples: list[str] = []
    cpu_at_measure: list[float] = []
    stopped_by_cap = False
    last_done = t_measure

    connector = aiohttp.TCPConnector(limit=len(task_ids), limit_per_host=len(task_ids))
    timeout = aiohttp.ClientTimeout(total=30)
    headers = _headers(token)

    async def producer(task_id: str, offset: int) -> None:
        nonlocal sent, acked, measured, stopped_by_cap, last_done
        url = f"{base}/api/tasks/{task_id}/steps/1"
        i = offset
        while True:
            now = loop_clock()
            if now >= t_end:
                return
            if sent >= cap:
                stopped_by_cap = True
                return
            sent += 1
            i += 1
            # 1..99, never the previous value nor the 0 set up front: every report is a change
            # (one history row each), which the durability check relies on.
            report: dict[str, Any] = {"status": "running", "progress": 1 + i % 99}
            if substeps:
                report["substeps"] = [{"name": "a", "done": bool(i & 1)}]
            body = orjson.dumps(report)
            began = loop_clock()
            try:
                async with session.patch(url, data=body, headers=headers) as resp:
                    payload = await resp.read()
                    status = resp.status
            except Exception as error:  # connection trouble counts as an error
                key = type(error).__name__
                errors[key] = errors.get(key, 0) + 1
                if len(error_samples) < 5:
                    error_samples.append(f"{key}: {error}")
                await asyncio.sleep(0.01)
                continue
            done = loop_clock()
            if status == 200:
                acked += 1
            else:
                key = str(status)
                errors[key] = errors.get(key, 0) + 1
                if len(error_samples) < 5:
                    error_samples.append(f"{status}: {payload[:300]!r}")
            if t_measure <= done <= t_end and began >= t_measure:
                measured += 1
                latencies.append((done - began) * 1000.0)
                last_done = done

    async def cpu_marker() -> None:
        await asyncio.sleep(max(0.0, t_measure - loop_clock()))
        cpu_at_measure.append(time.process_time())

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.sleep(max(0.0, t_start - loop_clock()))
        marker = asyncio.create_task(cpu_marker())
        # Start each producer at a different progress so reports differ from the start state.
        await asyncio.gather(*(producer(t, n * 7) for n, t in enumerate(task_ids)))
        cpu_end = time.process_time()
        marker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await marker
    window = (t_end if not stopped_by_cap else last_done) - t_measure
    cpu_window = cpu_end - cpu_at_measure[0] if cpu_at_measure else 0.0
    result = {
        "sent": sent,
        "acked": acked,
        "measured": measured,
        "window_s": window,
        "latencies_ms": latencies,
        "errors": errors,
        "error_samples": error_samples,
        "stopped_by_cap": stopped_by_cap,
        "cpu_s": cpu_window,
    }
    return orjson.dumps(result)


# --------------------------------------------------------------------------------------------
# The orchestrator
# --------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    name: str
    label: str
    synchronous: str
    rps: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    acked: int = 0
    durable: int = 0
    measured: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    server_cpu: float = 0.0
    load_cpu: float = 0.0
    machine_busy: float = 0.0
    stop: str = ""
    capped: bool = False
    problems: list[str] = field(default_factory=list)


class Server:
    """A server subprocess that is always stopped (SIGTERM, then SIGKILL)."""

    def __init__(self, name: str, argv: list[str], cwd: Path, log: Path, env: dict[str, str]):
        self.name = name
        self.log = log
        self._log_file = log.open("wb")
        self.proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=self._log_file, stderr=subprocess.STDOUT
        )

    def stop(self, *, kill: bool = False) -> str:
        """Stop the server; returns how it ended."""
        how = "already exited"
        if self.proc.poll() is None:
            if kill:
                self.proc.kill()
                self.proc.wait()
                how = "SIGKILL (crash stop)"
            else:
                self.proc.send_signal(signal.SIGTERM)
                began = time.monotonic()
                try:
                    self.proc.wait(timeout=STOP_TIMEOUT_S)
                    how = f"SIGTERM, exited in {time.monotonic() - began:.1f} s"
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
                    how = f"SIGTERM ignored for {STOP_TIMEOUT_S:.0f} s, then SIGKILL"
        self._log_file.close()
        return how

    def tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(server: Server, url: str) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.proc.returncode}:\n{server.tail()}"
            )
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(url, timeout=1) as resp,
        ):
            if resp.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} not ready after {READY_TIMEOUT_S:.0f} s:\n{server.tail()}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) from /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def run_role(role: str, config: dict[str, Any], workdir: Path, env: dict[str, str]) -> Any:
    path = workdir / f"{role}-{secrets.token_hex(4)}.json"
    path.write_text(json.dumps(config))
    return subprocess.Popen([sys.executable, str(SCRIPT), f"--{role}", str(path)], env=env)


def check_role(proc: subprocess.Popen[bytes], what: str, timeout: float) -> None:
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"{what} did not finish in {timeout:.0f} s") from None
    if code != 0:
        raise RuntimeError(f"{what} failed with exit status {code}")


def count_rows(db_path: Path, table: str) -> int:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def tasktalk_synchronous(env: dict[str, str]) -> str:
    """The SQLite synchronous setting `tasktalk serve` resolves from config.yaml + env."""
    try:
        sys.path.insert(0, str(REPO))
        from bot.settings import load_settings

        config = env.get("TASKTALK_CONFIG") or (
            str(REPO / "config.yaml") if (REPO / "config.yaml").is_file() else None
        )
        return load_settings(config, environ=env).database.sqlite_synchronous.upper()
    except Exception as error:
        return f"unknown ({error})"


def measure(
    outcome: Outcome,
    server: Server,
    base_url: str,
    token: str,
    db_path: Path,
    args: argparse.Namespace,
    workdir: Path,
    env: dict[str, str],
) -> None:
    setup_out = workdir / f"{outcome.name}-tasks.json"
    setup = {
        "base_url": base_url,
        "token": token,
        "concurrency": args.concurrency,
        "substeps": args.substeps,
        "out": str(setup_out),
    }
    check_role(run_role("load-setup", setup, workdir, env), "load setup", 120)
    task_ids = json.loads(setup_out.read_text())["task_ids"]
    baseline = count_rows(db_path, "task_progress")

    start_at = time.time() + 1.5  # room for the load process to start its interpreter
    per_proc = [task_ids[i :: args.load_procs] for i in range(args.load_procs)]
    outs = [workdir / f"{outcome.name}-load-{i}.json" for i in range(args.load_procs)]
    procs = [
        run_role(
            "load-run",
            {
                "base_url": base_url,
                "token": token,
                "task_ids": ids,
                "start_at": start_at,
                "warmup": args.warmup,
                "seconds": args.seconds,
                "max_requests": args.max_requests // args.load_procs,
                "substeps": args.substeps,
                "out": str(out),
            },
            workdir,
            env,
        )
        for ids, out in zip(per_proc, outs, strict=True)
    ]
    # Sample the server's and the machine's CPU over the measured window.
    time.sleep(max(0.0, start_at + args.warmup - time.time()))
    cpu0, (busy0, total0) = cpu_seconds(server.proc.pid), machine_ticks()
    time.sleep(max(0.0, start_at + args.warmup + args.seconds - time.time()))
    cpu1, (busy1, total1) = cpu_seconds(server.proc.pid), machine_ticks()
    for proc in procs:
        check_role(proc, "load run", args.warmup + args.seconds + 120)

    results = [json.loads(out.read_text()) for out in outs]
    latencies = sorted(x for r in results for x in r["latencies_ms"])
    window = max(r["window_s"] for r in results)
    outcome.measured = sum(r["measured"] for r in results)
    outcome.acked = sum(r["acked"] for r in results)
    outcome.rps = outcome.measured / window if window > 0 else 0.0
    outcome.p50 = percentile(latencies, 0.50)
    outcome.p99 = percentile(latencies, 0.99)
    outcome.capped = any(r["stopped_by_cap"] for r in results)
    for r in results:
        for key, n in r["errors"].items():
            outcome.errors[key] = outcome.errors.get(key, 0) + n
        outcome.error_samples.extend(r["error_samples"])
    outcome.server_cpu = (cpu1 - cpu0) / args.seconds
    outcome.load_cpu = sum(r["cpu_s"] for r in results) / args.seconds
    outcome.machine_busy = (busy1 - busy0) / max(1, total1 - total0) * (os.cpu_count() or 1)

    outcome.stop = server.stop(kill=args.kill)
    outcome.durable = count_rows(db_path, "task_progress") - baseline


def run_tasktalk(args: argparse.Namespace, workdir: Path) -> Outcome:
    env = dict(os.environ)
    if args.tasktalk_synchronous:
        env["TASKTALK_DATABASE__SQLITE_SYNCHRONOUS"] = args.tasktalk_synchronous
    env["TASKTALK_LOGGING__LEVEL"] = env.get("TASKTALK_LOGGING__LEVEL", "WARNING")
    sync = tasktalk_synchronous(env)
    outcome = Outcome("tasktalk", f"tasktalk (SQLAlchemy, group commit, synchronous={sync})", sync)
    db_path = workdir / "tasktalk.db"
    url = f"sqlite+aiosqlite:///{db_path}"
    python = [sys.executable, "-m", "bot.cli"]
    created = subprocess.run(
        [*python, "token", "create", "bench", "--database", url],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if created.returncode != 0:
        raise RuntimeError(f"tasktalk token create failed:\n{created.stderr}")
    token = created.stdout.strip().splitlines()[-1]
    port = free_port()
    server = Server(
        "tasktalk",
        [*python, "serve", "--host", "127.0.0.1", "--port", str(port), "--database", url],
        REPO,
        workdir / "tasktalk.log",
        env,
    )
    try:
        wait_ready(server, f"http://127.0.0.1:{port}/healthz")
        measure(outcome, server, f"http://127.0.0.1:{port}", token, db_path, args, workdir, env)
    except RuntimeError as error:
        server.stop()
        raise RuntimeError(f"{error}\n--- end of {server.log} ---\n{server.tail()}") from None
    finally:
        server.stop()
    if "SIGKILL" in outcome.stop and not args.kill:
        outcome.problems.append(f"tasktalk did not stop on SIGTERM; log:\n{server.tail()}")
    return outcome


def run_bare(args: argparse.Namespace, workdir: Path) -> Outcome:
    outcome = Outcome(
        "bare",
        f"bare aiohttp + aiosqlite (insert+commit per request, synchronous={BARE_SYNCHRONOUS})",
        BARE_SYNCHRONOUS,
    )
    db_path = workdir / "bare.db"
    port = free_port()
    env = dict(os.environ)
    server = Server(
        "bare server",
        [sys.executable, str(SCRIPT), "--bare-server", str(port), str(db_path)],
        workdir,
        workdir / "bare.log",
        env,
    )
    try:
        wait_ready(server, f"http://127.0.0.1:{port}/healthz")
        measure(outcome, server, f"http://127.0.0.1:{port}", "bare", db_path, args, workdir, env)
    except RuntimeError as error:
        server.stop()
        raise RuntimeError(f"{error}\n--- end of {server.log} ---\n{server.tail()}") from None
    finally:
        server.stop()
    return outcome


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _details(o: Outcome, args: argparse.Namespace) -> bool:
    """Print one measurement; returns False when it shows an error."""
    ok = True
    print(f"{o.label}: {o.rps:.0f} req/s  p50 {o.p50:.1f} ms  p99 {o.p99:.1f} ms")
    print(
        f"    acknowledged {o.acked}, durable {o.durable}  (measured {o.measured}; stop: {o.stop})"
    )
    others = max(0.0, o.machine_busy - o.server_cpu - o.load_cpu)
    per_request = o.server_cpu / o.rps * 1e6 if o.rps > 0 else 0.0
    print(
        f"    CPU: server {o.server_cpu:.2f} ({per_request:.0f} µs per request), load generator "
        f"{o.load_cpu:.2f}, other processes {others:.2f}, machine {o.machine_busy:.2f} of "
        f"{os.cpu_count()}"
    )
    if o.load_cpu > 0.9 * args.load_procs:
        print(
            "    note: the load generator used about a full core; this figure is a lower "
            "bound of what the server can take (try --load-procs 2)"
        )
    if o.capped:
        print(f"    note: stopped early at the --max-requests cap ({args.max_requests})")
    if o.errors:
        ok = False
        print(f"    ERROR: non-2xx or failed requests: {o.errors}")
        for sample in o.error_samples[:5]:
            print(f"      {sample}")
    if o.durable < o.acked:
        ok = False
        print(f"    ERROR: {o.acked - o.durable} acknowledged reports are not in the database")
    for problem in o.problems:
        ok = False
        print(f"    ERROR: {problem}")
    return ok


def report(results: dict[str, list[Outcome]], args: argparse.Namespace) -> int:
    failed = False
    rounds = max(len(v) for v in results.values())
    print()
    print("=" * 100)
    print(
        f"ingest benchmark: {args.concurrency} producers, {args.warmup:g} s warm-up + "
        f"{args.seconds:g} s measured per target and round, {rounds} round(s), keep-alive "
        f"aiohttp client in {args.load_procs} separate process(es), 127.0.0.1"
    )
    print(
        f"machine: {os.cpu_count()} CPU(s) shared by server, load generator and everything else "
        "(servers run one after the other, never together); CPU is in cores (1.00 = one core "
        "busy) over the measured window"
    )
    for r in range(rounds):
        print("-" * 100 + (f"\nround {r + 1}" if rounds > 1 else ""))
        for outcomes in results.values():
            if r < len(outcomes) and not _details(outcomes[r], args):
                failed = True
    print("-" * 100)
    if rounds > 1:
        print(f"summary (median of {rounds} rounds; acknowledged/durable summed):")
    summary: dict[str, float] = {}
    for name, outcomes in results.items():
        rps = _median([o.rps for o in outcomes])
        summary[name] = rps
        p50 = _median([o.p50 for o in outcomes])
        p99 = _median([o.p99 for o in outcomes])
        print(f"{outcomes[0].label}: {rps:.0f} req/s  p50 {p50:.1f} ms  p99 {p99:.1f} ms")
        acked, durable = sum(o.acked for o in outcomes), sum(o.durable for o in outcomes)
        print(f"    acknowledged {acked}, durable {durable}")
    if "tasktalk" in results and "bare" in results and summary["bare"] > 0:
        # Each round measures both targets back to back, so a round's ratio compares like
        # with like; the median of those is the headline, robust to a noisy round.
        per_round = [
            t.rps / b.rps
            for t, b in zip(results["tasktalk"], results["bare"], strict=False)
            if b.rps > 0
        ]
        line = f"ratio tasktalk / bare: {_median(per_round):.2f}"
        if rounds > 1:
            line += (
                "  (median of per-round ratios: "
                + ", ".join(f"{x:.2f}" for x in per_round)
                + f"; ratio of medians {summary['tasktalk'] / summary['bare']:.2f})"
            )
        print(line)
        sync, bare_sync = results["tasktalk"][0].synchronous, results["bare"][0].synchronous
        if sync != bare_sync:
            print(
                f"    (tasktalk ran with synchronous={sync}, bare with {bare_sync}; "
                "--tasktalk-synchronous NORMAL compares like with like)"
            )
    print("=" * 100)
    return 1 if failed else 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per target")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per target")
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent producers")
    parser.add_argument(
        "--max-requests",
        type=int,
        default=DEFAULT_MAX_REQUESTS,
        help="cap on requests per target (warm-up included)",
    )
    parser.add_argument(
        "--load-procs", type=int, default=1, help="load generator processes (default 1)"
    )
    parser.add_argument(
        "--only", choices=("tasktalk", "bare"), help="measure one target instead of both"
    )
    parser.add_argument(
        "--tasktalk-synchronous",
        choices=("OFF", "NORMAL", "FULL", "EXTRA"),
        help="override tasktalk's SQLite synchronous setting (default: its config, FULL)",
    )
    parser.add_argument(
        "--substeps", action="store_true", help="also toggle a substep in every report"
    )
    parser.add_argument(
        "--kill",
        action="store_true",
        help="stop servers with SIGKILL before counting rows (crash durability check)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="alternate the targets this many times and report medians (noisy machines)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp directory")
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.load_procs < 1 or args.load_procs > args.concurrency:
        parser.error("need 1 <= --load-procs <= --concurrency")
    if args.seconds <= 0 or args.warmup < 0 or args.max_requests < 1 or args.rounds < 1:
        parser.error("--seconds must be > 0, --warmup >= 0, --max-requests and --rounds >= 1")
    return args


def main(argv: list[str]) -> int:
    if argv[:1] == ["--bare-server"] and len(argv) == 3:
        bare_server(int(argv[1]), argv[2])
        return 0
    if argv[:1] in (["--load-setup"], ["--load-run"]) and len(argv) == 2:
        config = json.loads(Path(argv[1]).read_text())
        try:
            result = asyncio.run(
                load_setup(config) if argv[0] == "--load-setup" else load_run(config)
            )
        except RuntimeError as error:
            print(f"load generator: {error}", file=sys.stderr)
            return 1
        Path(config["out"]).write_bytes(result)
        return 0
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="tasktalk-bench-"))
    targets = [
        (name, run)
        for name, run in (("tasktalk", run_tasktalk), ("bare", run_bare))
        if args.only in (None, name)
    ]
    results: dict[str, list[Outcome]] = {name: [] for name, _ in targets}
    try:
        for r in range(args.rounds):
            for name, run in targets:
                where = workdir / f"round{r + 1}-{name}"
                where.mkdir()
                print(f"round {r + 1}/{args.rounds}: measuring {name} ...", flush=True)
                results[name].append(run(args, where))
    except Exception as error:
        print(f"bench/ingest.py: {error}", file=sys.stderr)
        print(f"(files kept in {workdir})", file=sys.stderr)
        return 2
    status = report(results, args)
    if args.keep or status != 0:
        print(f"files kept in {workdir}")
    else:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
