"""The sandbox's one write (incident notes, by the write key) and its webhooks."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from agents.responder.webhooks import signature_ok
from pd_toolkit.sandbox import Sandbox

pytestmark = pytest.mark.sandbox


def _post_note(sb: Sandbox, incident: str, key: str, sender: str | None, content: Any = "Hi"):
    headers = {"Authorization": f"Token token={key}"}
    if sender:
        headers["From"] = sender
    return requests.post(
        f"{sb.base_url}/incidents/{incident}/notes",
        json={"note": {"content": content}},
        headers=headers,
        timeout=10,
    )


def test_notes_need_the_write_key_and_a_from_header(fresh_sandbox: Sandbox) -> None:
    sb = fresh_sandbox
    incident = sb.trigger_incident("ledger", "ledger_recon_failed")["id"]
    alice = "alice.nguyen@example.com"
    assert _post_note(sb, incident, sb.api_key, alice).status_code == 403
    assert _post_note(sb, incident, sb.user_api_key, alice).status_code == 403
    assert _post_note(sb, incident, sb.write_api_key, None).status_code == 400
    assert _post_note(sb, incident, sb.write_api_key, "nobody@example.com").status_code == 400
    assert _post_note(sb, incident, sb.write_api_key, alice, "x" * 25_001).status_code == 400
    assert _post_note(sb, "QNOSUCH", sb.write_api_key, alice).status_code == 404
    created = _post_note(sb, incident, sb.write_api_key, alice, "Rolled back.")
    assert created.status_code == 200
    assert created.json()["note"]["user"]["summary"] == "Alice Nguyen"
    notes = requests.get(
        f"{sb.base_url}/incidents/{incident}/notes",
        headers={"Authorization": f"Token token={sb.api_key}"},
        timeout=10,
    ).json()["notes"]
    assert [n["content"] for n in notes] == ["Rolled back."]
    sb.account.notes[incident] = notes * 2000  # the cap PagerDuty documents
    assert _post_note(sb, incident, sb.write_api_key, alice).status_code == 400


def test_triggered_incidents_are_delivered_as_signed_webhooks(fresh_sandbox: Sandbox) -> None:
    received: list[tuple[bytes, str]] = []

    def app(environ: dict, start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        received.append((body, environ.get("HTTP_X_PAGERDUTY_SIGNATURE", "")))
        start_response("202 Accepted", [("Content-Type", "text/plain")])
        return [b""]

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sb = fresh_sandbox
        sb.webhook_url = f"http://127.0.0.1:{server.server_port}/hook"
        sb.webhook_secrets = ["old", "new"]
        answer = requests.post(
            f"{sb.base_url}/_sandbox/trigger",
            json={"service": "ledger", "mode": "ledger_recon_failed"},
            headers={"Authorization": f"Token token={sb.api_key}"},
            timeout=30,
        ).json()
        assert answer["webhook_status"] == 202
        ((body, header),) = received
        event = json.loads(body)["event"]
        assert event["event_type"] == "incident.triggered"
        assert event["data"]["id"] == answer["incident"]["id"]
        assert event["data"]["service"]["summary"] == "ledger"
        assert header.count("v1=") == 2
        assert signature_ok(body, header, ["new"]) and not signature_ok(body, header, ["x"])
        refused = requests.post(f"{sb.base_url}/_sandbox/trigger", json={}, timeout=10)
        assert refused.status_code == 401
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(ValueError, match="webhook_secret"):
        Sandbox(webhook_url="http://127.0.0.1:1/hook")
