"""The incident store at scale: sandboxes of ~5,000, ~20,000 and ~50,000 incidents in 180 days.

    python -m benchmarks.store

Per size: a cold ``sync_incidents`` of the whole 180-day window into an empty SQLite file
(requests, wall time; the sandbox answers over loopback with no added latency), then what
``pd-toolkit sync`` does next (``prefetch_resolutions``: the searches of the open and recent
incidents, whose matches' resolutions it stores), then ``find_similar_incidents`` on the warm
store: the first search of a new process (reads the window from the store, derives what the
ranking reads of each incident and stores it, builds the index), the first search of a later
process (a separate ``python -c`` process on the store file: reads those stored forms back),
with and without scikit-learn imported beforehand (the search imports it), later searches
(median of 20), and the requests of a warm search through the tool (a new process, the store
synced moments ago) of an open incident, a recent resolved one and an older resolved one, each
by id. The growth columns compare each size's times with
the previous size's, against how much the incident count grew.

For the largest size, the details: the store's size on disk and in memory (the same data in an
in-memory SQLite store), the parsed records and ranking index a process holds, and a delta sync
an hour later. Goals: warm search < 100 ms; a warm search <= 8 requests at 20,000 incidents.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from langchain_core.messages import ToolCall
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.api import PagerDutyAPI
from pd_toolkit.history import find_similar_incidents, prefetch_resolutions
from pd_toolkit.history.fetch import get_history
from pd_toolkit.sandbox import Sandbox
from pd_toolkit.store import IncidentStore, sync_incidents

NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
SIZES = (5_000, 20_000, 50_000)
WINDOW = timedelta(days=180)
SEARCH_GOAL_MS = 100.0
WARM_REQUESTS_GOAL = 8
QUERIES = ("checkout 5xx error rate", "postgres connection pool exhausted", "disk full")
KEY_VAR = "PDTK_BENCH_SANDBOX_KEY"  # the sandbox's key, handed to the later process
# A later process: opens the store file, searches once (timed: its first search) and prints the
# time as JSON. argv: store URL, sandbox URL, now, query, "preload" to import scikit-learn first.
LATER_PROCESS = """
import json, os, sys, time
from datetime import datetime
from pd_toolkit import PagerDutyClient
from pd_toolkit.api import PagerDutyAPI
from pd_toolkit.history import find_similar_incidents
from pd_toolkit.store import IncidentStore
if sys.argv[5] == "preload":
    import sklearn.feature_extraction.text
