"""The tools against the live sandbox (loopback HTTP): answers checked against the account's
ground truth, and faults (429, 5xx, a refused key) turned into clear error ToolMessages."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import FIXED_NOW
from langchain_core.messages import ToolCall, ToolMessage

from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.sandbox import Fault, Sandbox

pytestmark = pytest.mark.sandbox


def ask(sb: Sandbox, name: str, api_key: str | None = None, **args: Any) -> ToolMessage:
    client = PagerDutyClient(
        api_key=api_key or sb.api_key, base_url=sb.base_url, max_retries=2, max_retry_wait=0.05
    )
    tools = {t.name: t for t in PagerDutyToolkit(client=client, now=lambda: FIXED_NOW).get_tools()}
    return tools[name].invoke(ToolCall(name=name, args=args, id="1", type="tool_call"))


def test_open_incidents_match_ground_truth(sandbox: Sandbox) -> None:
    message = ask(sandbox, "pagerduty_list_incidents", limit=100)
    truth = {i["id"] for i in sandbox.account.open_incidents()}
    assert {i.id for i in message.artifact.items} == truth


def test_standard_suite_example_incident_is_an_open_checkout_incident(sandbox: Sandbox) -> None:
    incident = sandbox.account.find_incident("#3088")
    assert incident and incident["service"]["summary"] == "checkout"
    assert incident["status"] != "resolved"


def test_timeline_covers_every_log_entry_and_note(sandbox: Sandbox) -> None:
    incident = sandbox.account.find_incident("#3088")
    assert incident is not None
    message = ask(sandbox, "pagerduty_get_incident_timeline", incident="#3088")
    timeline = message.artifact
    assert len(timeline.entries) == len(sandbox.account.log_entries[incident["id"]])
    assert len(timeline.notes) == len(sandbox.account.notes[incident["id"]])
    for note in sandbox.account.notes[incident["id"]]:
        assert note["content"][:40] in message.content


def test_oncall_for_payments_matches_the_schedules(sandbox: Sandbox) -> None:
    report = ask(sandbox, "pagerduty_get_oncall", team="payments").artifact
    for oncall in report.oncalls:
        if oncall.schedule:
            expected = sandbox.account.oncall_user(oncall.schedule.id, FIXED_NOW)
            assert oncall.user.id == expected


def test_rate_limit_is_retried_transparently(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.inject(
        Fault(kind="status", status=429, retry_after=0.01, path="/incidents", times=1)
    )
    message = ask(fresh_sandbox, "pagerduty_list_incidents")
    assert message.status == "success"


def test_persistent_server_errors_become_a_clear_error_message(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.inject(Fault(kind="status", status=503, path="/incidents", times=None))
    message = ask(fresh_sandbox, "pagerduty_list_incidents")
    assert message.status == "error"
    assert "HTTP 503" in message.content and "Try again in a minute" in message.content


def test_a_refused_key_says_what_to_check(sandbox: Sandbox) -> None:
    message = ask(sandbox, "pagerduty_get_oncall", api_key="not-a-real-key", team="payments")
    assert message.status == "error"
    assert "refused the API key (HTTP 401)" in message.content
    assert "REST API key" in message.content and "not-a-real-key" not in message.content


def test_garbage_bodies_become_a_clear_error_message(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.inject(Fault(kind="not_json", path="/oncalls", times=None))
    message = ask(fresh_sandbox, "pagerduty_get_oncall", escalation_policy="PABC123")
    assert message.status == "error" and "not JSON" in message.content


def test_nothing_found_says_how_to_find_more(sandbox: Sandbox) -> None:
    """The product's "no incidents" failure: say why that can happen and what to do."""
    listed = ask(sandbox, "pagerduty_list_incidents", service="email-sender", time_range="today")
    assert listed.status == "success" and "0 found" in listed.content
    assert "Widen the time range" in listed.content and "User Token key" in listed.content
    changes = ask(
        sandbox, "pagerduty_list_recent_changes", service="ledger", time_range="last 1 hours"
    )
    assert changes.status == "success" and "Widen the time range" in changes.content
