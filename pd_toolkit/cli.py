"""`pd-toolkit` console script: check a key ("Test Connection"), fill the incident store, serve
the sandbox, serve the tools over MCP, and drive the responder (start it, approve or reject a
brief, trigger a sandbox incident). The responder's verbs run `python -m agents.responder` (from
the checkout): the library never imports `agents`.

Each command imports what it needs when it runs: `--help`, `check`, `sync` and `sandbox` start
without LangChain or scikit-learn (tests/test_startup.py)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING

from pd_toolkit.errors import PagerDutyError

if TYPE_CHECKING:
    from rich.console import Console

    from pd_toolkit.client import PagerDutyClient
    from pd_toolkit.connection import ConnectionCheck

# Verbs that are the responder's own: every option is passed to `python -m agents.responder`.
RESPONDER_VERBS = ("responder", "approve", "reject")


def print_check(check: ConnectionCheck, console: Console) -> None:
    """Render a connection check for a person at a terminal."""
    from rich.markup import escape
    from rich.table import Table

    verdict = "[green]OK[/green]" if check.ok else "[red]FAILED[/red]"
    url = escape(check.base_url)
    console.print(f"PagerDuty connection to {url}: {verdict}")
    table = Table(show_header=False, box=None, padding=(0, 2))
    if not check.reached:
        table.add_row("reached", f"[red]no[/red]: could not reach {url}")
        table.add_row("credential", "not tested (nothing answered)")
    elif not check.is_pagerduty:
        table.add_row("PagerDuty API", "[red]no[/red]: this host is not the PagerDuty REST API")
        table.add_row("credential", "not tested (not PagerDuty)")
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
    """With --sandbox, a client of the built-in sandbox (started on ``stack``; history then
    stays in memory unless PD_TOOLKIT_STORE or --store names a store); else one built from the
    environment (PAGERDUTY_API_KEY or PAGERDUTY_OAUTH_TOKEN, region, host)."""
    from pd_toolkit.client import PagerDutyClient

    if not args.sandbox:
        return PagerDutyClient.from_env()
    from pd_toolkit.sandbox import Sandbox
    from pd_toolkit.store import default_to_memory

    default_to_memory()  # each sandbox run is a new partition: keep it out of the cache
    sandbox = stack.enter_context(Sandbox())
    say.print(f"Started the built-in sandbox at {sandbox.base_url}")
    return PagerDutyClient(api_key=sandbox.api_key, base_url=sandbox.base_url)


def _check(args: argparse.Namespace, console: Console) -> int:
    from rich.markup import escape

    from pd_toolkit.connection import shown_url

    try:
        with ExitStack() as stack:
            check = _client(args, stack, console).verify()
    except PagerDutyError as exc:
        console.print(
            f"[red]Cannot check the connection:[/red] {escape(shown_url(str(exc)))}",
            highlight=False,
        )
        return 2
    print_check(check, console)
    return 0 if check.ok else 1


def _sync(args: argparse.Namespace, console: Console) -> int:
    """Fill or refresh the store for the key's account, with a progress bar."""
    from datetime import UTC, datetime, timedelta

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from pd_toolkit.api import PagerDutyAPI
    from pd_toolkit.history import prefetch_resolutions
    from pd_toolkit.history.search import DEFAULT_WINDOW_DAYS
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
            # What the next searches would fetch: how open and recent incidents' matches
            # were resolved, and whether the plan has past_incidents.
            searched, prefetched = prefetch_resolutions(
                PagerDutyAPI(client, store=store),
                window_days=min(args.days, DEFAULT_WINDOW_DAYS),
                now=until,
            )
        except PagerDutyError as exc:
            console.print(
                f"error: sync failed: {exc}", markup=False, highlight=False, soft_wrap=True
            )
            return 2
        held = store.stats(store.partition(client))
    console.print(
        f"Stored {report.stored.added:,} new and {report.stored.updated:,} updated incidents "
        f"({report.fetched:,} fetched in {report.requests:,} requests) in {store.label}.",
        highlight=False,
    )
    console.print(
        f"Fetched how the matches of {searched:,} open or recent incidents were resolved "
        f"({prefetched:,} requests), for the searches to come.",
        highlight=False,
    )
    console.print(
        f"For this key the store holds {held.incidents:,} incidents and "
        f"{held.resolutions:,} resolutions.",
        highlight=False,
    )
    return 0


