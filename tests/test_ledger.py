"""The responder's ledger on SQLite with a fake clock: leases, compare-and-set moves, the
backlog bound, the note lock across connections, housekeeping. (PostgreSQL's side, the advisory
lock and two real replicas, is in test_responder_postgres.py.)"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from agents.responder.ledger import NOTE_LOCK_TTL, Ledger
from pd_toolkit.store.db import sqlite_engine


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "responder.db"


@pytest.fixture
def ledger(path: Path, clock: Clock) -> Iterator[Ledger]:
    engine = sqlite_engine(str(path))
    yield Ledger(engine, clock=clock)
    engine.dispose()


def accept(ledger: Ledger, incident_id: str, backlog: int = 100) -> str:
    return ledger.accept(f"event-{incident_id}", incident_id, backlog=backlog).outcome


def test_a_lease_that_runs_out_is_taken_over_and_the_old_holder_can_no_longer_move_it(
    ledger: Ledger, clock: Clock
) -> None:
    assert accept(ledger, "Q1") == "queued"
    first = ledger.claim("a", lease=10)
    assert first is not None and first.status == "running"
    assert ledger.claim("b", lease=10) is None  # leased
    clock.now += 11
    second = ledger.claim("b", lease=10)
    assert second is not None and second.lease_owner == "b" and second.attempts == 2
    assert not ledger.move("Q1", owner="a", status="running", to="awaiting_approval")
    assert not ledger.retry_later("Q1", owner="a", delay=0, error="x")
    row = ledger.get("Q1")
    assert row is not None and (row.status, row.lease_owner) == ("running", "b")
    assert row.thread_id == second.thread_id
    assert ledger.move("Q1", owner="b", status="running", to="awaiting_approval")


def test_releasing_a_dead_owner_hands_its_work_on_at_once(ledger: Ledger) -> None:
    accept(ledger, "Q1")
    accept(ledger, "Q2")
    ledger.claim("dead", lease=600)
    ledger.claim("alive", lease=600)
    assert ledger.claim("c", lease=600) is None
    assert ledger.release_dead(lambda owner: owner == "dead") == 1
    taken = ledger.claim("c", lease=600)
    assert taken is not None and taken.incident_id == "Q1"
    assert ledger.claim("c", lease=600) is None  # the live owner's row stays with it


def test_an_approval_whose_replica_died_is_finished_by_another(
    ledger: Ledger, clock: Clock
) -> None:
    accept(ledger, "Q1")
    ledger.claim("a", lease=10)
    ledger.move("Q1", owner="a", status="running", to="awaiting_approval")
    won = ledger.decide("Q1", "approve", owner="a", lease=10, text="edited")
    assert won is not None and won.status == "approving"
    assert ledger.decide("Q1", "reject", owner="b", lease=10) is None  # one outcome
    assert ledger.claim("b", lease=10) is None  # "a" is posting the note
    clock.now += 11
    taken = ledger.claim("b", lease=10)
    assert taken is not None and taken.status == "approving"
    assert (taken.decision_id, taken.decision_text) == (won.decision_id, "edited")


def test_a_retry_runs_on_a_fresh_thread_after_its_delay(ledger: Ledger, clock: Clock) -> None:
    accept(ledger, "Q1")
    first = ledger.claim("a", lease=10)
    assert first is not None
    assert ledger.retry_later("Q1", owner="a", delay=30, error="PagerDuty unreachable")
    assert ledger.claim("a", lease=10) is None  # not before its time
    clock.now += 31
    again = ledger.claim("a", lease=10)
    assert again is not None and again.thread_id != first.thread_id


def test_the_backlog_bound_is_exact_and_a_refused_event_is_not_remembered(
    ledger: Ledger,
) -> None:
    assert [accept(ledger, f"Q{n}", backlog=2) for n in (1, 2)] == ["queued", "queued"]
    assert accept(ledger, "Q3", backlog=2) == "dropped"
    ledger.claim("a", lease=10)  # one starts: room for one more
    assert accept(ledger, "Q3", backlog=2) == "queued"  # the redelivery is no duplicate


def test_the_sqlite_note_lock_holds_across_connections_and_expires(
    path: Path, ledger: Ledger, clock: Clock
) -> None:
    other = Ledger(sqlite_engine(str(path)), clock=clock)  # another process's connection
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with ledger.note_lock("Q1"):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(10)
    with pytest.raises(TimeoutError), other.note_lock("Q1", wait=0.3):
        pass
    with other.note_lock("Q2", wait=0.3):  # another incident is not blocked
        pass
    release.set()
    thread.join(10)
    with other.note_lock("Q1", wait=1):
        pass
    with ledger.engine.begin() as conn:  # a holder that died: its row outlives it
        conn.execute(
            text("INSERT INTO pdtk_responder_locks VALUES ('pdtk-note:Q1', 'gone', :until)"),
            {"until": clock.now + NOTE_LOCK_TTL},
        )
    with pytest.raises(TimeoutError), other.note_lock("Q1", wait=0.2):
        pass
    clock.now += NOTE_LOCK_TTL + 1
    with other.note_lock("Q1", wait=1):  # expired: taken over
        pass
    other.engine.dispose()


def test_prune_keeps_waiting_work_and_drops_expired_locks(ledger: Ledger, clock: Clock) -> None:
    accept(ledger, "Q1")
    with ledger.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO pdtk_responder_locks VALUES ('pdtk-note:Q9', 'gone', :until)"),
            {"until": clock.now - 1},
        )
    assert ledger.prune(clock.now + 1) == []  # a queued row is not finished
    assert ledger.get("Q1") is not None
    with ledger.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pdtk_responder_locks")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM pdtk_responder_events")).scalar() == 0
