"""Compact incidents: the fields history needs, in PagerDuty's API shape, nothing else.

An incident of GET /incidents is ~2.4 kB; the store keeps ~0.9 kB of it: the fields
``IncidentRecord.from_api`` and the brief read, references cut to id/type/summary/html_url, and
the first trigger log entry's channel (summary, details, incident_key, nagios and email
fields). Long free text is capped, so one huge alert body cannot bloat the store.
"""

from __future__ import annotations

from typing import Any

INCIDENT_FIELDS = (
    "id",
    "incident_number",
    "title",
    "summary",
    "status",
    "urgency",
    "created_at",
    "resolved_at",
    "last_status_change_at",
    "html_url",
    "incident_key",
)
REFERENCE_FIELDS = ("service", "escalation_policy", "last_status_change_by", "priority")
REFERENCE_KEYS = ("id", "type", "summary", "html_url")
TRIGGER_FIELDS = ("id", "type", "summary", "created_at")
CHANNEL_FIELDS = (
    "type",
    "summary",
    "details",
    "incident_key",
    "description",
    "client",
    "client_url",
    # Nagios
    "host",
    "service",
    "state",
    "service_notes",
    # email
    "subject",
    "from",
    "to",
    "body",
)
TEXT_CAP = 2_000
DETAILS_CAP = 4_000
MAX_KEYS = 50


def _reference(ref: Any) -> dict[str, Any] | None:
    if not isinstance(ref, dict):
        return None
    return {key: ref[key] for key in REFERENCE_KEYS if ref.get(key) is not None}


def _capped(value: Any, cap: int, depth: int = 0) -> Any:
    """``value`` with strings cut to ``cap`` and containers bounded (JSON-ready)."""
    if isinstance(value, str):
        return value[:cap]
    if isinstance(value, dict):
        if depth > 4:
            return None
        items = list(value.items())[:MAX_KEYS]
        return {str(k)[:200]: _capped(v, cap, depth + 1) for k, v in items}
    if isinstance(value, list):
        return [_capped(v, cap, depth + 1) for v in value[:MAX_KEYS]] if depth <= 4 else None
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)[:cap]


def _trigger(entry: Any) -> dict[str, Any] | None:
    if not isinstance(entry, dict):
        return None
    out = {key: _capped(entry[key], TEXT_CAP) for key in TRIGGER_FIELDS if key in entry}
    channel = entry.get("channel")
    if isinstance(channel, dict):
        out["channel"] = {
            key: _capped(channel[key], DETAILS_CAP if key in ("details", "body") else TEXT_CAP)
            for key in CHANNEL_FIELDS
            if channel.get(key) is not None
        }
    return out


def compact_incident(incident: dict[str, Any]) -> dict[str, Any]:
    """The stored form of an API incident (a subset of its keys, same shape)."""
    out: dict[str, Any] = {
        key: _capped(incident[key], TEXT_CAP)
        for key in INCIDENT_FIELDS
        if incident.get(key) is not None
    }
    for key in REFERENCE_FIELDS:
        ref = _reference(incident.get(key))
        if ref is not None:
            out[key] = ref
    out["teams"] = [
        ref for team in incident.get("teams") or [] if (ref := _reference(team)) is not None
    ]
    trigger = _trigger(incident.get("first_trigger_log_entry"))
    if trigger is not None:
        out["first_trigger_log_entry"] = trigger
    return out