def _store(args: argparse.Namespace, console: Console) -> int:
    """Say what the store holds (per partition); drop one partition, or prune now."""
    from datetime import timedelta

    from pd_toolkit.client import PagerDutyClient
    from pd_toolkit.errors import PagerDutyConfigError
    from pd_toolkit.store import PRUNE_ENV, open_store

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    def days(span: timedelta) -> str:
        return f"{span / timedelta(days=1):g} days"

    try:
        with ExitStack() as stack:
            store = open_store(args.store)
            stack.callback(store.close)
            held = store.partitions()
            if args.drop is not None:
                prefix = args.drop.strip().lower()
                matches = [p for p in held if prefix and p.partition.startswith(prefix)]
                if len(matches) != 1:
                    shown = ", ".join(sorted(p.partition[:12] for p in matches)[:5])
                    say(
                        f"error: {len(matches)} partitions start with {args.drop!r}"
                        + (f" ({shown}): give more of the id" if matches else "")
                    )
                    return 2
                store.forget(matches[0].partition)
                store.vacuum()
                dropped = matches[0]
                say(
                    f"Dropped partition {dropped.partition[:12]} ({dropped.incidents:,} "
                    f"incidents, {dropped.resolutions:,} resolutions)."
                )
            elif args.prune:
                if store.prune_after is None:
                    say(f"Pruning is off ({PRUNE_ENV}=0): nothing dropped.")
                else:
                    pruned = store.prune()
                    store.vacuum()
                    names = ", ".join(p[:12] for p in pruned)
                    say(
                        f"Pruned {len(pruned)} partition(s) unused for "
                        f"{days(store.prune_after)}{': ' + names if names else ''}."
                    )
            try:
                mine = store.partition(PagerDutyClient.from_env())
            except PagerDutyConfigError:  # no key configured: no partition to mark
                mine = None
            stats, version, held = store.stats(), store.schema_version(), store.partitions()
    except PagerDutyError as exc:
        say(f"error: {exc}")
        return 2
    size = "in memory"
    if stats.bytes_on_disk is not None:
        size = f"{stats.bytes_on_disk / 1e6:,.1f} MB on disk"
    say(f"Store {store.label} ({store.backend}, {size}, schema version {version}).")
    if store.prune_after:
        say(f"Partitions unused for {days(store.prune_after)} are dropped ({PRUNE_ENV}).")
    else:
        say(f"Partitions are never pruned ({PRUNE_ENV}=0).")
    if not held:
        say("It holds no partition.")
        return 0
    say(f"{'partition':<15}{'incidents':>10}{'resolutions':>13}  {'last used (UTC)':<18}window")
    for part in held:
        used = f"{part.last_used:%Y-%m-%d %H:%M}" if part.last_used else "-"
        window = (
            f"{part.covered[0]:%Y-%m-%d} .. {part.covered[1]:%Y-%m-%d}" if part.covered else "-"
        )
        mark = "*" if part.partition == mine else " "
        say(
            f"{mark} {part.partition[:12]} {part.incidents:>10,}{part.resolutions:>13,}  "
            f"{used:<18}{window}"
        )
    if mine is not None:
        here = "* is" if any(p.partition == mine for p in held) else "none is"
        say(f"({here} the configured key's partition.)")
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
    import requests

    from pd_toolkit.connection import shown_url
    from pd_toolkit.sandbox import Sandbox

    asked = {k: v for k, v in {"service": args.service, "mode": args.mode}.items() if v}
    url = shown_url(args.url)
    try:
        response = requests.post(
            args.url.rstrip("/") + "/_sandbox/trigger",
            json=asked,
            headers={"Authorization": f"Token token={Sandbox.api_key}"},
            timeout=30,
        )
    except requests.RequestException as exc:
        console.print(f"error: no sandbox at {url} ({type(exc).__name__})", markup=False)
        return 2
    try:
        body = response.json()
    except ValueError:  # a server, but not the sandbox
        console.print(
            f"error: {url} answered HTTP {response.status_code} without JSON: is it the "
            "sandbox? Start one with `pd-toolkit sandbox` and pass its --url.",
            markup=False,
            highlight=False,
        )
        return 2
    if response.status_code != 200:
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        reason = "; ".join(map(str, error.get("errors") or [])) or error.get("message")
        console.print(
            f"error: the sandbox refused (HTTP {response.status_code}): {reason or 'no reason'}",
            markup=False,
            highlight=False,
        )
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
    stdout is the stdio transport. A missing mcp extra is named by main()."""
    import anyio
    from rich.console import Console
    from rich.markup import escape

    from pd_toolkit import mcp
    from pd_toolkit.connection import shown_url
    from pd_toolkit.toolkit import TOOLS_ENV, PagerDutyToolkit, select_tools

    errors = Console(stderr=True)
    token = args.auth_token or os.environ.get(mcp.TOKEN_ENV) or None
    with ExitStack() as stack:
        try:
            tools = select_tools(args.tools if args.tools is not None else os.getenv(TOOLS_ENV))
            if args.http:
                mcp.check_binding(args.host, token)
            toolkit = (
                PagerDutyToolkit(client=_client(args, stack, errors), tools=tools)
                if args.sandbox
                else PagerDutyToolkit.from_env(tools=tools)
            )
            if args.http:
                anyio.run(
                    lambda: mcp.serve_http(toolkit, host=args.host, port=args.port, token=token)
                )
            else:
                anyio.run(mcp.serve_stdio, toolkit)
        except PagerDutyError as exc:
            errors.print(
                f"[red]Cannot serve MCP:[/red] {escape(shown_url(str(exc)))}",
                highlight=False,
                soft_wrap=True,
            )
            return 2
        except KeyboardInterrupt:
            pass
    return 0


MAX_SYNC_DAYS = 3650  # ten years: more is a typo, not a window


def _days(text: str) -> int:
    """--days: a whole number of days, 1 to MAX_SYNC_DAYS."""
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not 1 <= days <= MAX_SYNC_DAYS:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_SYNC_DAYS} days, not {days}")
    return days


def _port(text: str) -> int:
    """--port: 0 (any free port) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 (any free port) to 65535, not {port}")
    return port


