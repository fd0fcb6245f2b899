"""The responder's list of investigations and of webhook events seen, in a LangGraph store
(shared across restarts, and across responders on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from langgraph.store.base import BaseStore
from pydantic import BaseModel

Status = Literal["queued", "running", "awaiting_approval", "posted", "rejected", "failed"]
OPEN_STATUSES: frozenset[str] = frozenset({"queued", "running", "awaiting_approval"})
_INVESTIGATIONS = ("pd_toolkit_responder", "investigations")
_EVENTS = ("pd_toolkit_responder", "events")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class InvestigationRecord(BaseModel):
    """One incident's investigation as ``GET /investigations`` lists it."""

    incident_id: str
    incident_number: int | None = None
    title: str | None = None
    status: Status = "queued"
    brief: str | None = None
    error: str | None = None
    note_id: str | None = None
    owner: str = ""
    created_at: str = ""
    updated_at: str = ""


class Registry:
    """Investigations by incident id, and event ids for deduplication."""

    def __init__(self, store: BaseStore) -> None:
        self.store = store

    def get(self, incident_id: str) -> InvestigationRecord | None:
        item = self.store.get(_INVESTIGATIONS, incident_id)
        return InvestigationRecord.model_validate(item.value) if item else None

    def find(self, reference: str) -> InvestigationRecord | None:
        """By incident id, or by number (``1234`` or ``#1234``)."""
        found = self.get(reference)
        number = reference.lstrip("#")
        if found is None and number.isdigit():
            found = next((r for r in self.all() if r.incident_number == int(number)), None)
        return found

    def put(self, record: InvestigationRecord) -> InvestigationRecord:
        record.updated_at = _now()
        record.created_at = record.created_at or record.updated_at
        self.store.put(_INVESTIGATIONS, record.incident_id, record.model_dump(mode="json"))
        return record

    def update(self, incident_id: str, **changes: object) -> InvestigationRecord:
        record = self.get(incident_id) or InvestigationRecord(incident_id=incident_id)
        return self.put(record.model_copy(update=changes))

    def delete(self, incident_id: str) -> None:
        self.store.delete(_INVESTIGATIONS, incident_id)

    def all(self) -> list[InvestigationRecord]:
        """Every investigation, oldest first."""
        items, offset = [], 0
        while True:
            page = self.store.search(_INVESTIGATIONS, limit=500, offset=offset)
            items += page
            if len(page) < 500:
                break
            offset += len(page)
        records = [InvestigationRecord.model_validate(item.value) for item in items]
        return sorted(records, key=lambda r: (r.created_at, r.incident_id))

    def seen(self, event_id: str) -> bool:
        return self.store.get(_EVENTS, event_id) is not None

    def remember(self, event_id: str, incident_id: str | None) -> None:
        self.store.put(_EVENTS, event_id, {"incident_id": incident_id, "at": _now()})
