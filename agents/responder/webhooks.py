"""PagerDuty v3 webhooks: signature verification over the raw body, the envelope, the filter.

PagerDuty signs the raw request body with HMAC-SHA256 keyed by the subscription's secret and
sends ``X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]`` (several while a secret rotates).
A request is genuine when any ``v1=`` signature matches any configured secret, compared in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def signature_ok(body: bytes, header: str | None, secrets: list[str]) -> bool:
    """True when a ``v1=`` signature in ``header`` is the HMAC-SHA256 of ``body`` under one of
    ``secrets`` (every pair is compared, in constant time)."""
    if not header or not secrets:
        return False
    offered = [
        part.strip()[3:] for part in header.split(",") if part.strip().lower().startswith("v1=")
    ]
    expected = [hmac.new(s.encode(), body, hashlib.sha256).hexdigest() for s in secrets]
    matched = False
    for candidate in offered:
        for digest in expected:
            matched |= hmac.compare_digest(candidate.lower().encode(), digest.encode())
    return matched


class Reference(BaseModel):
    """A PagerDuty reference (service, team) as webhooks carry it."""

    model_config = ConfigDict(extra="allow")

    id: str
    summary: str | None = None


class IncidentData(BaseModel):
    """The incident in a v3 webhook's ``data`` (only what the responder uses)."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(pattern=r"^[A-Za-z0-9]{1,32}$")
    number: int | None = None
    title: str | None = None
    service: Reference | None = None
    teams: list[Reference] = []


class Event(BaseModel):
    """A v3 webhook event."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(pattern=r"^[A-Za-z0-9._:-]{1,100}$")  # safe to log as it is
    event_type: str
    resource_type: str
    occurred_at: str | None = None
    data: dict[str, Any]


class Envelope(BaseModel):
    """``{"event": {...}}``, as PagerDuty POSTs it."""

    model_config = ConfigDict(extra="allow")

    event: Event


class EventFilter(BaseModel):
    """Which events start an investigation: their types, and optionally only some services or
    teams (names or ids, case-insensitive)."""

    event_types: frozenset[str] = frozenset({"incident.triggered"})
    services: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()

    def why_not(self, event: Event) -> str | None:
        """None when ``event`` should be investigated, else the reason it is ignored."""
        if event.resource_type != "incident" or event.event_type not in self.event_types:
            return f"event type {event.event_type} is not investigated"
        incident = IncidentData.model_validate(event.data)
        if self.services and not _named(incident.service, self.services):
            return "the incident's service is outside the configured services"
        if self.teams and not any(_named(team, self.teams) for team in incident.teams):
            return "the incident's teams are outside the configured team scope"
        return None


def _named(reference: Reference | None, names: frozenset[str]) -> bool:
    if reference is None:
        return False
    wanted = {name.strip().lower() for name in names}
    return reference.id.lower() in wanted or (reference.summary or "").lower() in wanted