class _SandboxModes:
    """The sandbox's failure-mode names, as argparse ``choices``: read from the sandbox's
    catalog only when argparse checks a --mode or shows sandbox-trigger's help."""

    def _names(self) -> list[str]:
        from pd_toolkit.sandbox.catalog import MODES

        return [mode.name for mode in MODES]

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


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
    sync.add_argument(
        "--days",
        type=_days,
        default=180,
        help=f"window to hold, 1-{MAX_SYNC_DAYS} days (default 180)",
    )
    sync.add_argument("--store", help="store to fill (default: PD_TOOLKIT_STORE or the file)")
    sync.add_argument(
        "--sandbox", action="store_true", help="sync from a freshly started local sandbox"
    )
    sync.set_defaults(run=_sync)
    store = commands.add_parser(
        "store",
        help="show what the incident store holds; drop a partition or prune unused ones",
        description="Show the store (PD_TOOLKIT_STORE, else "
        "${XDG_CACHE_HOME:-~/.cache}/pd_toolkit/store.db): its size, schema version and, per "
        "partition (one per key and host, shown by a prefix of its id; * marks the configured "
        "key's), incidents, resolutions, last use and the window synced.",
    )
    store.add_argument("--store", help="store to show (default: PD_TOOLKIT_STORE or the file)")
    store_action = store.add_mutually_exclusive_group()
    store_action.add_argument(
        "--drop", metavar="PREFIX", help="drop the partition whose id starts with PREFIX"
    )
    store_action.add_argument(
        "--prune",
        action="store_true",
        help="drop now the partitions unused for PD_TOOLKIT_STORE_PRUNE_DAYS (default 30)",
    )
    store.set_defaults(run=_store)
    sandbox = commands.add_parser(
        "sandbox",
        help="serve the local PagerDuty-compatible sandbox until interrupted",
        description="Serve a local PagerDuty-compatible REST API with a seeded account (teams, "
        "services, schedules, ~2,000 incidents over 180 days) until interrupted; prints its "
        "keys and the export line that points pd_toolkit at it.",
    )
    sandbox.add_argument(
        "--port", type=_port, default=8080, help="port to listen on (default 8080; 0 = any free)"
    )
    sandbox.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
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
        description="Trigger a new incident on a running `pd-toolkit sandbox` (and deliver its "
        "webhook when the sandbox has a --webhook-url).",
    )
    trigger.add_argument(
        "--url",
        default="http://127.0.0.1:8080",
        help="the sandbox's URL (default http://127.0.0.1:8080)",
    )
    trigger.add_argument("--service", help="service name (default: one the failure mode hits)")
    trigger.add_argument(
        "--mode",
        choices=_SandboxModes(),
        metavar="MODE",
        help="failure mode (default: the first): %(choices)s",
    )
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
        "(PAGERDUTY_API_KEY or PAGERDUTY_OAUTH_TOKEN, PAGERDUTY_REGION, PAGERDUTY_API_HOST), "
        "and PD_TOOLKIT_TOOLS.",
    )
    mcp.add_argument("--sandbox", action="store_true", help="serve the built-in sandbox account")
    mcp.add_argument("--http", action="store_true", help="streamable HTTP instead of stdio")
    mcp.add_argument(
        "--host",
        default="127.0.0.1",
        help="HTTP address (default 127.0.0.1; another needs a token)",
    )
    mcp.add_argument("--port", type=_port, default=8000, help="HTTP port (default 8000; 0 = any)")
    mcp.add_argument(
        "--auth-token",
        help="HTTP: require 'Authorization: Bearer <token>' on every request "
        "(or set PD_TOOLKIT_MCP_TOKEN)",
    )
    mcp.add_argument(
        "--tools",
        metavar="NAME,NAME",
        help="serve only these tools (comma-separated names; default: PD_TOOLKIT_TOOLS, else "
        "all 8); an unknown name is refused, with the valid ones",
    )
    mcp.set_defaults(run=_mcp)
    return parser


