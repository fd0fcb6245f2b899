"""Pydantic models of similar-incident search: the compact incident view and the result."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from pd_toolkit.history.normalize import normalize_details, normalize_title
from pd_toolkit.models import Incident

DETAIL_VALUE_CAP = 500
DETAIL_FIELDS_CAP = 40
# Channel fields that identify the check of a Nagios trigger and the sender of an email one.
NAGIOS_FIELDS = ("host", "service", "state")
_EMAIL_LINE = re.compile(r"^\s*([\w.-]{1,60})\s*[:=]\s*(.+?)\s*$")


def _ref_field(ref: Any, field: str) -> str | None:
    """``ref[field]`` of an API reference object, tolerating null and odd shapes."""
    return str(ref[field]) if isinstance(ref, dict) and ref.get(field) is not None else None


def _text(value: Any) -> str | None:
    """A non-empty string of a scalar, else None."""
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def flatten_details(details: Any, prefix: str = "") -> dict[str, str]:
    """Custom details as flat ``{"a.b": "text"}`` (nested objects dotted, lists joined, values
    capped, at most DETAIL_FIELDS_CAP fields); a bare string becomes ``{"details": ...}``."""
    flat: dict[str, str] = {}

    def visit(value: Any, key: str) -> None:
        if len(flat) >= DETAIL_FIELDS_CAP:
            return
        if isinstance(value, dict):
            for inner, item in value.items():
                visit(item, f"{key}.{inner}" if key else str(inner))
        elif isinstance(value, list):
            joined = ", ".join(t for t in map(_text, value) if t)
            if joined:
                flat[key or "details"] = joined[:DETAIL_VALUE_CAP]
        elif (text := _text(value)) is not None:
            flat[key or "details"] = text[:DETAIL_VALUE_CAP]

    visit(details, prefix)
    return flat


def _email_details(body: Any) -> dict[str, str]:
    """An email body's ``key: value`` lines as details, else the body itself."""
    text = _text(body)
    if text is None:
        return {}
    lines = [m for line in text.splitlines() if (m := _EMAIL_LINE.match(line))]
    if lines:
        return flatten_details({m.group(1): m.group(2) for m in lines})
    return {"body": text[:DETAIL_VALUE_CAP]}


class Trigger(BaseModel):
    """What an incident's first trigger said: its channel's summary, custom details and dedup
    key (Nagios: host, service, state; email: the body's ``key: value`` lines). Untrusted."""

    model_config = ConfigDict(frozen=True)

    channel: str | None = Field(default=None, description="'api', 'nagios', 'email', ...")
    summary: str | None = None
    incident_key: str | None = None
    details: dict[str, str] = Field(default={}, description="flattened custom details")

    @classmethod
    def from_log_entry(cls, entry: Any) -> Trigger | None:
        """From a trigger log entry (``first_trigger_log_entry`` with
        ``include[]=first_trigger_log_entries``); None for a bare reference or odd shapes."""
        channel = entry.get("channel") if isinstance(entry, dict) else None
        if not isinstance(channel, dict):
            return None
        kind = _text(channel.get("type"))
        details = channel.get("details")
        if details is None and isinstance(channel.get("cef_details"), dict):
            details = channel["cef_details"].get("details")
        flat = flatten_details(details) if details is not None else {}
        if kind == "nagios":
            flat = {f: t for f in NAGIOS_FIELDS if (t := _text(channel.get(f)))} | flat
        elif kind == "email":
            flat = _email_details(channel.get("body")) | flat
        summary = _text(channel.get("summary")) or _text(channel.get("subject"))
        trigger = cls(
            channel=kind,
            summary=summary[:DETAIL_VALUE_CAP] if summary else None,
            incident_key=_text(channel.get("incident_key")),
            details=dict(list(flat.items())[:DETAIL_FIELDS_CAP]),
        )
        return trigger if trigger.details or trigger.summary or trigger.incident_key else None


