"""The LangChain tools: each answers one on-call question in few GETs and few tokens.

Every tool is a :class:`PagerDutyTool`: a pydantic ``args_schema``, content-and-artifact output
(compact text for the model, the structured pydantic result as the artifact) and errors that
reach the model as a ``ToolMessage`` with ``status="error"`` saying what to do. Adding a tool is
one small subclass plus an entry in :data:`TOOL_CLASSES`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from langchain_core.tools import BaseTool, ToolException
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pd_toolkit.client import PagerDutyClient
from pd_toolkit.directory import Directory, Kind
from pd_toolkit.errors import (
    PagerDutyError,
    PagerDutyForbiddenError,
    PagerDutyNotFoundError,
    PagerDutyPlanError,
    TimeRangeError,
)
from pd_toolkit.history import SimilarIncidents, find_similar_incidents
from pd_toolkit.models import (
    OLDEST,
    Alert,
    ChangeEvent,
    ChangeList,
    EscalationPolicy,
    Incident,
    IncidentAlerts,
    IncidentList,
    IncidentTimeline,
    LogEntry,
    Note,
    OnCall,
    OnCallReport,
    Ref,
    Schedule,
    Service,
    ServicesOverview,
    ServiceStatus,
    TimeWindow,
)
from pd_toolkit.render import (
    ref,
    render_alerts,
    render_changes,
    render_incident,
    render_incident_list,
    render_oncall,
    render_service_status,
    render_services_overview,
    render_similar_incidents,
    render_timeline,
)
from pd_toolkit.scope import TeamScope
from pd_toolkit.store import IncidentStore
from pd_toolkit.timewindow import TimeZoneName, iso_utc, parse_instant, parse_window

logger = logging.getLogger("pd_toolkit.tools")

OPEN_STATUSES = ("triggered", "acknowledged")
MAX_INCIDENT_WINDOW = timedelta(days=180)
MAX_LOG_ENTRIES = 500
CHANGE_LOOKBACK = timedelta(hours=24)
MAX_ARGUMENT = 200  # characters of a name, reference or time: errors echo it back


def format_validation_error(error: ValidationError) -> str:
    """pydantic's errors as one short line the model can act on."""
    problems = []
    for item in error.errors()[:5]:
        where = ".".join(str(part) for part in item["loc"]) or "arguments"
        given = repr(item.get("input"))
        given = given if len(given) <= 60 else given[:57] + "..."
        problems.append(f"{where}: {item['msg']} (got {given})")
    return f"Invalid arguments: {'; '.join(problems)}. Fix them and call the tool again."


