"""The investigation's lookups, in one table: each one's name, tool, arguments and title.

The graph (:mod:`agents.investigate`) runs them; the brief (:mod:`agents.brief`) titles their
gaps. ``incident`` is the first lookup (it finds the incident), the rest run in parallel on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pd_toolkit.models import Incident

SIMILAR_WINDOW_DAYS = 90
SIMILAR_LIMIT = 5
ALERT_LIMIT = 10


@dataclass(frozen=True)
class Lookup:
    """One lookup of an incident: ``args`` maps the incident to the tool's arguments (a None
    value means the incident does not name what the lookup needs)."""

    name: str
    tool: str
    title: str
    args: Callable[[Incident], dict[str, Any]]


def _service(incident: Incident) -> str | None:
    return incident.service.id if incident.service else None


def _oncall_args(incident: Incident) -> dict[str, Any]:
    """Who is on call now (the next shift is not worth a request in an investigation)."""
    policy = incident.escalation_policy.id if incident.escalation_policy else None
    target = {"escalation_policy": policy} if policy else {"service": _service(incident)}
    return {**target, "include_next": False}


TABLE: tuple[Lookup, ...] = (
    Lookup(
        "timeline",
        "pagerduty_get_incident_timeline",
        "Timeline",
        lambda i: {"incident": i.id},
    ),
    Lookup(
        "alerts",
        "pagerduty_get_incident_alerts",
        "Alerts",
        lambda i: {"incident": i.id, "limit": ALERT_LIMIT},
    ),
    Lookup("oncall", "pagerduty_get_oncall", "On call", _oncall_args),
    Lookup(
        "service_status",
        "pagerduty_get_service_status",
        "Service health",
        lambda i: {"service": _service(i)},
    ),
    Lookup(
        "similar_history",
        "pagerduty_find_similar_incidents",
        "Similar incidents",
        lambda i: {"incident": i.id, "window_days": SIMILAR_WINDOW_DAYS, "limit": SIMILAR_LIMIT},
    ),
    Lookup(
        "recent_changes",
        "pagerduty_list_recent_changes",
        "Recent changes",
        lambda i: {"incident": i.id},
    ),
)
BY_NAME = {lookup.name: lookup for lookup in TABLE}
NAMES = tuple(BY_NAME)
TITLES = {"incident": "Incident", **{lookup.name: lookup.title for lookup in TABLE}}
