"""The responder: signed webhooks in, bounded durable investigations, approval, one note."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from responder_helpers import (
    FROM_EMAIL,
    SECRET,
    TOKEN,
    decide,
    investigations,
    notes_of,
    posts,
    ready_brief,
    responder_on,
    signed_post,
    status_of,
    triggered,
    wait_for,
)

from agents.responder.app import MAX_BODY
from agents.responder.decide import main as decide_main
from agents.responder.notes import NOTE_LIMIT, IncidentNoteWriter, fit_note, note_marker
from agents.responder.webhooks import signature_ok
from pd_toolkit import PagerDutyClient
from pd_toolkit.errors import PagerDutyForbiddenError, PagerDutyReadOnlyError
from pd_toolkit.sandbox import Fault, Sandbox
from pd_toolkit.sandbox.webhooks import signature

pytestmark = pytest.mark.sandbox


# -- signatures ------------------------------------------------------------------------------


def test_signature_checks() -> None:
    body = b'{"event": {"id": "1"}}'
    assert signature_ok(body, signature(body, ["new"]), ["new"])
    assert not signature_ok(body, signature(body, ["other"]), ["new"])
    assert not signature_ok(body + b" ", signature(body, ["new"]), ["new"])
    assert not signature_ok(body, None, ["new"])
    assert not signature_ok(body, "", ["new"])
    assert not signature_ok(body, "sha256=" + signature(body, ["new"])[3:], ["new"])
    # Rotation: PagerDuty sends one v1= per secret; the responder may know either or both.
    rotating = signature(body, ["old", "new"])
    assert rotating.count("v1=") == 2
    assert signature_ok(body, rotating, ["new"])
    assert signature_ok(body, rotating, ["old"])
    assert signature_ok(body, signature(body, ["old"]), ["new", "old"])
    assert not signature_ok(body, rotating, [])


def test_webhook_http_signatures_replay_and_size(fresh_sandbox: Sandbox) -> None:
    with responder_on(fresh_sandbox) as running:
        url = running.url
        envelope = triggered(fresh_sandbox)
        incident_id = envelope["event"]["data"]["id"]
        body = json.dumps(envelope).encode()

        wrong = signed_post(url, envelope, ["not-the-secret"])
        unsigned = requests.post(f"{url}/webhooks/pagerduty", data=body, timeout=10)
        oversized = requests.post(
            f"{url}/webhooks/pagerduty",
            data=b"{" + b" " * MAX_BODY + b"}",
            headers={"X-PagerDuty-Signature": signature(b"x", [SECRET])},
            timeout=10,
        )
        assert (wrong.status_code, unsigned.status_code, oversized.status_code) == (401, 401, 413)
        assert investigations(url) == {}  # nothing ran

        accepted = signed_post(url, envelope, ["old-secret", SECRET])  # two signatures
        assert accepted.status_code == 202
        assert accepted.json()["outcome"] == "queued"
        replay = signed_post(url, envelope)
        assert replay.status_code == 200
        assert replay.json()["outcome"] == "duplicate"
        wait_for(lambda: status_of(url, incident_id) == "awaiting_approval", what="brief")
        assert list(investigations(url)) == [incident_id]
        get_incident = [
            r for r in fresh_sandbox.request_log if r.path == f"/incidents/{incident_id}"
        ]
        assert len(get_incident) == 1  # the replay started nothing

        garbage = b'{"event": {"id": 1}}'
        bad = requests.post(
            f"{url}/webhooks/pagerduty",
            data=garbage,
            headers={"X-PagerDuty-Signature": signature(garbage, [SECRET])},
            timeout=10,
        )
        assert bad.status_code == 400


def test_events_outside_the_filter_are_ignored(fresh_sandbox: Sandbox) -> None:
    from agents.responder.webhooks import EventFilter

    only_ledger = EventFilter(services=frozenset({"ledger"}))
    with responder_on(fresh_sandbox, event_filter=only_ledger) as running:
        acknowledged = triggered(fresh_sandbox)
        acknowledged["event"]["event_type"] = "incident.acknowledged"
        other_service = triggered(fresh_sandbox)
        answers = [signed_post(running.url, e).json() for e in (acknowledged, other_service)]
        assert [a["outcome"] for a in answers] == ["ignored", "ignored"]
        ledger = triggered(fresh_sandbox, "ledger", "ledger_recon_failed")
        assert signed_post(running.url, ledger).status_code == 202
        running.responder.wait_idle(60)
        assert list(investigations(running.url)) == [ledger["event"]["data"]["id"]]


# -- bounded work ----------------------------------------------------------------------------


def test_flood_of_200_webhooks_is_bounded_and_loses_nothing_accepted(
    fresh_sandbox: Sandbox,
) -> None:
    envelopes = [triggered(fresh_sandbox) for _ in range(200)]
    with responder_on(fresh_sandbox, workers=2, queue_size=20) as running:
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(lambda e: signed_post(running.url, e), envelopes))
        codes = [a.status_code for a in answers]
        assert set(codes) <= {202, 503}
        accepted = [
            e["event"]["data"]["id"] for e, a in zip(envelopes, answers, strict=True) if a.ok
        ]
        dropped = [
            e["event"]["data"]["id"] for e, a in zip(envelopes, answers, strict=True) if not a.ok
        ]
        assert len(accepted) >= 20  # at least a full queue
        assert dropped, "200 webhooks at once should overflow a queue of 20"
        assert all(a.headers.get("Retry-After") for a in answers if not a.ok)
        assert running.responder.wait_idle(300)
        listed = investigations(running.url)
        assert sorted(listed) == sorted(accepted)  # every accepted one, no dropped one
        assert {i["status"] for i in listed.values()} == {"awaiting_approval"}
        assert all(listed[i]["brief"] for i in accepted)
        assert running.responder.max_running <= 2
        # PagerDuty redelivers a dropped event; now there is room.
        redelivered = next(e for e in envelopes if e["event"]["data"]["id"] == dropped[0])
        assert signed_post(running.url, redelivered).status_code == 202


# -- decisions -------------------------------------------------------------------------------


def test_approve_posts_the_brief_as_one_note(fresh_sandbox: Sandbox) -> None:
    with responder_on(fresh_sandbox) as running:
        incident_id = ready_brief(fresh_sandbox, running.url)
        brief = investigations(running.url)[incident_id]["brief"]
        assert decide(running.url, incident_id, "approve", token="wrong").status_code == 401
        assert (
            requests.post(
                f"{running.url}/investigations/{incident_id}/approve", timeout=10
            ).status_code
            == 401
        )
        answer = decide(running.url, incident_id, "approve")
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "posted"
        notes = notes_of(fresh_sandbox, incident_id)
        assert len(notes) == 1
        assert notes[0]["content"].startswith(brief.strip()[:200])
        assert notes[0]["user"]["summary"] == "Alice Nguyen"  # the From user
        assert decide(running.url, incident_id, "approve").status_code == 409
        assert len(notes_of(fresh_sandbox, incident_id)) == 1


def test_approve_with_an_edited_text(fresh_sandbox: Sandbox) -> None:
    with responder_on(fresh_sandbox) as running:
        incident_id = ready_brief(fresh_sandbox, running.url)
        edited = "Likely the PSP timeouts again; Alice is on it."
        answer = decide(running.url, incident_id, "approve", {"text": edited})
        assert answer.status_code == 200
        (note,) = notes_of(fresh_sandbox, incident_id)
        assert note["content"].startswith(edited)
        assert "# Incident" not in note["content"]
        assert decide(running.url, incident_id, "approve", {"text": " "}).status_code == 400


def test_reject_posts_nothing(fresh_sandbox: Sandbox) -> None:
    with responder_on(fresh_sandbox) as running:
        incident_id = ready_brief(fresh_sandbox, running.url)
        assert decide(running.url, incident_id, "reject", {"text": "x"}).status_code == 400
        assert decide(running.url, incident_id, "reject", {"reason": " "}).status_code == 400
        answer = decide(running.url, incident_id, "reject")
        assert answer.status_code == 200
        assert answer.json()["status"] == "rejected"
        assert answer.json()["reason"] is None
        assert investigations(running.url)[incident_id]["brief"]
        assert posts(fresh_sandbox) == []
        assert notes_of(fresh_sandbox, incident_id) == []


def test_cli_approve_and_reject(
    fresh_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("PD_TOOLKIT_APPROVAL_TOKEN", TOKEN)
    with responder_on(fresh_sandbox) as running:
        first, second = (
            ready_brief(fresh_sandbox, running.url),
            ready_brief(fresh_sandbox, running.url),
        )
        number = investigations(running.url)[second]["incident_number"]
        approve = ["approve", first, "--url", running.url, "--text", "Edited.", "--yes"]
        assert decide_main(approve) == 0
        reject = ["reject", f"#{number}", "--url", running.url, "--reason", "a known PSP blip"]
        assert decide_main(reject) == 0
        assert investigations(running.url)[second]["reason"] == "a known PSP blip"
        assert decide_main(["reject", first, "--url", running.url]) == 1  # already posted
        out = capsys.readouterr().out
        assert f"incident {first}: posted" in out and f"incident {second}: rejected" in out
        assert "not awaiting approval" in out
        assert notes_of(fresh_sandbox, first)[0]["content"].startswith("Edited.")


def test_note_posted_exactly_once_across_a_502_retry(fresh_sandbox: Sandbox) -> None:
    with responder_on(fresh_sandbox) as running:
        incident_id = ready_brief(fresh_sandbox, running.url)
        fresh_sandbox.inject(
            Fault(kind="status", status=502, method="POST", path=r"/notes$", times=1)
        )
        answer = decide(running.url, incident_id, "approve")
        assert answer.status_code == 200, answer.text
        assert [r.status for r in posts(fresh_sandbox)] == [502, 200]
        assert len(notes_of(fresh_sandbox, incident_id)) == 1


def test_writer_is_idempotent_by_marker(fresh_sandbox: Sandbox) -> None:
    """A post whose answer was lost (crash, timeout) is found by its marker, not repeated."""
    incident = fresh_sandbox.trigger_incident("ledger", "ledger_recon_failed")
    client = PagerDutyClient(api_key=fresh_sandbox.write_api_key, base_url=fresh_sandbox.base_url)
    writer = IncidentNoteWriter(client.with_writes("incident_note"), from_email=FROM_EMAIL)
    first = writer.post_once(incident["id"], "The brief.", approval_id="abc123", rest="/x")
    again = writer.post_once(incident["id"], "The brief.", approval_id="abc123", rest="/x")
    assert (first.already_posted, again.already_posted) == (False, True)
    assert first.note_id == again.note_id
    assert len(notes_of(fresh_sandbox, incident["id"])) == 1
    with pytest.raises(PagerDutyReadOnlyError, match="read-only"):
        client.post(f"/incidents/{incident['id']}/notes")  # the given client stays GET-only


def test_long_brief_is_cut_with_a_pointer() -> None:
    text, cut = fit_note("x" * 40_000, note_marker("a1"), "http://responder/investigations/Q1")
    assert cut and len(text) <= NOTE_LIMIT
    assert "http://responder/investigations/Q1" in text
    assert text.endswith(note_marker("a1"))
    assert fit_note("short", "m", "r") == ("short\n\nm", False)


def test_no_write_without_allow_notes(fresh_sandbox: Sandbox) -> None:
    with responder_on(fresh_sandbox, allow_notes=False) as running:
        incident_id = ready_brief(fresh_sandbox, running.url)
        answer = decide(running.url, incident_id, "approve")
        assert answer.status_code == 409
        assert "--allow-notes" in answer.json()["error"]
        assert status_of(running.url, incident_id) == "awaiting_approval"
        assert posts(fresh_sandbox) == []
        assert decide(running.url, incident_id, "reject").json()["status"] == "rejected"


def test_read_only_key_gets_a_clear_error_and_the_brief_stays(fresh_sandbox: Sandbox) -> None:
    with responder_on(fresh_sandbox, key=fresh_sandbox.api_key) as running:
        incident_id = ready_brief(fresh_sandbox, running.url)
        answer = decide(running.url, incident_id, "approve")
        assert answer.status_code == 502
        assert "cannot post notes" in answer.json()["error"]
        listed = investigations(running.url)[incident_id]
        assert listed["status"] == "awaiting_approval" and listed["brief"]
        assert "cannot post notes" in listed["error"]
        assert [r.status for r in posts(fresh_sandbox)] == [403]
        assert decide(running.url, incident_id, "reject").json()["status"] == "rejected"


def test_writer_read_only_error_names_the_fix(fresh_sandbox: Sandbox) -> None:
    incident = fresh_sandbox.trigger_incident("ledger", "ledger_recon_failed")
    client = PagerDutyClient(
        api_key=fresh_sandbox.api_key,
        base_url=fresh_sandbox.base_url,
        allow_writes=["incident_note"],
    )
    writer = IncidentNoteWriter(client, from_email=FROM_EMAIL)
    with pytest.raises(PagerDutyForbiddenError) as raised:
        writer.post_once(incident["id"], "x", approval_id="m", rest="r")
    assert "read-only" in str(raised.value) and "brief stays available" in str(raised.value)


# -- secrets ---------------------------------------------------------------------------------


def test_no_secret_in_logs_state_or_notes(
    fresh_sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "responder.db"
    caplog.set_level(logging.DEBUG)
    with responder_on(fresh_sandbox, state=str(state)) as running:
        incident_id = ready_brief(fresh_sandbox, running.url)
        signed_post(running.url, triggered(fresh_sandbox), ["wrong"])  # logged as refused
        assert decide(running.url, incident_id, "approve").status_code == 200
        listing = requests.get(f"{running.url}/investigations", timeout=10).text
    secrets = [fresh_sandbox.write_api_key, SECRET, TOKEN]
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    notes = json.dumps(notes_of(fresh_sandbox, incident_id))
    assert stored and "refused" in caplog.text and incident_id in notes
    for secret in secrets:
        assert secret not in caplog.text
        assert secret.encode() not in stored
        assert secret not in notes
        assert secret not in listing
