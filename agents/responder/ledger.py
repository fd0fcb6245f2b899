"""The responder's ledger: the rows in the shared database that coordinate its replicas.

LangGraph's checkpointer holds each investigation's graph state (the brief, the decision, the
note). The ledger holds what the checkpoint does not, and what replicas must agree on:

- **investigations**: one row per incident: its status, the graph thread that runs it, the
  incident number (the number -> id index), a lease (which replica works on it, until when),
  retries, and the human decision. An accepted webhook is a row before its 202; workers claim
  rows with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a write transaction on SQLite),
  renew it while they work, and any replica takes over a row whose lease ran out.
- **events**: the webhook event ids seen, for de-duplication.
- **locks** (SQLite only): the per-incident note lock as a row with an expiry; PostgreSQL uses a
  transaction-scoped advisory lock instead.

A decision is a compare-and-set on the row's status (``awaiting_approval`` -> ``approving`` or
``rejected``): of two racing decisions exactly one changes the row. Times are Unix seconds from
an injectable clock.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import (
    Column,
    Connection,
    Double,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

Status = Literal[
    "queued", "running", "awaiting_approval", "approving", "posted", "rejected", "failed"
]
FINISHED: tuple[str, ...] = ("posted", "rejected", "failed")
LEASED: tuple[str, ...] = ("running", "approving")
_SCHEMA_LOCK = 0x50445452  # "PDTR": the advisory lock held while creating the tables
NOTE_LOCK_TTL = 300.0  # seconds a SQLite note lock survives a replica that died holding it

metadata = MetaData()
investigations = Table(
    "pdtk_responder_investigations",
    metadata,
    Column("incident_id", String(32), primary_key=True),
    Column("incident_number", Integer, nullable=True),
    Column("title", Text, nullable=True),
    Column("thread_id", String(80), nullable=False),
    Column("status", String(20), nullable=False),
    Column("error", Text, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("not_before", Double, nullable=False),
    Column("lease_owner", String(200), nullable=True),
    Column("lease_until", Double, nullable=True),
    Column("decision", String(10), nullable=True),
    Column("decision_id", String(40), nullable=True),
    Column("decision_text", Text, nullable=True),
    Column("decided_at", Double, nullable=True),
    Column("decided_on", String(200), nullable=True),
    Column("note_id", String(64), nullable=True),
    Column("created_at", Double, nullable=False),
    Column("updated_at", Double, nullable=False),
    Index("pdtk_responder_work", "status", "not_before"),
    Index("pdtk_responder_newest", "created_at", "incident_id"),
    Index("pdtk_responder_number", "incident_number"),
)
events = Table(
    "pdtk_responder_events",
    metadata,
    Column("event_id", String(100), primary_key=True),
    Column("incident_id", String(32), nullable=True),
    Column("received_at", Double, nullable=False),
    Index("pdtk_responder_events_age", "received_at"),
)
locks = Table(
    "pdtk_responder_locks",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("holder", String(40), nullable=False),
    Column("expires_at", Double, nullable=False),
)


class _Dropped(Exception):
    """The backlog is full: roll the event back."""


class Investigation(BaseModel):
    """One row of the ledger."""

    incident_id: str
    incident_number: int | None = None
    title: str | None = None
    thread_id: str
    status: Status
    error: str | None = None
    attempts: int = 0
    not_before: float = 0.0
    lease_owner: str | None = None
    lease_until: float | None = None
    decision: Literal["approve", "reject"] | None = None
    decision_id: str | None = None
    decision_text: str | None = None
    decided_at: float | None = None
    decided_on: str | None = None
    note_id: str | None = None
    created_at: float
    updated_at: float


class Accepted(BaseModel):
    """What the ledger did with one webhook event."""

    outcome: Literal["queued", "duplicate", "ignored", "known", "dropped"]
    incident_id: str | None = None
    detail: str = ""


class Page(BaseModel):
    """A page of investigations, newest first, and the cursor of the next page."""

    items: list[Investigation]
    next_cursor: str | None


def new_thread_id(incident_id: str) -> str:
    """A graph thread of its own for each run of an incident's investigation (a retry after a
    failure starts afresh; a resumed run keeps its thread)."""
    return f"{incident_id}.{uuid.uuid4().hex[:12]}"


def _encode_cursor(row: Investigation) -> str:
    raw = json.dumps([row.created_at, row.incident_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """(created_at, incident_id) of a cursor; ValueError when it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, incident_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return float(created), str(incident_id)
    except (ValueError, TypeError) as exc:
        raise ValueError("not a cursor this responder gave") from exc


