"""`pd-toolkit` console script: check a key ("Test Connection"), fill the incident store, serve
the sandbox, serve the tools over MCP, and drive the responder (start it, approve or reject a
brief, trigger a sandbox incident). The responder's verbs run `python -m agents.responder` (from
the checkout): the library never imports `agents`."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from contextlib import ExitStack

import requests
from rich.console import Console
from rich.table import Table

from pd_toolkit.client import PagerDutyClient
from pd_toolkit.connection import ConnectionCheck
from pd_toolkit.errors import PagerDutyError

# Verbs that are the responder's own: every option is passed to `python -m agents.responder`.
RESPONDER_VERBS = ("responder", "approve", "reject")


def print_check(check: ConnectionCheck, console: Console) -> None:
    """Render a connection check for a person at a terminal."""
    verdict = "[green]OK[/green]" if check.ok else "[red]FAILED[/red]"
    console.print(f"PagerDuty connection to {check.base_url}: {verdict}")
    table = Table(show_header=False, box=None, padding=(0, 2))
    if not check.reached:
        table.add_row("reached", f"[red]no[/red]: could not reach {check.base_url}")
        table.add_row("credential", "not tested (nothing answered)")
    elif check.credential == "oauth_token":
        table.add_row(
            "credential",
            {
                "account": "OAuth access token (app-level, scoped)",
                "user": "OAuth access token (user-level)",
                "unknown": "OAuth access token (not accepted)",
            }[check.key_kind],
        )
    else:
        table.add_row(
            "key kind",
            {
                "account": "General Access (account-level) REST key",
                "user": "User Token REST key",
                "unknown": "unknown (the key was not accepted)",
            }[check.key_kind],
        )
    if check.user:
        table.add_row("user", check.user)
    for area, readable in check.read_access.items():
        table.add_row(f"read {area}", "yes" if readable else "[red]no[/red]")
    for scope, granted in check.scopes.items():
        table.add_row(f"scope {scope}", "granted" if granted else "[red]refused (403)[/red]")
    if check.abilities:
        table.add_row("abilities", ", ".join(check.abilities))
    console.print(table)
    for hint in check.hints:
        console.print(f"- {hint}", markup=False, highlight=False)


def _client(args: argparse.Namespace, stack: ExitStack, say: Console) -> PagerDutyClient:
    """With --sandbox, a client of the built-in sandbox (started on ``stack``); else one built
    from the environment (PAGERDUTY_API_KEY or PAGERDUTY_OAUTH_TOKEN, region, host)."""
    if not args.sandbox:
        return PagerDutyClient.from_env()
    from pd_toolkit.sandbox import Sandbox

    sandbox = stack.enter_context(Sandbox())
    say.print(f"Started the built-in sandbox at {sandbox.base_url}")
    return PagerDutyClient(api_key=sandbox.api_key, base_url=sandbox.base_url)


def _check(args: argparse.Namespace, console: Console) -> int:
    try:
        with ExitStack() as stack:
            check = _client(args, stack, console).verify()
    except PagerDutyError as exc:
        console.print(f"[red]Cannot check the connection:[/red] {exc}", highlight=False)
        return 2
    print_check(check, console)
    return 0 if check.ok else 1


def _sync(args: argparse.Namespace, console: Console) -> int:
    """Fill or refresh the store for the key's account, with a progress bar."""
    from datetime import UTC, datetime, timedelta

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from pd_toolkit.store import open_store, sync_incidents

    with ExitStack() as stack:
        try:
            client = _client(args, stack, console)
            store = open_store(args.store)
            stack.callback(store.close)
            until = datetime.now(UTC).replace(microsecond=0)
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}% {task.fields[incidents]:,} incidents"),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                task = progress.add_task(f"Syncing {args.days} days", total=1, incidents=0)

                def advance(done: int, total: int, incidents: int) -> None:
                    progress.update(task, completed=done, total=total, incidents=incidents)

                report = sync_incidents(
                    client,
                    store,
                    since=until - timedelta(days=args.days),
                    until=until,
                    progress=advance,
                )
                progress.update(task, completed=1, total=1)
        except PagerDutyError as exc:
            console.print(f"[red]Sync failed:[/red] {exc}", highlight=False)
            return 2
        held = store.stats(store.partition(client))
    console.print(
        f"Stored {report.stored.added:,} new and {report.stored.updated:,} updated incidents "
        f"({report.fetched:,} fetched in {report.requests:,} requests) in {store.location}.",
        highlight=False,
    )
    console.print(
        f"For this key the store holds {held.incidents:,} incidents and "
        f"{held.resolutions:,} resolutions.",
        highlight=False,
    )
    return 0


