"""``python -m agents.responder --host H --port P [--allow-notes] [--from-email E] ...``, and
``python -m agents.responder approve|reject INCIDENT ...`` (:mod:`agents.responder.decide`,
which ``pd-toolkit approve|reject`` runs).

Environment: the client's (PAGERDUTY_API_KEY, PAGERDUTY_REGION, PAGERDUTY_API_HOST), plus
PAGERDUTY_WEBHOOK_SECRET (comma-separated, for rotation), PD_TOOLKIT_APPROVAL_TOKEN (reads and
decides), PD_TOOLKIT_VIEWER_TOKEN (optional: reads only), PAGERDUTY_FROM_EMAIL (default of
--from-email), PD_TOOLKIT_STORE (the toolkit's store; a PostgreSQL URL there is also the default
shared state), PD_TOOLKIT_RESPONDER_STATE (--state), PAGERDUTY_TEAMS (default of --teams).
Exit status 2 on a configuration error (a missing or short secret, an unknown team or service).
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
from agents.responder import decide
from agents.responder.persistence import default_state_location
from agents.responder.server import ResponderSettings, running_responder
from agents.responder.webhooks import EventFilter
from pd_toolkit import PagerDutyClient
from pd_toolkit.directory import OBJECT_ID, Directory, Kind
from pd_toolkit.errors import PagerDutyConfigError, PagerDutyError

EVENT_CHOICES = ("incident.triggered", "incident.escalated", "incident.priority_updated")


def _names(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


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
        help="only incidents of these teams, and lookups within them (names or ids; default "
        "PAGERDUTY_TEAMS)",
    )
    parser.add_argument("--workers", type=int, default=4, help="investigations at once")
    parser.add_argument(
        "--queue-size", type=int, default=100, help="investigations waiting before 503"
    )
    parser.add_argument(
        "--public-url",
        help="this responder's URL as people reach it (https://... behind TLS): the links in "
        "the log and in long notes, the origin the approval page's forms must come from, and "
        "its Secure cookie (Secure unless --host is loopback and this is not https)",
    )
    parser.add_argument(
        "--name",
        default=socket.gethostname(),
        help="this replica's name, shown with its decisions (default: the host name)",
    )
    parser.add_argument(
        "--lease-seconds",
        type=float,
        default=60.0,
        help="how long a replica's claim lasts without its heartbeat (default 60)",
    )
    parser.add_argument(
        "--retention-days",
        type=float,
        default=30.0,
        help="keep finished investigations and seen event ids this long (default 30)",
    )
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=30.0,
        help="close a connection idle or half-sent this many seconds (default 30, at most 30)",
    )
    parser.add_argument(
        "--max-connections", type=int, default=100, help="open connections at most (default 100)"
    )
    add_connection_options(parser)
    return parser


def resolve(client: PagerDutyClient, kind: Kind, names: list[str]) -> list[str]:
    """The ids of ``names`` (names or ids); NameMatchError naming the closest real names, or
    PagerDutyConfigError for an id the account does not have."""
    directory = Directory(client)
    ids = []
    for name in names:
        if OBJECT_ID.match(name):
            if name not in {str(o.get("id")) for o in directory.listing(kind)}:
                raise PagerDutyConfigError(f"No {kind.replace('_', ' ')} has the id {name}")
            ids.append(name)
        else:
            ids.append(str(directory.find(kind, name)["id"]))
    return ids


def _secrets(variable: str) -> list[str]:
    return _names(os.environ.get(variable))


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT/SIGTERM; exit status 2 on a configuration error. ``approve`` or
    ``reject`` first: decide on a running responder's brief instead."""
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] and arguments[0] in decide.VERBS:
        return decide.main(arguments)
    args = build_parser().parse_args(arguments)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    events = frozenset(_names(args.events))
    unknown = sorted(events - set(EVENT_CHOICES))
    settings = ResponderSettings(
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        state=args.state or default_state_location(),
        webhook_secrets=_secrets("PAGERDUTY_WEBHOOK_SECRET"),
        approval_token=os.environ.get("PD_TOOLKIT_APPROVAL_TOKEN") or None,
        viewer_token=os.environ.get("PD_TOOLKIT_VIEWER_TOKEN") or None,
        allow_notes=args.allow_notes,
        from_email=args.from_email,
        workers=args.workers,
        queue_size=args.queue_size,
        name=args.name,
        lease_seconds=args.lease_seconds,
        retention_days=args.retention_days,
        read_timeout=min(args.read_timeout, 30.0),
        max_connections=args.max_connections,
    )
    problems = [f"unknown event types: {', '.join(unknown)}"] if unknown else []
    problems += settings.problems()
    model = chat_model_from_settings(args.model, args.base_url)
    if model is None and (args.model or args.base_url):
        problems.append(NO_MODEL_HELP)
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with ExitStack() as stack:
        client = open_client(args, stack)
        if client is None:
            return 2
        try:
            teams = resolve(client, "team", _names(args.teams)) or None
            services = resolve(client, "service", _names(args.services))
            settings = settings.model_copy(
                update={
                    "teams": teams,
                    "event_filter": EventFilter(
                        event_types=events,
                        services=frozenset(services),
                        teams=frozenset(teams or ()),
                    ),
                }
            )
            running = stack.enter_context(running_responder(client, settings, model))
        except PagerDutyError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(
                f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr
            )
            return 2
        notes = "notes ON (after approval)" if args.allow_notes else "notes off (read-only)"
        print(f"responder listening at {running.url}/webhooks/pagerduty; {notes}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
