"""Two responder replicas sharing PostgreSQL, under a burst of webhooks, and one killed.

    python -m benchmarks.responder

A throwaway PostgreSQL server (as in the tests) holds the replicas' state; the sandbox answers
every request after 100 ms (``Sandbox(latency=0.1)``). Two ``python -m agents.responder``
processes (4 workers each, ``--lease-seconds 10``) share it; the benchmark plays PagerDuty and a
load balancer: it triggers BURST incidents and posts their signed webhooks round-robin to the
replicas from 16 threads (a refused connection goes to the other replica, as a redelivery
would). It watches the shared ledger for each incident reaching ``awaiting_approval``.

Run 1: both replicas live. Run 2: one replica is killed with SIGKILL once a third of the briefs
are ready; the survivor must finish every accepted investigation (the dead one's leases run
out after 10 s). The table shows webhook -> brief p50/p95, briefs per minute and each
replica's peak memory (VmHWM).
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import requests
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

from pd_toolkit.sandbox import Sandbox
from tests.postgres import free_port, throwaway_postgres
from tests.responder_helpers import responder_process, signed_post, triggered

LATENCY = 0.1
BURST = 200
MODES = [("payments-api", "psp_timeouts"), ("ledger", "ledger_recon_failed")]


def _peak_memory_mb(url: str) -> float:
    """VmHWM of the process listening at ``url`` (found by its port), in MB."""
    port = url.rsplit(":", 1)[1]
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = status.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"agents.responder" in command and port.encode() in command:
            for line in (status.parent / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return float("nan")


def run(database: str, *, kill_one: bool) -> dict[str, float]:
    """One burst on two replicas (killing one mid-burst when ``kill_one``)."""
    engine = create_engine(database)
    options = ("--lease-seconds", "10", "--queue-size", str(BURST))
    with (
        Sandbox(latency=LATENCY) as sandbox,
        tempfile.TemporaryDirectory() as folder,
        ExitStack() as replica_b,
        ExitStack() as replica_a,
    ):
        log = Path(folder) / "replicas.log"
        urls = [
            stack.enter_context(
                responder_process(sandbox, database, free_port(), log, *options, name=name)
            )
            for stack, name in ((replica_a, "a"), (replica_b, "b"))
        ]
        doomed_url = urls[0]
        envelopes = [triggered(sandbox, *MODES[number % len(MODES)]) for number in range(BURST)]
        alive = list(urls)
        delivered: dict[str, float] = {}
        ready: dict[str, float] = {}
        lock = threading.Lock()

        def deliver(number: int) -> None:
            envelope = envelopes[number]
            for attempt in range(4):
                target = alive[(number + attempt) % len(alive)]
                try:
                    answer = signed_post(target, envelope)
                except requests.ConnectionError:
                    continue  # the balancer tries the other replica
                if answer.status_code in (200, 202):
                    with lock:
                        delivered.setdefault(envelope["event"]["data"]["id"], time.perf_counter())
                    return

        def watch() -> None:
            while len(ready) < BURST and time.perf_counter() - started < 900:
                with engine.connect() as conn:
                    rows = conn.execute(
                        text(
                            "SELECT incident_id FROM pdtk_responder_investigations "
                            "WHERE status = 'awaiting_approval'"
                        )
                    ).scalars()
                    now = time.perf_counter()
                    for incident_id in rows:
                        ready.setdefault(incident_id, now)
                time.sleep(0.05)

        started = time.perf_counter()
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        killed_at = None
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(deliver, range(BURST)))
            while kill_one and killed_at is None:
                if len(ready) >= BURST // 3:
                    memory_doomed = _peak_memory_mb(doomed_url)
                    alive.remove(doomed_url)
                    replica_a.close()  # SIGKILL
                    killed_at = time.perf_counter() - started
                time.sleep(0.05)
        watcher.join()
        wall = time.perf_counter() - started
        memory = [_peak_memory_mb(url) for url in alive]
        if kill_one:
            memory = [memory_doomed, *memory]
        accepted = len(delivered)
    engine.dispose()
    waits = sorted(ready[i] - delivered[i] for i in ready if i in delivered)
    return {
        "accepted": accepted,
        "briefs": len([i for i in delivered if i in ready]),
        "p50": statistics.median(waits),
        "p95": waits[max(0, round(0.95 * len(waits)) - 1)],
        "wall": wall,
        "per_minute": 60 * len(ready) / wall,
        "memory": " / ".join(f"{m:.0f}" for m in memory),
        "killed_at": killed_at or 0.0,
    }


def main() -> None:
    console = Console(width=130)
    table = Table(
        title=f"Responder: 2 replicas on PostgreSQL, a burst of {BURST} webhooks "
        f"(sandbox, {LATENCY * 1000:.0f} ms/request)"
    )
    for column in (
        "case",
        "accepted",
        "briefs",
        "p50 s",
        "p95 s",
        "wall s",
        "briefs/min",
        "peak MB",
    ):
        table.add_column(column, justify="right" if column != "case" else "left")
    with throwaway_postgres() as server:
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        for case, kill_one in (("both replicas live", False), ("one killed mid-burst", True)):
            database = f"bench_{int(kill_one)}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{database}"'))
            result = run(server.rsplit("/", 1)[0] + f"/{database}", kill_one=kill_one)
            label = case + (f" (at {result['killed_at']:.0f} s)" if kill_one else "")
            table.add_row(
                label,
                f"{result['accepted']:.0f}",
                f"{result['briefs']:.0f}",
                f"{result['p50']:.1f}",
                f"{result['p95']:.1f}",
                f"{result['wall']:.0f}",
                f"{result['per_minute']:.0f}",
                str(result["memory"]),
            )
        admin.dispose()
    console.print(table)


if __name__ == "__main__":
    main()
