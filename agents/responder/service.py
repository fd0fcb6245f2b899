"""The responder's work: accept webhook events, run investigations on a bounded pool, and
apply humans' decisions.

Accepting an event is quick (a dedupe check, a registry write, a queue put); investigations
run on ``workers`` threads fed by a queue of at most ``queue_size`` incidents. When the queue
is full the event is dropped with a log line and answered 503, so PagerDuty redelivers it
later; nothing accepted is lost, because an accepted investigation is in the registry first
and a restarted responder re-queues every unfinished one (resuming from its checkpoint).
All workers share one PagerDutyClient, so its 960/minute rate budget holds for all of them.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from pydantic import BaseModel

from agents.responder.graph import NOTES_DISABLED, Decision
from agents.responder.registry import OPEN_STATUSES, InvestigationRecord, Registry
from agents.responder.webhooks import Event, EventFilter, IncidentData

logger = logging.getLogger("agents.responder")


class Accepted(BaseModel):
    """What happened to one webhook event."""

    outcome: Literal["queued", "duplicate", "ignored", "known", "dropped"]
    incident_id: str | None = None
    detail: str = ""


class DecisionError(Exception):
    """A decision that could not be applied; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Responder:
    """Investigations over one checkpointed graph (see the module docstring)."""

    def __init__(
        self,
        graph: CompiledStateGraph,
        registry: Registry,
        *,
        event_filter: EventFilter | None = None,
        workers: int = 4,
        queue_size: int = 100,
        notes_enabled: bool = False,
        owner: str = "",
    ) -> None:
        self.graph = graph
        self.registry = registry
        self.filter = event_filter or EventFilter()
        self.notes_enabled = notes_enabled
        self.owner = owner
        self.workers = max(1, workers)
        self._queue: queue.Queue[str] = queue.Queue(maxsize=max(1, queue_size))
        self._accept_lock = threading.Lock()
        self._incident_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running = 0
        self.max_running = 0  # the most investigations that ran at once

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Responder:
        """Re-queue this owner's unfinished investigations, then start the workers."""
        for record in self.registry.all():
            if record.status in OPEN_STATUSES and record.owner == self.owner:
                try:
                    self._queue.put_nowait(record.incident_id)
                except queue.Full:
                    logger.warning("resume queue full; %s waits for a restart", record.incident_id)
        for number in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"responder-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking work; wait for running investigations to reach a checkpoint."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads.clear()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """True once the queue is empty and no investigation runs (tests, benchmarks)."""
        done = threading.Event()

        def waiter() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        return done.wait(timeout)

    # -- webhooks -------------------------------------------------------------------------

    def accept(self, event: Event) -> Accepted:
        """Deduplicate, filter and queue one verified event."""
        with self._accept_lock:
            if self.registry.seen(event.id):
                return Accepted(outcome="duplicate", detail="event already received")
            why_not = self.filter.why_not(event)
            if why_not is not None:
                self.registry.remember(event.id, None)
                return Accepted(outcome="ignored", detail=why_not)
            incident = IncidentData.model_validate(event.data)
            known = self.registry.get(incident.id)
            if known is not None:
                self.registry.remember(event.id, incident.id)
                return Accepted(
                    outcome="known", incident_id=incident.id, detail=f"already {known.status}"
                )
            self.registry.put(
                InvestigationRecord(
                    incident_id=incident.id,
                    incident_number=incident.number,
                    title=(incident.title or "")[:200] or None,
                    owner=self.owner,
                )
            )
            try:
                self._queue.put_nowait(incident.id)
            except queue.Full:
                self.registry.delete(incident.id)
                logger.warning(
                    "dropped %s for incident %s: %d investigations already queued",
                    event.event_type,
                    incident.id,
                    self._queue.maxsize,
                )
                return Accepted(outcome="dropped", incident_id=incident.id, detail="queue full")
            self.registry.remember(event.id, incident.id)
            logger.info("queued incident %s (event %s)", incident.id, event.id)
            return Accepted(outcome="queued", incident_id=incident.id)

    # -- investigations -------------------------------------------------------------------

    @staticmethod
    def _config(incident_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": incident_id}}

    @contextmanager
    def _incident_lock(self, incident_id: str) -> Iterator[None]:
        with self._locks_lock:
            lock = self._incident_locks.setdefault(incident_id, threading.Lock())
        with lock:
            yield

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                incident_id = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            try:
                with self._counted():
                    self.run(incident_id)
            except Exception:  # one investigation never stops a worker
                logger.exception("investigation of %s failed", incident_id)
            finally:
                self._queue.task_done()

    @contextmanager
    def _counted(self) -> Iterator[None]:
        with self._locks_lock:
            self._running += 1
            self.max_running = max(self.max_running, self._running)
        try:
            yield
        finally:
            with self._locks_lock:
                self._running -= 1

    def run(self, incident_id: str) -> InvestigationRecord:
        """Run (or resume from its checkpoint) one incident's graph until it waits for a
        decision or ends; the updated record."""
        config = self._config(incident_id)
        with self._incident_lock(incident_id):
            snapshot = self.graph.get_state(config)
            if snapshot.interrupts:
                return self._record(incident_id)
            self.registry.update(incident_id, status="running")
            started = bool(snapshot.next)
            request = None if started else {"incident": incident_id}
            try:
                self.graph.invoke(request, config, durability="sync")
            except Exception as exc:
                logger.warning("investigation of %s failed: %s", incident_id, type(exc).__name__)
                return self.registry.update(
                    incident_id, status="failed", error=f"{type(exc).__name__}: {exc}"[:500]
                )
            return self._record(incident_id)

    def _record(self, incident_id: str) -> InvestigationRecord:
        """The registry record brought in line with the graph's state."""
        snapshot = self.graph.get_state(self._config(incident_id))
        values = snapshot.values
        target = values.get("target") or {}
        changes: dict[str, Any] = {
            "brief": values.get("brief"),
            "error": values.get("note_error"),
            "incident_number": target.get("incident_number"),
            "title": (target.get("title") or "")[:200] or None,
        }
        if snapshot.interrupts:
            changes["status"] = "awaiting_approval"
        elif snapshot.next:
            changes["status"] = "running"
        elif values.get("note"):
            changes.update(status="posted", note_id=values["note"]["note_id"], error=None)
        elif values.get("decision", {}).get("decision") == "reject":
            changes.update(status="rejected", error=None)
        else:
            changes["status"] = "failed"
        known = self.registry.get(incident_id)
        if known is not None and changes["incident_number"] is None:
            changes["incident_number"] = known.incident_number
        return self.registry.update(incident_id, **changes)

    # -- decisions ------------------------------------------------------------------------

    def decide(
        self,
        reference: str,
        decision: Literal["approve", "reject"],
        text: str | None = None,
    ) -> InvestigationRecord:
        """Approve (posting the brief, or ``text`` instead) or reject a waiting brief.

        Raises DecisionError: 404 unknown incident, 409 not awaiting approval or notes
        disabled, 502 PagerDuty refused the note (the brief stays awaiting approval).
        """
        record = self.registry.find(reference)
        if record is None:
            raise DecisionError(404, f"No investigation of incident {reference}")
        incident_id = record.incident_id
        with self._incident_lock(incident_id):
            snapshot = self.graph.get_state(self._config(incident_id))
            if not snapshot.interrupts:
                raise DecisionError(
                    409, f"Incident {incident_id} is {record.status}, not awaiting approval"
                )
            if decision == "approve" and not self.notes_enabled:
                raise DecisionError(409, NOTES_DISABLED)
            resume = Decision(decision=decision, text=text, approval_id=uuid.uuid4().hex[:16])
            self.graph.invoke(Command(resume=resume), self._config(incident_id), durability="sync")
            updated = self._record(incident_id)
        if updated.status == "awaiting_approval" and updated.error:
            raise DecisionError(502, updated.error)
        logger.info("incident %s %s", incident_id, updated.status)
        return updated
