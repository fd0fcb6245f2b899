"""Responders sharing a PostgreSQL state: the database coordinates them.

- Two responder processes race decisions on the same briefs, approve against approve and
  approve against reject, 20 times each: one decision wins, the other gets 409 naming it, and no
  incident ever gets two notes.
- The note lock is a PostgreSQL advisory lock: while another connection holds it, an approval
  waits (PostgreSQL shows the waiting lock) and posts nothing; released, it posts once.
- A replica killed with SIGKILL mid-investigation: the other takes the work over once the
  lease runs out.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
from postgres import free_port
from responder_helpers import (
    bearer,
    decide,
    investigations,
    notes_of,
    responder_on,
    responder_process,
    signed_post,
    status_of,
    triggered,
    wait_for,
)
from sqlalchemy import Engine, create_engine, text

from agents.responder.ledger import Ledger
from pd_toolkit.sandbox import Fault, Sandbox

pytestmark = pytest.mark.sandbox
ROUNDS = 20


def _race(first: str, second: str, incident_id: str, decisions: tuple[str, str]) -> list:
    """Send two decisions at the same moment, one to each replica."""
    barrier = threading.Barrier(2)

    def send(url: str, decision: str) -> requests.Response:
        barrier.wait()
        return decide(url, incident_id, decision)

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(send, (first, second), decisions))


def test_two_replicas_race_decisions_without_a_double_note(
    fresh_sandbox: Sandbox, postgresql_db_url: str, tmp_path: Path
) -> None:
    sb = fresh_sandbox
    # Slow note posts widen the window in which two approvals could overlap.
    sb.inject(Fault(kind="slow", delay=0.2, method="POST", path=r"/notes$", times=None))
    log = tmp_path / "replicas.log"
    envelopes = [triggered(sb) for _ in range(2 * ROUNDS)]
    ids = [e["event"]["data"]["id"] for e in envelopes]
    with (
        responder_process(sb, postgresql_db_url, free_port(), log, name="a") as first,
        responder_process(sb, postgresql_db_url, free_port(), log, name="b") as second,
    ):
        for number, envelope in enumerate(envelopes):
            url = (first, second)[number % 2]
            assert signed_post(url, envelope).status_code == 202
        for incident_id in ids:
            wait_for(
                lambda i=incident_id: status_of(first, i) == "awaiting_approval",
                timeout=180,
                what="every brief",
            )
        outcomes = []
        for number, incident_id in enumerate(ids):
            decisions = ("approve", "approve") if number < ROUNDS else ("approve", "reject")
            answers = _race(first, second, incident_id, decisions)
            codes = sorted(a.status_code for a in answers)
            assert codes == [200, 409], [a.text for a in answers]
            loser = next(a for a in answers if a.status_code == 409).json()["error"]
            winner = next(a for a in answers if a.status_code == 200).json()
            assert "won at" in loser and "not awaiting approval" in loser
            outcomes.append((incident_id, winner["status"]))
        listed = investigations(second)
    for incident_id, status in outcomes:
        notes = notes_of(sb, incident_id)
        assert len(notes) == (1 if status == "posted" else 0), incident_id
        assert listed[incident_id]["status"] == status
    assert {status for _, status in outcomes[:ROUNDS]} == {"posted"}
    assert {status for _, status in outcomes[ROUNDS:]} <= {"posted", "rejected"}


def test_the_note_waits_for_the_advisory_lock(
    fresh_sandbox: Sandbox, postgresql_db_url: str
) -> None:
    sb = fresh_sandbox
    with responder_on(sb, state=postgresql_db_url) as running:
        envelope = triggered(sb)
        incident_id = envelope["event"]["data"]["id"]
        assert signed_post(running.url, envelope).status_code == 202
        wait_for(lambda: status_of(running.url, incident_id) == "awaiting_approval", what="brief")
        engine = create_engine(postgresql_db_url)
        other = Ledger(engine)  # another replica's connection
        answers: list[requests.Response] = []
        approving = threading.Thread(
            target=lambda: answers.append(decide(running.url, incident_id, "approve"))
        )
        with other.note_lock(incident_id):
            approving.start()
            wait_for(lambda: _waiting_advisory_locks(engine) == 1, what="the approval to wait")
            time.sleep(0.5)
            assert [r for r in sb.request_log if r.method == "POST"] == []
            assert approving.is_alive() and status_of(running.url, incident_id) == "approving"
        approving.join(timeout=60)
        engine.dispose()
    assert answers[0].status_code == 200 and answers[0].json()["status"] == "posted"
    assert len(notes_of(sb, incident_id)) == 1


def _waiting_advisory_locks(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        ).scalar_one()


def test_a_killed_replica_s_work_is_taken_over(
    fresh_sandbox: Sandbox, postgresql_db_url: str, tmp_path: Path
) -> None:
    sb = fresh_sandbox
    log = tmp_path / "replicas.log"
    envelope = triggered(sb)
    incident_id = envelope["event"]["data"]["id"]
    timeline = f"/incidents/{incident_id}/log_entries"
    sb.inject(Fault(kind="slow", delay=60, path=f"^{re.escape(timeline)}$", times=1))
    fast = ("--lease-seconds", "3")
    with ExitStack() as replica_a:
        doomed = replica_a.enter_context(
            responder_process(sb, postgresql_db_url, free_port(), log, *fast, name="a")
        )
        assert signed_post(doomed, envelope).status_code == 202
        wait_for(lambda: status_of(doomed, incident_id) == "running", what="a's claim")
        with responder_process(sb, postgresql_db_url, free_port(), log, *fast, name="b") as b:
            replica_a.close()  # SIGKILL: "a" dies holding the lease, mid-lookup
            assert status_of(b, incident_id) == "running"
            wait_for(
                lambda: status_of(b, incident_id) == "awaiting_approval",
                timeout=90,
                what="b to finish a's investigation",
            )
            answer = requests.post(
                f"{b}/investigations/{incident_id}/approve", headers=bearer(), timeout=60
            )
            assert answer.status_code == 200
    assert len(notes_of(sb, incident_id)) == 1
