"""Helpers for the responder tests: signed webhooks, a responder on a sandbox, waiting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from langchain_core.language_models import BaseChatModel

from agents.responder import ResponderSettings, RunningResponder, running_responder
from pd_toolkit import PagerDutyClient
from pd_toolkit.sandbox import Sandbox
from pd_toolkit.sandbox.webhooks import signature, webhook_event

ROOT = Path(__file__).resolve().parents[1]
SECRET = "whsec-test-7d1c0b5e9a"
OLD_SECRET = "whsec-rotated-out-0c4f1e"  # a rotation's previous secret
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
        "Connection": "close",  # the caller may keep the answer: it must not hold a connection
    }
    return requests.post(f"{url}/webhooks/pagerduty", data=body, headers=headers, timeout=30)


def triggered(sb: Sandbox, service: str = "payments-api", mode: str = "psp_timeouts") -> dict:
    """A new incident on the sandbox and its incident.triggered envelope."""
    incident = sb.trigger_incident(service, mode)
    return webhook_event("incident.triggered", incident, sb.now)


@contextmanager
def responder_on(
    sb: Sandbox, *, key: str | None = None, model: BaseChatModel | None = None, **overrides: Any
) -> Iterator[RunningResponder]:
    """A responder on ``sb`` (the write key unless ``key``; ``model`` for the assessment),
    memory state unless overridden."""
    client = PagerDutyClient(api_key=key or sb.write_api_key, base_url=sb.base_url)
    defaults: dict[str, Any] = {
        "port": 0,
        "webhook_secrets": [SECRET],
        "approval_token": TOKEN,
        "allow_notes": True,
        "from_email": FROM_EMAIL,
        "workers": 2,
        "name": "test",
    }
    settings = ResponderSettings(**(defaults | overrides))
    with running_responder(client, settings, model) as running:
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


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def investigations(url: str, token: str = TOKEN) -> dict[str, dict[str, Any]]:
    """GET /investigations (with the approval token) by incident id."""
    listed = requests.get(f"{url}/investigations", headers=bearer(token), timeout=10)
    assert listed.status_code == 200, listed.text
    return {i["incident_id"]: i for i in listed.json()}


def status_of(url: str, incident_id: str) -> str | None:
    return investigations(url).get(incident_id, {}).get("status")


def decide(url: str, incident_id: str, decision: str, body: Any = None, token: str = TOKEN):
    """POST approve/reject with the Bearer token."""
    return requests.post(
        f"{url}/investigations/{incident_id}/{decision}",
        json=body,
        headers=bearer(token),
        timeout=60,
    )


def ready_brief(sb: Sandbox, url: str) -> str:
    """Trigger an incident, deliver its webhook and wait for its brief; the incident id."""
    envelope = triggered(sb)
    incident_id = envelope["event"]["data"]["id"]
    assert signed_post(url, envelope).status_code == 202
    wait_for(lambda: status_of(url, incident_id) == "awaiting_approval", what="brief")
    return incident_id


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


@contextmanager
def responder_process(
    sb: Sandbox, state: str, port: int, log: Path, *extra: str, name: str = "test"
) -> Iterator[str]:
    """``python -m agents.responder`` as its own process on ``sb`` (the write key, notes on);
    its URL once it answers. Killed with SIGKILL on exit if still running."""
    env = {
        **os.environ,
        "PAGERDUTY_API_KEY": sb.write_api_key,
        "PAGERDUTY_API_HOST": sb.base_url,
        "PAGERDUTY_WEBHOOK_SECRET": f"{OLD_SECRET},{SECRET}",
        "PD_TOOLKIT_APPROVAL_TOKEN": TOKEN,
        "PAGERDUTY_FROM_EMAIL": FROM_EMAIL,
    }
    args = ["--port", str(port), "--state", state, "--allow-notes", "--name", name, *extra]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "agents.responder", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=1).ok
        except requests.ConnectionError:
            assert process.poll() is None, log.read_text()
            return False

    try:
        wait_for(healthy, timeout=90, what="the responder process")
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
