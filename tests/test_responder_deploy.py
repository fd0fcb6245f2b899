"""The responder as a team deploys it: private reads, token rules, request limits, failures that
are visible and retried, pages, retention and private state files."""

from __future__ import annotations

import logging
import os
import socket
import stat
import time
from pathlib import Path

import pytest
import requests
from conftest import leaks
from postgres import free_port
from responder_helpers import (
    SECRET,
    TOKEN,
    bearer,
    decide,
    investigations,
    notes_of,
    ready_brief,
    responder_on,
    signed_post,
    status_of,
    triggered,
    wait_for,
)

from agents.responder import ResponderSettings
from agents.responder.__main__ import main as responder_main
from agents.responder.decide import main as decide_main
from agents.responder.notes import FORGED_MARKER
from agents.responder.webhooks import signature_ok
from pd_toolkit.cli import main as cli_main
from pd_toolkit.sandbox import Fault, Sandbox
from pd_toolkit.sandbox.webhooks import signature

pytestmark = pytest.mark.sandbox
VIEWER = "viewer-token-5e0c7b3a91d4f268"


# -- signatures: every byte of the digest counts ---------------------------------------------


def test_signature_must_match_whole() -> None:
    body = b'{"event": {"id": "1"}}'
    good = signature(body, [SECRET])[3:]
    assert signature_ok(body, f"v1={good}", [SECRET])
    wrong_tail = good[:-1] + ("0" if good[-1] != "0" else "1")
    for offered in ("v1=", f"v1={good[:8]}", f"v1={good[:-1]}", f"v1={wrong_tail}", good):
        assert not signature_ok(body, offered, [SECRET]), offered
    assert not signature_ok(body, f"v1={good}0", [SECRET])  # longer is not equal either


# -- tokens ----------------------------------------------------------------------------------


def test_reads_need_a_bearer_token_and_the_viewer_only_reads(fresh_sandbox: Sandbox) -> None:
    with responder_on(fresh_sandbox, viewer_token=VIEWER) as running:
        url = running.url
        incident_id = ready_brief(fresh_sandbox, url)
        pages = [f"{url}/investigations", f"{url}/investigations/{incident_id}"]
        refused = [
            {},
            {"Authorization": TOKEN},  # no scheme
            {"Authorization": f"Token token={TOKEN}"},  # PagerDuty's scheme, not Bearer
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": "Bearer "},
            bearer("wrong-token-but-long-enough-0000"),
            bearer(TOKEN[:-1]),
            bearer(TOKEN + "x"),
        ]
        for page in pages:
            for headers in refused:
                answer = requests.get(page, headers=headers, timeout=10)
                assert answer.status_code == 401, (page, headers)
                assert "brief" not in answer.text and "WWW-Authenticate" in answer.headers
            for token in (TOKEN, VIEWER):
                assert requests.get(page, headers=bearer(token), timeout=10).status_code == 200
        assert investigations(url, VIEWER)[incident_id]["brief"]
        assert requests.get(f"{url}/healthz", timeout=10).json() == {"ok": True}
        for decision in ("approve", "reject"):
            answer = decide(url, incident_id, decision, token=VIEWER)
            assert answer.status_code == 403
            for headers in refused:
                posted = requests.post(
                    f"{url}/investigations/{incident_id}/{decision}", headers=headers, timeout=10
                )
                assert posted.status_code == 401
        assert status_of(url, incident_id) == "awaiting_approval"


