"""The incident tools: list incidents, one incident, its timeline, its alerts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from pd_toolkit.api import OPEN_STATUSES
from pd_toolkit.errors import TimeRangeError
from pd_toolkit.models import (
    OLDEST,
    Incident,
    IncidentAlerts,
    IncidentList,
    IncidentTimeline,
)
from pd_toolkit.render import (
    ref,
    render_alerts,
    render_incident,
    render_incident_list,
    render_timeline,
)
from pd_toolkit.timewindow import iso_utc
from pd_toolkit.tools.base import (
    MAX_ARGUMENT,
    Args,
    IncidentRef,
    PagerDutyTool,
    Since,
    TimeRange,
    Until,
)

MAX_INCIDENT_WINDOW = timedelta(days=180)
MAX_LOG_ENTRIES = 500


class ListIncidentsArgs(Args):
    statuses: list[Literal["open", "triggered", "acknowledged", "resolved", "all"]] | None = Field(
        default=None,
        description="Default: open (triggered+acknowledged) when no time range is given, else all.",
    )
    service: str | None = Field(
        default=None, max_length=MAX_ARGUMENT, description="Service name or id."
    )
    team: str | None = Field(default=None, max_length=MAX_ARGUMENT, description="Team name or id.")
    urgency: Literal["high", "low"] | None = None
    time_range: TimeRange = None
    since: Since = None
    until: Until = None
    limit: int = Field(default=20, ge=1, le=100, description="Incidents to show (1-100).")
    sort: Literal["newest", "oldest"] = "newest"

    @field_validator("statuses", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [s.strip() for s in value.split(",")] if isinstance(value, str) else value


class ListIncidentsTool(PagerDutyTool):
    """1 request (+1 per service/team name not yet cached); the same listing asked again
    within the toolkit's ``incident_cache_ttl`` is answered from that request."""

    name: str = "pagerduty_list_incidents"
    description: str = (
        "List PagerDuty incidents, one line each (number, id, status, urgency, service, "
        "assignee, title). Use for 'what is open now' (the default) or 'what fired on "
        "<service>/<team> this week'. Filters: statuses, service, team, urgency, time_range."
    )
    args_schema: type[BaseModel] = ListIncidentsArgs

    def answer(self, args: ListIncidentsArgs) -> tuple[str, IncidentList]:
        window = self.window(args.time_range, args.since, args.until)
        wanted = set(args.statuses or (["all"] if window else ["open"]))
        expanded: list[str] = []
        if "all" not in wanted:
            opened = set(OPEN_STATUSES) if "open" in wanted else set()
            expanded = sorted(opened | (wanted & {"triggered", "acknowledged", "resolved"}))
        params: dict[str, Any] = {
            "limit": args.limit,
            "total": "true",
            "sort_by": "created_at:desc" if args.sort == "newest" else "created_at:asc",
        }
        filters = {"statuses": ",".join(expanded) or "all"}
        if expanded:
            params["statuses[]"] = expanded
        if window is None and expanded and set(expanded) <= set(OPEN_STATUSES):
            params["date_range"] = "all"
        elif window is None:
            window = self.window(None, None, None, default=timedelta(days=30))
        if window is not None:
            if window.until - window.since > MAX_INCIDENT_WINDOW:
                raise TimeRangeError(
                    "PagerDuty lists at most 6 months (180 days) of incidents at once: "
                    "give a shorter time_range"
                )
            params |= {"since": iso_utc(window.since), "until": iso_utc(window.until)}
        if args.service:
            found = self.api.service(args.service)
            params["service_ids[]"] = [found.id]
            filters["service"] = ref(found)
        if args.team:
            found_team = self.api.team(args.team)
            params["team_ids[]"] = [found_team.id]
            filters["team"] = ref(found_team)
        elif not args.service and (label := self.api.scope_label()):
            filters["team scope"] = label
        if args.urgency:
            params["urgencies[]"] = [args.urgency]
            filters["urgency"] = args.urgency
        page = self.api.incidents(params)
        result = IncidentList(
            items=page.items, total=page.total, window=window, filters=filters, at=self.clock()
        )
        return render_incident_list(result, self.tz), result


class IncidentArgs(Args):
    incident: IncidentRef


class GetIncidentTool(PagerDutyTool):
    """1 request."""

    name: str = "pagerduty_get_incident"
    description: str = (
        "Details of one incident by number (#12345), id or URL: status, urgency, priority, "
        "service, escalation policy, teams, assignees, ack/resolve times, alert counts, url."
    )
    args_schema: type[BaseModel] = IncidentArgs

    def answer(self, args: IncidentArgs) -> tuple[str, Incident]:
        found = self.api.incident(args.incident)
        return render_incident(found, self.tz), found


class GetIncidentTimelineTool(PagerDutyTool):
    """3 requests (incident, log entries, notes), +1 per further 100 log entries."""

    name: str = "pagerduty_get_incident_timeline"
    description: str = (
        "The timeline of one incident (number, id or URL): triggers, notifications, "
        "escalations, acks, notes and resolution in time order, with time to ack/resolve. "
        "Use for 'what happened in incident #N'."
    )
    args_schema: type[BaseModel] = IncidentArgs

    def answer(self, args: IncidentArgs) -> tuple[str, IncidentTimeline]:
        found = self.api.incident(args.incident)
        # One more than shown, to know whether there are more.
        entries = self.api.log_entries(str(found.id), max_items=MAX_LOG_ENTRIES + 1)
        capped = len(entries) > MAX_LOG_ENTRIES
        timeline = IncidentTimeline(
            incident=found,
            entries=sorted(entries[:MAX_LOG_ENTRIES], key=lambda e: e.created_at or OLDEST),
            entries_capped_at=MAX_LOG_ENTRIES if capped else None,
            notes=sorted(self.api.notes(str(found.id)), key=lambda n: n.created_at or OLDEST),
        )
        return render_timeline(timeline, self.tz), timeline


class IncidentAlertsArgs(IncidentArgs):
    limit: int = Field(default=10, ge=1, le=100, description="Alerts to show (1-100).")


class GetIncidentAlertsTool(PagerDutyTool):
    """1 request for an id or URL, 2 for a number (2 either way with a team scope: the
    incident's teams are checked first)."""

    name: str = "pagerduty_get_incident_alerts"
    description: str = (
        "The alerts grouped into one incident (number, id or URL): severity, status, source, "
        "component, class, alert_key and the most telling payload details. Use to see what "
        "the monitoring system actually reported."
    )
    args_schema: type[BaseModel] = IncidentAlertsArgs

    def answer(self, args: IncidentAlertsArgs) -> tuple[str, IncidentAlerts]:
        incident_id, found = self.api.incident_id(args.incident)
        page = self.api.alerts(incident_id, args.limit)
        if found is None:
            embedded = page.items[0].incident if page.items and page.items[0].incident else None
            found = Incident(id=incident_id, title=embedded.summary if embedded else None)
        result = IncidentAlerts(incident=found, alerts=page.items, total=page.total)
        return render_alerts(result, self.tz), result
