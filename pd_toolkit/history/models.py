"""Pydantic models of similar-incident search: the compact incident view and the result."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pd_toolkit.history.normalize import normalize_title


def _ref_field(ref: Any, field: str) -> str | None:
    """``ref[field]`` of an API reference object, tolerating null and odd shapes."""
    return str(ref[field]) if isinstance(ref, dict) and ref.get(field) is not None else None


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

    @classmethod
    def from_api(cls, incident: dict[str, Any]) -> IncidentRecord:
        """Build from an incident object of GET /incidents or GET /incidents/{id}."""
        status = str(incident.get("status") or "unknown")
        resolved = status == "resolved"
        resolved_at = incident.get("resolved_at") or (
            incident.get("last_status_change_at") if resolved else None
        )
        title = str(incident.get("title") or incident.get("summary") or "")
        changer = incident.get("last_status_change_by")  # a user, or a service on auto-resolve
        return cls(
            id=str(incident["id"]),
            number=incident.get("incident_number"),
            title=title,
            normalized=normalize_title(title),
            service_id=_ref_field(incident.get("service"), "id"),
            service_name=_ref_field(incident.get("service"), "summary"),
            created_at=incident["created_at"],
            status=status,
            resolved_at=resolved_at,
            resolved_by=_ref_field(changer, "summary")
            if resolved and _ref_field(changer, "type") in (None, "user", "user_reference")
            else None,
            html_url=incident.get("html_url"),
        )

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
    """One ranked match, with the reasons it matched."""

    number: int | None
    id: str
    title: str
    service_id: str | None
    service_name: str | None
    created_at: datetime
    status: str
    time_to_resolve_seconds: float | None
    html_url: str | None = None
    score: float = Field(description="similarity plus same-service, recency and PagerDuty bonuses")
    similarity: float = Field(description="text (and semantic) similarity of the titles, 0..1")
    pagerduty_score: float | None = Field(
        default=None, description="PagerDuty's past_incidents score, when the plan has it"
    )
    shared_terms: list[str] = []
    same_service: bool = False
    resolution: Resolution | None = None


class ResolverCount(BaseModel):
    name: str
    count: int


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
    pattern: Pattern
    notices: list[str] = []
    requests_used: int = 0
    from_cache: bool = False
