"""``python -m agents.responder --host H --port P [--allow-notes] [--from-email E]``.

Environment: the client's (PAGERDUTY_API_KEY, PAGERDUTY_REGION, PAGERDUTY_API_HOST), plus
PAGERDUTY_WEBHOOK_SECRET (comma-separated, for rotation), PD_TOOLKIT_APPROVAL_TOKEN,
PAGERDUTY_FROM_EMAIL (default of --from-email), PD_TOOLKIT_STORE (the toolkit's store; a
PostgreSQL URL there is also the default shared state), PD_TOOLKIT_RESPONDER_STATE (--state),
PAGERDUTY_TEAMS (default of --teams).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
from contextlib import ExitStack

from agents.llm import NO_MODEL_HELP, chat_model_from_settings
from agents.options import add_connection_options, open_client
from agents.responder.persistence import default_state_location
from agents.responder.server import ResponderSettings, running_responder
from agents.responder.webhooks import EventFilter
from pd_toolkit.errors import PagerDutyConfigError

EVENT_CHOICES = ("incident.triggered", "incident.escalated", "incident.priority_updated")


def _names(value: str | None) -> frozenset[str]:
    return frozenset(part.strip() for part in (value or "").split(",") if part.strip())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m agents.responder",
        description="Investigate PagerDuty incidents when they page (v3 webhooks); post the "
        "brief as a note after a human approves.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument(
        "--allow-notes",
        action="store_true",
        help="allow the one write: an approved brief posted as an incident note",
    )
    parser.add_argument(
        "--from-email",
        default=os.environ.get("PAGERDUTY_FROM_EMAIL"),
        help="PagerDuty user email sent as From with notes (account keys need it)",
    )
    parser.add_argument(
        "--state", help="memory, a SQLite file or a PostgreSQL URL (default: see README)"
    )
    parser.add_argument(
        "--events",
        default="incident.triggered",
        help=f"comma-separated event types to investigate, of {', '.join(EVENT_CHOICES)}",
    )
    parser.add_argument("--services", help="only incidents of these services (names or ids)")
    parser.add_argument(
        "--teams",
        default=os.environ.get("PAGERDUTY_TEAMS"),
        help="only incidents of these teams (names or ids; default PAGERDUTY_TEAMS)",
    )
    parser.add_argument("--workers", type=int, default=4, help="investigations at once")
    parser.add_argument("--queue-size", type=int, default=100, help="investigations waiting")
    parser.add_argument("--public-url", help="this responder's URL as people reach it")
    parser.add_argument(
        "--name", default=socket.gethostname(), help="this responder's name (resumes its own)"
    )
    add_connection_options(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT/SIGTERM; exit status 2 on a configuration error."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    events = _names(args.events)
    unknown = sorted(events - set(EVENT_CHOICES))
    secrets = [s.strip() for s in os.environ.get("PAGERDUTY_WEBHOOK_SECRET", "").split(",")]
    secrets = [s for s in secrets if s]
    problems = [f"unknown event types: {', '.join(unknown)}"] if unknown else []
    if not secrets:
        problems.append("PAGERDUTY_WEBHOOK_SECRET is not set (the webhook subscription's secret)")
    model = chat_model_from_settings(args.model, args.base_url)
    if model is None and (args.model or args.base_url):
        problems.append(NO_MODEL_HELP)
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    settings = ResponderSettings(
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        state=args.state or default_state_location(),
        webhook_secrets=secrets,
        approval_token=os.environ.get("PD_TOOLKIT_APPROVAL_TOKEN") or None,
        allow_notes=args.allow_notes,
        from_email=args.from_email,
        workers=args.workers,
        queue_size=args.queue_size,
        event_filter=EventFilter(
            event_types=events, services=_names(args.services), teams=_names(args.teams)
        ),
        owner=args.name,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with ExitStack() as stack:
        client = open_client(args, stack)
        if client is None:
            return 2
        try:
            running = stack.enter_context(running_responder(client, settings, model))
        except PagerDutyConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        notes = "notes ON (after approval)" if args.allow_notes else "notes off (read-only)"
        print(f"responder listening at {running.url}/webhooks/pagerduty; {notes}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