class Ledger:
    """The ledger on one SQLAlchemy engine (SQLite or PostgreSQL); thread-safe."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self.postgres = engine.dialect.name == "postgresql"
        with self._begin() as conn:
            if self.postgres:
                conn.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
            metadata.create_all(conn)

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        """One transaction (on SQLite a write transaction: ``BEGIN IMMEDIATE``)."""
        with self.engine.begin() as conn:
            yield conn

    def _insert(self, table: Table) -> Any:
        return (postgresql if self.postgres else sqlite).insert(table)

    @staticmethod
    def _row(row: Any) -> Investigation:
        return Investigation.model_validate(dict(row._mapping))

    # -- webhooks ------------------------------------------------------------------------

    def accept(
        self,
        event_id: str,
        incident_id: str | None,
        *,
        number: int | None = None,
        title: str | None = None,
        ignored: str | None = None,
        backlog: int = 100,
    ) -> Accepted:
        """Record one verified webhook event, in one transaction: a duplicate event id changes
        nothing; an ignored event is only remembered; a new incident becomes a ``queued`` row
        (unless ``backlog`` rows already wait: then nothing is recorded, so that PagerDuty's
        redelivery is not a duplicate); a ``failed`` one is queued again."""
        now = self.clock()
        try:
            return self._accept(event_id, incident_id, number, title, ignored, backlog, now)
        except _Dropped as dropped:  # rolled back: the event id is not remembered either
            return Accepted(outcome="dropped", incident_id=incident_id, detail=str(dropped))

    def _accept(
        self,
        event_id: str,
        incident_id: str | None,
        number: int | None,
        title: str | None,
        ignored: str | None,
        backlog: int,
        now: float,
    ) -> Accepted:
        with self._begin() as conn:
            seen = conn.execute(
                self._insert(events)
                .values(event_id=event_id, incident_id=incident_id, received_at=now)
                .on_conflict_do_nothing(index_elements=["event_id"])
            )
            if seen.rowcount == 0:
                return Accepted(outcome="duplicate", detail="event already received")
            if ignored is not None or incident_id is None:
                return Accepted(outcome="ignored", detail=ignored or "no incident in the event")
            found = conn.execute(
                select(investigations)
                .where(investigations.c.incident_id == incident_id)
                .with_for_update()
            ).first()
            if found is not None and found.status != "failed":
                return Accepted(
                    outcome="known", incident_id=incident_id, detail=f"already {found.status}"
                )
            waiting = conn.scalar(select(func.count()).where(investigations.c.status == "queued"))
            if (waiting or 0) >= backlog:
                raise _Dropped(f"{waiting} investigations already wait")
            fresh = {
                "thread_id": new_thread_id(incident_id),
                "status": "queued",
                "error": None,
                "attempts": 0,
                "not_before": now,
                "lease_owner": None,
                "lease_until": None,
                "updated_at": now,
            }
            if found is None:
                conn.execute(
                    investigations.insert().values(
                        incident_id=incident_id,
                        incident_number=number,
                        title=title,
                        created_at=now,
                        **fresh,
                    )
                )
                return Accepted(outcome="queued", incident_id=incident_id)
            conn.execute(
                update(investigations)
                .where(investigations.c.incident_id == incident_id)
                .values(**fresh)
            )
            return Accepted(
                outcome="queued", incident_id=incident_id, detail="re-queued after a failure"
            )

    # -- work ----------------------------------------------------------------------------

    def claim(self, owner: str, lease: float) -> Investigation | None:
        """Take one row to work on, with a lease: a queued row whose time has come, or a
        running or approving one whose lease ran out (its replica died or stopped)."""
        now = self.clock()
        c = investigations.c
        with self._begin() as conn:
            found = conn.execute(
                select(investigations)
                .where(
                    or_(
                        and_(c.status == "queued", c.not_before <= now),
                        and_(c.status.in_(LEASED), c.lease_until < now),
                    )
                )
                .order_by(c.created_at, c.incident_id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if found is None:
                return None
            changes: dict[str, Any] = {
                "lease_owner": owner,
                "lease_until": now + lease,
                "updated_at": now,
            }
            if found.status != "approving":
                changes |= {"status": "running", "attempts": found.attempts + 1}
            conn.execute(
                update(investigations).where(c.incident_id == found.incident_id).values(**changes)
            )
        return self._row(found).model_copy(update=changes)

    def renew(self, owner: str, incident_ids: list[str], lease: float) -> None:
        """Extend this replica's leases on ``incident_ids`` (its heartbeat)."""
        if not incident_ids:
            return
        now = self.clock()
        c = investigations.c
        with self._begin() as conn:
            conn.execute(
                update(investigations)
                .where(
                    c.incident_id.in_(incident_ids), c.lease_owner == owner, c.status.in_(LEASED)
                )
                .values(lease_until=now + lease)
            )

    def release_dead(self, is_dead: Callable[[str], bool]) -> int:
        """Let any replica take over at once the rows held by owners ``is_dead`` says are gone
        (a replica restarted on the same host hands its killed predecessor's work on instead of
        waiting for the leases to run out); the rows released."""
        c = investigations.c
        with self._begin() as conn:
            owners = conn.scalars(
                select(c.lease_owner)
                .where(c.status.in_(LEASED), c.lease_owner.is_not(None))
                .distinct()
            ).all()
            dead = [owner for owner in owners if is_dead(owner)]
            if not dead:
                return 0
            return conn.execute(
                update(investigations)
                .where(c.lease_owner.in_(dead), c.status.in_(LEASED))
                .values(lease_until=0.0)
            ).rowcount

    def move(
        self, incident_id: str, *, owner: str, status: Status, to: Status, **changes: Any
    ) -> bool:
        """Compare-and-set: move a row from ``status`` (held by ``owner``) to ``to``; False when
        another replica took it meanwhile."""
        now = self.clock()
        c = investigations.c
        values = {"status": to, "updated_at": now, **changes}
        if to not in LEASED:
            values |= {"lease_owner": None, "lease_until": None}
        with self._begin() as conn:
            return (
                conn.execute(
                    update(investigations)
                    .where(c.incident_id == incident_id, c.status == status, c.lease_owner == owner)
                    .values(**values)
                ).rowcount
                == 1
            )

    def retry_later(self, incident_id: str, *, owner: str, delay: float, error: str) -> bool:
        """Queue a failed run again after ``delay`` seconds, on a fresh thread."""
        return self.move(
            incident_id,
            owner=owner,
            status="running",
            to="queued",
            error=error,
            not_before=self.clock() + delay,
            thread_id=new_thread_id(incident_id),
        )

    def decide(
        self,
        incident_id: str,
        decision: Literal["approve", "reject"],
        *,
        owner: str,
        lease: float,
        text: str | None = None,
    ) -> Investigation | None:
        """Compare-and-set the decision: ``awaiting_approval`` -> ``approving`` (leased to
        ``owner``, who posts the note) or ``rejected``. The updated row, or None when the row
        was not awaiting approval (another decision won)."""
        now = self.clock()
        c = investigations.c
        values: dict[str, Any] = {
            "status": "approving" if decision == "approve" else "rejected",
            "decision": decision,
            "decision_id": uuid.uuid4().hex[:16],
            "decision_text": text,
            "decided_at": now,
            "decided_on": owner,
            "error": None,
            "updated_at": now,
            "lease_owner": owner if decision == "approve" else None,
            "lease_until": now + lease if decision == "approve" else None,
        }
        with self._begin() as conn:
            changed = conn.execute(
                update(investigations)
                .where(c.incident_id == incident_id, c.status == "awaiting_approval")
                .values(**values)
            ).rowcount
        return self.get(incident_id) if changed == 1 else None

    # -- reading ------------------------------------------------------------------------

    def get(self, incident_id: str) -> Investigation | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(investigations).where(investigations.c.incident_id == incident_id)
            ).first()
        return self._row(row) if row is not None else None

    def by_number(self, number: int) -> Investigation | None:
        c = investigations.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(investigations)
                .where(c.incident_number == number)
                .order_by(c.created_at.desc())
                .limit(1)
            ).first()
        return self._row(row) if row is not None else None

    def page(
        self, *, limit: int | None = None, cursor: str | None = None, status: str | None = None
    ) -> Page:
        """Investigations newest first, ``limit`` at a time after ``cursor`` (all when no
        limit), optionally of one status."""
        c = investigations.c
        query = select(investigations).order_by(c.created_at.desc(), c.incident_id.desc())
        if status:
            query = query.where(c.status == status)
        if cursor:
            created, incident_id = decode_cursor(cursor)
            query = query.where(
                or_(
                    c.created_at < created,
                    and_(c.created_at == created, c.incident_id < incident_id),
                )
            )
        if limit is not None:
            query = query.limit(limit + 1)
        with self.engine.connect() as conn:
            rows = [self._row(row) for row in conn.execute(query)]
        more = limit is not None and len(rows) > limit
        rows = rows[:limit] if limit is not None else rows
        return Page(items=rows, next_cursor=_encode_cursor(rows[-1]) if more else None)

    def count(self, *statuses: str, due: bool = False) -> int:
        """Rows in ``statuses`` (``due``: only queued rows whose time has come)."""
        c = investigations.c
        query = select(func.count()).where(c.status.in_(statuses))
        if due:
            query = query.where(or_(c.status != "queued", c.not_before <= self.clock()))
        with self.engine.connect() as conn:
            return int(conn.scalar(query) or 0)

    # -- housekeeping -------------------------------------------------------------------

    def prune(self, older_than: float) -> list[str]:
        """Delete finished investigations last changed before ``older_than`` and the event ids
        received before it, and expired note locks; the graph threads of the deleted rows (for
        the caller to delete from the checkpointer)."""
        c = investigations.c
        with self._begin() as conn:
            threads = list(
                conn.scalars(
                    select(c.thread_id).where(c.status.in_(FINISHED), c.updated_at < older_than)
                )
            )
            conn.execute(
                delete(investigations).where(c.status.in_(FINISHED), c.updated_at < older_than)
            )
            conn.execute(delete(events).where(events.c.received_at < older_than))
            conn.execute(delete(locks).where(locks.c.expires_at < self.clock()))
        return threads

    @contextmanager
    def note_lock(self, incident_id: str, *, wait: float = 600.0) -> Iterator[None]:
        """Hold the incident's note lock for the block, across every replica: a PostgreSQL
        advisory lock (released with its transaction, or when a dead replica's connection
        closes), or on SQLite a lock row that expires after NOTE_LOCK_TTL."""
        name = f"pdtk-note:{incident_id}"
        if self.postgres:
            with self.engine.connect() as conn, conn.begin():
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": name}
                )
                yield
            return
        holder = uuid.uuid4().hex
        deadline = time.monotonic() + wait
        while True:
            now = self.clock()
            with self._begin() as conn:
                conn.execute(delete(locks).where(locks.c.name == name, locks.c.expires_at < now))
                taken = conn.execute(
                    self._insert(locks)
                    .values(name=name, holder=holder, expires_at=now + NOTE_LOCK_TTL)
                    .on_conflict_do_nothing(index_elements=["name"])
                ).rowcount
            if taken:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the note lock of {incident_id} stayed taken for {wait:.0f} s")
            time.sleep(0.05)
        try:
            yield
        finally:
            with self._begin() as conn:
                conn.execute(delete(locks).where(locks.c.name == name, locks.c.holder == holder))
