"""The responder's work: accept webhook events, run investigations, apply humans' decisions.

Accepted work lives in the ledger (:mod:`agents.responder.ledger`), never in memory: a webhook
is a ``queued`` row before its 202, and ``workers`` threads claim rows with a lease that a
heartbeat renews while they work. When a replica dies, its leases run out and any replica takes
the work over, resuming each graph thread from its checkpoint; a replica started on the same
host takes the work of a dead process there (its lease owner names host and pid) at once. An
in-memory event only wakes the workers early. Briefs waiting for a human are not work: nothing
re-runs them on a restart.

An investigation that finds no incident (PagerDuty unreachable after the client's retries, a
refused key, an unknown incident) is retried after each of ``retry_delays``, then ends
``failed`` with the reason; a later webhook for the incident queues it again. A decision is a
compare-and-set in the ledger, and the note is posted under the incident's database lock, so
racing decisions on any replicas give one outcome and at most one note. Finished investigations
and seen event ids are deleted after ``retention_days``. All workers share one PagerDutyClient,
so its rate budget holds for all of them.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal

from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from agents.responder.graph import NOTES_DISABLED
from agents.responder.ledger import Accepted, Investigation, Ledger
from agents.responder.review import response_for
from agents.responder.webhooks import Event, EventFilter, IncidentData
from pd_toolkit.directory import parse_incident_ref
from pd_toolkit.errors import IncidentRefError
from pd_toolkit.phrases import clean_name, quote_untrusted

logger = logging.getLogger("agents.responder")
DAY = 86_400.0
PRUNE_EVERY = 3_600.0


def lease_owner(name: str) -> str:
    """How this process signs its leases: ``name@host:pid:instance`` (unique per process, and
    telling a replica on the same host whether the holder still runs)."""
    return f"{name}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class DecisionError(Exception):
    """A decision that could not be applied; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


