"""Faults injected by the sandbox (429 storms, 5xx bursts, answers slower than the read timeout,
truncated and non-JSON bodies, dropped connections): every tool and the investigation graph
returns the correct answer or a clear error, never raises, and stays inside a time budget
derived from the client's settings; retries are bounded and counted from the sandbox's log.

Worst case of one ``client.get()`` at the default settings (``timeout=(5, 15)``,
``max_retries=3``, backoff ``0.5 * 2**(n-1) + U(0, 0.5)`` s capped at 8 s, Retry-After capped
at ``max_retry_wait=30`` s); attempts and waits are checked at exactly those settings by
``test_default_settings_worst_case``:

==========================================  ========  ========================  ===========
every attempt fails with                    attempts  waits between attempts    worst time
==========================================  ========  ========================  ===========
5xx, dropped connection, bad/cut body       4         1.0 + 1.5 + 2.5 = 5.0 s   5 s + 4 RTT
429 with Retry-After >= 30 s                4         30 + 30 + 30 = 90 s       90 s + 4 RTT
no answer within the read timeout           4         5.0 s                     4*20+5 = 85 s
slow 429s (15 s each, Retry-After 30 s)     4         90 s                      4*20+90 = 170 s
==========================================  ========  ========================  ===========

So a call sends at most ``max_retries + 1`` = 4 requests and returns (answer or error) within
``attempts * (connect + read) + max_retries * max_retry_wait`` = 170 s (the 30 s cap exceeds
every backoff); a tool making ``k`` sequential calls within ``k`` times that. Not counted: the
client-side rate budget (it queues only once 960 requests went out in the last minute), and
requests' read timeout bounds each socket read, not the whole body (a server trickling a byte
every < 15 s is not cut off).

The tests use short timeouts and record tenacity's sleeps instead of sleeping them (the waits
are asserted, and added to the measured time for the budget check).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import FIXED_NOW, ROOT, leak_watch
from langchain_core.messages import ToolCall, ToolMessage

if str(ROOT) not in sys.path:  # agents/ is run from the checkout, not installed
    sys.path.insert(0, str(ROOT))

from agents.investigate import build_graph
from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.client import RequestEvent
from pd_toolkit.errors import PagerDutyConnectionError, PagerDutyRateLimitError
from pd_toolkit.sandbox import Fault, Sandbox

pytestmark = pytest.mark.sandbox

# One typical call per tool, on the sandbox's open checkout incident #3088.
TOOL_CALLS: dict[str, dict[str, Any]] = {
    "pagerduty_list_incidents": {"service": "checkout", "time_range": "this week"},
    "pagerduty_get_incident": {"incident": "#3088"},
    "pagerduty_get_incident_timeline": {"incident": "#3088"},
    "pagerduty_get_incident_alerts": {"incident": "#3088"},
    "pagerduty_get_oncall": {"team": "payments"},
    "pagerduty_get_service_status": {"service": "checkout"},
    "pagerduty_find_similar_incidents": {"incident": "#3088", "window_days": 30},
    "pagerduty_list_recent_changes": {"incident": "#3088"},
}
# Short settings for the tests: 3 attempts, Retry-After capped at 1 s; a read timeout of 2 s
# (the sandbox may be slow on a loaded machine), 0.8 s where answers are held on purpose: a held
# answer comes 1.6 s late, so a busy machine can neither rescue it nor make a normal one miss.
SHORT: dict[str, Any] = {"timeout": (1.0, 2.0), "max_retries": 2, "max_retry_wait": 1.0}
SHORT_READ: dict[str, Any] = {**SHORT, "timeout": (1.0, 0.8)}
SLOW = 1.6  # seconds a "slow" fault holds the answer: twice SHORT_READ's read timeout
BACKOFF = (0.5, 8.0, 0.5)  # the client's backoff: multiplier, cap, jitter (seconds)
FAULTS: dict[str, dict[str, Any]] = {
    "429": {"kind": "status", "status": 429, "retry_after": 120},
    "503": {"kind": "status", "status": 503},
    "slow": {"kind": "slow", "delay": SLOW},
    "truncated": {"kind": "truncated"},
    "not_json": {"kind": "not_json"},
    "drop": {"kind": "drop"},
}
# What the model reads when a fault outlasts the retries: what happened, and what to do.
CLEAR_ERRORS: dict[str, tuple[str, ...]] = {
    "429": ("rate-limited", "narrow the query"),
    "503": ("HTTP 503 and retries ran out", "Try again in a minute"),
    "slow": ("did not answer", "within 0.8 s", "after 3 attempts", "then try again"),
    "truncated": ("was cut off", "after 3 attempts", "try again shortly"),
    "not_json": ("not JSON", "try again shortly"),
    "drop": ("Could not reach PagerDuty", "after 3 attempts", "then try again"),
}


def settings_for(fault: str) -> dict[str, Any]:
    """The client settings for a fault kind (a short read timeout only for held answers)."""
    return SHORT_READ if fault == "slow" else SHORT


def max_backoff(retry: int) -> float:
    """The longest backoff before retry number ``retry`` (1-based)."""
    multiplier, cap, jitter = BACKOFF
    return min(cap, multiplier * 2 ** (retry - 1) + jitter)


def worst_wait(client: PagerDutyClient, retry: int) -> float:
    """The longest wait before retry ``retry``: a capped Retry-After or the backoff."""
    return max(client.max_retry_wait, max_backoff(retry))


def worst_case_seconds(client: PagerDutyClient) -> float:
    """The longest one ``client.get()`` can take (see the module docstring's table)."""
    connect, read = client.timeout
    waits = sum(worst_wait(client, n) for n in range(1, client.max_retries + 1))
    return (client.max_retries + 1) * (connect + read) + waits


class Probe:
    """A short-settings client on a sandbox, counting attempts through ``on_request``."""

    def __init__(self, sb: Sandbox, **settings: Any) -> None:
        self.key = sb.api_key
        self.events: list[RequestEvent] = []
        self.client = PagerDutyClient(
            api_key=sb.api_key, base_url=sb.base_url, on_request=self.events.append, **settings
        )
        toolkit = PagerDutyToolkit(client=self.client, now=lambda: FIXED_NOW)
        self.tools = {tool.name: tool for tool in toolkit.get_tools()}

    def ask(self, name: str, **args: Any) -> ToolMessage:
        """The tool's answer, after checking that the key is in neither it nor the logs."""
        call = ToolCall(name=name, args=args, id="call-1", type="tool_call")
        with leak_watch(self.key) as watch:
            message = self.tools[name].invoke(call)
            watch.check(message)
        return message

    @property
    def calls(self) -> int:
        """Logical GETs (first attempts)."""
        return sum(1 for event in self.events if event.attempt == 1)

    def budget(self) -> float:
        """Every logical call at its worst case, plus 1 s for local work."""
        return self.calls * worst_case_seconds(self.client) + 1.0


def gets(sb: Sandbox, expected: int) -> list[Any]:
    """The GETs the sandbox logged, once ``expected`` are in (or after 3 s): a request is logged
    when its handler ends, which for a held (slow) or cut (drop) answer is after the client
    moved on."""
    deadline = time.monotonic() + 3.0
    while len(sb.request_log) < expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return [record for record in sb.request_log if record.method == "GET"]


def same_answer(content: str) -> str:
    """Content without the request count that retries legitimately change."""
    return re.sub(r"\(\d+ API requests(, history cached)?\)", "(N API requests)", content)


@pytest.fixture(scope="module")
def clean() -> Iterator[dict[str, tuple[str, list[str], int]]]:
    """Per tool, unfaulted: (content, distinct paths requested, GETs sent)."""
    answers: dict[str, tuple[str, list[str], int]] = {}
    with Sandbox(now=FIXED_NOW) as sb:
        for name, args in TOOL_CALLS.items():
            before = len(sb.request_log)
            message = Probe(sb, **SHORT).ask(name, **args)
            assert message.status == "success", message.content
            records = sb.request_log[before:]
            paths = list(dict.fromkeys(record.path for record in records))
            answers[name] = (same_answer(str(message.content)), paths, len(records))
    yield answers


def test_default_settings_worst_case(fresh_sandbox: Sandbox, waits: list[float]) -> None:
    """The docstring's table at the real defaults: attempts and waits as stated."""
    client = PagerDutyClient(api_key=fresh_sandbox.api_key, base_url=fresh_sandbox.base_url)
    assert (client.timeout, client.max_retries, client.max_retry_wait) == ((5.0, 15.0), 3, 30.0)
    assert worst_case_seconds(client) == 4 * 20 + 90 == 170
    assert sum(max_backoff(n) for n in (1, 2, 3)) == 5.0

    fresh_sandbox.inject(Fault(kind="status", status=429, retry_after=120, times=None))
    with pytest.raises(PagerDutyRateLimitError):
        client.get("/teams")
    assert [r.status for r in fresh_sandbox.request_log] == [429] * 4
    assert waits == [30.0, 30.0, 30.0]

    fresh_sandbox.clear_faults()
    waits.clear()
    fresh_sandbox.inject(Fault(kind="drop", times=None))
    with pytest.raises(PagerDutyConnectionError, match="after 4 attempts"):
        client.get("/teams")
    assert len(gets(fresh_sandbox, 8)) == 4 + 4
    assert len(waits) == 3
    for retry, wait in enumerate(waits, start=1):
        assert max_backoff(retry) - BACKOFF[2] <= wait <= max_backoff(retry)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("tool", TOOL_CALLS)
def test_every_request_failing_once_still_gives_the_correct_answer(
    tool: str,
    fault: str,
    clean: dict[str, tuple[str, list[str], int]],
    fresh_sandbox: Sandbox,
    waits: list[float],
) -> None:
    """Each path the tool requests fails on its first request: one retry each, same answer."""
    content, paths, sent = clean[tool]
    for path in paths:
        fresh_sandbox.inject(Fault(path=f"^{re.escape(path)}$", times=1, **FAULTS[fault]))
    probe = Probe(fresh_sandbox, **settings_for(fault))
    started = time.monotonic()
    message = probe.ask(tool, **TOOL_CALLS[tool])
    elapsed = time.monotonic() - started
    assert message.status == "success", message.content
    assert same_answer(str(message.content)) == content
    expected = sent + len(paths)
    assert len(gets(fresh_sandbox, expected)) == probe.client.request_count == expected
    assert max(event.attempt for event in probe.events) == 2
    assert len(waits) == len(paths)
    assert all(wait <= worst_wait(probe.client, 1) for wait in waits)
    assert elapsed + sum(waits) <= probe.budget()


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("tool", TOOL_CALLS)
def test_a_persistent_fault_is_a_clear_error_after_bounded_attempts(
    tool: str, fault: str, fresh_sandbox: Sandbox, waits: list[float]
) -> None:
    """Every request fails: the first call gives up after max_retries + 1 attempts and the
    tool answers with an error ToolMessage that says what happened and what to do."""
    fresh_sandbox.inject(Fault(times=None, **FAULTS[fault]))
    probe = Probe(fresh_sandbox, **settings_for(fault))
    started = time.monotonic()
    message = probe.ask(tool, **TOOL_CALLS[tool])
    elapsed = time.monotonic() - started
    assert message.status == "error"
    for phrase in CLEAR_ERRORS[fault]:
        assert phrase in message.content
    assert "unexpectedly" not in message.content
    attempts = SHORT["max_retries"] + 1
    assert len(gets(fresh_sandbox, attempts)) == probe.client.request_count == attempts
    assert probe.calls == 1
    assert len(waits) == SHORT["max_retries"]
    assert elapsed + sum(waits) <= probe.budget()


def test_a_failed_resolution_lookup_is_not_cached(
    clean: dict[str, tuple[str, list[str], int]], fresh_sandbox: Sandbox, waits: list[float]
) -> None:
    """Once PagerDuty recovers, the same search shows the fixes again (no cached failure)."""
    tool, args = "pagerduty_find_similar_incidents", TOOL_CALLS["pagerduty_find_similar_incidents"]
    fresh_sandbox.inject(Fault(kind="status", status=503, path="/notes$", times=None))
    probe = Probe(fresh_sandbox, **SHORT)
    degraded = probe.ask(tool, **args)
    assert degraded.status == "success" and "were resolved is unknown" in degraded.content
    fresh_sandbox.clear_faults()
    assert same_answer(str(probe.ask(tool, **args).content)) == clean[tool][0]


# -- the investigation graph -----------------------------------------------------------------

GAPS = {  # lookup -> (a path it requests, the brief's section title)
    "timeline": ("/log_entries$", "Timeline"),
    "alerts": ("/alerts$", "Alerts"),
    "oncall": ("^/oncalls$", "On call"),
    # its open-incident listing embeds the service (the history's sync lists /incidents too)
    "service_status": ("^/incidents$", "Service health"),
    "recent_changes": ("change_events$", "Recent changes"),
}


def investigate(sb: Sandbox, **settings: Any) -> tuple[dict[str, Any], Probe, float]:
    probe = Probe(sb, **(settings or SHORT))
    started = time.monotonic()
    state = build_graph(probe.client, now=FIXED_NOW).invoke({"incident": "#3088"})
    return state, probe, time.monotonic() - started


@pytest.fixture(scope="module")
def clean_investigation() -> Iterator[tuple[str, list[str]]]:
    """The unfaulted brief of #3088 and the distinct paths the graph requests."""
    with Sandbox(now=FIXED_NOW) as sb:
        state, _, _ = investigate(sb)
        yield state["brief"], list(dict.fromkeys(record.path for record in sb.request_log))


@pytest.mark.parametrize("fault", ["429", "503", "drop", "not_json"])
def test_graph_with_every_path_failing_once_writes_the_same_brief(
    fault: str,
    clean_investigation: tuple[str, list[str]],
    fresh_sandbox: Sandbox,
    waits: list[float],
) -> None:
    brief, paths = clean_investigation
    for path in paths:
        fresh_sandbox.inject(Fault(path=f"^{re.escape(path)}$", times=1, **FAULTS[fault]))
    state, probe, elapsed = investigate(fresh_sandbox)
    assert state["brief"].splitlines() == brief.splitlines()
    assert max(event.attempt for event in probe.events) == 2
    assert elapsed + sum(waits) <= probe.budget()


@pytest.mark.parametrize("lookup", GAPS)
def test_graph_names_the_gap_when_a_lookup_keeps_failing(
    lookup: str, fresh_sandbox: Sandbox, waits: list[float]
) -> None:
    path, title = GAPS[lookup]
    fresh_sandbox.inject(Fault(kind="status", status=503, path=path, times=None))
    state, probe, elapsed = investigate(fresh_sandbox)
    gaps = state["brief"].split("## Data gaps", 1)[1]
    assert f"**{title}**: unavailable" in gaps
    assert "HTTP 503 and retries ran out" in gaps and "Try again in a minute" in gaps
    assert not state["lookups"][lookup]["ok"]
    assert max(event.attempt for event in probe.events) == SHORT["max_retries"] + 1
    assert elapsed + sum(waits) <= probe.budget()


def test_graph_with_pagerduty_unreachable_says_so(
    fresh_sandbox: Sandbox, waits: list[float]
) -> None:
    fresh_sandbox.inject(Fault(kind="drop", times=None))
    state, probe, elapsed = investigate(fresh_sandbox)
    assert state["target"] is None
    assert "Could not reach PagerDuty" in state["brief"]
    attempts = SHORT["max_retries"] + 1
    assert len(gets(fresh_sandbox, attempts)) == probe.client.request_count == attempts
    assert elapsed + sum(waits) <= probe.budget()


def test_graph_under_slow_answers_stays_in_budget(
    fresh_sandbox: Sandbox, waits: list[float]
) -> None:
    """Every answer slower than the read timeout: clear errors, within the budget."""
    fresh_sandbox.inject(Fault(kind="slow", delay=SLOW, times=None))
    state, probe, elapsed = investigate(fresh_sandbox, **SHORT_READ)
    assert "did not answer" in state["brief"]
    assert elapsed + sum(waits) <= probe.budget()
