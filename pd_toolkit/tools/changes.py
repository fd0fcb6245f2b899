"""The change-events tool: what changed before an incident, or on a service or the account."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field, model_validator

from pd_toolkit.errors import PagerDutyForbiddenError, PagerDutyNotFoundError, PagerDutyPlanError
from pd_toolkit.models import ChangeList, TimeWindow
from pd_toolkit.render import ref, render_changes
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

CHANGE_LOOKBACK = timedelta(hours=24)


class RecentChangesArgs(Args):
    incident: IncidentRef | None = Field(
        default=None, description="Incident number, id or URL: changes before it triggered."
    )
    service: str | None = Field(
        default=None, max_length=MAX_ARGUMENT, description="Service name or id."
    )
    time_range: TimeRange = None
    since: Since = None
    until: Until = None
    limit: int = Field(default=20, ge=1, le=100, description="Changes to show (1-100).")

    @model_validator(mode="after")
    def _one_scope(self) -> RecentChangesArgs:
        if self.incident and self.service:
            raise ValueError("give incident or service, not both")
        return self


class ListRecentChangesTool(PagerDutyTool):
    """Incident: 3 requests (incident, its service's change events, related change events).
    Service: 1 (+1 for an uncached name). Neither: 1 (the whole account)."""

    name: str = "pagerduty_list_recent_changes"
    description: str = (
        "Change events (deploys, config changes) in the 24h before an incident triggered, "
        "or on a service / the account in a time_range (default last 24 hours). Use to find "
        "what changed before something broke."
    )
    args_schema: type[BaseModel] = RecentChangesArgs

    def answer(self, args: RecentChangesArgs) -> tuple[str, ChangeList]:
        page: dict[str, Any] = {"limit": args.limit, "total": "true"}
        if args.incident:
            window = self.window(args.time_range, args.since, args.until)
            return self._for_incident(args.incident, window, page)
        window = self.window(args.time_range, args.since, args.until, default=CHANGE_LOOKBACK)
        assert window is not None  # a default was given
        page |= {"since": iso_utc(window.since), "until": iso_utc(window.until)}
        found = self.api.service(args.service) if args.service else None
        changes = self.api.change_events(str(found.id) if found else None, page)
        label = self.api.scope_label()
        where = f"the team scope {label}" if label else "the whole account"
        result = ChangeList(
            scope=f"service {ref(found)}" if found else where,
            service=found,
            window=window,
            changes=changes.items,
            total=changes.total,
        )
        return render_changes(result, self.tz), result

    def _for_incident(
        self, incident: str, window: TimeWindow | None, page: dict[str, Any]
    ) -> tuple[str, ChangeList]:
        found = self.api.incident(incident)
        if window is None:
            trigger = found.created_at or self.clock()
            window = TimeWindow(
                since=trigger - CHANGE_LOOKBACK, until=trigger, label="24h before it triggered"
            )
        service_id = found.service.id if found.service else None
        if not service_id:
            raise PagerDutyNotFoundError(f"Incident {found.id} names no service")
        changes = self.api.change_events(
            str(service_id),
            page | {"since": iso_utc(window.since), "until": iso_utc(window.until)},
        )
        result = ChangeList(
            scope=f"service {ref(found.service)} of #{found.incident_number} {found.id}",
            service=found.service,
            window=window,
            changes=changes.items,
            total=changes.total,
            incident=found,
        )
        try:
            result.related, dropped = self.api.related_change_events(str(found.id))
            if dropped:
                result.related_note = (
                    f"{dropped} related change event(s) on services outside the team scope "
                    f"({self.api.scope_label()}) left out."
                )
            elif not result.related:
                result.related_note = "PagerDuty relates no change events to this incident."
        except (PagerDutyPlanError, PagerDutyForbiddenError, PagerDutyNotFoundError) as exc:
            result.related_note = (
                f"PagerDuty's related change events are unavailable ({exc.message})."
            )
        return render_changes(result, self.tz), result
