"""Compact, lenient pydantic views of PagerDuty objects, and the tools' result models.

PagerDuty payloads do not always follow their own schema (null priorities, lists where objects
are documented, strings where booleans are). Every field here is optional, unknown fields are
ignored, and a value of the wrong shape becomes ``None`` (or empty) instead of an error: a view
that shows a field as unknown beats a crash on a real payload.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


def _as_str(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip(" ,").lower()
        return {"true": True, "false": False}.get(text)
    return None


def _as_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_ref(value: Any) -> dict[str, Any] | None:
    """A reference as a dict: dicts pass, a list gives its first dict, a bare string is an id."""
    if isinstance(value, list):
        value = next((item for item in value if isinstance(item, dict)), None)
    if isinstance(value, str) and value:
        return {"id": value}
    return value if isinstance(value, dict) else None


def _as_dict_list(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return []
    return [ref for ref in map(_as_ref, value) if ref is not None]


Str = Annotated[str | None, BeforeValidator(_as_str)]
Int = Annotated[int | None, BeforeValidator(_as_int)]
Bool = Annotated[bool | None, BeforeValidator(_as_bool)]
Time = Annotated[datetime | None, BeforeValidator(_as_time)]
Dict = Annotated[dict[str, Any], BeforeValidator(_as_dict)]


OLDEST = datetime.min.replace(tzinfo=UTC)  # sort key for a missing time


class PDModel(BaseModel):
    """Base: unknown fields ignored, every field optional."""

    model_config = ConfigDict(extra="ignore")


class Ref(PDModel):
    """A reference to any PagerDuty object; ``include[]`` may have filled in name/email."""

    id: Str = None
    type: Str = None
    summary: Str = None
    name: Str = None
    email: Str = None
    html_url: Str = None

    @property
    def label(self) -> str:
        return self.name or self.summary or self.id or "unknown"


OptRef = Annotated[Ref | None, BeforeValidator(_as_ref)]
Refs = Annotated[list[Ref], BeforeValidator(_as_dict_list)]


class Team(Ref):
    description: Str = None


class User(Ref):
    time_zone: Str = None
    role: Str = None
    job_title: Str = None
    teams: Refs = []


class Assignment(PDModel):
    at: Time = None
    assignee: OptRef = None


class Acknowledgement(PDModel):
    at: Time = None
    acknowledger: OptRef = None


class AlertCounts(PDModel):
    all: Int = None
    triggered: Int = None
    resolved: Int = None


class Incident(PDModel):
    id: Str = None
    incident_number: Int = None
    title: Str = None
    summary: Str = None
    description: Str = None
    status: Str = None
    urgency: Str = None
    priority: OptRef = None
    service: OptRef = None
    escalation_policy: OptRef = None
    teams: Refs = []
    assignments: Annotated[list[Assignment], BeforeValidator(_as_dict_list)] = []
    acknowledgements: Annotated[list[Acknowledgement], BeforeValidator(_as_dict_list)] = []
    created_at: Time = None
    resolved_at: Time = None
    last_status_change_at: Time = None
    alert_counts: Annotated[AlertCounts | None, BeforeValidator(_as_ref)] = None
    incident_key: Str = None
    html_url: Str = None

    @property
    def headline(self) -> str:
        return self.title or self.summary or self.description or ""

    @property
    def assignees(self) -> list[Ref]:
        return [a.assignee for a in self.assignments if a.assignee]

    @property
    def acknowledgers(self) -> list[Ref]:
        return [a.acknowledger for a in self.acknowledgements if a.acknowledger]

    @property
    def acknowledged_at(self) -> datetime | None:
        times = [a.at for a in self.acknowledgements if a.at]
        return min(times) if times else None

    @property
    def resolved_time(self) -> datetime | None:
        if self.resolved_at or self.status != "resolved":
            return self.resolved_at
        return self.last_status_change_at

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        ack = self.acknowledged_at
        return ack - self.created_at if ack and self.created_at else None

    @property
    def time_to_resolve(self) -> timedelta | None:
        done = self.resolved_time
        return done - self.created_at if done and self.created_at else None


class LogEntry(PDModel):
    id: Str = None
    type: Str = None
    summary: Str = None
    created_at: Time = None
    channel: Dict = {}
    agent: OptRef = None
    user: OptRef = None
    note: Str = None

    @property
    def kind(self) -> str:
        """'notify_log_entry' -> 'notify'."""
        return (self.type or "unknown").removesuffix("_reference").removesuffix("_log_entry")

    @property
    def channel_type(self) -> str | None:
        return _as_str(self.channel.get("type"))

    @property
    def notification_type(self) -> str | None:
        """'sms_notification' -> 'sms' for notify entries."""
        kind = _as_str(_as_dict(self.channel.get("notification")).get("type"))
        return kind.removesuffix("_notification") if kind else None


class Alert(PDModel):
    id: Str = None
    summary: Str = None
    status: Str = None
    severity: Str = None
    created_at: Time = None
    alert_key: Str = None
    suppressed: Bool = None
    service: OptRef = None
    incident: OptRef = None
    body: Dict = {}
    html_url: Str = None

    @property
    def cef_details(self) -> dict[str, Any]:
        return _as_dict(self.body.get("cef_details"))

    @property
    def details(self) -> dict[str, Any]:
        """The event's custom details: body.details, else cef_details.details."""
        return _as_dict(self.body.get("details")) or _as_dict(self.cef_details.get("details"))


