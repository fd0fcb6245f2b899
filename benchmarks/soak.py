"""Soak: 1,200 tool invocations across all eight tools, about 10% of requests faulted.

    python -m benchmarks.soak [--invocations N] [--fault-rate 0.1] [--workers 8] [--seed 7]

One toolkit (one client, name cache and history cache, as in a long conversation) serves
``--workers`` threads over real HTTP to the sandbox. After each request the client sends, a
seeded draw faults the next one (sometimes a burst of the next three) so that about
``--fault-rate`` of all requests fail: a 429 (Retry-After 0-5 s), a 5xx, an answer slower than
the read timeout, a truncated or non-JSON body, or a dropped connection. The client has short
settings (timeout 1 s connect / 0.5 s read, 2 retries, Retry-After capped at 1 s), so one call
takes at most 3 * 1.5 + 1.0 + 1.5 = 7 s. Its rate budget is off: the soak sends about 4,500
requests a minute, and the default 960/minute limiter (tests/test_reliability_rate_budget.py)
would rightly hold calls for up to a minute.

Each invocation is compared with the same call made before the soak without faults:

- correct: the same content as the clean call (request counts aside); for the few calls with
  wrong arguments on purpose, the same error;
- clear error: an error ToolMessage that says what to do (a fault outlasted the retries);
- wrong: a success with different content, or an error without advice ("failed unexpectedly");
- crash: ``invoke`` raised (goal 0);
- hang: still running past its budget, (GETs of the clean call + 2) * 7 s, as a watchdog
  thread sees it (goal 0).
"""

from __future__ import annotations

import argparse
import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import ToolCall, ToolMessage
from langchain_core.tools import BaseTool
from rich.console import Console
from rich.table import Table

from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.client import RequestEvent
from pd_toolkit.sandbox import Fault, Sandbox

NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)  # the tests' FIXED_NOW
SETTINGS: dict[str, Any] = {
    "timeout": (1.0, 0.5),
    "max_retries": 2,
    "max_retry_wait": 1.0,
    "rate_limit_per_minute": None,  # the soak sends > 960/min: the limiter would queue it
}
WORST_CALL = 3 * (1.0 + 0.5) + 1.0 + 1.5  # attempts * (connect + read) + the two longest waits
ADVICE = re.compile(r"try again|narrow|retry|check|fix|give|use ", re.IGNORECASE)
CALLS: dict[str, list[dict[str, Any]]] = {
    "pagerduty_list_incidents": [
        {},
        {"service": "checkout", "time_range": "this week"},
        {"team": "payments", "statuses": ["resolved"], "time_range": "last 7 days"},
        {"urgency": "high", "limit": 5},
        {"service": "chekout"},
    ],
    "pagerduty_get_incident": [{"incident": "#3088"}, {"incident": "#3086"}, {"incident": "#1"}],
    "pagerduty_get_incident_timeline": [{"incident": "#3088"}, {"incident": "#3086"}],
    "pagerduty_get_incident_alerts": [{"incident": "#3088"}, {"incident": "#3086", "limit": 3}],
    "pagerduty_get_oncall": [
        {"team": "payments"},
        {"service": "checkout"},
        {},
        {"schedule": "Checkout Primary"},
    ],
    "pagerduty_get_service_status": [{"service": "checkout"}, {"service": "payments-db"}, {}],
    "pagerduty_find_similar_incidents": [
        {"incident": "#3088"},
        {"incident": "#3086", "window_days": 30},
        {"text": "postgres connection pool exhausted", "all_services": True},
    ],
    "pagerduty_list_recent_changes": [
        {"incident": "#3088"},
        {"service": "checkout", "time_range": "last 7 days"},
        {},
    ],
}


BURSTS = (1, 1, 1, 3)  # requests one fault event hits: mostly one, sometimes a burst of 3


def fault_mix(rng: random.Random) -> Fault:
    """One random fault for the next request(s)."""
    kind = rng.choice(["429", "5xx", "slow", "truncated", "not_json", "drop"])
    times = rng.choice(BURSTS)
    if kind == "429":
        return Fault(kind="status", status=429, retry_after=rng.choice([0, 0.2, 1, 5]), times=times)
    if kind == "5xx":
        return Fault(kind="status", status=rng.choice([500, 502, 503, 504]), times=times)
    if kind == "slow":
        return Fault(kind="slow", delay=0.8, times=times)
    return Fault(kind=kind, times=times)  # type: ignore[arg-type]


class Injector:
    """An ``on_request`` hook: after each attempt, maybe fault the next request(s), so that
    about ``rate`` of all requests are faulted."""

    def __init__(self, sandbox: Sandbox, rate: float, seed: int) -> None:
        self.sandbox, self.rng = sandbox, random.Random(seed)
        self.rate = rate / (sum(BURSTS) / len(BURSTS))  # fault events per request
        self.lock = threading.Lock()
        self.enabled = False

    def __call__(self, event: RequestEvent) -> None:
        with self.lock:
            if self.enabled and self.rng.random() < self.rate:
                self.sandbox.inject(fault_mix(self.rng))


def normalized(content: str) -> str:
    """Content without the request count and cache note that legitimately vary."""
    return re.sub(r"\(\d+ API requests(, history cached)?\)", "(N API requests)", content)


@dataclass
class Job:
    """One invocation and its outcome."""

    tool: str
    args: dict[str, Any]
    expected: tuple[str, str]  # (status, normalized content) of the clean call
    budget: float
    started: float | None = None
    seconds: float | None = None
    outcome: str | None = None
    detail: str = ""


@dataclass
class Row:
    """One line of the table."""

    counts: Counter[str] = field(default_factory=Counter)
    worst: float = 0.0