def _text_or_number(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


IncidentRef = Annotated[
    str,
    BeforeValidator(_text_or_number),
    Field(
        max_length=MAX_ARGUMENT,
        description="Incident number (12345 or #12345), incident id, or its web URL.",
    ),
]
TimeRange = Annotated[
    str | None,
    Field(
        max_length=MAX_ARGUMENT,
        description="today, yesterday, this week, last week, this month, last 24 hours, "
        "last N days, an ISO date, or ISO..ISO. Or use since/until.",
    ),
]
Since = Annotated[
    str | None,
    Field(max_length=MAX_ARGUMENT, description="ISO date/datetime start (instead of time_range)."),
]
Until = Annotated[
    str | None, Field(max_length=MAX_ARGUMENT, description="ISO date/datetime end; default now.")
]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PagerDutyTool(BaseTool):
    """Base of every pd_toolkit tool: shared client (from the environment when none is given),
    directory (name cache), team scope and clock; every failure becomes a ToolException whose
    text says what happened and what to do. Names and incidents are looked up through
    ``find_*``, which apply the team scope."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    client: PagerDutyClient = Field(default_factory=PagerDutyClient.from_env, exclude=True)
    directory: Directory = Field(
        default_factory=lambda data: Directory(data["client"]), exclude=True
    )
    scope: TeamScope | None = Field(default=None, exclude=True)
    time_zone: TimeZoneName = "UTC"
    now: Callable[[], datetime] | None = Field(default=None, exclude=True)
    args_schema: type[BaseModel] = _Args
    store: IncidentStore | None = Field(
        default=None, exclude=True, description="None: PD_TOOLKIT_STORE or the default file"
    )
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: bool = True
    handle_validation_error: Callable[[ValidationError], str] = format_validation_error

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def oncalls(self, filters: dict[str, Any]) -> dict[str, Any]:
        """GET /oncalls with ``filters``, shared with any tool asking the same (the on-call and
        service-status tools of one investigation ask for the same policy: one request)."""
        return self.directory.shared_get("/oncalls", {"limit": 100, "total": "true", **filters})

    def clock(self) -> datetime:
        return self.now() if self.now else datetime.now(UTC)

    def _run(self, **kwargs: Any) -> tuple[str, BaseModel]:
        kwargs.pop("run_manager", None)
        try:
            # LangChain passes only the arguments the caller gave: the args model fills in the
            # rest, so each default is declared once, in the args model.
            return self.answer(self.args_schema.model_validate(kwargs))
        except PagerDutyError as exc:
            raise ToolException(str(exc)) from exc
        except Exception as exc:
            logger.exception("%s failed unexpectedly", self.name)
            raise ToolException(
                f"{self.name} failed unexpectedly ({type(exc).__name__}: {exc}). PagerDuty may "
                "have answered in an unexpected shape; try again or use another tool."
            ) from exc

    def answer(self, args: Any) -> tuple[str, BaseModel]:
        """(content, artifact) for the validated arguments (an instance of ``args_schema``);
        raises PagerDutyError on failure."""
        raise NotImplementedError

    def _find(self, kind: Kind, name_or_id: str) -> dict[str, Any]:
        return (
            self.scope.find(kind, name_or_id)
            if self.scope
            else self.directory.find(kind, name_or_id)
        )

    def find_team(self, name_or_id: str) -> Ref:
        return Ref.model_validate(self._find("team", name_or_id))

    def find_service(self, name_or_id: str) -> Service:
        return Service.model_validate(self._find("service", name_or_id))

    def find_schedule(self, name_or_id: str) -> Schedule:
        return Schedule.model_validate(self._find("schedule", name_or_id))

    def find_policy(self, name_or_id: str) -> EscalationPolicy:
        return EscalationPolicy.model_validate(self._find("escalation_policy", name_or_id))

    def find_incident(self, ref: str) -> Incident:
        """The incident (cached briefly); outside the team scope, a PagerDutyScopeError."""
        found = self.directory.incident(ref)
        return self.scope.check_incident(found) if self.scope else found

    def window(
        self,
        time_range: str | None,
        since: str | None,
        until: str | None,
        default: timedelta | None = None,
    ) -> TimeWindow | None:
        return parse_window(time_range, since, until, now=self.clock(), tz=self.tz, default=default)


# -- incidents ------------------------------------------------------------------------------


class ListIncidentsArgs(_Args):
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
            found = self.find_service(args.service)
            params["service_ids[]"] = [found.id]
            filters["service"] = ref(found)
        if args.team:
            found_team = self.find_team(args.team)
            params["team_ids[]"] = [found_team.id]
            filters["team"] = ref(found_team)
        elif self.scope and not args.service:
            params["team_ids[]"] = self.scope.ids
            filters["team scope"] = self.scope.label
        if args.urgency:
            params["urgencies[]"] = [args.urgency]
            filters["urgency"] = args.urgency
        body = self.directory.shared_get("/incidents", params)
        result = IncidentList(
            items=[Incident.model_validate(i) for i in body.get("incidents") or []],
            total=body.get("total"),
            window=window,
            filters=filters,
        )
        self.directory.remember_incidents(result.items)
        return render_incident_list(result, self.tz), result


class IncidentArgs(_Args):
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
        found = self.find_incident(args.incident)
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
        found = self.find_incident(args.incident)
        entries = list(
            self.client.iter_all(
                f"/incidents/{found.id}/log_entries",
                {"include[]": ["channels"]},
                max_items=MAX_LOG_ENTRIES + 1,  # one more, to know whether there are more
                key="log_entries",
            )
        )
        capped = len(entries) > MAX_LOG_ENTRIES
        notes = self.client.get(f"/incidents/{found.id}/notes").get("notes") or []
        timeline = IncidentTimeline(
            incident=found,
            entries=sorted(
                (LogEntry.model_validate(e) for e in entries[:MAX_LOG_ENTRIES]),
                key=lambda e: e.created_at or OLDEST,
            ),
            entries_capped_at=MAX_LOG_ENTRIES if capped else None,
            notes=sorted(
                (Note.model_validate(n) for n in notes), key=lambda n: n.created_at or OLDEST
            ),
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
        if self.scope:  # the incident's teams decide: fetch it (cached briefly)
            found: Incident | None = self.find_incident(args.incident)
            incident_id = str(found.id)
        else:
            incident_id, found = self.directory.incident_id(args.incident)
        body = self.client.get(
            f"/incidents/{incident_id}/alerts", {"limit": args.limit, "total": "true"}
        )
        alerts = [Alert.model_validate(a) for a in body.get("alerts") or []]
        if found is None:
            embedded = alerts[0].incident if alerts and alerts[0].incident else None
            found = Incident(id=incident_id, title=embedded.summary if embedded else None)
        result = IncidentAlerts(incident=found, alerts=alerts, total=body.get("total"))
        return render_alerts(result, self.tz), result


# -- on-call --------------------------------------------------------------------------------


class OnCallArgs(_Args):
    team: str | None = Field(default=None, max_length=MAX_ARGUMENT, description="Team name or id.")
    service: str | None = Field(
        default=None, max_length=MAX_ARGUMENT, description="Service name or id."
    )
    schedule: str | None = Field(
        default=None, max_length=MAX_ARGUMENT, description="Schedule name or id."
    )
    escalation_policy: str | None = Field(
        default=None, max_length=MAX_ARGUMENT, description="Policy name or id."
    )
    at: str | None = Field(
        default=None, max_length=MAX_ARGUMENT, description="ISO datetime; default now."
    )

    @model_validator(mode="after")
    def _one_target(self) -> OnCallArgs:
        given = [
            k for k in ("team", "service", "schedule", "escalation_policy") if getattr(self, k)
        ]
        if len(given) > 1:
            raise ValueError(
                f"give only one of team, service, schedule, escalation_policy (got {given})"
            )
        return self


class GetOnCallTool(PagerDutyTool):
    """1 request once names are cached; cold: team 3 (teams, policies, on-calls),
    service/schedule/escalation_policy 2."""

    name: str = "pagerduty_get_oncall"
    description: str = (
        "Who is on call (now or at a time) for a team, service, schedule or escalation "
        "policy (name or id), per escalation level, with the schedule and shift end. "
        "With no target: everyone on call."
    )
    args_schema: type[BaseModel] = OnCallArgs

    def answer(self, args: OnCallArgs) -> tuple[str, OnCallReport]:
        params: dict[str, Any] = {}
        policies: list[Ref] = []
        target = "the whole account"
        if args.team:
            found = self.find_team(args.team)
            policies = self._team_policies(found)
            target = f"team {ref(found)}"
        elif args.service:
            found_service = self._service_with_policy(args.service)
            target = f"service {ref(found_service)}"
            policies = [found_service.escalation_policy] if found_service.escalation_policy else []
            if not policies:
                raise PagerDutyNotFoundError(
                    f"Service {ref(found_service)} has no escalation policy, so nobody is "
                    "on call for it",
                    hint="Ask by team or schedule instead.",
                )
        elif args.escalation_policy:
            found_policy = self.find_policy(args.escalation_policy)
            policies = [found_policy]
            target = f"escalation policy {ref(found_policy)}"
        elif args.schedule:
            found_schedule = self.find_schedule(args.schedule)
            params["schedule_ids[]"] = [found_schedule.id]
            target = f"schedule {ref(found_schedule)}"
        elif self.scope:
            policies = self._scope_policies()
            target = f"the team scope {self.scope.label}"
        if policies:
            params["escalation_policy_ids[]"] = [p.id for p in policies]
        moment = parse_instant(args.at, now=self.clock(), tz=self.tz) if args.at else None
        if moment:
            params |= {"since": iso_utc(moment), "until": iso_utc(moment + timedelta(minutes=1))}
        body = self.oncalls(params)
        report = OnCallReport(
            target=target,
            at=moment,
            escalation_policies=policies,
            oncalls=[OnCall.model_validate(o) for o in body.get("oncalls") or []],
            total=body.get("total"),
        )
        return render_oncall(report, self.tz), report

    def _team_policies(self, team: Ref) -> list[Ref]:
        """A team's escalation policies, else those of the services it owns (cached)."""
        policies = [
            Ref.model_validate(p)
            for p in self.directory.listing("escalation_policy")
            if any(t.get("id") == team.id for t in p.get("teams") or [])
        ]
        if not policies:
            owned = [
                Service.model_validate(s)
                for s in self.directory.listing("service")
                if any(t.get("id") == team.id for t in s.get("teams") or [])
            ]
            unique = {
                s.escalation_policy.id: s.escalation_policy for s in owned if s.escalation_policy
            }
            policies = list(unique.values())
        if not policies:
            raise PagerDutyNotFoundError(
                f"Team {ref(team)} has no escalation policy and owns no service with one",
                hint="Ask by service, schedule or escalation_policy instead.",
            )
        return policies

    def _scope_policies(self) -> list[Ref]:
        """The escalation policies of every team in scope (teams without one are skipped)."""
        assert self.scope is not None
        unique: dict[str | None, Ref] = {}
        for team in self.scope.teams:
            try:
                unique |= {p.id: p for p in self._team_policies(team)}
            except PagerDutyNotFoundError:
                continue
        if not unique:
            raise PagerDutyNotFoundError(
                f"No team in the team scope ({self.scope.label}) has an escalation policy",
                hint="Ask by schedule instead.",
            )
        return list(unique.values())

    def _service_with_policy(self, service: str) -> Service:
        found = self.find_service(service)
        if found.escalation_policy is None:  # an id not in the cache: one GET
            body = self.client.get(f"/services/{found.id}")
            found = Service.model_validate(body.get("service") or {})
        return found


# -- services -------------------------------------------------------------------------------


class ServiceStatusArgs(_Args):
    service: str | None = Field(
        default=None,
        max_length=MAX_ARGUMENT,
        description="Service name or id; omit for every service not active.",
    )


class GetServiceStatusTool(PagerDutyTool):
    """One service: 3 requests (service with its policy, on-calls (shared with an on-call
    lookup of the same policy made at the same time), open incidents), +1 for
    the last incident unless it is still open, +1 for an uncached name. No service: 1 per
    100 services + 1 (open incidents)."""

    name: str = "pagerduty_get_service_status"
    description: str = (
        "Health of a service (name or id): status, escalation policy levels with who is on "
        "call at each, open incidents by urgency, last incident. Without a service: every "
        "service that is not active (warning, critical, maintenance, disabled)."
    )
    args_schema: type[BaseModel] = ServiceStatusArgs

    def answer(self, args: ServiceStatusArgs) -> tuple[str, ServiceStatus | ServicesOverview]:
        if not args.service:
            return self._overview()
        service_id = self.find_service(args.service).id
        body = self.client.get(f"/services/{service_id}", {"include[]": ["escalation_policies"]})
        found = Service.model_validate(body.get("service") or {})
        policy: EscalationPolicy | None = found.escalation_policy
        oncalls: list[OnCall] = []
        if policy and policy.id:
            raw = self.oncalls({"escalation_policy_ids[]": [policy.id]})
            oncalls = [OnCall.model_validate(o) for o in raw.get("oncalls") or []]
        opened = self._open_incidents({"service_ids[]": [service_id]})
        newest = opened.get("incidents") or []
        last = Incident.model_validate(newest[0]) if newest else None
        if last is None or (
            found.last_incident_timestamp and last.created_at != found.last_incident_timestamp
        ):
            latest = self.client.get(
                "/incidents",
                {
                    "service_ids[]": [service_id],
                    "date_range": "all",
                    "sort_by": "created_at:desc",
                    "limit": 1,
                },
            ).get("incidents")
            last = Incident.model_validate(latest[0]) if latest else None
        status = ServiceStatus(
            service=found,
            oncalls=oncalls,
            open_incidents=[Incident.model_validate(i) for i in newest],
            open_total=opened.get("total"),
            last_incident=last,
        )
        return render_service_status(status, self.tz), status

    def _open_incidents(self, extra: dict[str, Any]) -> dict[str, Any]:
        return self.directory.shared_get(
            "/incidents",
            {
                **extra,
                "statuses[]": list(OPEN_STATUSES),
                "date_range": "all",
                "sort_by": "created_at:desc",
                "limit": 100,
                "total": "true",
            },
        )

    def _overview(self) -> tuple[str, ServicesOverview]:
        teams = {"team_ids[]": self.scope.ids} if self.scope else {}
        services = [Service.model_validate(s) for s in self.client.iter_all("/services", teams)]
        opened = self._open_incidents(teams).get("incidents") or []
        overview = ServicesOverview(
            services=[s for s in services if s.status != "active"],
            services_total=len(services),
            open_incidents=[Incident.model_validate(i) for i in opened],
            scope=f"the team scope {self.scope.label}" if self.scope else None,
        )
        return render_services_overview(overview, self.tz), overview


# -- change events --------------------------------------------------------------------------


class RecentChangesArgs(_Args):
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
        page = {"limit": args.limit, "total": "true"}
        if args.incident:
            window = self.window(args.time_range, args.since, args.until)
            return self._for_incident(args.incident, window, page)
        window = self.window(args.time_range, args.since, args.until, default=CHANGE_LOOKBACK)
        assert window is not None  # a default was given
        page |= {"since": iso_utc(window.since), "until": iso_utc(window.until)}
        where = "the whole account"
        if args.service:
            found = self.find_service(args.service)
            body = self.client.get(f"/services/{found.id}/change_events", page)
            scope: Ref | None = found
        else:
            if self.scope:
                page |= {"team_ids[]": self.scope.ids}
                where = f"the team scope {self.scope.label}"
            body = self.client.get("/change_events", page)
            scope = None
        result = ChangeList(
            scope=f"service {ref(scope)}" if scope else where,
            service=scope,
            window=window,
            changes=_changes(body),
            total=body.get("total"),
        )
        return render_changes(result, self.tz), result

    def _for_incident(
        self, incident: str, window: TimeWindow | None, page: dict[str, Any]
    ) -> tuple[str, ChangeList]:
        found = self.find_incident(incident)
        if window is None:
            trigger = found.created_at or self.clock()
            window = TimeWindow(
                since=trigger - CHANGE_LOOKBACK, until=trigger, label="24h before it triggered"
            )
        service_id = found.service.id if found.service else None
        if not service_id:
            raise PagerDutyNotFoundError(f"Incident {found.id} names no service")
        body = self.client.get(
            f"/services/{service_id}/change_events",
            page | {"since": iso_utc(window.since), "until": iso_utc(window.until)},
        )
        result = ChangeList(
            scope=f"service {ref(found.service)} of #{found.incident_number} {found.id}",
            service=found.service,
            window=window,
            changes=_changes(body),
            total=body.get("total"),
            incident=found,
        )
        try:
            related = _changes(self.client.get(f"/incidents/{found.id}/related_change_events"))
            result.related = self._inside(related)
            dropped = len(related) - len(result.related)
            if dropped:
                result.related_note = (
                    f"{dropped} related change event(s) on services outside the team scope "
                    f"({self.scope.label if self.scope else ''}) left out."
                )
            elif not result.related:
                result.related_note = "PagerDuty relates no change events to this incident."
        except (PagerDutyPlanError, PagerDutyForbiddenError, PagerDutyNotFoundError) as exc:
            result.related_note = (
                f"PagerDuty's related change events are unavailable ({exc.message})."
            )
        return render_changes(result, self.tz), result

    def _inside(self, changes: list[ChangeEvent]) -> list[ChangeEvent]:
        """The changes touching a service in the team scope (all of them without a scope)."""
        if self.scope is None:
            return changes
        inside = self.scope.service_ids_inside()
        return [c for c in changes if any(s.id in inside for s in c.services)]


def _changes(body: dict[str, Any]) -> list[ChangeEvent]:
    changes = [ChangeEvent.model_validate(c) for c in body.get("change_events") or []]
    return sorted(changes, key=lambda c: c.timestamp or OLDEST, reverse=True)


# -- history --------------------------------------------------------------------------------


class SimilarIncidentsArgs(_Args):
    incident: IncidentRef | None = Field(
        default=None, description="Incident number, id or URL to find look-alikes of."
    )
    text: str | None = Field(
        default=None,
        max_length=500,
        description="Or free text describing the problem, e.g. 'postgres pool exhausted'.",
    )
    service: str | None = Field(
        default=None,
        max_length=MAX_ARGUMENT,
        description="Search this service (name or id); default: the incident's.",
    )
    team: str | None = Field(
        default=None, max_length=MAX_ARGUMENT, description="Search this team's services instead."
    )
    all_services: bool = Field(default=False, description="Search every service.")
    window_days: int = Field(default=180, ge=1, le=365, description="How far back (days).")
    limit: int = Field(default=5, ge=1, le=20, description="Matches to show (1-20).")

    @model_validator(mode="after")
    def _incident_or_text(self) -> SimilarIncidentsArgs:
        if bool(self.incident) == bool(self.text and self.text.strip()):
            raise ValueError("give exactly one of incident or text")
        return self


class FindSimilarIncidentsTool(PagerDutyTool):
    """Empty store: 1 request for the incident, 1 per 100 incidents of history, 1 for
    PagerDuty's past_incidents (once per account when the plan lacks it) and up to ``limit``
    resolution lookups. Warm store: the incident, the delta since the last sync (none within
    the cache TTL) and the resolutions of open or never-seen matches."""

    name: str = "pagerduty_find_similar_incidents"
    description: str = (
        "Has this happened before? Past incidents similar to an incident (number, id, URL) "
        "or to free text, ranked with the reason they match and how each was resolved, plus "
        "the pattern (how often, when, typical time to resolve, who fixes it). Any plan."
    )
    args_schema: type[BaseModel] = SimilarIncidentsArgs

    def answer(self, args: SimilarIncidentsArgs) -> tuple[str, SimilarIncidents]:
        found = self.find_incident(args.incident) if args.incident else None
        service_ids = [str(self.find_service(args.service).id)] if args.service else []
        team_ids = [str(self.find_team(args.team).id)] if args.team else []
        if self.scope and not team_ids:  # searched only within the scope's teams
            team_ids = self.scope.ids
            if found and found.service and not (service_ids or args.all_services):
                service_ids = [str(found.service.id)]  # still the incident's own service
        result = find_similar_incidents(
            self.client,
            found,
            text=None if found else args.text,
            service_ids=service_ids,
            team_ids=team_ids,
            all_services=args.all_services,
            window_days=args.window_days,
            limit=args.limit,
            now=self.clock(),
            store=self.store,
        )
        return render_similar_incidents(result, self.tz), result


TOOL_CLASSES: tuple[type[PagerDutyTool], ...] = (
    ListIncidentsTool,
    GetIncidentTool,
    GetIncidentTimelineTool,
    GetIncidentAlertsTool,
    GetOnCallTool,
    GetServiceStatusTool,
    ListRecentChangesTool,
    FindSimilarIncidentsTool,
)
