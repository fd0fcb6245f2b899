"""Requests and wall time per investigation on the sandbox, parallel graph vs sequential.

    python -m benchmarks.investigate

Every request the sandbox answers is delayed by 100 ms (``Sandbox(latency=0.1)``), as a distant
API would be. Each case runs twice in the same process, each time on a fresh client (cold name,
incident and history caches): once through the graph (the six lookups in parallel), once
through the same node functions called one after another, and once more that way with the
client sending every request one after another (``max_concurrency=1``: no concurrency at all).
Each of those runs starts from an empty in-memory store. Goals: <= 12 requests per
investigation, parallel >= 3x faster. When requests exceed the goal, a per-node breakdown shows
where they go.

A second table counts requests per investigation against the incident store: cold (an empty
store), warm (a new client and graph on the store an earlier run filled, as a second process
would be) and warm an hour later (the sandbox clock moved on: the store pays the hour's delta).
Goals: warm <= 8, cold <= 17.
"""

import importlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from agents.investigate import LOOKUPS, Investigation, InvestigationInput, build_graph
from pd_toolkit import PagerDutyClient
from pd_toolkit.sandbox import Sandbox
from pd_toolkit.store import IncidentStore

NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)  # the tests' FIXED_NOW
LATENCY = 0.1
REQUEST_GOAL = 12
SPEEDUP_GOAL = 3.0
WARM_GOAL = 8
COLD_GOAL = 17
CASES: list[tuple[str, InvestigationInput]] = [
    ("incident #3088", {"incident": "#3088"}),
    ("service checkout", {"service": "checkout"}),
    ("most urgent", {}),
]


def _client(sandbox: Sandbox, max_concurrency: int = 5) -> PagerDutyClient:
    return PagerDutyClient(
        api_key=sandbox.api_key,
        base_url=sandbox.base_url,
        rate_limit_per_minute=None,
        max_concurrency=max_concurrency,
    )


def run_parallel(
    sandbox: Sandbox,
    request: InvestigationInput,
    store: IncidentStore | None = None,
    now: datetime = NOW,
) -> tuple[float, dict[str, Any]]:
    """(seconds, final state) through a new compiled graph, as a new process would run it
    (only the store carries over; an empty one unless given)."""
    compiled = build_graph(_client(sandbox), now=now, store=store or IncidentStore.memory())
    started = time.perf_counter()
    state = compiled.invoke(request)
    return time.perf_counter() - started, state


def run_sequential(
    sandbox: Sandbox, request: InvestigationInput, max_concurrency: int = 5
) -> tuple[float, dict[str, Any]]:
    """(seconds, final state) through the same nodes, one lookup after another."""
    nodes = Investigation(_client(sandbox, max_concurrency), now=NOW, store=IncidentStore.memory())
    started = time.perf_counter()
    state: dict[str, Any] = dict(request)
    state.update(nodes.find_incident(state))  # type: ignore[arg-type]
    if state["target"]:
        for name in LOOKUPS:
            state["lookups"] |= nodes.lookup(name)(state)["lookups"]  # type: ignore[arg-type]
    state.update(nodes.assemble_brief(state))  # type: ignore[arg-type]
    return time.perf_counter() - started, state


def _requests(state: dict[str, Any]) -> int:
    return sum(record["requests"] for record in state["lookups"].values())


def main() -> None:
    console = Console(width=140)
    summary = Table(
        title=f"Investigations on the sandbox, {LATENCY * 1000:.0f} ms per request, cold caches"
    )
    columns = (
        "case",
        "incident",
        "requests",
        "parallel",
        "lookups in turn",
        "speed-up",
        "every request in turn",
        "speed-up ",
    )
    for column in columns:
        summary.add_column(column, justify="left" if column in ("case", "incident") else "right")
    breakdowns: list[tuple[str, dict[str, Any]]] = []
    # The ranking's first index loads scikit-learn (about 1.5 s, once per process): loaded
    # before the clocks run, so that the first case is timed like the others.
    importlib.import_module("sklearn.feature_extraction.text")
    with Sandbox(now=NOW, latency=LATENCY) as sandbox:
        for label, request in CASES:
            parallel_s, state = run_parallel(sandbox, request)
            sequential_s, sequential = run_sequential(sandbox, request)
            one_by_one_s, _ = run_sequential(sandbox, request, max_concurrency=1)
            requests = _requests(state)
            flag = "" if requests <= REQUEST_GOAL else " (over)"
            summary.add_row(
                label,
                f"#{state['target']['incident_number']}",
                f"{requests}{flag}"
                + ("" if _requests(sequential) == requests else f" ({_requests(sequential)} seq)"),
                f"{parallel_s:.2f}s",
                f"{sequential_s:.2f}s",
                f"{sequential_s / parallel_s:.1f}x",
                f"{one_by_one_s:.2f}s",
                f"{one_by_one_s / parallel_s:.1f}x",
            )
            if requests > REQUEST_GOAL:
                breakdowns.append((label, state))
    console.print(summary)
    console.print(f"goals: <= {REQUEST_GOAL} requests, parallel >= {SPEEDUP_GOAL:.0f}x faster")
    for label, state in breakdowns:
        nodes = Table(title=f"Where the requests go: {label}")
        for column in ("node", "tool", "requests", "seconds"):
            nodes.add_column(column, justify="left" if column in ("node", "tool") else "right")
        for name, record in state["lookups"].items():
            nodes.add_row(name, record["tool"], str(record["requests"]), f"{record['seconds']:.2f}")
        console.print(nodes)
    console.print(store_table())


def store_table() -> Table:
    """Requests per investigation on a cold store, a warm one, and a warm one an hour later."""
    table = Table(title="Requests per investigation with the incident store")
    for column in ("case", "cold store", "warm store", "warm, 1 h later", "history (warm)"):
        table.add_column(column, justify="left" if column == "case" else "right")
    for label, request in CASES:
        with Sandbox(now=NOW) as sandbox:  # its own, since the clock moves
            store = IncidentStore.memory()
            _, cold = run_parallel(sandbox, request, store)
            _, warm = run_parallel(sandbox, request, store)
            later = NOW + timedelta(hours=1)
            sandbox.advance(later - NOW)
            _, hour = run_parallel(sandbox, request, store, now=later)
            store.close()
        counts = [_requests(cold), _requests(warm), _requests(hour)]
        goals = [COLD_GOAL, WARM_GOAL, WARM_GOAL + 1]
        cells = [
            f"{n}{'' if n <= goal else ' (over)'}" for n, goal in zip(counts, goals, strict=True)
        ]
        table.add_row(label, *cells, str(warm["lookups"]["similar_history"]["requests"]))
    table.caption = f"goals: cold <= {COLD_GOAL}, warm <= {WARM_GOAL} (an hour later: + the delta)"
    return table


if __name__ == "__main__":
    main()
