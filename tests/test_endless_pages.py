"""Against PagerDuty's documented examples served by a mock, every listing page says
``more: true`` and repeats itself (the sandbox's "endless" fault). Every tool, similar-incident
search by incident and by free text included, still answers or fails clearly: the one page loop
stops when a page brings nothing new."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from conftest import FIXED_NOW
from langchain_core.messages import ToolCall, ToolMessage

from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.sandbox import Fault, Sandbox

pytestmark = pytest.mark.sandbox
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("pagerduty_list_incidents", {}),
    ("pagerduty_list_incidents", {"time_range": "last 90 days", "limit": 100}),
    ("pagerduty_get_incident", {"incident": "#3088"}),
    ("pagerduty_get_incident_timeline", {"incident": "#3088"}),
    ("pagerduty_get_incident_alerts", {"incident": "#3088"}),
    ("pagerduty_get_oncall", {"team": "payments"}),
    ("pagerduty_get_oncall", {}),
    ("pagerduty_get_service_status", {"service": "checkout"}),
    ("pagerduty_get_service_status", {}),
    ("pagerduty_list_recent_changes", {"incident": "#3088"}),
    ("pagerduty_find_similar_incidents", {"incident": "#3088"}),
    ("pagerduty_find_similar_incidents", {"text": "postgres pool exhausted"}),
]
PATIENCE = 30.0  # seconds (the bound): a loop that does not stop would page for hours


@pytest.fixture(scope="module")
def endless() -> Any:
    with Sandbox(now=FIXED_NOW) as sb:
        sb.inject(Fault(kind="endless", method="GET", times=None))
        yield sb


@pytest.mark.parametrize(("tool", "args"), CALLS)
def test_every_tool_stops_on_endless_pages(
    endless: Sandbox, tool: str, args: dict[str, Any]
) -> None:
    client = PagerDutyClient(api_key=endless.api_key, base_url=endless.base_url)
    tools = {
        t.name: t
        for t in PagerDutyToolkit(client=client, now=lambda: FIXED_NOW, store="memory").get_tools()
    }
    answers: list[ToolMessage] = []
    call = ToolCall(name=tool, args=args, id="call-1", type="tool_call")
    worker = threading.Thread(target=lambda: answers.append(tools[tool].invoke(call)), daemon=True)
    before = len(endless.request_log)
    worker.start()
    worker.join(PATIENCE)
    assert answers, f"{tool} was still paging after {PATIENCE:.0f} s"
    assert answers[0].content  # an answer, or an error that says what happened
    sent = len(endless.request_log) - before
    assert sent <= 40, f"{tool} sent {sent} requests"
