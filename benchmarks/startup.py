"""Cold start: how long a new process takes to be useful, against a bare ``import requests``.

    python -m benchmarks.startup [--runs N]

Each row starts a fresh Python process N times (min and median wall time): ``pd-toolkit
--help``, ``pd-toolkit check --help``, and ``pd-toolkit mcp`` over stdio until it has answered
``initialize`` and ``tools/list`` (what a desktop client waits for before showing the tools).
The MCP server gets a placeholder key and an unreachable host: listing the tools sends no
request to PagerDuty. The difference to the baseline is what pd_toolkit itself costs. Run it
from a checkout's root to measure that checkout (``python -m`` imports from the working
directory).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

# What the pd-toolkit console script runs; as -m, the pd_toolkit of the working directory.
CLI = [sys.executable, "-m", "pd_toolkit.cli"]
SERVER_ENV = {
    **os.environ,
    "PAGERDUTY_API_KEY": "startup-benchmark-placeholder-key",
    "PAGERDUTY_API_HOST": "http://127.0.0.1:9",
    "PD_TOOLKIT_STORE": "memory",
}


def timed_run(command: list[str]) -> float:
    """Seconds for ``command`` to run to completion (output discarded)."""
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def mcp_ready() -> float:
    """Seconds from starting `pd-toolkit mcp` (stdio) to its answer to tools/list."""
    started = time.perf_counter()
    server = subprocess.Popen(
        [*CLI, "mcp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=SERVER_ENV,
    )
    assert server.stdin is not None and server.stdout is not None

    def send(message: dict[str, object]) -> None:
        server.stdin.write(json.dumps({"jsonrpc": "2.0", **message}) + "\n")
        server.stdin.flush()

    try:
        send(
            {
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "benchmarks.startup", "version": "1"},
                },
            }
        )
        assert json.loads(server.stdout.readline())["id"] == 1
        send({"method": "notifications/initialized"})
        send({"id": 2, "method": "tools/list"})
        listed = json.loads(server.stdout.readline())
        elapsed = time.perf_counter() - started
        assert listed["result"]["tools"], listed
        return elapsed
    finally:
        server.stdin.close()
        server.wait(timeout=30)


def measure(run: Callable[[], float], runs: int) -> tuple[float, float]:
    """(min, median) seconds over ``runs`` runs."""
    times = [run() for _ in range(runs)]
    return min(times), statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup")
    parser.add_argument("--runs", type=int, default=5, help="runs per row (default 5)")
    runs = parser.parse_args(argv).runs
    rows: list[tuple[str, Callable[[], float]]] = [
        (
            "import requests (baseline)",
            lambda: timed_run([sys.executable, "-c", "import requests"]),
        ),
        ("pd-toolkit --help", lambda: timed_run([*CLI, "--help"])),
        ("pd-toolkit check --help", lambda: timed_run([*CLI, "check", "--help"])),
        ("pd-toolkit mcp: initialize + tools/list", mcp_ready),
    ]
    table = Table(title=f"Cold start, {runs} runs each ({os.cpu_count()} cores)")
    for column in ("command", "min s", "median s", "median over baseline s"):
        table.add_column(column, justify="left" if column == "command" else "right")
    baseline: float | None = None
    for label, run in rows:
        fastest, median = measure(run, runs)
        baseline = median if baseline is None else baseline
        table.add_row(label, f"{fastest:.2f}", f"{median:.2f}", f"{median - baseline:+.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