def classify(job: Job, message: ToolMessage) -> str:
    content = str(message.content)
    if (message.status, normalized(content)) == job.expected:
        return "correct"  # the clean answer, or the same error for wrong arguments
    if message.status == "success" or "unexpectedly" in content or not ADVICE.search(content):
        return "wrong"
    return "clear error"


def run(job: Job, tools: dict[str, BaseTool]) -> None:
    job.started = time.monotonic()
    try:
        message = tools[job.tool].invoke(
            ToolCall(name=job.tool, args=job.args, id="soak", type="tool_call")
        )
        job.outcome = classify(job, message)
        job.detail = str(message.content)[:160]
    except Exception as exc:  # a crash is what the soak counts
        job.outcome, job.detail = "crash", f"{type(exc).__name__}: {exc}"[:160]
    job.seconds = time.monotonic() - job.started


def clean_answers(sandbox: Sandbox) -> dict[tuple[str, str], tuple[tuple[str, str], int]]:
    """Per call: the unfaulted (status, content) and the GETs it sent (on a cold client)."""
    answers = {}
    for tool, calls in CALLS.items():
        for args in calls:
            client = PagerDutyClient(api_key=sandbox.api_key, base_url=sandbox.base_url)
            found = {
                t.name: t for t in PagerDutyToolkit(client=client, now=lambda: NOW).get_tools()
            }
            message = found[tool].invoke(ToolCall(name=tool, args=args, id="0", type="tool_call"))
            expected = (str(message.status), normalized(str(message.content)))
            answers[(tool, repr(args))] = (expected, client.request_count)
    return answers


def soak(invocations: int, rate: float, workers: int, seed: int) -> None:
    rng = random.Random(seed)
    with Sandbox(now=NOW) as sandbox:
        clean = clean_answers(sandbox)
        sandbox.request_log.clear()
        injector = Injector(sandbox, rate, seed)
        client = PagerDutyClient(
            api_key=sandbox.api_key, base_url=sandbox.base_url, on_request=injector, **SETTINGS
        )
        toolkit = PagerDutyToolkit(client=client, now=lambda: NOW)
        tools = {tool.name: tool for tool in toolkit.get_tools()}
        jobs = []
        for _ in range(invocations):
            tool = rng.choice(list(CALLS))
            args = rng.choice(CALLS[tool])
            expected, gets = clean[(tool, repr(args))]
            jobs.append(Job(tool, args, expected, budget=(gets + 2) * WORST_CALL))
        injector.enabled = True
        started = time.monotonic()
        hung = watch(jobs, tools, workers)
        elapsed = time.monotonic() - started
        injector.enabled = False
        time.sleep(1.0)  # let held (slow) answers finish, so the sandbox log is complete
        log = list(sandbox.request_log)
    report(jobs, hung, elapsed, client.request_count, log, rate, workers)


def watch(jobs: list[Job], tools: dict[str, BaseTool], workers: int) -> set[int]:
    """Run the jobs on ``workers`` threads; a watchdog marks any past its budget as hung and
    stops waiting once only hung jobs are left."""
    hung: set[int] = set()
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="soak")
    index_of: dict[Future[None], int] = {
        executor.submit(run, job, tools): index for index, job in enumerate(jobs)
    }
    pending = set(index_of)
    while pending and not {index_of[future] for future in pending} <= hung:
        _, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
        now = time.monotonic()
        for future in pending:
            job = jobs[index_of[future]]
            if job.started is not None and now - job.started > job.budget:
                hung.add(index_of[future])
    executor.shutdown(wait=False, cancel_futures=True)
    return hung


def report(
    jobs: list[Job],
    hung: set[int],
    elapsed: float,
    requests: int,
    log: list[Any],
    rate: float,
    workers: int,
) -> None:
    rows: dict[str, Row] = {tool: Row() for tool in CALLS}
    for index, job in enumerate(jobs):
        row = rows[job.tool]
        row.counts["hang" if index in hung else job.outcome or "hang"] += 1
        row.worst = max(row.worst, job.seconds or 0.0)
    faulted = Counter(
        str(record.status) if record.fault == "status" else record.fault
        for record in log
        if record.fault
    )
    table = Table(
        title=f"Soak: {len(jobs):,} invocations, {workers} threads, fault rate {rate:.0%} "
        f"(client: timeout 1/0.5 s, 2 retries, Retry-After cap 1 s)"
    )
    columns = ("tool", "calls", "correct", "clear error", "wrong", "crash", "hang", "worst s")
    for column in columns:
        table.add_column(column, justify="left" if column == "tool" else "right")
    total = Row()
    for tool, row in rows.items():
        total.counts.update(row.counts)
        total.worst = max(total.worst, row.worst)
        table.add_row(tool.removeprefix("pagerduty_"), *cells(row))
    table.add_section()
    table.add_row("total", *cells(total))
    console = Console(width=120)
    console.print(table)
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(faulted.items()))
    console.print(
        f"requests sent {requests:,} (sandbox saw {len(log):,}); faulted "
        f"{sum(faulted.values()):,} = {sum(faulted.values()) / max(len(log), 1):.1%} "
        f"({kinds}); wall time {elapsed:.1f} s; per-call budget {WORST_CALL:g} s"
    )
    for job in [j for j in jobs if j.outcome in ("wrong", "crash")][:5]:
        console.print(f"  {job.outcome}: {job.tool} {job.args}: {job.detail}")


def cells(row: Row) -> list[str]:
    counts = row.counts
    keys = ("correct", "clear error", "wrong", "crash", "hang")
    return [str(sum(counts.values())), *(str(counts[k]) for k in keys), f"{row.worst:.2f}"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--invocations", type=int, default=1200)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    soak(args.invocations, args.fault_rate, args.workers, args.seed)


if __name__ == "__main__":
    main()