# Optional modules -> the extra that installs them (the runtime install is the library alone).
EXTRAS = {
    "werkzeug": "sandbox",
    "langgraph": "agents",
    "mcp": "mcp",
    "uvicorn": "mcp",
    "starlette": "mcp",
    "anyio": "mcp",
    "langgraph_checkpoint_sqlite": "responder",
    "waitress": "responder",
    "nh3": "responder",
    "markdown_it": "responder",
    "psycopg": "postgres",
}


def extra_hint(missing: ModuleNotFoundError) -> str | None:
    """The one line naming the extra that installs a missing optional module, or None when the
    module is not an extra's. Plain text: print it without markup, or Rich eats ``[extra]``."""
    extra = EXTRAS.get((missing.name or "").split(".")[0])
    if extra is None:
        return None
    return f"error: this command needs the {extra} extra: pip install 'pd_toolkit[{extra}]'"


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] and arguments[0] in RESPONDER_VERBS:  # every option is the responder's
        return _responder(arguments[1:] if arguments[0] == "responder" else arguments)
    try:  # parsing too: sandbox-trigger's --mode choices come from the sandbox extra
        args = build_parser().parse_args(arguments)
        from rich.console import Console

        return args.run(args, Console())
    except ModuleNotFoundError as exc:
        hint = extra_hint(exc)
        if hint is None:
            raise
        print(hint, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
