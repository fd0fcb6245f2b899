"""Helpers for the responder tests: signed webhooks, a responder on a sandbox, waiting."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests

from agents.responder import ResponderSettings, RunningResponder, running_responder
from pd_toolkit import PagerDutyClient
from pd_toolkit.sandbox import Sandbox
from pd_toolkit.sandbox.webhooks import signature, webhook_event

SECRET = "whsec-test-7d1c0b5e9a"
TOKEN = "approve-token-2f8e4a61c9"
FROM_EMAIL = "alice.nguyen@example.com"


def signed_post(
    url: str, envelope: dict[str, Any], secrets: list[str] | None = None
) -> requests.Response:
    """POST a webhook envelope signed with ``secrets`` (default: the test secret)."""
    body = json.dumps(envelope).encode()
    headers = {
        "Content-Type": "application/json",
        "X-PagerDuty-Signature": signature(body, secrets or [SECRET]),
    }
    return requests.post(f"{url}/webhooks/pagerduty", data=body, headers=headers, timeout=30)


def triggered(sb: Sandbox, service: str = "payments-api", mode: str = "psp_timeouts") -> dict:
    """A new incident on the sandbox and its incident.triggered envelope."""
    incident = sb.trigger_incident(service, mode)
    return webhook_event("incident.triggered", incident, sb.now)


@contextmanager
def responder_on(
    sb: Sandbox, *, key: str | None = None, **overrides: Any
) -> Iterator[RunningResponder]:
    """A responder on ``sb`` (the write key unless ``key``), memory state unless overridden."""
    client = PagerDutyClient(api_key=key or sb.write_api_key, base_url=sb.base_url)
    settings = ResponderSettings(
        port=0,
        webhook_secrets=[SECRET],
        approval_token=TOKEN,
        allow_notes=True,
        from_email=FROM_EMAIL,
        workers=2,
    ).model_copy(update=overrides)
    with running_responder(client, settings) as running:
        yield running
    client.close()


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def investigations(url: str) -> dict[str, dict[str, Any]]:
    """GET /investigations by incident id."""
    return {i["incident_id"]: i for i in requests.get(f"{url}/investigations", timeout=10).json()}


def status_of(url: str, incident_id: str) -> str | None:
    return investigations(url).get(incident_id, {}).get("status")


def decide(url: str, incident_id: str, decision: str, body: Any = None, token: str = TOKEN):
    """POST approve/reject with the Bearer token."""
    return requests.post(
        f"{url}/investigations/{incident_id}/{decision}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def notes_of(sb: Sandbox, incident_id: str) -> list[dict[str, Any]]:
    """The incident's notes as the sandbox serves them (read with the read-only key)."""
    response = requests.get(
        f"{sb.base_url}/incidents/{incident_id}/notes",
        headers={"Authorization": f"Token token={sb.api_key}"},
        timeout=10,
    )
    return response.json()["notes"]


def posts(sb: Sandbox) -> list[Any]:
    """Every non-GET request the sandbox received."""
    return [r for r in sb.request_log if r.method not in ("GET", "HEAD")]
