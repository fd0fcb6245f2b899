"""The responder on the sandbox: time from webhook to brief ready, and throughput.

    python -m benchmarks.responder

Every sandbox request is delayed by 100 ms (``Sandbox(latency=0.1)``). The sandbox triggers
incidents and delivers their signed v3 webhooks to a responder (memory state, the default
4 workers, the client's 960/minute rate budget on); the clock runs from the webhook's
delivery to the investigation's "awaiting_approval". First one incident alone, then 50
triggered at once (from 50 threads), with 4 and with 8 workers.
"""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from rich.console import Console
from rich.table import Table

from agents.responder import ResponderSettings, running_responder
from pd_toolkit import PagerDutyClient
from pd_toolkit.sandbox import Sandbox

LATENCY = 0.1
SECRET = "bench-webhook-secret"
MODES = [("payments-api", "psp_timeouts"), ("ledger", "ledger_recon_failed")]


def run(incidents: int, workers: int) -> dict[str, float]:
    """Trigger ``incidents`` at once; seconds to each brief, wall time and requests."""
    with Sandbox(latency=LATENCY) as sandbox:
        client = PagerDutyClient(api_key=sandbox.write_api_key, base_url=sandbox.base_url)
        settings = ResponderSettings(
            port=0, webhook_secrets=[SECRET], workers=workers, queue_size=100
        )
        with running_responder(client, settings) as running:
            sandbox.webhook_url = f"{running.url}/webhooks/pagerduty"
            sandbox.webhook_secrets = [SECRET]
            registry = running.responder.registry
            delivered: dict[str, float] = {}
            ready: dict[str, float] = {}
            lock = threading.Lock()

            def trigger(number: int) -> None:
                service, mode = MODES[number % len(MODES)]
                incident = sandbox.trigger_incident(service, mode)
                with lock:
                    delivered[incident["id"]] = time.perf_counter()

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=incidents) as pool:
                list(pool.map(trigger, range(incidents)))
            while len(ready) < incidents and time.perf_counter() - started < 600:
                for record in registry.all():
                    if record.status == "awaiting_approval" and record.incident_id not in ready:
                        ready[record.incident_id] = time.perf_counter()
                time.sleep(0.02)
            wall = time.perf_counter() - started
            requests_sent = client.request_count
        client.close()
    waits = sorted(ready[i] - delivered[i] for i in ready if i in delivered)
    return {
        "briefs": len(ready),
        "p50": statistics.median(waits),
        "p95": waits[max(0, round(0.95 * len(waits)) - 1)],
        "max": waits[-1],
        "wall": wall,
        "per_minute": 60 * len(ready) / wall,
        "requests": requests_sent,
        "requests_per_minute": requests_sent / max(wall / 60, 1.0),  # a minute at least
    }


def main() -> None:
    console = Console()
    table = Table(
        title=f"Responder: webhook -> brief ready (sandbox, {LATENCY * 1000:.0f} ms/request)"
    )
    for column in (
        "case",
        "briefs",
        "p50 s",
        "p95 s",
        "max s",
        "wall s",
        "briefs/min",
        "GETs",
        "GETs/min",
    ):
        table.add_column(column, justify="right" if column != "case" else "left")
    for label, incidents, workers in (
        ("1 incident, 4 workers", 1, 4),
        ("50 at once, 4 workers", 50, 4),
        ("50 at once, 8 workers", 50, 8),
    ):
        result = run(incidents, workers)
        table.add_row(
            label,
            f"{result['briefs']:.0f}/{incidents}",
            f"{result['p50']:.2f}",
            f"{result['p95']:.2f}",
            f"{result['max']:.2f}",
            f"{result['wall']:.2f}",
            f"{result['per_minute']:.0f}",
            f"{result['requests']:.0f}",
            f"{result['requests_per_minute']:.0f} (of 960)",
        )
    console.print(table)


if __name__ == "__main__":
    main()
