"""Bad inputs for every tool become error ToolMessages that say what is wrong and what to do;
nothing raises out of a tool. Name lookups replay cassettes recorded on the sandbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

Ask = Callable[..., ToolMessage]
pytestmark = pytest.mark.vcr

INVALID = "Invalid arguments: "
CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    # pagerduty_list_incidents
    (
        "pagerduty_list_incidents",
        {"limit": 0},
        [INVALID, "limit: Input should be greater than or equal to 1 (got 0)"],
    ),
    (
        "pagerduty_list_incidents",
        {"limit": 101},
        ["limit: Input should be less than or equal to 100 (got 101)"],
    ),
    (
        "pagerduty_list_incidents",
        {"statuses": ["closed"]},
        ["statuses.0: Input should be 'open', 'triggered'", "(got 'closed')"],
    ),
    (
        "pagerduty_list_incidents",
        {"urgency": "urgent"},
        ["urgency: Input should be 'high' or 'low'"],
    ),
    ("pagerduty_list_incidents", {"colour": "red"}, ["colour: Extra inputs are not permitted"]),
    (
        "pagerduty_list_incidents",
        {"service": "chekout"},
        [
            "No service named 'chekout' (closest: \"checkout\" (P",
            "Retry with one of these service names or ids",
        ],
    ),
    (
        "pagerduty_list_incidents",
        {"team": "paymnts"},
        ["No team named 'paymnts' (closest: \"Payments\" (P"],
    ),
    (
        "pagerduty_list_incidents",
        {"time_range": "since the dawn of time"},
        ["Could not read time_range 'since the dawn of time': use today, yesterday, this week"],
    ),
    (
        "pagerduty_list_incidents",
        {"time_range": "2026-11-10..2026-11-01"},
        [
            "The range is inverted or empty: since 2026-11-10 00:00Z is not before until "
            "2026-11-02 00:00Z; swap them"
        ],
    ),
    (
        "pagerduty_list_incidents",
        {"since": "2026-12-24"},
        ["The range starts in the future (2026-12-24 00:00Z; now is 2026-11-18 09:30Z)"],
    ),
    (
        "pagerduty_list_incidents",
        {"time_range": "today", "since": "2026-11-01"},
        ["Give either time_range or since/until, not both"],
    ),
    (
        "pagerduty_list_incidents",
        {"time_range": "2026-01-01..2026-11-18"},
        ["at most 6 months (180 days)", "shorter time_range"],
    ),
    # pagerduty_get_incident
    (
        "pagerduty_get_incident",
        {"incident": "#abc"},
        [
            "'#abc' is not an incident number: after '#' give digits only, e.g. #12345",
            "or its web URL",
        ],
    ),
    (
        "pagerduty_get_incident",
        {"incident": "#999999"},
        [
            "No incident #999999 in this PagerDuty account",
            "pagerduty_list_incidents lists recent ones",
        ],
    ),
    ("pagerduty_get_incident", {}, [INVALID, "incident: Field required"]),
    ("pagerduty_get_incident", {"incident": ["#1"]}, ["incident: Input should be a valid string"]),
    # pagerduty_get_incident_timeline
    (
        "pagerduty_get_incident_timeline",
        {"incident": "https://example.com/incidents/Q1"},
        ["'https://example.com/incidents/Q1' is not a PagerDuty incident URL"],
    ),
    ("pagerduty_get_incident_timeline", {"incident": "#0"}, ["'#0' is not an incident number"]),
    (
        "pagerduty_get_incident_timeline",
        {"incident": "QNOSUCHINCIDENT"},
        ["No incident QNOSUCHINCIDENT in this PagerDuty account"],
    ),
    # pagerduty_get_incident_alerts
    (
        "pagerduty_get_incident_alerts",
        {"incident": "#3088", "limit": 0},
        ["limit: Input should be greater than or equal to 1"],
    ),
    (
        "pagerduty_get_incident_alerts",
        {"incident": "#3088", "limit": 101},
        ["limit: Input should be less than or equal to 100"],
    ),
    (
        "pagerduty_get_incident_alerts",
        {"incident": "last one"},
        ["'last one' is not an incident number, id or URL"],
    ),
    # pagerduty_get_oncall
    (
        "pagerduty_get_oncall",
        {"team": "paymnts"},
        ["No team named 'paymnts' (closest: \"Payments\" (P"],
    ),
    (
        "pagerduty_get_oncall",
        {"service": "payments"},
        [
            "'payments' matches 2 service names: \"payments-api\" (P",
            '"payments-db" (P',
            "Retry with the exact service name or its id",
        ],
    ),
    (
        "pagerduty_get_oncall",
        {"schedule": "nightwatch"},
        ["No schedule named 'nightwatch' (", "Retry with one of these schedule names or ids"],
    ),
    ("pagerduty_get_oncall", {"escalation_policy": "zzz"}, ["No escalation policy named 'zzz' ("]),
    (
        "pagerduty_get_oncall",
        {"team": "payments", "service": "checkout"},
        ["give only one of team, service, schedule, escalation_policy (got ['team', 'service'])"],
    ),
    (
        "pagerduty_get_oncall",
        {"team": "payments", "at": "teatime"},
        ["Could not read the time 'teatime': give an ISO date or datetime"],
    ),
    # pagerduty_get_service_status
    (
        "pagerduty_get_service_status",
        {"service": "checkuot"},
        ["No service named 'checkuot' (closest: \"checkout\" (P"],
    ),
    (
        "pagerduty_get_service_status",
        {"service": "PNOSUCH"},
        ["No such PagerDuty resource: services/PNOSUCH", "Check the id or number"],
    ),
    # pagerduty_list_recent_changes
    (
        "pagerduty_list_recent_changes",
        {"incident": "#3088", "service": "checkout"},
        ["give incident or service, not both"],
    ),
    (
        "pagerduty_list_recent_changes",
        {"limit": 101},
        ["limit: Input should be less than or equal to 100"],
    ),
    (
        "pagerduty_list_recent_changes",
        {"service": "checkout", "time_range": "2026-11-18..2026-11-01"},
        ["The range is inverted or empty"],
    ),
    ("pagerduty_list_recent_changes", {"incident": "#abc"}, ["'#abc' is not an incident number"]),
    ("pagerduty_list_recent_changes", {"service": "nope-svc"}, ["No service named 'nope-svc'"]),
    # pagerduty_find_similar_incidents
    ("pagerduty_find_similar_incidents", {}, ["give exactly one of incident or text"]),
    (
        "pagerduty_find_similar_incidents",
        {"incident": "#3088", "text": "db down"},
        ["give exactly one of incident or text"],
    ),
    ("pagerduty_find_similar_incidents", {"text": "   "}, ["give exactly one of incident or text"]),
    (
        "pagerduty_find_similar_incidents",
        {"incident": "#abc"},
        ["'#abc' is not an incident number"],
    ),
    (
        "pagerduty_find_similar_incidents",
        {"incident": "#999999"},
        ["No incident #999999 in this PagerDuty account"],
    ),
    (
        "pagerduty_find_similar_incidents",
        {"text": "db down", "window_days": 0},
        ["window_days: Input should be greater than or equal to 1 (got 0)"],
    ),
    (
        "pagerduty_find_similar_incidents",
        {"text": "db down", "limit": 21},
        ["limit: Input should be less than or equal to 20 (got 21)"],
    ),
    (
        "pagerduty_find_similar_incidents",
        {"text": "db down", "service": "nope-svc"},
        ["No service named 'nope-svc'"],
    ),
]


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    CASES,
    ids=[f"{tool.removeprefix('pagerduty_')}-{i}" for i, (tool, _, _) in enumerate(CASES)],
)
def test_bad_input_is_a_precise_error_message(
    ask: Ask, tool: str, args: dict[str, Any], expected: list[str]
) -> None:
    message = ask(tool, **args)
    assert message.status == "error"
    assert message.artifact is None
    for fragment in expected:
        assert fragment in message.content
    assert "Traceback" not in message.content and "\n" not in message.content


def test_every_tool_has_bad_input_cases(cassette_toolkit: Any) -> None:
    assert {tool for tool, _, _ in CASES} == {t.name for t in cassette_toolkit.get_tools()}
