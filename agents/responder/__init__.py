"""The responder: PagerDuty v3 webhooks -> investigation -> human approval -> one note.

    python -m agents.responder --host H --port P [--allow-notes] [--from-email E]

Modules: ``webhooks`` (signatures, envelope, filter), ``persistence`` (checkpointer and ledger:
memory, SQLite, PostgreSQL), ``ledger`` (the rows replicas coordinate through: work, leases,
decisions, event ids, note locks), ``graph`` (the checkpointed graph with its ``interrupt()``),
``review`` (that interrupt and its decisions in LangChain's human-in-the-loop shape), ``studio``
(the graph for ``langgraph dev``),
``notes`` (the note writer: the project's one write), ``service`` (workers, heartbeat,
decisions), ``app`` (HTTP), ``page`` (the approval page at the same URLs), with ``session``
(signed cookies, CSRF) and ``templates`` (its HTML), ``server`` (wiring it together),
``decide`` (``pd-toolkit approve|reject``), ``demo`` (the whole loop on the sandbox).
"""

from agents.responder.server import ResponderSettings, RunningResponder, running_responder

__all__ = ["ResponderSettings", "RunningResponder", "running_responder"]
