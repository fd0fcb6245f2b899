"""The responder's graph: the investigation, then a human's decision, then at most one note.

    START -> investigation (agents.investigate) -> await_approval --approve--> post_note -> END
                   |                                    ^    |                    |
                   +-- no incident found --> END        |    +--reject--> END     |
                                                        +------- note failed -----+

``await_approval`` pauses with ``interrupt()``; ``Command(resume=Decision)`` continues it. A
note that cannot be posted (read-only key, notes disabled, PagerDuty down) records why and
waits for a decision again, so the brief stays available.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Literal, TypedDict

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import interrupt

from agents.investigate import InvestigationInput, InvestigationState, add_investigation
from agents.responder.notes import IncidentNoteWriter
from pd_toolkit import PagerDutyClient
from pd_toolkit.errors import PagerDutyError

NOTES_DISABLED = (
    "Notes are disabled: this responder runs without --allow-notes, so it never writes to "
    "PagerDuty. The brief stays available here."
)


class Decision(TypedDict, total=False):
    """A human's decision, the value ``Command(resume=...)`` carries."""

    decision: Literal["approve", "reject"]
    text: str | None  # an edited brief to post instead
    approval_id: str  # one per approval: the note's marker


class NoteRecord(TypedDict):
    """The note that was posted."""

    note_id: str | None
    approval_id: str
    already_posted: bool
    cut: bool


class ResponderState(InvestigationState, total=False):
    """The investigation's state plus the decision and the note."""

    decision: Decision
    note: NoteRecord
    note_error: str | None


def build_responder_graph(
    client: PagerDutyClient,
    checkpointer: BaseCheckpointSaver,
    *,
    writer: IncidentNoteWriter | None,
    model: BaseChatModel | None = None,
    rest_url: Callable[[str], str],
    note_lock: Callable[[str], AbstractContextManager[object]],
    teams: list[str] | None = None,
) -> CompiledStateGraph:
    """The compiled, checkpointed responder graph (one thread per run of an incident's
    investigation).

    ``writer``: the note writer, or None when notes are disabled. ``rest_url``: where the whole
    brief of an incident is, for a note cut to PagerDuty's limit. ``note_lock``: the incident's
    lock across replicas, held while looking for the note's marker and posting it. ``teams``:
    the team scope the lookups answer within. The toolkit's history store is PD_TOOLKIT_STORE
    (or the default file). An investigation that found no incident ends without asking for a
    decision (the caller marks it failed, with the reason, and may retry).
    """
    builder = StateGraph(ResponderState, input_schema=InvestigationInput)
    last = add_investigation(builder, client, model, teams=teams)

    def await_approval(state: ResponderState) -> dict[str, Any]:
        """Pause until a human approves (optionally with an edited text) or rejects."""
        target = state.get("target") or {}
        decision: Decision = interrupt(
            {
                "incident_id": target.get("id"),
                "brief": state.get("brief"),
                "note_error": state.get("note_error"),
            }
        )
        return {"decision": decision}

    def post_note(state: ResponderState) -> dict[str, Any]:
        """Post the approved text once; on failure record why (and wait for a decision)."""
        decision = state["decision"]
        incident_id = (state.get("target") or {}).get("id")
        if writer is None:
            return {"note_error": NOTES_DISABLED}
        if not incident_id:
            return {"note_error": "The investigation found no incident to post a note on."}
        text = decision.get("text") or state.get("brief") or ""
        try:
            with note_lock(incident_id):
                posted = writer.post_once(
                    incident_id,
                    text,
                    approval_id=decision["approval_id"],
                    rest=rest_url(incident_id),
                )
        except PagerDutyError as exc:
            return {"note_error": str(exc)}
        return {
            "note_error": None,
            "note": NoteRecord(
                note_id=posted.note_id,
                approval_id=decision["approval_id"],
                already_posted=posted.already_posted,
                cut=posted.cut,
            ),
        }

    def after_decision(state: ResponderState) -> str:
        return "post_note" if state["decision"].get("decision") == "approve" else END

    def after_post(state: ResponderState) -> str:
        return "await_approval" if state.get("note_error") else END

    builder.add_node("await_approval", await_approval)
    builder.add_node("post_note", post_note)

    def after_investigation(state: ResponderState) -> str:
        return "await_approval" if state.get("target") else END

    builder.add_conditional_edges(last, after_investigation, ["await_approval", END])
    builder.add_conditional_edges("await_approval", after_decision, ["post_note", END])
    builder.add_conditional_edges("post_note", after_post, ["await_approval", END])
    return builder.compile(checkpointer=checkpointer, name="responder")