client = PagerDutyClient(
    api_key=os.environ["PDTK_BENCH_SANDBOX_KEY"], base_url=sys.argv[2], rate_limit_per_minute=None
)
api = PagerDutyAPI(client, store=IncidentStore(sys.argv[1]))
clock = time.perf_counter()
find_similar_incidents(api, text=sys.argv[4], now=datetime.fromisoformat(sys.argv[3]))
print(json.dumps({"ms": (time.perf_counter() - clock) * 1000, "requests": client.request_count}))
"""


@dataclass
class SizeRun:
    """What one sandbox size measured."""

    incidents: int
    cold_requests: int
    cold_s: float
    prefetch_queries: int
    prefetch_requests: int
    first_ms: float
    next_ms: float
    next_preloaded_ms: float
    warm_ms: float
    warm_requests: dict[str, int]


def _mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def _sqlite_bytes(store: IncidentStore) -> int:
    with store.engine.connect() as conn:
        pages = conn.execute(text("PRAGMA page_count")).scalar_one()
        size = conn.execute(text("PRAGMA page_size")).scalar_one()
    return int(pages) * int(size)


def _client(sb: Sandbox) -> PagerDutyClient:
    return PagerDutyClient(api_key=sb.api_key, base_url=sb.base_url, rate_limit_per_minute=None)


def _tool_requests(sb: Sandbox, store: IncidentStore, incident_id: str) -> int:
    """Requests of one find_similar_incidents tool call in a new process on the store."""
    client = _client(sb)
    toolkit = PagerDutyToolkit(client=client, store=store, now=lambda: NOW)
    tool = next(t for t in toolkit.get_tools() if t.name == "pagerduty_find_similar_incidents")
    call = ToolCall(name=tool.name, args={"incident": incident_id}, id="bench", type="tool_call")
    if tool.invoke(call).status != "success":
        raise RuntimeError(f"the search of {incident_id} failed")
    return client.request_count


def _later_process(sb: Sandbox, path: Path, *, preload: bool) -> float:
    """The first search (ms) of a separate Python process on the store file (scikit-learn
    imported beforehand when ``preload``); it must send no request (the store is fresh)."""
    argv = [f"sqlite:///{path}", sb.base_url, NOW.isoformat(), QUERIES[0]]
    found = subprocess.run(
        [sys.executable, "-c", LATER_PROCESS, *argv, "preload" if preload else "-"],
        env={**os.environ, KEY_VAR: sb.api_key},
        capture_output=True,
        text=True,
        check=True,
    )
    measured = json.loads(found.stdout.splitlines()[-1])
    if measured["requests"]:
        raise RuntimeError(f"the later process sent {measured['requests']} requests")
    return float(measured["ms"])


def _queries(sb: Sandbox) -> dict[str, str]:
    """The incidents whose warm searches are counted: the newest open one, a resolved one of
    the last day (a likely query) and one resolved a month earlier (an unlikely one)."""
    incidents = sb.account.incidents  # oldest first
    created = [datetime.fromisoformat(i["created_at"].replace("Z", "+00:00")) for i in incidents]
    resolved = [
        (c, i) for c, i in zip(created, incidents, strict=True) if i["status"] == "resolved"
    ]
    return {
        "open": next(i["id"] for i in reversed(incidents) if i["status"] != "resolved"),
        "resolved, last day": next(
            i["id"] for c, i in reversed(resolved) if c > NOW - timedelta(hours=12)
        ),
        "resolved, a month ago": next(
            i["id"] for c, i in reversed(resolved) if c < NOW - timedelta(days=30)
        ),
    }


def measure(sb: Sandbox, path: Path) -> tuple[SizeRun, IncidentStore]:
    """One size: cold sync + prefetch into a SQLite file, then the searches (the store is
    returned open, for the details of the largest size)."""
    client = _client(sb)
    store = IncidentStore(f"sqlite:///{path}")
    clock = time.perf_counter()
    cold = sync_incidents(client, store, since=NOW - WINDOW, until=NOW)
    cold_s = time.perf_counter() - clock
    searched, prefetched = prefetch_resolutions(PagerDutyAPI(client, store=store), now=NOW)

    api = PagerDutyAPI(client, store=store)  # a new process: only the store carries over
    clock = time.perf_counter()
    find_similar_incidents(api, text=QUERIES[0], now=NOW)
    first_ms = (time.perf_counter() - clock) * 1000
    for query in QUERIES[1:]:  # each query's top matches' resolutions: fetched once, kept
        find_similar_incidents(api, text=query, now=NOW)
    timings: list[float] = []
    for n in range(20):
        clock = time.perf_counter()
        find_similar_incidents(api, text=QUERIES[n % len(QUERIES)], now=NOW)
        timings.append((time.perf_counter() - clock) * 1000)
    next_ms = _later_process(sb, path, preload=False)
    next_preloaded_ms = _later_process(sb, path, preload=True)
    warm = {label: _tool_requests(sb, store, ref) for label, ref in _queries(sb).items()}
    run = SizeRun(
        incidents=len(sb.account.incidents),
        cold_requests=cold.requests,
        cold_s=cold_s,
        prefetch_queries=searched,
        prefetch_requests=prefetched,
        first_ms=first_ms,
        next_ms=next_ms,
        next_preloaded_ms=next_preloaded_ms,
        warm_ms=statistics.median(timings),
        warm_requests=warm,
    )
    return run, store


def details(sb: Sandbox, store: IncidentStore, path: Path) -> Table:
    """Size on disk and in memory, memory held by a process, a delta sync an hour later."""
    disk = store.stats().bytes_on_disk or 0
    store.close()
    with closing(sqlite3.connect(path)) as raw:  # fold the WAL in: the settled file size
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store = IncidentStore(f"sqlite:///{path}")
    settled = store.stats().bytes_on_disk or 0
    memory = IncidentStore.memory()
    sync_incidents(_client(sb), memory, since=NOW - WINDOW, until=NOW)
    in_memory = _sqlite_bytes(memory)
    memory.close()

    tracemalloc.start()
    history, _ = get_history(
        PagerDutyAPI(_client(sb), store=store),
        since=NOW - WINDOW,
        until=NOW,
        window_days=180,
        ttl=600,
    )
    history.index.rank(history.records[0].normalized, now=NOW)
    held, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    sb.advance(timedelta(hours=1))
    later = NOW + timedelta(hours=1)
    clock = time.perf_counter()
    delta = sync_incidents(_client(sb), store, since=later - WINDOW, until=later)
    delta_s = time.perf_counter() - clock
    store.close()

    total = len(sb.account.incidents)
    table = Table(title=f"Incident store at scale: {total:,} incidents in 180 days (SQLite file)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("delta sync 1 h later: requests", f"{delta.requests}")
    table.add_row("delta sync 1 h later: time", f"{delta_s * 1000:.0f} ms")
    table.add_row("store on disk (with WAL, after sync)", _mib(disk))
    table.add_row("store on disk (checkpointed)", _mib(settled))
    table.add_row("store in memory (PD_TOOLKIT_STORE=memory)", _mib(in_memory))
    table.add_row("per incident on disk", f"{settled / max(total, 1):.0f} bytes")
    table.add_row("parsed history + index held by a process", _mib(held))
    return table


def _growth(runs: list[SizeRun], index: int, value: Any) -> str:
    """'x2.1 (incidents x4.0)' against the previous size; '' for the first."""
    if index == 0:
        return ""
    before, now = runs[index - 1], runs[index]
    return f"x{value(now) / value(before):.1f} (n x{now.incidents / before.incidents:.1f})"


def size_table(runs: list[SizeRun]) -> Table:
    table = Table(title="Sync, prefetch and search per size (SQLite file, loopback)")
    columns = (
        "incidents",
        "cold sync",
        "prefetch (sync)",
        "first search",
        "growth",
        "next process",
        "growth  ",
        "next, sklearn loaded",
        "growth   ",
        "warm search",
        "growth ",
        "warm requests: open / recent / older",
    )
    for column in columns:
        table.add_column(column, justify="right")
    for index, run in enumerate(runs):
        flag = "" if run.warm_ms < SEARCH_GOAL_MS else " (over)"
        requests = " / ".join(str(n) for n in run.warm_requests.values())
        table.add_row(
            f"{run.incidents:,}",
            f"{run.cold_requests:,} req, {run.cold_s:.1f}s",
            f"{run.prefetch_queries} searches, {run.prefetch_requests} req",
            f"{run.first_ms:,.0f} ms",
            _growth(runs, index, lambda r: r.first_ms),
            f"{run.next_ms:,.0f} ms",
            _growth(runs, index, lambda r: r.next_ms),
            f"{run.next_preloaded_ms:,.0f} ms",
            _growth(runs, index, lambda r: r.next_preloaded_ms),
            f"{run.warm_ms:.1f} ms{flag}",
            _growth(runs, index, lambda r: r.warm_ms),
            requests,
        )
    return table


def main() -> None:
    console = Console(width=160)
    runs: list[SizeRun] = []
    folder = Path(tempfile.mkdtemp(prefix="pdtk-bench-"))
    for size in SIZES:
        started = time.perf_counter()
        with Sandbox(now=NOW, incidents=size) as sb:
            console.print(
                f"sandbox of {len(sb.account.incidents):,} incidents built in "
                f"{time.perf_counter() - started:.0f}s"
            )
            path = folder / f"store-{size}.db"
            run, store = measure(sb, path)
            runs.append(run)
            if size == SIZES[-1]:
                console.print(details(sb, store, path))
            else:
                store.close()
    console.print(size_table(runs))
    console.print(
        f"goals: warm search < {SEARCH_GOAL_MS:.0f} ms; a warm search <= {WARM_REQUESTS_GOAL} "
        "requests (open: the incident itself, which may have changed; recent: its matches' "
        "resolutions fetched by the sync; older: those of its matches not yet stored)"
    )


if __name__ == "__main__":
    main()
