"""Wiring: settings -> persistence, graph, note writer, workers and the HTTP server.

The HTTP server is waitress: its event loop reads requests without tying up a thread, closes a
connection idle (or half-sent) for ``read_timeout`` seconds, and stops accepting beyond
``max_connections``; ``http_threads`` threads run the app.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field, SecretStr
from waitress.server import BaseWSGIServer, create_server

from agents.responder.app import MAX_BODY, ResponderApp
from agents.responder.graph import build_responder_graph
from agents.responder.notes import IncidentNoteWriter
from agents.responder.page import loopback
from agents.responder.persistence import open_persistence
from agents.responder.service import Responder
from agents.responder.webhooks import EventFilter
from pd_toolkit import PagerDutyClient
from pd_toolkit.errors import PagerDutyConfigError

logger = logging.getLogger("agents.responder")
MIN_SECRET = 16  # non-blank characters of a token or webhook secret


class ResponderSettings(BaseModel):
    """Everything the responder is configured with (secrets are held, never shown)."""

    host: str = "127.0.0.1"
    port: int = 8787
    public_url: str | None = None  # where people reach it: links, the page's origin and cookie
    state: str = "memory"  # "memory", a SQLite path, or a PostgreSQL URL
    webhook_secrets: list[SecretStr] = []
    approval_token: SecretStr | None = None
    viewer_token: SecretStr | None = None
    allow_notes: bool = False
    from_email: str | None = None
    workers: int = 4
    queue_size: int = 100  # investigations waiting before webhooks get 503
    event_filter: EventFilter = EventFilter()
    teams: list[str] | None = None  # the lookups' team scope (ids)
    name: str = ""  # this replica's name, shown with its decisions (default: the host name)
    lease_seconds: float = Field(default=60.0, gt=0)
    retry_delays: list[float] = [30.0, 120.0, 600.0]
    poll_interval: float = 1.0
    retention_days: float = Field(default=30.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0, le=30)
    max_connections: int = Field(default=100, ge=1)
    http_threads: int = Field(default=8, ge=1)

    def __repr__(self) -> str:
        return f"ResponderSettings(host={self.host!r}, port={self.port}, state=...)"

    __str__ = __repr__

    def problems(self) -> list[str]:
        """What keeps these settings from a safe start (short or missing secrets, a viewer token
        equal to the approval token: everyone signing in with it would be a viewer)."""
        found = []
        named = [("PD_TOOLKIT_APPROVAL_TOKEN", self.approval_token)]
        named += [("PD_TOOLKIT_VIEWER_TOKEN", self.viewer_token)] if self.viewer_token else []
        named += [("PAGERDUTY_WEBHOOK_SECRET", secret) for secret in self.webhook_secrets]
        for name, secret in named:
            length = len("".join((secret.get_secret_value() if secret else "").split()))
            if length < MIN_SECRET:
                found.append(
                    f"{name} is {'not set' if not length else 'too short'}: give it at least "
                    f"{MIN_SECRET} non-blank characters (e.g. openssl rand -hex 24)"
                )
        if not self.webhook_secrets:
            found.append("PAGERDUTY_WEBHOOK_SECRET is not set (the webhook subscription's secret)")
        if self.approval_token and self.viewer_token:
            approval = self.approval_token.get_secret_value().strip().encode()
            if hmac.compare_digest(approval, self.viewer_token.get_secret_value().strip().encode()):
                found.append(
                    "PD_TOOLKIT_VIEWER_TOKEN is the approval token: give the viewer a token of "
                    "its own (e.g. openssl rand -hex 24)"
                )
        return found

    def warnings(self) -> list[str]:
        """What is allowed but likely wrong: reachable beyond this machine without an https
        public URL (the page's cookie is Secure there, so a browser keeps it only over https,
        and the page's POSTs must come from the public URL's origin)."""
        if loopback(self.host) or (self.public_url or "").lower().startswith("https://"):
            return []
        return [
            f"listening on {self.host} (beyond this machine) without an https --public-url: "
            "put TLS in front (a reverse proxy) and pass --public-url https://<its address>; "
            "the approval page's session cookie is Secure, so browsers sign in only over https"
        ]


@dataclass
class RunningResponder:
    """A responder serving HTTP from a background thread."""

    responder: Responder
    server: BaseWSGIServer

    @property
    def url(self) -> str:
        return f"http://{self.server.effective_host}:{self.server.effective_port}"


def _stop_serving(server: BaseWSGIServer, thread: threading.Thread) -> None:
    """Close the listener and every connection inside waitress's own loop (through its
    trigger), so that the loop ends; then stop its threads."""

    def close_all() -> None:
        for channel in list(server._map.values()):
            channel.close()

    with suppress(OSError):  # a closed trigger: the loop has ended already
        server.trigger.pull_trigger(close_all)
    thread.join(timeout=5)
    server.task_dispatcher.shutdown(timeout=5)


@contextmanager
def running_responder(
    client: PagerDutyClient,
    settings: ResponderSettings,
    model: BaseChatModel | None = None,
) -> Iterator[RunningResponder]:
    """Start the responder and serve until exit; PagerDutyConfigError on unsafe settings.

    ``client`` serves the investigations as given (a read-only client stays read-only). With
    ``allow_notes``, the note writer gets a client derived from it that may also post incident
    notes (``client.with_writes("incident_note")``: the same key, host and rate budget), and
    nothing else; whether the key may write is PagerDuty's to say (403: a clear error).
    """
    problems = settings.problems()
    if problems:
        raise PagerDutyConfigError("; ".join(problems))
    for warning in settings.warnings():
        logger.warning("warning: %s", warning)
    note_client = client.with_writes("incident_note") if settings.allow_notes else None
    served: list[BaseWSGIServer] = []

    def brief_url(incident_id: str) -> str:
        base = (settings.public_url or "").rstrip("/") or (
            f"http://{served[0].effective_host}:{served[0].effective_port}" if served else ""
        )
        return f"{base}/investigations/{incident_id}"

    try:
        writer = (
            IncidentNoteWriter(note_client, from_email=settings.from_email) if note_client else None
        )
        with open_persistence(settings.state) as (checkpointer, ledger):
            graph = build_responder_graph(
                client,
                checkpointer,
                writer=writer,
                model=model,
                rest_url=brief_url,
                note_lock=ledger.note_lock,
                teams=settings.teams,
            )
            responder = Responder(
                graph,
                ledger,
                name=settings.name,
                event_filter=settings.event_filter,
                workers=settings.workers,
                backlog=settings.queue_size,
                notes_enabled=writer is not None,
                lease_seconds=settings.lease_seconds,
                retry_delays=settings.retry_delays,
                poll_interval=settings.poll_interval,
                retention_days=settings.retention_days,
                brief_url=brief_url,
            )
            app = ResponderApp(
                responder,
                secrets=settings.webhook_secrets,
                approval_token=settings.approval_token,
                viewer_token=settings.viewer_token,
                public_url=settings.public_url,
                host=settings.host,
            )
            server = create_server(
                app,
                host=settings.host,
                port=settings.port,
                threads=settings.http_threads,
                channel_timeout=settings.read_timeout,
                cleanup_interval=max(1.0, settings.read_timeout / 3),
                connection_limit=settings.max_connections,
                max_request_body_size=MAX_BODY + 1024,
                ident="pd_toolkit responder",
            )
            served.append(server)
            thread = threading.Thread(target=server.run, name="responder-http", daemon=True)
            responder.start()
            thread.start()
            try:
                yield RunningResponder(responder, server)
            finally:
                _stop_serving(server, thread)
                responder.stop()
    finally:
        if note_client is not None:
            note_client.close()
