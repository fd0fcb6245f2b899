"""`pd-toolkit` console script: check a key ("Test Connection"), fill the incident store, or
serve the sandbox."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.table import Table

from pd_toolkit.client import ConnectionCheck, PagerDutyClient
from pd_toolkit.errors import PagerDutyError


def print_check(check: ConnectionCheck, console: Console) -> None:
    """Render a connection check for a person at a terminal."""
    verdict = "[green]OK[/green]" if check.ok else "[red]FAILED[/red]"
    console.print(f"PagerDuty connection to {check.base_url}: {verdict}")
    table = Table(show_header=False, box=None, padding=(0, 2))
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
    if check.abilities:
        table.add_row("abilities", ", ".join(check.abilities))
    console.print(table)
    for hint in check.hints:
        console.print(f"- {hint}", markup=False, highlight=False)


def _check(args: argparse.Namespace, console: Console) -> int:
    try:
        if args.sandbox:
            from pd_toolkit.sandbox import Sandbox

            with Sandbox() as sandbox:
                console.print(f"Started the built-in sandbox at {sandbox.base_url}")
                client = PagerDutyClient(api_key=sandbox.api_key, base_url=sandbox.base_url)
                check = client.verify()
        else:
            client = PagerDutyClient.from_env()
            check = client.verify()
    except PagerDutyError as exc:
        console.print(f"[red]Cannot check the connection:[/red] {exc}", highlight=False)
        return 2
    print_check(check, console)
    return 0 if check.ok else 1


def _sync(args: argparse.Namespace, console: Console) -> int:
    """Fill or refresh the store for the key's account, with a progress bar."""
    from contextlib import ExitStack
    from datetime import UTC, datetime, timedelta

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from pd_toolkit.store import open_store, sync_incidents

    with ExitStack() as stack:
        try:
            if args.sandbox:
                from pd_toolkit.sandbox import Sandbox

                sandbox = stack.enter_context(Sandbox())
                console.print(f"Started the built-in sandbox at {sandbox.base_url}")
                client = PagerDutyClient(api_key=sandbox.api_key, base_url=sandbox.base_url)
            else:
                client = PagerDutyClient.from_env()
            store = open_store(args.store)
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

    serve(port=args.port, host=args.host)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pd-toolkit", description="PagerDuty toolkit for LangChain/LangGraph agents."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check",
        help="test the connection: is the key accepted, what kind is it, what can it read",
        description="Test Connection. Reads PAGERDUTY_API_KEY (or PAGERDUTY_USER_API_KEY), "
        "PAGERDUTY_REGION (us|eu) and PAGERDUTY_API_HOST.",
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
    sandbox.set_defaults(run=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args, Console())


if __name__ == "__main__":
    sys.exit(main())