class Started(Exception):
    """The responder would have started serving (raised instead, so a test never hangs)."""


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[ResponderSettings]:
    """The settings a responder started with, in place of starting it."""
    seen: list[ResponderSettings] = []

    def record(client: object, settings: ResponderSettings, model: object = None) -> None:
        seen.append(settings)
        raise Started

    monkeypatch.setattr("agents.responder.__main__.running_responder", record)
    return seen


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PD_TOOLKIT_APPROVAL_TOKEN", "x"),
        ("PD_TOOLKIT_APPROVAL_TOKEN", "short token 12 34"),
        ("PD_TOOLKIT_APPROVAL_TOKEN", ""),
        ("PD_TOOLKIT_VIEWER_TOKEN", "viewer"),
        ("PAGERDUTY_WEBHOOK_SECRET", f"{SECRET},tiny"),
        ("PAGERDUTY_WEBHOOK_SECRET", ""),
    ],
)
def test_short_or_missing_secrets_are_refused_at_start(
    variable: str,
    value: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    started: list[ResponderSettings],
) -> None:
    monkeypatch.setenv("PAGERDUTY_API_KEY", "not-used-before-the-check-0000")
    monkeypatch.setenv("PAGERDUTY_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("PD_TOOLKIT_APPROVAL_TOKEN", TOKEN)
    monkeypatch.setenv(variable, value)
    assert responder_main(["--port", str(free_port()), "--state", "memory"]) == 2
    err = capsys.readouterr().err
    assert variable in err and ("16 non-blank" in err or "not set" in err)
    assert leaks([err], TOKEN, SECRET) == []


def test_a_viewer_token_equal_to_the_approval_token_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    started: list[ResponderSettings],
) -> None:
    """Equal tokens would make everyone who signs in a viewer (and every decision a 403)."""
    monkeypatch.setenv("PAGERDUTY_API_KEY", "not-used-before-the-check-0000")
    monkeypatch.setenv("PAGERDUTY_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("PD_TOOLKIT_APPROVAL_TOKEN", TOKEN)
    monkeypatch.setenv("PD_TOOLKIT_VIEWER_TOKEN", f" {TOKEN} ")
    assert responder_main(["--port", str(free_port()), "--state", "memory"]) == 2
    err = capsys.readouterr().err
    assert "PD_TOOLKIT_VIEWER_TOKEN is the approval token" in err
    assert leaks([err], TOKEN) == [] and started == []


@pytest.mark.parametrize(
    ("host", "public_url", "warned"),
    [
        ("127.0.0.1", None, False),
        ("::1", "http://localhost:8787", False),
        ("0.0.0.0", "https://responder.example.com", False),
        ("0.0.0.0", None, True),
        ("10.1.2.3", "http://responder.example.com", True),
    ],
)
def test_listening_beyond_this_machine_without_https_is_a_warning(
    host: str, public_url: str | None, warned: bool
) -> None:
    settings = ResponderSettings(host=host, public_url=public_url)
    warnings = settings.warnings()
    assert len(warnings) == int(warned)
    assert all("--public-url https://" in w and "Secure" in w for w in warnings)


def test_the_warning_is_logged_at_start(
    fresh_sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    with responder_on(fresh_sandbox, host="0.0.0.0"):
        pass
    (line,) = [r.getMessage() for r in caplog.records if "without an https" in r.getMessage()]
    assert line.startswith("warning: listening on 0.0.0.0")


def test_an_unknown_team_or_service_stops_the_start(
    fresh_sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    started: list[ResponderSettings],
) -> None:
    monkeypatch.setenv("PAGERDUTY_API_KEY", fresh_sandbox.api_key)
    monkeypatch.setenv("PAGERDUTY_API_HOST", fresh_sandbox.base_url)
    monkeypatch.setenv("PAGERDUTY_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("PD_TOOLKIT_APPROVAL_TOKEN", TOKEN)
    common = ["--port", str(free_port()), "--state", "memory"]
    assert responder_main([*common, "--teams", "Paymnets"]) == 2
    assert "Payments" in capsys.readouterr().err  # the closest real name
    assert responder_main([*common, "--services", "chekout"]) == 2
    assert "checkout" in capsys.readouterr().err.lower()
    assert responder_main([*common, "--teams", "PZZZZZZ"]) == 2
    assert "PZZZZZZ" in capsys.readouterr().err
    assert responder_main([*common, "--events", "incident.deleted"]) == 2
    assert "unknown event types" in capsys.readouterr().err
    assert started == []
    account = fresh_sandbox.account
    team = next(t["id"] for t in account.teams if t["name"] == "Payments")
    service = next(s["id"] for s in account.services if s["name"] == "ledger")
    with pytest.raises(Started):
        responder_main([*common, "--teams", "payments", "--services", "Ledger"])
    (settings,) = started
    assert settings.teams == [team]  # the lookups' scope
    assert settings.event_filter.teams == {team} and settings.event_filter.services == {service}


# -- requests --------------------------------------------------------------------------------


def test_a_decision_body_that_is_not_json_changes_nothing(fresh_sandbox: Sandbox) -> None:
    with responder_on(fresh_sandbox) as running:
        incident_id = ready_brief(fresh_sandbox, running.url)
        approve = f"{running.url}/investigations/{incident_id}/approve"
        form = requests.post(  # what `curl -d '{"text": ...}'` sends
            approve, data='{"text": "edited"}', headers=bearer(), timeout=10
        )
        assert form.status_code == 415
        plain = requests.post(
            approve,
            data="edited",
            headers={**bearer(), "Content-Type": "text/plain"},
            timeout=10,
        )
        assert plain.status_code == 415
        broken = requests.post(
            approve,
            data="{not json",
            headers={**bearer(), "Content-Type": "application/json"},
            timeout=10,
        )
        assert broken.status_code == 400
        typo = requests.post(approve, json={"txt": "edited"}, headers=bearer(), timeout=10)
        assert typo.status_code == 400
        assert status_of(running.url, incident_id) == "awaiting_approval"
        assert not [r for r in fresh_sandbox.request_log if r.method == "POST"]


def test_investigations_page_newest_first(fresh_sandbox: Sandbox) -> None:
    with responder_on(fresh_sandbox, workers=2) as running:
        made = [triggered(fresh_sandbox) for _ in range(5)]
        for envelope in made:
            assert signed_post(running.url, envelope).status_code == 202
            time.sleep(0.01)  # distinct acceptance times
        assert running.responder.wait_idle(120)
        ids = [e["event"]["data"]["id"] for e in made]
        listed = requests.get(f"{running.url}/investigations", headers=bearer(), timeout=10)
        assert [i["incident_id"] for i in listed.json()] == ids[::-1]
        seen, cursor = [], None
        while True:
            params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = requests.get(
                f"{running.url}/investigations", params=params, headers=bearer(), timeout=10
            ).json()
            assert len(page["investigations"]) <= 2
            seen += [i["incident_id"] for i in page["investigations"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == ids[::-1]
        for bad in ({"limit": 0}, {"limit": 1000}, {"cursor": "!!"}):
            answer = requests.get(
                f"{running.url}/investigations", params=bad, headers=bearer(), timeout=10
            )
            assert answer.status_code == 400


def _half_sent(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"POST /webhooks/pagerduty HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1024) == b""  # closed (an answer would be bytes)
    except (ConnectionResetError, TimeoutError):
        return False


def test_half_sent_requests_time_out_and_hold_no_thread(fresh_sandbox: Sandbox) -> None:
    with responder_on(fresh_sandbox, read_timeout=2, http_threads=2) as running:
        port = running.server.effective_port
        slow = [_half_sent(port) for _ in range(20)]  # ten times the app's threads
        assert requests.get(f"{running.url}/healthz", timeout=5).ok  # no thread is held
        started = time.monotonic()
        for sock in slow:
            sock.settimeout(15)
        assert all(_closed_by_server(sock) for sock in slow)
        assert time.monotonic() - started < 12  # read timeout 2 s, checked every second
        for sock in slow:
            sock.close()


def test_connections_are_capped(fresh_sandbox: Sandbox) -> None:
    with responder_on(fresh_sandbox, read_timeout=3, max_connections=5) as running:
        port = running.server.effective_port
        held = [_half_sent(port) for _ in range(12)]
        time.sleep(0.5)
        server = running.server
        assert len(server.active_channels) <= 5  # the rest wait in the listen backlog
        for sock in held:
            sock.close()
        wait_for(lambda: requests.get(f"{running.url}/healthz", timeout=10).ok, what="healthz")


# -- failures are visible and retried --------------------------------------------------------


def test_an_outage_fails_the_investigation_and_redelivery_reinvestigates(
    fresh_sandbox: Sandbox,
) -> None:
    sb = fresh_sandbox
    with responder_on(sb, retry_delays=[]) as running:
        envelope = triggered(sb)
        incident_id = envelope["event"]["data"]["id"]
        sb.inject(Fault(kind="drop", path=f"^/incidents/{incident_id}$", times=None))
        assert signed_post(running.url, envelope).status_code == 202
        wait_for(lambda: status_of(running.url, incident_id) == "failed", what="failed")
        failed = investigations(running.url)[incident_id]
        assert failed["brief"] is None and "reach" in failed["error"].lower()
        assert decide(running.url, incident_id, "approve").status_code == 409
        sb.clear_faults()
        again = triggered(sb)
        again["event"]["data"] = envelope["event"]["data"]  # a new event, the same incident
        answer = signed_post(running.url, again)
        assert answer.status_code == 202 and answer.json()["outcome"] == "queued"
        wait_for(lambda: status_of(running.url, incident_id) == "awaiting_approval", what="brief")
        ready = investigations(running.url)[incident_id]
        assert ready["brief"].startswith("# Incident #") and ready["error"] is None


def test_a_transient_failure_is_retried_on_its_own(fresh_sandbox: Sandbox) -> None:
    sb = fresh_sandbox
    with responder_on(sb, retry_delays=[1.0, 1.0], poll_interval=0.1) as running:
        envelope = triggered(sb)
        incident_id = envelope["event"]["data"]["id"]
        sb.inject(Fault(kind="status", status=503, path=f"^/incidents/{incident_id}$", times=None))
        assert signed_post(running.url, envelope).status_code == 202
        wait_for(
            lambda: investigations(running.url)[incident_id]["retry_at"], what="a retry planned"
        )
        shown = investigations(running.url)[incident_id]
        assert shown["status"] == "queued" and "503" in shown["error"]
        sb.clear_faults()
        wait_for(lambda: status_of(running.url, incident_id) == "awaiting_approval", what="brief")
        assert investigations(running.url)[incident_id]["attempts"] >= 2


def test_ready_briefs_are_logged_with_their_url(
    fresh_sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agents.responder")
    with responder_on(fresh_sandbox, public_url="https://responder.example.com/") as running:
        incident_id = ready_brief(fresh_sandbox, running.url)
    lines = [r.getMessage() for r in caplog.records if "ready for approval" in r.getMessage()]
    assert len(lines) == 1
    assert f"https://responder.example.com/investigations/{incident_id}" in lines[0]


def test_the_lookups_stay_inside_the_team_scope(fresh_sandbox: Sandbox) -> None:
    """Scoped to Payments, the responder investigates a Payments incident and refuses one of
    another team (the webhook filter is left open here, so only the lookups' scope refuses)."""
    sb = fresh_sandbox
    team = next(t for t in sb.account.teams if t["name"] == "Payments")
    with responder_on(sb, teams=[team["id"]], retry_delays=[]) as running:
        inside = ready_brief(sb, running.url)
        outside = triggered(sb, "checkout", "checkout_deploy_npe")
        outside_id = outside["event"]["data"]["id"]
        assert signed_post(running.url, outside).status_code == 202
        wait_for(lambda: status_of(running.url, outside_id) == "failed", what="refused")
        error = investigations(running.url)[outside_id]["error"]
    assert team["id"] in error and "scope" in error.lower()
    assert inside != outside_id


# -- retention and state files ---------------------------------------------------------------


def test_finished_investigations_and_event_ids_are_pruned(
    fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    state = tmp_path / "state.db"
    with responder_on(fresh_sandbox, state=str(state), retention_days=30) as running:
        done, waiting = (
            ready_brief(fresh_sandbox, running.url),
            ready_brief(fresh_sandbox, running.url),
        )
        assert decide(running.url, done, "reject").status_code == 200
        responder = running.responder
        thread = responder.ledger.get(done).thread_id
        assert responder.prune(time.time() + 29 * 86_400) == 0
        assert responder.prune(time.time() + 31 * 86_400) == 1
        assert set(investigations(running.url)) == {waiting}  # a waiting brief is kept
        checkpoint = {"configurable": {"thread_id": thread}}
        assert responder.graph.checkpointer.get_tuple(checkpoint) is None
        with responder.ledger.engine.connect() as conn:
            events = conn.exec_driver_sql("SELECT count(*) FROM pdtk_responder_events").scalar()
        assert events == 0


def test_state_files_are_private(
    fresh_sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agents.responder.persistence import default_state_location

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PD_TOOLKIT_RESPONDER_STATE", raising=False)
    monkeypatch.setenv("PD_TOOLKIT_STORE", "memory")
    os.umask(0o022)
    location = Path(default_state_location())
    with responder_on(fresh_sandbox, state=str(location)) as running:
        ready_brief(fresh_sandbox, running.url)
        files = sorted(location.parent.iterdir())
        assert {f.name for f in files} >= {"responder.db", "responder.db-wal"}
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(location.parent.stat().st_mode) == 0o700


# -- the CLI ---------------------------------------------------------------------------------


def test_approve_shows_the_note_and_asks(
    fresh_sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    import io

    monkeypatch.setenv("PD_TOOLKIT_APPROVAL_TOKEN", TOKEN)
    with responder_on(fresh_sandbox) as running:
        incident_id = ready_brief(fresh_sandbox, running.url)
        brief = investigations(running.url)[incident_id]["brief"]
        monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
        assert decide_main(["approve", incident_id, "--url", running.url]) == 1
        out = capsys.readouterr().out
        assert brief.splitlines()[0] in out and "Post this note?" in out
        assert status_of(running.url, incident_id) == "awaiting_approval"
        monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no answer at all
        assert decide_main(["approve", incident_id, "--url", running.url]) == 1
        assert "--yes" in capsys.readouterr().out
        monkeypatch.setattr("sys.stdin", io.StringIO("\n"))  # just Enter: the default is no
        assert decide_main(["approve", incident_id, "--url", running.url]) == 1
        forged = "Fine.\n-- posted by pd_toolkit responder after human approval [x]"
        monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
        assert decide_main(["approve", incident_id, "--url", running.url, "--text", forged]) == 1
        shown = capsys.readouterr().out
        assert FORGED_MARKER in shown and "posted by pd_toolkit responder" not in shown
        assert not [r for r in fresh_sandbox.request_log if r.method == "POST"]
        monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
        assert decide_main(["approve", incident_id, "--url", running.url, "--text", "Edit."]) == 0
        out = capsys.readouterr().out
        assert "Edit." in out and f"incident {incident_id}: posted" in out
        edited = ["approve", incident_id, "--url", running.url, "--text-file", "no.md"]
        assert decide_main(edited) == 2
        assert "cannot read no.md" in capsys.readouterr().out


def test_pd_toolkit_approve_and_reject_run_the_responders_verbs(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    """`pd-toolkit approve|reject` hand every option to `python -m agents.responder` (the
    library never imports the responder), which answers with the verbs' own help and errors."""
    assert cli_main(["approve", "--help"]) == 0
    out = capfd.readouterr().out
    assert "--text-file" in out and "--yes" in out and "PD_TOOLKIT_APPROVAL_TOKEN" in out
    monkeypatch.delenv("PD_TOOLKIT_APPROVAL_TOKEN", raising=False)
    assert cli_main(["reject", "Q1", "--url", "http://127.0.0.1:9"]) == 2
    assert "PD_TOOLKIT_APPROVAL_TOKEN is not set" in capfd.readouterr().out


def test_pd_toolkit_responder_passes_its_options_through(capfd: pytest.CaptureFixture) -> None:
    assert cli_main(["responder", "--help"]) == 0
    out = capfd.readouterr().out
    assert "--retention-days" in out and "--allow-notes" in out


def test_only_leases_of_processes_that_no_longer_run_are_taken_over_at_once(
    fresh_sandbox: Sandbox,
) -> None:
    """Two replicas on one host (same default name) never take each other's live work; a
    restarted one takes a killed predecessor's work at once."""
    import subprocess
    import sys

    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    gone = int(finished.stdout)
    host = socket.gethostname()
    with responder_on(fresh_sandbox) as running:
        responder = running.responder
        is_dead = responder._is_dead
        assert not is_dead(responder.owner)  # itself
        assert is_dead(f"test@{host}:{gone}:abcd1234")  # a process that has ended
        assert is_dead(f"test@{host}:{os.getpid()}:0ld1nst")  # an earlier life of this pid
        assert not is_dead(f"test@{host}:{os.getppid()}:abcd1234")  # a live process
        assert not is_dead(f"test@elsewhere:{gone}:abcd1234")  # another host: its lease decides


def test_a_decision_right_after_the_page_waits_for_the_brief(
    fresh_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("PD_TOOLKIT_APPROVAL_TOKEN", TOKEN)
    sb = fresh_sandbox
    with responder_on(sb) as running:
        envelope = triggered(sb)
        incident_id = envelope["event"]["data"]["id"]
        sb.inject(Fault(kind="slow", delay=2, path=f"/incidents/{incident_id}/log_entries$"))
        assert signed_post(running.url, envelope).status_code == 202
        approve = ["approve", incident_id, "--url", running.url, "--yes"]
        assert decide_main(approve) == 0
        out = capsys.readouterr().out
        assert "waiting for the brief" in out and f"incident {incident_id}: posted" in out
        again = triggered(sb)
        sb.inject(Fault(kind="slow", delay=5, path=f"/incidents/{again['event']['data']['id']}"))
        assert signed_post(running.url, again).status_code == 202
        impatient = ["reject", again["event"]["data"]["id"], "--url", running.url, "--wait", "0"]
        assert decide_main(impatient) == 1  # no waiting: still running, refused with 409
        assert "not awaiting approval" in capsys.readouterr().out


def test_an_oversized_decision_body_is_refused(fresh_sandbox: Sandbox) -> None:
    with responder_on(fresh_sandbox) as running:
        incident_id = ready_brief(fresh_sandbox, running.url)
        huge = {"text": "x" * 70_000}
        answer = decide(running.url, incident_id, "approve", huge)
        assert answer.status_code == 413
        assert status_of(running.url, incident_id) == "awaiting_approval"
        assert not [r for r in fresh_sandbox.request_log if r.method == "POST"]


def test_malformed_ids_and_teams_outside_the_filter_start_nothing(fresh_sandbox: Sandbox) -> None:
    from agents.responder.webhooks import EventFilter

    payments = EventFilter(teams=frozenset({"Payments"}))
    with responder_on(fresh_sandbox, event_filter=payments) as running:
        checkout = triggered(fresh_sandbox, "checkout", "checkout_deploy_npe")
        assert signed_post(running.url, checkout).json()["outcome"] == "ignored"
        for event_id in ("bad id", "line\r\nbreak", "x" * 101):
            envelope = triggered(fresh_sandbox)
            envelope["event"]["id"] = event_id
            assert signed_post(running.url, envelope).status_code == 400, event_id
        for incident_id in ("../x", "Q" * 33):
            envelope = triggered(fresh_sandbox)
            envelope["event"]["data"]["id"] = incident_id
            assert signed_post(running.url, envelope).status_code == 400, incident_id
        assert investigations(running.url) == {}
        inside = triggered(fresh_sandbox)  # payments-api: the Payments team
        assert signed_post(running.url, inside).status_code == 202


def test_each_retry_waits_its_delay_on_a_fresh_thread_then_gives_up(
    fresh_sandbox: Sandbox,
) -> None:
    sb = fresh_sandbox
    with responder_on(sb, retry_delays=[0.2, 1.5], poll_interval=0.05) as running:
        envelope = triggered(sb)
        incident_id = envelope["event"]["data"]["id"]
        sb.inject(Fault(kind="status", status=503, path=f"^/incidents/{incident_id}$", times=None))
        assert signed_post(running.url, envelope).status_code == 202
        ledger = running.responder.ledger
        threads: set[str] = set()

        def second_wait_planned() -> bool:
            row = ledger.get(incident_id)
            assert row is not None
            threads.add(row.thread_id)
            return row.status == "queued" and row.attempts == 2

        wait_for(second_wait_planned, what="the second retry planned")
        row = ledger.get(incident_id)
        assert row is not None and abs((row.not_before - row.updated_at) - 1.5) < 0.3
        wait_for(lambda: status_of(running.url, incident_id) == "failed", what="failed")
        final = ledger.get(incident_id)
        assert final is not None and final.attempts == 3  # the first try and two retries
        assert len(threads | {final.thread_id}) == 3  # each retry started afresh


def test_a_note_that_failed_can_be_approved_again(fresh_sandbox: Sandbox) -> None:
    sb = fresh_sandbox
    with responder_on(sb) as running:
        incident_id = ready_brief(sb, running.url)
        sb.inject(Fault(kind="status", status=502, method="POST", path=r"/notes$", times=3))
        failed = decide(running.url, incident_id, "approve")
        assert failed.status_code == 502
        assert status_of(running.url, incident_id) == "awaiting_approval"
        again = decide(running.url, incident_id, "approve")
        assert again.status_code == 200 and again.json()["status"] == "posted"
        assert len(notes_of(sb, incident_id)) == 1


def test_an_existing_state_file_is_made_private(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    state = tmp_path / "state" / "responder.db"
    state.parent.mkdir(mode=0o700)
    state.touch(mode=0o644)
    os.chmod(state, 0o644)
    with responder_on(fresh_sandbox, state=str(state)):
        assert stat.S_IMODE(state.stat().st_mode) == 0o600
