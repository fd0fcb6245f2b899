"""The client-side rate budget over real HTTP: one limiter shared by every thread of a client
(the investigation graph runs its lookups in parallel) keeps any 60 s window at or under
``rate_limit_per_minute`` (960 by default, configurable, ``None`` to disable), retries included.

Time inside ``pd_toolkit.client`` is a virtual clock, so minutes pass instantly: ``sleep(s)``
moves the clock to at least the sleeping thread's last reading plus ``s``. The limiter reads the
clock once per grant, so the thread's last reading when ``acquire`` returns is its grant time.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest
import tenacity
from conftest import FIXED_NOW, ROOT

from pd_toolkit import PagerDutyClient
from pd_toolkit import client as client_module
from pd_toolkit.sandbox import Fault, Sandbox

if str(ROOT) not in sys.path:  # agents/ is run from the checkout, not installed
    sys.path.insert(0, str(ROOT))

from agents.investigate import build_graph

pytestmark = pytest.mark.sandbox

WINDOW = 60.0


class VirtualTime:
    """A stand-in for the ``time`` module inside pd_toolkit.client."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self._lock = threading.Lock()
        self._last = threading.local()

    def monotonic(self) -> float:
        with self._lock:
            self._last.value = self.now
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now = max(self.now, getattr(self._last, "value", self.now) + seconds)

    def last_reading(self) -> float:
        return float(self._last.value)


def record_grants(client: PagerDutyClient, clock: VirtualTime) -> list[float]:
    """Wrap the client's limiter so that each grant's virtual time is recorded."""
    budget = client.rate_budget
    assert budget is not None
    acquire, grants, lock = budget.acquire, [], threading.Lock()

    def recording_acquire() -> None:
        acquire()
        with lock:
            grants.append(clock.last_reading())

    budget.acquire = recording_acquire  # type: ignore[method-assign]
    return grants


def assert_within_budget(grants: list[float], per_minute: int) -> None:
    """No 60 s window holds more than ``per_minute`` grants."""
    stamps = sorted(grants)
    for earlier, later in zip(stamps, stamps[per_minute:], strict=False):
        assert later - earlier >= WINDOW, (earlier, later)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualTime:
    fake = VirtualTime()
    monkeypatch.setattr(client_module, "time", fake)
    return fake


def in_threads(work: Callable[[], Any], count: int) -> None:
    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()


def test_default_is_960_per_minute_and_configurable() -> None:
    assert PagerDutyClient(api_key="k" * 20).rate_budget.per_minute == 960  # type: ignore[union-attr]
    custom = PagerDutyClient(api_key="k" * 20, rate_limit_per_minute=120)
    assert custom.rate_budget is not None and custom.rate_budget.per_minute == 120
    assert PagerDutyClient(api_key="k" * 20, rate_limit_per_minute=None).rate_budget is None


def test_threads_sharing_a_client_stay_under_the_limit(
    fresh_sandbox: Sandbox, clock: VirtualTime
) -> None:
    """6 threads x 5 GETs through one client limited to 7/minute: every window holds <= 7."""
    client = PagerDutyClient(
        api_key=fresh_sandbox.api_key, base_url=fresh_sandbox.base_url, rate_limit_per_minute=7
    )
    grants = record_grants(client, clock)
    started = clock.now

    def work() -> None:
        for _ in range(5):
            assert client.get("/teams")["teams"]

    in_threads(work, 6)
    assert len(grants) == client.request_count == len(fresh_sandbox.request_log) == 30
    assert_within_budget(grants, 7)
    assert max(grants) - started >= 4 * WINDOW  # 30 requests at 7/minute need 5 windows


def test_retries_spend_the_budget_too(
    fresh_sandbox: Sandbox, clock: VirtualTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tenacity.nap, "time", clock)  # backoff waits on the virtual clock too
    fresh_sandbox.inject(Fault(kind="status", status=503, times=4))
    client = PagerDutyClient(
        api_key=fresh_sandbox.api_key,
        base_url=fresh_sandbox.base_url,
        rate_limit_per_minute=3,
        max_retries=4,
    )
    grants = record_grants(client, clock)
    client.get("/teams")
    assert len(grants) == len(fresh_sandbox.request_log) == 5
    assert_within_budget(grants, 3)


def test_the_graph_parallel_lookups_share_one_budget(
    fresh_sandbox: Sandbox, clock: VirtualTime
) -> None:
    """One investigation (six lookups in parallel) on a client limited to 5/minute."""
    client = PagerDutyClient(
        api_key=fresh_sandbox.api_key, base_url=fresh_sandbox.base_url, rate_limit_per_minute=5
    )
    grants = record_grants(client, clock)
    state = build_graph(client, now=FIXED_NOW).invoke({"incident": "#3088"})
    assert all(record["ok"] for name, record in state["lookups"].items() if name != "incident")
    assert len(grants) == client.request_count == len(fresh_sandbox.request_log) > 10
    assert_within_budget(grants, 5)
