"""The responder's graph for ``langgraph dev`` and LangGraph Studio (see langgraph.json).

Studio runs the graph with its own checkpointer and shows ``await_approval``'s interrupt (in
LangChain's human-in-the-loop shape) for a person to approve, edit or reject. Notes are off
unless PD_TOOLKIT_ALLOW_NOTES=1 (with PAGERDUTY_FROM_EMAIL for a User Token key): then an
approval posts the note through the client's one write (``with_writes("incident_note")``).
The incident lock across replicas is the responder's ledger's; a ``langgraph dev`` server is
one process that runs a thread's runs one at a time, and the writer's marker check keeps a
re-run approval from posting twice, so no lock is taken here.
"""

from __future__ import annotations

import os
from contextlib import nullcontext

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from agents.investigate import client_from_env
from agents.llm import chat_model_from_settings
from agents.responder.graph import build_responder_graph
from agents.responder.notes import IncidentNoteWriter
from pd_toolkit.scope import teams_from_env


def _notes_allowed() -> bool:
    return os.environ.get("PD_TOOLKIT_ALLOW_NOTES", "").strip().lower() in {"1", "true", "yes"}


def graph(config: RunnableConfig) -> CompiledStateGraph:
    """Graph factory: built from the environment at run time (PAGERDUTY_API_KEY, ...), without
    a checkpointer (the server brings one) and without opening the store in its event loop."""
    client = client_from_env()
    writer = (
        IncidentNoteWriter(
            client.with_writes("incident_note"),
            from_email=os.environ.get("PAGERDUTY_FROM_EMAIL"),
        )
        if _notes_allowed()
        else None
    )
    return build_responder_graph(
        client,
        None,
        writer=writer,
        model=chat_model_from_settings(),
        rest_url=lambda incident_id: f"the brief in this LangGraph thread ({incident_id})",
        note_lock=lambda incident_id: nullcontext(),
        teams=teams_from_env(),
        open_store=False,
    )
