"""Every tool through the real requests stack, replayed from cassettes recorded on the sandbox
at FIXED_NOW: content facts, artifacts, and the number of GETs each tool sends.

Incident numbers are discovered through the tools themselves, so the same tests re-record
against another account.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from conftest import FIXED_NOW
from langchain_core.messages import ToolMessage
from truth import checkout_this_week, open_numbers, payments_level_one, timeline_facts

from pd_toolkit import PagerDutyClient
from pd_toolkit.models import (
    ChangeList,
    Incident,
    IncidentAlerts,
    IncidentList,
    IncidentTimeline,
    OnCallReport,
    ServicesOverview,
    ServiceStatus,
)
from pd_toolkit.sandbox import build_account

Ask = Callable[..., ToolMessage]
pytestmark = pytest.mark.vcr


def ok(message: ToolMessage) -> ToolMessage:
    assert message.status == "success", message.content
    assert isinstance(message.content, str) and message.content
    assert "{" not in message.content  # compact text, never a JSON dump
    return message


def first_open(ask: Ask, **filters: object) -> Incident:
    listed = ok(ask("pagerduty_list_incidents", **filters)).artifact
    assert isinstance(listed, IncidentList) and listed.items
    return listed.items[0]


# -- the product's example queries ----------------------------------------------------------


def test_who_is_on_call_for_the_payments_team(ask: Ask, cassette_client: PagerDutyClient) -> None:
    """'Who is currently on call for the payments team?'"""
    message = ok(ask("pagerduty_get_oncall", team="payments"))
    assert cassette_client.request_count <= 4  # teams, policies, on-calls, handovers
    report = message.artifact
    assert isinstance(report, OnCallReport) and report.oncalls
    assert message.content.startswith("On call for team Payments (")
    levels = {o.escalation_level for o in report.oncalls}
    assert 1 in levels
    for oncall in report.oncalls:
        assert oncall.user and oncall.user.id and oncall.user.id in message.content
        assert oncall.escalation_policy and oncall.escalation_policy.id in {
            p.id for p in report.escalation_policies
        }
    assert "  L1: " in message.content and "until " in message.content
    assert ", then " in message.content  # who takes over at the end of a scheduled shift
    assert "contacts:" not in message.content  # only with include_contact
    truth = payments_level_one(build_account(7, FIXED_NOW), FIXED_NOW)
    level_one = [line for line in message.content.splitlines() if line.startswith("  L1: ")]
    assert len(level_one) == len(truth)
    assert all(name in line for name, line in zip(truth, level_one, strict=True))


def test_show_me_all_open_incidents(ask: Ask, cassette_client: PagerDutyClient) -> None:
    """'Show me all open PagerDuty incidents'"""
    message = ok(ask("pagerduty_list_incidents"))
    assert cassette_client.request_count == 1
    listed = message.artifact
    assert isinstance(listed, IncidentList) and listed.items
    assert {i.status for i in listed.items} <= {"triggered", "acknowledged"}
    assert listed.total == len(listed.items)
    assert listed.window is None  # open incidents of any age, not just the last 30 days
    lines = message.content.splitlines()
    assert lines[0] == f"Incidents (statuses=acknowledged,triggered): {listed.total} found"
    legend = lines[1]  # each service once, with its id
    for incident, line in zip(listed.items, lines[2:], strict=True):
        assert line.startswith(f"#{incident.incident_number} {incident.id} {incident.status}/")
        service = incident.service
        assert (
            service and f" {service.label} " in line and f"{service.label} ({service.id})" in legend
        )
    truth = open_numbers(build_account(7, FIXED_NOW))
    assert sorted(line.split()[0] + " " for line in lines[2:]) == sorted(truth)


def test_what_fired_on_checkout_this_week(ask: Ask, cassette_client: PagerDutyClient) -> None:
    """'What incidents were triggered for the checkout service this week?'"""
    message = ok(ask("pagerduty_list_incidents", service="checkout", time_range="this week"))
    assert cassette_client.request_count <= 2  # services listing (cold cache) + incidents
    listed = message.artifact
    assert isinstance(listed, IncidentList) and listed.items
    monday = datetime(2026, 11, 16, tzinfo=UTC)
    assert listed.window and listed.window.since == monday
    assert all(i.service and i.service.label == "checkout" for i in listed.items)
    assert all(i.created_at and i.created_at >= monday for i in listed.items)
    assert {i.status for i in listed.items} > {"resolved"}  # all statuses in a time range
    assert (
        "service=checkout (" in message.content
        and "this week: 2026-11-16 00:00Z" in message.content
    )
    truth = checkout_this_week(build_account(7, FIXED_NOW), FIXED_NOW)
    shown = [line.split()[0] + " " for line in message.content.splitlines()[1:]]
    assert sorted(shown) == sorted(truth)


def test_timeline_for_incident_number(ask: Ask, cassette_client: PagerDutyClient) -> None:
    """'Get the timeline for PagerDuty incident #<n>'"""
    incident = first_open(ask, statuses=["acknowledged"])
    before = cassette_client.request_count
    message = ok(ask("pagerduty_get_incident_timeline", incident=f"#{incident.incident_number}"))
    # log entries and notes; the incident itself came with the listing (cached briefly)
    assert cassette_client.request_count - before == 2
    timeline = message.artifact
    assert isinstance(timeline, IncidentTimeline) and timeline.entries
    lines = message.content.splitlines()
    assert lines[0].startswith(f"Timeline of #{incident.incident_number} {incident.id} ")
    assert lines[1].startswith("time to acknowledge: ") and "time to acknowledge: ?" not in lines[1]
    assert any(" trigger " in line for line in lines)
    assert any(" acknowledge by " in line for line in lines)
    assert any(" notified " in line for line in lines)
    truth = timeline_facts(build_account(7, FIXED_NOW), incident.incident_number)
    assert all(fact in message.content for fact in truth)
    kinds = [e.kind for e in timeline.entries]
    assert kinds.count("notify") > sum(" notified " in line for line in lines)  # collapsed
    assert [e.created_at for e in timeline.entries] == sorted(
        e.created_at for e in timeline.entries
    )  # type: ignore[type-var]


# -- each tool -------------------------------------------------------------------------------


def test_get_incident_by_number_id_and_url(ask: Ask, cassette_client: PagerDutyClient) -> None:
    incident = first_open(ask, statuses=["acknowledged"])
    before = cassette_client.request_count
    by_number = ok(ask("pagerduty_get_incident", incident=f"#{incident.incident_number}"))
    by_id = ok(ask("pagerduty_get_incident", incident=incident.id))
    by_url = ok(
        ask(
            "pagerduty_get_incident", incident=f"https://acme.pagerduty.com/incidents/{incident.id}"
        )
    )
    # No GET: the listing brought the incident, and number, id and URL all name it.
    assert cassette_client.request_count - before == 0
    assert by_number.content == by_id.content == by_url.content
    detail = by_number.artifact
    assert isinstance(detail, Incident) and detail.id == incident.id
    for fact in (
        f"Incident #{incident.incident_number} {incident.id}",
        f"status=acknowledged urgency={detail.urgency}",
        f"service {detail.service.label} ({detail.service.id})",  # type: ignore[union-attr]
        f"escalation policy {detail.escalation_policy.label}",  # type: ignore[union-attr]
        "; acknowledged by ",
        f"url: {detail.html_url}",
    ):
        assert fact in by_number.content
    assert "acknowledged 20" in by_number.content and "resolved not yet" in by_number.content


def test_get_incident_accepts_a_bare_integer(ask: Ask) -> None:
    incident = first_open(ask)
    message = ok(ask("pagerduty_get_incident", incident=incident.incident_number))
    assert message.artifact.id == incident.id  # type: ignore[union-attr]


def test_get_incident_alerts(ask: Ask, cassette_client: PagerDutyClient) -> None:
    incident = first_open(ask)
    before = cassette_client.request_count
    by_number = ok(ask("pagerduty_get_incident_alerts", incident=f"#{incident.incident_number}"))
    assert cassette_client.request_count - before == 1  # alerts; the incident was listed
    by_id = ok(ask("pagerduty_get_incident_alerts", incident=incident.id))
    assert cassette_client.request_count - before == 2  # an id needs no lookup
    result = by_number.artifact
    assert isinstance(result, IncidentAlerts) and result.alerts
    assert by_id.artifact.alerts == result.alerts  # type: ignore[union-attr]
    for alert in result.alerts:
        assert f"{alert.id} {alert.status}" in by_number.content
        assert f"severity={alert.severity}" in by_number.content
    assert "details: " in by_number.content and "key=" in by_number.content


def test_oncall_by_service_schedule_policy_and_time(
    ask: Ask, cassette_client: PagerDutyClient
) -> None:
    by_service = ok(ask("pagerduty_get_oncall", service="checkout"))
    assert cassette_client.request_count == 3  # services listing, on-calls, handovers
    report = by_service.artifact
    assert isinstance(report, OnCallReport) and report.oncalls
    schedule = next(o.schedule for o in report.oncalls if o.schedule)
    policy = report.escalation_policies[0]
    by_schedule = ok(ask("pagerduty_get_oncall", schedule=schedule.label))  # type: ignore[union-attr]
    assert all(o.schedule and o.schedule.id == schedule.id for o in by_schedule.artifact.oncalls)  # type: ignore[union-attr]
    by_policy = ok(ask("pagerduty_get_oncall", escalation_policy=policy.id))
    assert by_policy.artifact.oncalls == report.oncalls  # type: ignore[union-attr]
    tomorrow = ok(ask("pagerduty_get_oncall", service="checkout", at="2026-11-19T12:00:00Z"))
    assert tomorrow.content.startswith("On call for service checkout (")
    assert " at 2026-11-19 12:00Z:" in tomorrow.content


def test_oncall_names_are_cached_across_calls(ask: Ask, cassette_client: PagerDutyClient) -> None:
    ok(ask("pagerduty_get_oncall", team="Payments"))
    before = cassette_client.request_count
    ok(ask("pagerduty_get_oncall", team="payments team"))
    # Names are cached, and the same /oncalls asked again within the toolkit's
    # incident_cache_ttl reuses the answer (Directory.shared_get): nothing is sent.
    assert cassette_client.request_count - before == 0


def test_everyone_on_call(ask: Ask) -> None:
    message = ok(ask("pagerduty_get_oncall"))
    assert message.content.startswith("On call for the whole account now:")
    assert message.content.count("policy ") >= 3


def test_service_status_one_service(ask: Ask, cassette_client: PagerDutyClient) -> None:
    message = ok(ask("pagerduty_get_service_status", service="checkout"))
    assert cassette_client.request_count <= 5  # listing, service, on-calls, open, (last)
    status = message.artifact
    assert isinstance(status, ServiceStatus)
    policy = status.service.escalation_policy
    assert policy and policy.escalation_rules
    assert f"Service checkout ({status.service.id}): status={status.service.status}" in (
        message.content
    )
    for level in range(1, len(policy.escalation_rules) + 1):
        assert f"  L{level} (escalates after " in message.content
    assert f"incidents: {len(status.open_incidents)} open (" in message.content
    assert "last incident: #" in message.content
    assert "nobody" not in message.content


def test_service_status_overview(ask: Ask, cassette_client: PagerDutyClient) -> None:
    message = ok(ask("pagerduty_get_service_status"))
    assert cassette_client.request_count == 2  # services, open incidents
    overview = message.artifact
    assert isinstance(overview, ServicesOverview) and overview.services
    assert all(s.status != "active" for s in overview.services)
    assert message.content.startswith(
        f"{len(overview.services)} of {overview.services_total} services are not active:"
    )
    for service in overview.services:
        assert f"{service.label} ({service.id}) status={service.status}" in message.content


def test_recent_changes_for_a_service(ask: Ask, cassette_client: PagerDutyClient) -> None:
    message = ok(ask("pagerduty_list_recent_changes", service="checkout", time_range="last 7 days"))
    assert cassette_client.request_count == 2  # services listing, change events
    result = message.artifact
    assert isinstance(result, ChangeList) and result.changes
    assert [c.timestamp for c in result.changes] == sorted(
        (c.timestamp for c in result.changes),
        reverse=True,  # type: ignore[type-var]
    )
    for change in result.changes:
        assert change.id and change.id in message.content


def test_recent_changes_before_an_incident(ask: Ask, cassette_client: PagerDutyClient) -> None:
    incident = first_open(ask, service="checkout")
    before = cassette_client.request_count
    message = ok(ask("pagerduty_list_recent_changes", incident=f"#{incident.incident_number}"))
    assert cassette_client.request_count - before == 2  # change events, related; listed
    result = message.artifact
    assert isinstance(result, ChangeList) and result.incident and result.incident.id == incident.id
    assert result.window.until == incident.created_at
    assert "24h before it triggered" in message.content
    assert all(" before the trigger)" in line for line in message.content.splitlines()[1:2])
    related = {c.id for c in result.related}
    assert related <= {c.id for c in result.changes} or "also relates" in message.content
    assert (
        "(PagerDuty relates it to the incident)" in message.content
        or result.related_note in message.content
    )


def test_recent_changes_account_wide_default_window(ask: Ask) -> None:
    message = ok(ask("pagerduty_list_recent_changes"))
    assert message.content.startswith(
        "Change events for the whole account, last 24 hours (default) (2026-11-17 09:30Z.."
    )