class Responder:
    """Investigations over one checkpointed graph and one ledger (see the module docstring)."""

    def __init__(
        self,
        graph: CompiledStateGraph,
        ledger: Ledger,
        *,
        name: str,
        event_filter: EventFilter | None = None,
        workers: int = 4,
        backlog: int = 100,
        notes_enabled: bool = False,
        lease_seconds: float = 60.0,
        retry_delays: Sequence[float] = (30.0, 120.0, 600.0),
        poll_interval: float = 1.0,
        retention_days: float = 30.0,
        brief_url: Callable[[str], str] = lambda incident_id: f"/investigations/{incident_id}",
    ) -> None:
        self.graph = graph
        self.ledger = ledger
        self.owner = lease_owner(name or socket.gethostname())
        self.filter = event_filter or EventFilter()
        self.workers = max(1, workers)
        self.backlog = max(1, backlog)
        self.notes_enabled = notes_enabled
        self.lease = lease_seconds
        self.retry_delays = list(retry_delays)
        self.poll_interval = poll_interval
        self.retention = retention_days * DAY
        self.brief_url = brief_url
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._running = 0
        self.max_running = 0  # the most investigations that ran at once
        self._pruned_at = 0.0

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Responder:
        """Hand on this owner's earlier leases, prune, then start the workers and heartbeat."""
        released = self.ledger.release_dead(self._is_dead)
        if released:
            logger.info("taking over %d investigation(s) of a stopped replica", released)
        for number in range(self.workers):
            self._spawn(self._work, f"responder-{number}")
        self._spawn(self._heartbeat, "responder-heartbeat")
        return self

    def _is_dead(self, owner: str) -> bool:
        """Whether a lease owner (see :func:`lease_owner`) is a process of this host that no
        longer runs: its pid is gone, or is this very process (a container's pid 1 again)."""
        _, _, where = owner.rpartition("@")
        host, _, rest = where.partition(":")
        pid_text = rest.partition(":")[0]
        if host != socket.gethostname() or not pid_text.isdigit():
            return False
        pid = int(pid_text)
        if pid == os.getpid():
            return owner != self.owner
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking work; wait for running investigations to reach a checkpoint."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads.clear()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """True once no work is due and no worker is busy (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._running == 0 and self.ledger.count("queued", "running", due=True) == 0:
                return True
            time.sleep(0.05)
        return False

    # -- webhooks -------------------------------------------------------------------------

    def accept(self, event: Event) -> Accepted:
        """Filter one verified event and record it (raises ValidationError on an event whose
        incident data is malformed)."""
        why_not = self.filter.why_not(event)
        incident = IncidentData.model_validate(event.data) if why_not is None else None
        title = clean_name(incident.title, 200) if incident and incident.title else None
        accepted = self.ledger.accept(
            event.id,
            incident.id if incident else None,
            number=incident.number if incident else None,
            title=title,
            ignored=why_not,
            backlog=self.backlog,
        )
        if accepted.outcome == "queued":
            logger.info("queued incident %s (event %s)", accepted.incident_id, event.id)
            self._wake.set()
        elif accepted.outcome == "dropped":
            logger.warning(
                "refused %s for incident %s: %s (PagerDuty delivers it again)",
                event.event_type,
                accepted.incident_id,
                accepted.detail,
            )
        return accepted

    # -- workers --------------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                claim = self.ledger.claim(self.owner, self.lease)
            except Exception as exc:  # the database is away: wait, then try again
                logger.warning("cannot claim work: %s", type(exc).__name__)
                claim = None
            if claim is None:
                self._wake.wait(self.poll_interval)
                self._wake.clear()
                continue
            with self._holding(claim.incident_id), self._counted():
                try:
                    if claim.status == "approving":
                        self._post(claim)
                    else:
                        self._investigate(claim)
                except Exception:  # one investigation never stops a worker; its lease runs out
                    logger.exception("work on incident %s failed", claim.incident_id)

    def _heartbeat(self) -> None:
        """Renew the leases this replica holds; prune once an hour."""
        while not self._stop.wait(self.lease / 3):
            try:
                with self._lock:
                    held = sorted(self._held)
                self.ledger.renew(self.owner, held, self.lease)
                if time.monotonic() - self._pruned_at >= PRUNE_EVERY:
                    self.prune()
            except Exception as exc:
                logger.warning("heartbeat failed: %s", type(exc).__name__)

    @contextmanager
    def _holding(self, incident_id: str) -> Iterator[None]:
        with self._lock:
            self._held.add(incident_id)
        try:
            yield
        finally:
            with self._lock:
                self._held.discard(incident_id)

    @contextmanager
    def _counted(self) -> Iterator[None]:
        with self._lock:
            self._running += 1
            self.max_running = max(self.max_running, self._running)
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1

    @staticmethod
    def _config(row: Investigation) -> dict[str, Any]:
        return {"configurable": {"thread_id": row.thread_id}}

    def _investigate(self, claim: Investigation) -> None:
        """Run (or resume from its checkpoint) the claimed investigation until it waits for a
        decision; else retry it later or mark it failed."""
        config = self._config(claim)
        try:
            snapshot = self.graph.get_state(config)
            if not snapshot.interrupts:
                request = None if snapshot.next else {"incident": claim.incident_id}
                self.graph.invoke(request, config, durability="sync")
                snapshot = self.graph.get_state(config)
        except Exception as exc:
            self._failed(claim, f"{type(exc).__name__}: {exc}")
            return
        if not snapshot.interrupts:
            record = (snapshot.values.get("lookups") or {}).get("incident") or {}
            self._failed(claim, record.get("error") or "the investigation found no incident")
            return
        target = snapshot.values.get("target") or {}
        number = target.get("incident_number") or claim.incident_number
        title = target.get("title") or claim.title
        if self.ledger.move(
            claim.incident_id,
            owner=self.owner,
            status="running",
            to="awaiting_approval",
            error=None,
            incident_number=number,
            title=clean_name(title, 200) if title else None,
        ):
            logger.info(
                "Brief ready for approval: incident #%s %s: %s",
                number,
                quote_untrusted(title, 80),
                self.brief_url(claim.incident_id),
            )

    def _failed(self, claim: Investigation, reason: str) -> None:
        reason = clean_name(reason, 500)
        if claim.attempts <= len(self.retry_delays):
            delay = self.retry_delays[claim.attempts - 1]
            self.ledger.retry_later(claim.incident_id, owner=self.owner, delay=delay, error=reason)
            logger.warning(
                "investigation of %s failed (attempt %d): %s; retrying in %g s",
                claim.incident_id,
                claim.attempts,
                reason,
                delay,
            )
        else:
            self.ledger.move(
                claim.incident_id, owner=self.owner, status="running", to="failed", error=reason
            )
            logger.warning(
                "investigation of %s failed after %d attempt(s): %s (a new webhook retries it)",
                claim.incident_id,
                claim.attempts,
                reason,
            )

    # -- decisions ------------------------------------------------------------------------

    def find(self, reference: str) -> Investigation | None:
        """An investigation by incident id, or number (``1234`` or ``#1234``)."""
        try:
            ref = parse_incident_ref(reference)
        except IncidentRefError:
            return None
        return self.ledger.by_number(int(ref)) if ref.isdigit() else self.ledger.get(ref)

    def decide(
        self,
        reference: str,
        decision: Literal["approve", "reject"],
        text: str | None = None,
    ) -> Investigation:
        """Approve (posting the brief, or ``text`` instead) or reject a waiting brief.

        Raises DecisionError: 404 unknown incident, 409 not awaiting approval (another
        decision won; the message names it) or notes disabled, 502 PagerDuty refused the note
        (the brief stays awaiting approval), 503 the note's outcome is not known yet.
        """
        row = self.find(reference)
        if row is None:
            raise DecisionError(404, f"No investigation of incident {clean_name(reference, 40)}")
        if decision == "approve" and not self.notes_enabled:
            raise DecisionError(409, NOTES_DISABLED)
        won = self.ledger.decide(
            row.incident_id, decision, owner=self.owner, lease=self.lease, text=text
        )
        if won is None:
            raise DecisionError(409, self._taken(row.incident_id))
        logger.info("incident %s: %s (decision %s)", row.incident_id, decision, won.decision_id)
        if decision == "reject":
            self._close(won)
            return won
        with self._holding(won.incident_id):
            try:
                updated = self._post(won)
            except Exception as exc:
                logger.exception("posting the note on %s failed", won.incident_id)
                raise DecisionError(
                    503,
                    f"The approval of {won.incident_id} is recorded but the note's outcome is "
                    f"unknown ({type(exc).__name__}); a responder retries it within "
                    f"{self.lease:g} s.",
                ) from None
        if updated.status == "awaiting_approval" and updated.error:
            raise DecisionError(502, updated.error)
        return updated

    def _taken(self, incident_id: str) -> str:
        """Why a decision lost: the decision that won, or the status that stands."""
        row = self.ledger.get(incident_id)
        if row is None:
            return f"No investigation of incident {incident_id}"
        if row.decision is None:
            return f"Incident {incident_id} is {row.status}, not awaiting approval"
        return (
            f"Incident {incident_id} is {row.status}, not awaiting approval: decision "
            f"{row.decision_id} ({row.decision}) won at {_iso(row.decided_at)} on "
            f"{clean_name(row.decided_on, 80)}"
        )

    def _close(self, rejected: Investigation) -> None:
        """End a rejected investigation's graph thread (the ledger already says rejected)."""
        resume = response_for("reject", rejected.decision_text, rejected.decision_id)
        try:
            self.graph.invoke(Command(resume=resume), self._config(rejected), durability="sync")
        except Exception as exc:
            logger.warning("closing %s's thread: %s", rejected.incident_id, type(exc).__name__)

    def _post(self, row: Investigation) -> Investigation:
        """Carry out an approval (``approving``, leased to this replica): resume the graph with
        the decision, or continue it where a dead replica left it; the row afterwards."""
        config = self._config(row)
        resume = response_for("approve", row.decision_text, row.decision_id)
        snapshot = self.graph.get_state(config)
        if snapshot.interrupts:
            self.graph.invoke(Command(resume=resume), config, durability="sync")
        elif snapshot.next:
            self.graph.invoke(None, config, durability="sync")
        values = self.graph.get_state(config).values
        note = values.get("note")
        if note and note.get("approval_id") == row.decision_id:
            self.ledger.move(
                row.incident_id,
                owner=self.owner,
                status="approving",
                to="posted",
                note_id=note.get("note_id"),
            )
            logger.info("incident %s: note %s posted", row.incident_id, note.get("note_id"))
        else:
            error = values.get("note_error") or "the note was not posted"
            self.ledger.move(
                row.incident_id,
                owner=self.owner,
                status="approving",
                to="awaiting_approval",
                error=clean_name(error, 500),
                decision=None,
                decision_id=None,
                decision_text=None,
                decided_at=None,
                decided_on=None,
            )
            logger.warning("incident %s: note not posted: %s", row.incident_id, error)
        return self.ledger.get(row.incident_id) or row

    # -- reading --------------------------------------------------------------------------

    def view(self, row: Investigation, *, brief: bool = True) -> dict[str, Any]:
        """The JSON an HTTP reader sees of one investigation (the brief from the checkpoint)."""
        shown: dict[str, Any] = {
            "incident_id": row.incident_id,
            "incident_number": row.incident_number,
            "title": row.title,
            "status": row.status,
            "error": row.error,
            "note_id": row.note_id,
            "attempts": row.attempts,
            "retry_at": _iso(row.not_before) if row.status == "queued" and row.error else None,
            "decision": row.decision,
            "decided_at": _iso(row.decided_at),
            "created_at": _iso(row.created_at),
            "updated_at": _iso(row.updated_at),
        }
        if row.decision == "reject":
            shown["reason"] = row.decision_text
        if brief:  # only an investigation that found its incident has one
            values = self.graph.get_state(self._config(row)).values
            target = values.get("target") or {}
            shown["brief"] = values.get("brief") if target else None
            shown["incident"] = {
                "service": (target.get("service") or {}).get("summary"),
                "urgency": target.get("urgency"),
                "status": target.get("status"),
                "created_at": target.get("created_at"),
                "html_url": target.get("html_url"),
            }
        return shown

    # -- housekeeping ---------------------------------------------------------------------

    def prune(self, now: float | None = None) -> int:
        """Delete finished investigations (and their graph threads) and event ids older than
        the retention period; how many investigations went."""
        self._pruned_at = time.monotonic()
        threads = self.ledger.prune((now or time.time()) - self.retention)
        for thread_id in threads:
            self.graph.checkpointer.delete_thread(thread_id)
        if threads:
            logger.info("pruned %d finished investigation(s)", len(threads))
        return len(threads)
