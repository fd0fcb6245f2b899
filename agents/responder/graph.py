"""The responder's graph: the investigation, then a human's decision, then at most one note.

    START -> investigation (agents.investigate) -> await_approval --approve--> post_note -> END
                   |                                    ^    |                    |
                   +-- no incident found --> END        |    +--reject--> END     |
                                                        +------- note failed -----+

``await_approval`` pauses with ``interrupt()`` in LangChain's human-in-the-loop shape (see
:mod:`agents.responder.review`); ``Command(resume={"decisions": [...]})`` continues it. A note
that cannot be posted (read-only key, notes disabled, PagerDuty down) records why and waits for
a decision again, so the brief stays available.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import interrupt

from agents.investigate import InvestigationInput, InvestigationState, add_investigation
from agents.responder.notes import IncidentNoteWriter
from agents.responder.review import Decision, ReviewError, read_response, review_request
from pd_toolkit import PagerDutyClient
from pd_toolkit.errors import PagerDutyError

NOTES_DISABLED = (
    "Notes are disabled: this responder runs without --allow-notes, so it never writes to "
    "PagerDuty. The brief stays available here."
)


class NoteRecord(TypedDict):
    """The note that was posted."""

    note_id: str | None
    approval_id: str
    already_posted: bool
    cut: bool


class ResponderState(InvestigationState, total=False):
    """The investigation's state plus the decision and the note."""

    decision: Decision | None
    refused: str | None  # why the last resume value was not a decision
    note: NoteRecord
    note_error: str | None


def build_responder_graph(
    client: PagerDutyClient,
    checkpointer: BaseCheckpointSaver | None,
    *,
    writer: IncidentNoteWriter | None,
    model: BaseChatModel | None = None,
    rest_url: Callable[[str], str],
    note_lock: Callable[[str], AbstractContextManager[object]],
    teams: list[str] | None = None,
    open_store: bool = True,
) -> CompiledStateGraph:
    """The compiled, checkpointed responder graph (one thread per run of an incident's
    investigation). ``checkpointer``: None where the platform brings its own (``langgraph
    dev``, LangGraph Studio).

    ``writer``: the note writer, or None when notes are disabled. ``rest_url``: where the whole
    brief of an incident is, for a note cut to PagerDuty's limit. ``note_lock``: the incident's
    lock across replicas, held while looking for the note's marker and posting it. ``teams``:
    the team scope the lookups answer within. The toolkit's history store is PD_TOOLKIT_STORE
    (or the default file); ``open_store=False`` opens it in the first run instead (see
    :func:`agents.investigate.build_graph`). An investigation that found no incident ends
    without asking for a decision (the caller marks it failed, with the reason, and may retry).
    """
    builder = StateGraph(ResponderState, input_schema=InvestigationInput)
    last = add_investigation(builder, client, model, teams=teams, open_store=open_store)

    def await_approval(state: ResponderState) -> dict[str, Any]:
        """Pause until a human approves, edits and approves, or rejects. A resume value that
        is none of these is recorded and asked again (a new interrupt: LangGraph would give
        this one the same value again)."""
        problem = state.get("refused") or state.get("note_error")
        request = review_request(state.get("target") or {}, state.get("brief") or "", problem)
        try:
            return {"decision": read_response(interrupt(request), request), "refused": None}
        except ReviewError as exc:
            return {"decision": None, "refused": str(exc)}

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
        decision = state["decision"]
        if decision is None:
            return "await_approval"
        return "post_note" if decision.get("decision") == "approve" else END

    def after_post(state: ResponderState) -> str:
        return "await_approval" if state.get("note_error") else END

    builder.add_node("await_approval", await_approval)
    builder.add_node("post_note", post_note)

    def after_investigation(state: ResponderState) -> str:
        return "await_approval" if state.get("target") else END

    builder.add_conditional_edges(last, after_investigation, ["await_approval", END])
    builder.add_conditional_edges(
        "await_approval", after_decision, ["await_approval", "post_note", END]
    )
    builder.add_conditional_edges("post_note", after_post, ["await_approval", END])
    return builder.compile(checkpointer=checkpointer, name="responder")
