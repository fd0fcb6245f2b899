"""Wiring: settings -> persistence, graph, note writer, workers and the HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from agents.responder.app import ResponderApp
from agents.responder.graph import build_responder_graph
from agents.responder.persistence import open_persistence
from agents.responder.registry import Registry
from agents.responder.service import Responder
from agents.responder.webhooks import EventFilter
from pd_toolkit import PagerDutyClient
from pd_toolkit.notes import IncidentNoteWriter


class ResponderSettings(BaseModel):
    """Everything the responder is configured with (secrets are only held, never shown)."""

    model_config = {"arbitrary_types_allowed": True}

    host: str = "127.0.0.1"
    port: int = 8787
    public_url: str | None = None  # where people reach this responder (for a cut note)
    state: str = "memory"  # "memory", a SQLite path, or a PostgreSQL URL
    webhook_secrets: list[str] = []
    approval_token: str | None = None
    allow_notes: bool = False
    from_email: str | None = None
    workers: int = 4
    queue_size: int = 100
    event_filter: EventFilter = EventFilter()
    owner: str = ""  # which responder resumes an unfinished investigation after a restart

    def __repr__(self) -> str:
        return f"ResponderSettings(host={self.host!r}, port={self.port}, state=...)"

    __str__ = __repr__


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (the responder logs what it does with each event)."""

    def log(self, type: str, message: str, *args: object) -> None:
        if type != "info":
            super().log(type, message, *args)


@dataclass
class RunningResponder:
    """A responder serving HTTP from a background thread."""

    responder: Responder
    server: BaseWSGIServer

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.server_port}"


@contextmanager
def running_responder(
    client: PagerDutyClient,
    settings: ResponderSettings,
    model: BaseChatModel | None = None,
) -> Iterator[RunningResponder]:
    """Start the responder (re-queuing unfinished investigations) and serve until exit."""
    writer = (
        IncidentNoteWriter(client, from_email=settings.from_email) if settings.allow_notes else None
    )
    server_box: list[BaseWSGIServer] = []

    def rest_url(incident_id: str) -> str:
        base = settings.public_url or (
            f"http://{settings.host}:{server_box[0].server_port}" if server_box else ""
        )
        return f"{base}/investigations/{incident_id}"

    with open_persistence(settings.state) as (checkpointer, store):
        graph = build_responder_graph(
            client,
            checkpointer,
            writer=writer,
            model=model,
            rest_url=rest_url,
        )
        responder = Responder(
            graph,
            Registry(store),
            event_filter=settings.event_filter,
            workers=settings.workers,
            queue_size=settings.queue_size,
            notes_enabled=writer is not None,
            owner=settings.owner,
        )
        app = ResponderApp(
            responder, secrets=settings.webhook_secrets, approval_token=settings.approval_token
        )
        server = make_server(
            settings.host, settings.port, app, threaded=True, request_handler=_QuietHandler
        )
        server_box.append(server)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        responder.start()
        thread.start()
        try:
            yield RunningResponder(responder, server)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
            responder.stop()
            if writer is not None:
                writer.close()