class Note(PDModel):
    id: Str = None
    user: OptRef = None
    content: Str = None
    created_at: Time = None


Slot = tuple[str | None, int | None, str | None]


def _slot(policy: Ref | None, level: int | None, schedule: Ref | None) -> Slot:
    """(policy id, level, schedule id): where a shift sits in the escalation policies."""
    return (policy.id if policy else None, level, schedule.id if schedule else None)


class OnCall(PDModel):
    escalation_policy: OptRef = None
    escalation_level: Int = None
    user: OptRef = None
    schedule: OptRef = None
    start: Time = None
    end: Time = None

    @property
    def slot(self) -> Slot:
        return _slot(self.escalation_policy, self.escalation_level, self.schedule)

    def hands_over_to(self, other: OnCall) -> bool:
        """``other`` is on call in this shift's slot (policy, level, schedule) when it ends."""
        return (
            self.end is not None
            and other.slot == self.slot
            and other.start is not None
            and other.start <= self.end
            and (other.end is None or other.end > self.end)
        )


class Handover(PDModel):
    """Who takes over a scheduled shift when it ends (``at``), in the same slot (escalation
    policy, level and schedule); ``user`` None: nobody (the schedule has a gap then)."""

    escalation_policy: Ref | None = None
    escalation_level: int | None = None
    schedule: Ref | None = None
    at: datetime
    user: Ref | None = None

    @property
    def slot(self) -> Slot:
        return _slot(self.escalation_policy, self.escalation_level, self.schedule)


class ContactMethod(PDModel):
    """One way to reach a user; ``label`` and ``address`` are written by the user."""

    id: Str = None
    type: Str = None
    label: Str = None
    address: Str = None
    country_code: Int = None

    @property
    def kind(self) -> str:
        """'email', 'phone', 'sms', 'push_notification', 'whatsapp' (from ``type``)."""
        return (self.type or "?").removesuffix("_contact_method")


class UserContacts(PDModel):
    """An on-call user's contact methods, or why they could not be read."""

    user: Ref
    methods: list[ContactMethod] = []
    error: str | None = None


class EscalationRule(PDModel):
    id: Str = None
    escalation_delay_in_minutes: Int = None
    targets: Refs = []


class EscalationPolicy(Ref):
    description: Str = None
    num_loops: Int = None
    escalation_rules: Annotated[list[EscalationRule], BeforeValidator(_as_dict_list)] = []
    services: Refs = []
    teams: Refs = []


class Service(Ref):
    description: Str = None
    status: Str = None
    escalation_policy: Annotated[EscalationPolicy | None, BeforeValidator(_as_ref)] = None
    teams: Refs = []
    last_incident_timestamp: Time = None


class Schedule(Ref):
    description: Str = None
    time_zone: Str = None
    teams: Refs = []
    escalation_policies: Refs = []


class Link(PDModel):
    href: Str = None
    text: Str = None


class ChangeEvent(PDModel):
    id: Str = None
    summary: Str = None
    timestamp: Time = None
    source: Str = None
    services: Refs = []
    links: Annotated[list[Link], BeforeValidator(_as_dict_list)] = []
    custom_details: Dict = {}


# -- tool results (the artifacts of the tools' ToolMessages) ---------------------------------


class TimeWindow(PDModel):
    """A resolved time range: aware UTC datetimes, since < until, and how it was asked for."""

    since: datetime
    until: datetime
    label: str


class IncidentList(PDModel):
    items: list[Incident]
    total: int | None = None
    window: TimeWindow | None = None
    filters: dict[str, str] = {}
    at: Time = None  # when listed: the text gives ages to it (None: creation times)


class IncidentTimeline(PDModel):
    incident: Incident
    entries: list[LogEntry]
    notes: list[Note]
    entries_capped_at: int | None = None  # set when more log entries exist than were read


class IncidentAlerts(PDModel):
    incident: Incident
    alerts: list[Alert]
    total: int | None = None


class OnCallReport(PDModel):
    target: str
    at: datetime | None = None
    escalation_policies: list[Ref]
    oncalls: list[OnCall]
    total: int | None = None
    handovers: list[Handover] = []
    contacts: list[UserContacts] | None = None  # None: not asked for
    contacts_left_out: int = 0  # on-call users whose contact methods were not fetched

    def handover(self, oncall: OnCall) -> Handover | None:
        """The handover at the end of ``oncall``'s shift, if known."""
        return next(
            (h for h in self.handovers if h.at == oncall.end and h.slot == oncall.slot), None
        )


class ServiceStatus(PDModel):
    service: Service
    oncalls: list[OnCall]
    open_incidents: list[Incident]
    open_total: int | None = None
    last_incident: Incident | None = None
    at: Time = None  # when asked: the text gives incidents' ages to it (None: creation times)


class ServicesOverview(PDModel):
    """Every service that is not ``active``, with its open incidents."""

    services: list[Service]
    services_total: int
    open_incidents: list[Incident]
    scope: str | None = None  # the team scope the services were listed in, if any


class ChangeList(PDModel):
    scope: str
    service: Ref | None = None
    window: TimeWindow
    changes: list[ChangeEvent]
    total: int | None = None
    incident: Incident | None = None
    related: list[ChangeEvent] = []
    related_note: str | None = None