def _serve(args: argparse.Namespace, console: Console) -> int:
    from pd_toolkit.sandbox import serve

    secret = args.webhook_secret or os.environ.get("PAGERDUTY_WEBHOOK_SECRET")
    if args.webhook_url and not secret:
        console.print(
            "[red]--webhook-url needs --webhook-secret[/red] (or PAGERDUTY_WEBHOOK_SECRET)"
        )
        return 2
    serve(port=args.port, host=args.host, webhook_url=args.webhook_url, webhook_secret=secret)
    return 0


def _sandbox_trigger(args: argparse.Namespace, console: Console) -> int:
    """POST /_sandbox/trigger on a running sandbox: a new incident, and its webhook."""
    from pd_toolkit.sandbox import Sandbox

    asked = {k: v for k, v in {"service": args.service, "mode": args.mode}.items() if v}
    try:
        response = requests.post(
            args.url.rstrip("/") + "/_sandbox/trigger",
            json=asked,
            headers={"Authorization": f"Token token={Sandbox.api_key}"},
            timeout=30,
        )
    except requests.RequestException as exc:
        console.print(f"[red]No sandbox at {args.url}:[/red] {type(exc).__name__}")
        return 2
    body = response.json()
    if response.status_code != 200:
        console.print(f"[red]The sandbox refused:[/red] {body}", highlight=False)
        return 1
    incident = body["incident"]
    console.print(
        f"Triggered #{incident['incident_number']} {incident['id']}: {incident['title']}",
        markup=False,
    )
    if body.get("webhook_status") is not None:
        console.print(f"webhook delivered: HTTP {body['webhook_status']}")
    return 0


def _responder(arguments: list[str]) -> int:
    """Run `python -m agents.responder` (from the checkout) with these arguments."""
    return subprocess.call([sys.executable, "-m", "agents.responder", *arguments])