class IncidentRecord(BaseModel):
    """The fields of one incident that ranking and the pattern need (parsed leniently)."""

    model_config = ConfigDict(frozen=True)

    id: str
    number: int | None = None
    title: str = ""
    normalized: str = ""
    service_id: str | None = None
    service_name: str | None = None
    created_at: datetime
    status: str = "unknown"
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    html_url: str | None = None
    incident_key: str | None = Field(default=None, description="the dedup key of its alert")
    trigger: Trigger | None = Field(
        default=None, description="its first trigger, when the API embedded it"
    )
    normalized_details: str = Field(
        default="", description="the trigger's details normalised like titles, for ranking"
    )

    @classmethod
    def from_incident(
        cls,
        incident: Incident,
        *,
        trigger: Trigger | None = None,
        resolved_by: str | None = None,
    ) -> IncidentRecord:
        """Build from the typed incident; its first ``trigger`` and who resolved it are not
        in :class:`Incident`, so they come apart (both None when unknown)."""
        title = incident.title or incident.summary or ""
        service = incident.service
        return cls(
            id=incident.id,  # type: ignore[arg-type]  # None fails validation, as it should
            number=incident.incident_number,
            title=title,
            normalized=normalize_title(title),
            service_id=service.id if service else None,
            service_name=service.summary if service else None,
            created_at=incident.created_at,  # type: ignore[arg-type]  # ditto
            status=incident.status or "unknown",
            resolved_at=incident.resolved_time,
            resolved_by=resolved_by if incident.status == "resolved" else None,
            html_url=incident.html_url,
            incident_key=_text(incident.incident_key)
            or (trigger.incident_key if trigger else None),
            trigger=trigger,
            normalized_details=normalize_details(trigger.details) if trigger else "",
        )

    @classmethod
    def from_api(cls, incident: dict[str, Any]) -> IncidentRecord:
        """Build from an incident object of GET /incidents or GET /incidents/{id}; with
        ``include[]=first_trigger_log_entries`` its trigger is parsed too (else None)."""
        changer = incident.get("last_status_change_by")  # a user, or a service on auto-resolve
        return cls.from_incident(
            Incident.model_validate(incident),
            trigger=Trigger.from_log_entry(incident.get("first_trigger_log_entry")),
            resolved_by=_ref_field(changer, "summary")
            if _ref_field(changer, "type") in (None, "user", "user_reference")
            else None,
        )

    def stored(self) -> dict[str, Any]:
        """The record as JSON-ready data, for :meth:`from_stored`."""
        return self.model_dump(mode="json", exclude={"time_to_resolve_seconds"})

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> IncidentRecord:
        """Rebuild a record from :meth:`stored` data without validating it again: history
        keeps it in its own store, validated when written, under a format version that any
        change of the record or its parsing bumps (see ``history.fetch``)."""
        trigger, resolved = data.get("trigger"), data.get("resolved_at")
        return cls.model_construct(
            **{
                **data,
                "created_at": datetime.fromisoformat(data["created_at"]),
                "resolved_at": datetime.fromisoformat(resolved) if resolved else None,
                "trigger": Trigger.model_construct(**trigger) if trigger else None,
            }
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def time_to_resolve_seconds(self) -> float | None:
        if self.resolved_at is None:
            return None
        return max(0.0, (self.resolved_at - self.created_at).total_seconds())


class Resolution(BaseModel):
    """How an incident was resolved: its last note, or its resolve log entry."""

    source: Literal["note", "log_entry"]
    summary: str
    by: str | None = None
    at: datetime | None = None


class SimilarIncident(BaseModel):
    """One ranked match: the incident, how well and why it matched, and how it was resolved."""

    incident: IncidentRecord
    score: float = Field(description="similarity plus same-service, recency and PagerDuty bonuses")
    similarity: float = Field(
        description="similarity of the titles (and semantic), blended with the trigger details'"
        " where both carry details, 0..1"
    )
    detail_similarity: float | None = Field(
        default=None, description="similarity of the trigger details alone, when both have them"
    )
    pagerduty_score: float | None = Field(
        default=None, description="PagerDuty's past_incidents score, when the plan has it"
    )
    shared_terms: list[str] = []
    same_service: bool = False
    weak: bool = Field(
        default=False,
        description="below the pattern threshold: possibly related only, not counted in the"
        " pattern, and its fix neither looked up nor offered",
    )
    resolution: Resolution | None = None


class FixGroup(BaseModel):
    """One way earlier matches were fixed: their resolutions that read alike."""

    summary: str = Field(description="the newest resolution text of the group")
    incident_ids: list[str]
    numbers: list[int | None]
    matches_trigger: bool = Field(
        description="the details of one of its incidents match the current trigger's"
    )
    detail_similarity: float | None = Field(
        default=None, description="the best trigger-details similarity among its incidents"
    )


class ResolverCount(BaseModel):
    name: str
    count: int


class SignalCounts(BaseModel):
    """Of the incidents a pattern counts, how many matched the query on each signal: why they
    were grouped with it."""

    title: int = Field(description="titles alike (title similarity >= 0.5)")
    details: int = Field(description="trigger details alike (details similarity >= 0.5)")
    service: int = Field(description="on the query's service")
    incident_key: int = Field(description="the query's incident_key: the same alert")


class Pattern(BaseModel):
    """What the similar incidents have in common over the window."""

    count: int = Field(
        description="similar incidents in the window (at or above the pattern threshold)"
    )
    window_days: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    median_time_to_resolve_seconds: float | None = None
    resolvers: list[ResolverCount] = Field(
        default=[], description="who resolved them, most frequent first"
    )
    busiest_weekday: str | None = Field(default=None, description="e.g. 'Monday', if concentrated")
    busiest_hours_utc: str | None = Field(default=None, description="e.g. '02:00-04:00', ditto")
    recurrence: str | None = Field(
        default=None, description="e.g. '9 times in 90 days, mostly Mondays 02:00-04:00 UTC'"
    )
    signals: SignalCounts | None = Field(
        default=None, description="how many of them matched on each signal"
    )


class HistoryQuery(BaseModel):
    """What was searched for, and where."""

    kind: Literal["incident", "text"]
    text: str
    normalized: str
    incident_id: str | None = None
    incident_number: int | None = None
    service_id: str | None = None
    scope: str = Field(description="'service PXXXX', 'teams ...', or 'all services'")
    since: datetime
    until: datetime


class SimilarIncidents(BaseModel):
    """The result of :func:`find_similar_incidents`."""

    query: HistoryQuery
    candidates: int = Field(description="incidents in the window that were ranked")
    matches: list[SimilarIncident]
    recent: list[SimilarIncident] = Field(
        default=[],
        description="the most recent earlier occurrences (counted in the pattern), newest first,"
        " however they were worded",
    )
    fixes: list[FixGroup] = Field(
        default=[],
        description="how the shown strong matches (not weak) were fixed, grouped; the fix whose"
        " incidents' details match the current trigger first; empty when no similar incident"
        " was found",
    )
    pattern: Pattern
    notices: list[str] = []
    requests_used: int = 0
    from_cache: bool = False
