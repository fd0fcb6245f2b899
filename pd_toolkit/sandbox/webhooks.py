"""PagerDuty v3 webhooks as the sandbox sends them: the envelope, its signature, delivery.

PagerDuty POSTs ``{"event": {"id", "event_type", "resource_type", "occurred_at", "agent",
"client", "data"}}`` and signs the raw body: ``X-PagerDuty-Signature: v1=<hex HMAC-SHA256>``
keyed with the subscription's secret (several comma-separated ``v1=`` while a secret rotates).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime
from typing import Any

import requests

from .generate import Json, iso


def signature(body: bytes, secrets: list[str]) -> str:
    """The ``X-PagerDuty-Signature`` value of ``body``: one ``v1=`` per secret."""
    return ",".join(
        "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest() for secret in secrets
    )


def _incident_data(incident: Json) -> Json:
    """The incident as a v3 webhook's ``data`` carries it (references, not full objects)."""
    return {
        "id": incident["id"],
        "type": "incident",
        "self": incident["self"],
        "html_url": incident["html_url"],
        "number": incident["incident_number"],
        "status": incident["status"],
        "incident_key": incident["incident_key"],
        "created_at": incident["created_at"],
        "title": incident["title"],
        "service": incident["service"],
        "assignees": [a["assignee"] for a in incident.get("assignments") or []],
        "escalation_policy": incident["escalation_policy"],
        "teams": incident["teams"],
        "priority": incident.get("priority"),
        "urgency": incident["urgency"],
        "conference_bridge": None,
        "resolve_reason": None,
    }


def webhook_event(event_type: str, incident: Json, at: datetime) -> Json:
    """A v3 webhook envelope for an incident event (a fresh event id each call)."""
    return {
        "event": {
            "id": f"01{uuid.uuid4().hex[:24].upper()}",
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": iso(at),
            "agent": None,
            "client": None,
            "data": _incident_data(incident),
        }
    }


def deliver(url: str, envelope: Json, secrets: list[str], timeout: float = 10.0) -> int:
    """POST the signed envelope to ``url``; the HTTP status (0 when unreachable)."""
    body = json.dumps(envelope, separators=(",", ":")).encode()
    headers: dict[str, Any] = {
        "Content-Type": "application/json",
        "User-Agent": "PagerDuty-Webhook/V3.0",
        "X-PagerDuty-Signature": signature(body, secrets),
        "X-Webhook-Id": envelope["event"]["id"],
        "X-Webhook-Subscription": "PSANDBOXWEBHOOK",
    }
    try:
        return requests.post(url, data=body, headers=headers, timeout=timeout).status_code
    except requests.RequestException:
        return 0