def _mcp(args: argparse.Namespace, console: Console) -> int:
    """Serve the tools over MCP (stdio, or streamable HTTP); messages go to stderr, since
    stdout is the stdio transport."""
    errors = Console(stderr=True)
    try:
        import anyio

        from pd_toolkit import mcp
    except ImportError as exc:
        errors.print(
            f"[red]The MCP server needs the mcp extra[/red] ({exc.name} is missing): "
            "pip install 'pd_toolkit[mcp]'",
            highlight=False,
        )
        return 2
    from pd_toolkit.toolkit import PagerDutyToolkit

    token = args.auth_token or os.environ.get(mcp.TOKEN_ENV) or None
    with ExitStack() as stack:
        try:
            if args.http:
                mcp.check_binding(args.host, token)
            toolkit = (
                PagerDutyToolkit(client=_client(args, stack, errors))
                if args.sandbox
                else PagerDutyToolkit.from_env()
            )
            if args.http:
                anyio.run(
                    lambda: mcp.serve_http(toolkit, host=args.host, port=args.port, token=token)
                )
            else:
                anyio.run(mcp.serve_stdio, toolkit)
        except PagerDutyError as exc:
            errors.print(f"[red]Cannot serve MCP:[/red] {exc}", highlight=False, soft_wrap=True)
            return 2
        except KeyboardInterrupt:
            pass
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pd-toolkit", description="PagerDuty toolkit for LangChain/LangGraph agents."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check",
        help="test the connection: is the key accepted, what kind is it, what can it read",
        description="Test Connection. Reads PAGERDUTY_API_KEY (or PAGERDUTY_USER_API_KEY) or "
        "PAGERDUTY_OAUTH_TOKEN, PAGERDUTY_REGION (us|eu) and PAGERDUTY_API_HOST.",
    )
    check.add_argument(
        "--sandbox", action="store_true", help="check against a freshly started local sandbox"
    )
    check.set_defaults(run=_check)
    sync = commands.add_parser(
        "sync",
        help="fill or refresh the incident store for the key's account (with a progress bar)",
        description="Backfill the last N days of incidents into the store, then only the delta. "
        "The store is PD_TOOLKIT_STORE (memory, a file path or a SQLAlchemy URL), else "
        "${XDG_CACHE_HOME:-~/.cache}/pd_toolkit/store.db.",
    )
    sync.add_argument("--days", type=int, default=180, help="window to hold (default 180)")
    sync.add_argument("--store", help="store to fill (default: PD_TOOLKIT_STORE or the file)")
    sync.add_argument(
        "--sandbox", action="store_true", help="sync from a freshly started local sandbox"
    )
    sync.set_defaults(run=_sync)
    sandbox = commands.add_parser(
        "sandbox", help="serve the local PagerDuty-compatible sandbox until interrupted"
    )
    sandbox.add_argument("--port", type=int, default=8080)
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument(
        "--webhook-url", help="deliver signed v3 webhooks of triggered incidents to this URL"
    )
    sandbox.add_argument(
        "--webhook-secret", help="the webhooks' signing secret (default PAGERDUTY_WEBHOOK_SECRET)"
    )
    sandbox.set_defaults(run=_serve)
    trigger = commands.add_parser(
        "sandbox-trigger",
        help="trigger a new incident on a running sandbox (and deliver its webhook)",
    )
    trigger.add_argument("--url", default="http://127.0.0.1:8080", help="the sandbox's URL")
    trigger.add_argument("--service", help="service name (default: one the failure mode hits)")
    trigger.add_argument("--mode", help="failure mode name (default: the first)")
    trigger.set_defaults(run=_sandbox_trigger)
    # The responder's verbs, listed here; main() hands them to `python -m agents.responder`.
    for verb, summary in (
        (
            "responder",
            "run the responder with its options (python -m agents.responder ...; "
            "from the checkout)",
        ),
        ("approve", "post the brief as a note (a responder's investigation awaiting approval)"),
        ("reject", "drop the brief (a responder's investigation awaiting approval)"),
    ):
        commands.add_parser(verb, help=summary, add_help=False)
    mcp = commands.add_parser(
        "mcp",
        help="serve the tools over MCP (stdio by default; --http for streamable HTTP)",
        description="Serve the 8 read-only tools to any MCP client (Claude Desktop, Cursor, "
        "langchain-mcp-adapters). Reads the same environment as `check` "
        "(PAGERDUTY_API_KEY or PAGERDUTY_OAUTH_TOKEN, PAGERDUTY_REGION, PAGERDUTY_API_HOST).",
    )
    mcp.add_argument("--sandbox", action="store_true", help="serve the built-in sandbox account")
    mcp.add_argument("--http", action="store_true", help="streamable HTTP instead of stdio")
    mcp.add_argument(
        "--host",
        default="127.0.0.1",
        help="HTTP address (default 127.0.0.1; another needs a token)",
    )
    mcp.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000; 0 = any)")
    mcp.add_argument(
        "--auth-token",
        help="HTTP: require 'Authorization: Bearer <token>' on every request "
        "(or set PD_TOOLKIT_MCP_TOKEN)",
    )
    mcp.set_defaults(run=_mcp)
    return parser


# Optional modules -> the extra that installs them (the runtime install is the library alone).
EXTRAS = {
    "werkzeug": "sandbox",
    "langgraph": "agents",
    "mcp": "mcp",
    "uvicorn": "mcp",
    "langgraph_checkpoint_sqlite": "responder",
    "waitress": "responder",
    "psycopg": "postgres",
}


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] and arguments[0] in RESPONDER_VERBS:  # every option is the responder's
        return _responder(arguments[1:] if arguments[0] == "responder" else arguments)
    args = build_parser().parse_args(arguments)
    console = Console()
    try:
        return args.run(args, console)
    except ModuleNotFoundError as exc:
        extra = EXTRAS.get((exc.name or "").split(".")[0])
        if extra is None:
            raise
        console.print(
            f"error: this command needs the {extra} extra: pip install 'pd_toolkit[{extra}]'",
            markup=False,
            highlight=False,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
