"""Team scope (PagerDutyToolkit(teams=...) / PAGERDUTY_TEAMS), per tool against the sandbox:
inside the scope the answer holds only the scope's teams; outside it is an error that names the
scope (never an empty answer); similar-incident history and the investigation graph keep to it."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import FIXED_NOW
from langchain_core.messages import ToolCall, ToolMessage

from agents.investigate import build_graph
from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.sandbox import Sandbox
from pd_toolkit.scope import teams_from_env

pytestmark = pytest.mark.sandbox

SCOPE_TEXT = "outside this toolkit's team scope (Payments ("


def payments(sb: Sandbox) -> dict[str, Any]:
    """Ground truth for the Payments team: its id, service ids and an incident of it and of
    another team."""
    account = sb.account
    team = next(t for t in account.teams if t["name"] == "Payments")
    services = {s["id"] for s in account.services if team["id"] in {t["id"] for t in s["teams"]}}
    mine = [i for i in account.incidents if i["service"]["id"] in services]
    theirs = [i for i in account.incidents if i["service"]["id"] not in services]
    return {
        "team": team["id"],
        "services": services,
        "inside": mine[-1],
        "outside": theirs[-1],
        "policies": {
            p["id"]
            for p in account.escalation_policies
            if team["id"] in {t["id"] for t in p["teams"]}
        },
    }


def scoped_tools(sb: Sandbox, teams: list[str] | None = None) -> dict[str, Any]:
    client = PagerDutyClient(api_key=sb.api_key, base_url=sb.base_url)
    toolkit = PagerDutyToolkit(client=client, now=lambda: FIXED_NOW, teams=teams or ["payments"])
    return {tool.name: tool for tool in toolkit.get_tools()}


def call(tools: dict[str, Any], name: str, **args: Any) -> ToolMessage:
    return tools[name].invoke(ToolCall(name=name, args=args, id="call-1", type="tool_call"))


def refused(message: ToolMessage) -> bool:
    return message.status == "error" and SCOPE_TEXT in str(message.content)


def test_teams_from_env() -> None:
    assert teams_from_env({"PAGERDUTY_TEAMS": " Payments, PQHGGEP ,,"}) == ["Payments", "PQHGGEP"]
    assert teams_from_env({"PAGERDUTY_TEAMS": " , "}) is None and teams_from_env({}) is None
    toolkit = PagerDutyToolkit.from_env(
        {"PAGERDUTY_API_KEY": "k" * 20, "PAGERDUTY_TEAMS": "Payments,Data"}
    )
    assert toolkit.teams == ["Payments", "Data"] and toolkit.scope is not None
    assert PagerDutyToolkit.from_env({"PAGERDUTY_API_KEY": "k" * 20}).scope is None


def test_list_incidents(fresh_sandbox: Sandbox) -> None:
    truth, tools = payments(fresh_sandbox), scoped_tools(fresh_sandbox)
    inside = call(tools, "pagerduty_list_incidents", time_range="last 30 days", limit=100)
    assert inside.status == "success" and "team scope=Payments" in inside.content
    assert inside.artifact.items
    assert {i.service.id for i in inside.artifact.items} <= truth["services"]
    listed = [r for r in fresh_sandbox.request_log if r.path == "/incidents"]
    assert listed[-1].query["team_ids[]"] == [truth["team"]]  # PagerDuty's own filter
    by_service = call(tools, "pagerduty_list_incidents", service="payments-db")
    assert by_service.status == "success"
    assert refused(call(tools, "pagerduty_list_incidents", service="checkout"))
    assert refused(call(tools, "pagerduty_list_incidents", team="Checkout & Storefront"))


def test_empty_answers_still_name_the_scope(sandbox: Sandbox) -> None:
    tools = scoped_tools(sandbox)
    quiet = call(tools, "pagerduty_list_incidents", statuses=["open"], urgency="low", limit=1)
    assert "team scope=Payments (" in quiet.content


def test_incident_tools(sandbox: Sandbox) -> None:
    truth, tools = payments(sandbox), scoped_tools(sandbox)
    mine, theirs = truth["inside"], truth["outside"]
    for name in (
        "pagerduty_get_incident",
        "pagerduty_get_incident_timeline",
        "pagerduty_get_incident_alerts",
        "pagerduty_list_recent_changes",
        "pagerduty_find_similar_incidents",
    ):
        for ref in (f"#{mine['incident_number']}", mine["id"]):
            answer = call(tools, name, incident=ref)
            assert answer.status == "success", (name, answer.content)
        for ref in (f"#{theirs['incident_number']}", theirs["id"]):
            answer = call(tools, name, incident=ref)
            assert refused(answer), (name, answer.content)
            assert f"Incident #{theirs['incident_number']} {theirs['id']}" in answer.content


def test_oncall(sandbox: Sandbox) -> None:
    truth, tools = payments(sandbox), scoped_tools(sandbox)
    everyone = call(tools, "pagerduty_get_oncall")
    assert everyone.status == "success" and "the team scope Payments" in everyone.content
    assert {o.escalation_policy.id for o in everyone.artifact.oncalls} == truth["policies"]
    assert call(tools, "pagerduty_get_oncall", team="payments").status == "success"
    assert call(tools, "pagerduty_get_oncall", schedule="Payments Primary").status == "success"
    storefront = next(
        p for p in sandbox.account.escalation_policies if p["id"] not in truth["policies"]
    )
    outside_schedule = next(
        s for s in sandbox.account.schedules if truth["team"] not in {t["id"] for t in s["teams"]}
    )
    for args in (
        {"team": "storefront"},
        {"service": "checkout"},
        {"escalation_policy": storefront["name"]},
        {"escalation_policy": storefront["id"]},
        {"schedule": outside_schedule["id"]},
    ):
        answer = call(tools, "pagerduty_get_oncall", **args)
        assert refused(answer), (args, answer.content)


def test_service_status(sandbox: Sandbox) -> None:
    truth, tools = payments(sandbox), scoped_tools(sandbox)
    assert call(tools, "pagerduty_get_service_status", service="ledger").status == "success"
    assert refused(call(tools, "pagerduty_get_service_status", service="checkout"))
    overview = call(tools, "pagerduty_get_service_status")
    assert "in the team scope Payments" in overview.content
    assert overview.artifact.services_total == len(truth["services"])
    assert {s.id for s in overview.artifact.services} <= truth["services"]
    assert {i.service.id for i in overview.artifact.open_incidents} <= truth["services"]


def test_recent_changes(fresh_sandbox: Sandbox) -> None:
    truth, tools = payments(fresh_sandbox), scoped_tools(fresh_sandbox)
    week = call(tools, "pagerduty_list_recent_changes", time_range="last 7 days", limit=100)
    assert week.status == "success" and "the team scope Payments" in week.content
    assert {s.id for c in week.artifact.changes for s in c.services} <= truth["services"]
    account_wide = [r for r in fresh_sandbox.request_log if r.path == "/change_events"]
    assert account_wide[-1].query["team_ids[]"] == [truth["team"]]
    assert call(tools, "pagerduty_list_recent_changes", service="ledger").status == "success"
    assert refused(call(tools, "pagerduty_list_recent_changes", service="checkout"))


def test_similar_incidents_search_only_the_scope(fresh_sandbox: Sandbox) -> None:
    truth, tools = payments(fresh_sandbox), scoped_tools(fresh_sandbox)
    text = call(tools, "pagerduty_find_similar_incidents", text="connection pool exhausted")
    assert text.status == "success" and text.artifact.matches
    assert {m.incident.service_id for m in text.artifact.matches} <= truth["services"]
    assert text.artifact.query.scope == f"teams {truth['team']}"
    history = [r for r in fresh_sandbox.request_log if r.path == "/incidents"]
    assert history and all(r.query.get("team_ids[]") == [truth["team"]] for r in history)
    wide = call(
        tools,
        "pagerduty_find_similar_incidents",
        incident=truth["inside"]["id"],
        all_services=True,
        limit=20,
    )
    assert wide.status == "success"
    assert {m.incident.service_id for m in wide.artifact.matches} <= truth["services"]
    for args in ({"service": "checkout"}, {"team": "storefront"}):
        answer = call(tools, "pagerduty_find_similar_incidents", text="pool exhausted", **args)
        assert refused(answer), answer.content


def test_unknown_names_list_only_names_inside(sandbox: Sandbox) -> None:
    answer = call(scoped_tools(sandbox), "pagerduty_get_service_status", service="chekout")
    assert answer.status == "error" and "payments-api" in answer.content
    assert "checkout" not in answer.content  # nothing outside the scope is listed


def test_a_scope_naming_an_unknown_team_says_so(sandbox: Sandbox) -> None:
    answer = call(scoped_tools(sandbox, ["Paymentz Squad"]), "pagerduty_list_incidents")
    assert answer.status == "error"
    assert "team scope names a team PagerDuty does not know" in answer.content


def test_two_teams_in_scope(sandbox: Sandbox) -> None:
    tools = scoped_tools(sandbox, ["payments", "storefront"])
    assert call(tools, "pagerduty_list_incidents", service="checkout").status == "success"
    assert call(tools, "pagerduty_get_service_status", service="kafka").status == "error"


def test_the_investigation_graph_keeps_to_the_scope(sandbox: Sandbox) -> None:
    truth = payments(sandbox)
    client = PagerDutyClient(api_key=sandbox.api_key, base_url=sandbox.base_url)
    graph = build_graph(client, now=FIXED_NOW, teams=["payments"])
    outside = graph.invoke({"incident": f"#{truth['outside']['incident_number']}"})
    assert outside["target"] is None
    assert SCOPE_TEXT in outside["lookups"]["incident"]["error"]
    assert "team scope" in outside["brief"]
    urgent = graph.invoke({})
    assert urgent["target"]["service"]["id"] in truth["services"]
    similar = urgent["lookups"]["similar_history"]
    assert similar["ok"], similar["error"]
    matches = similar["artifact"]["matches"]
    assert {m["incident"]["service_id"] for m in matches} <= truth["services"]
