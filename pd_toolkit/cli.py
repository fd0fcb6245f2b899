"""`pd-toolkit` console script: check a key ("Test Connection"), serve the sandbox, or serve
the tools over MCP."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack

from rich.console import Console
from rich.table import Table

from pd_toolkit.client import ConnectionCheck, PagerDutyClient
from pd_toolkit.errors import PagerDutyError


def print_check(check: ConnectionCheck, console: Console) -> None:
    """Render a connection check for a person at a terminal."""
    verdict = "[green]OK[/green]" if check.ok else "[red]FAILED[/red]"
    console.print(f"PagerDuty connection to {check.base_url}: {verdict}")
    table = Table(show_header=False, box=None, padding=(0, 2))
    if check.credential == "oauth_token":
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


def _serve(args: argparse.Namespace, console: Console) -> int:
    from pd_toolkit.sandbox import serve

    serve(port=args.port, host=args.host)
    return 0


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
            if args.sandbox:
                from pd_toolkit.sandbox import Sandbox

                sandbox = stack.enter_context(Sandbox())
                errors.print(f"Serving the built-in sandbox account ({sandbox.base_url})")
                client = PagerDutyClient(api_key=sandbox.api_key, base_url=sandbox.base_url)
                toolkit = PagerDutyToolkit(client=client)
            else:
                toolkit = PagerDutyToolkit.from_env()
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
    sandbox = commands.add_parser(
        "sandbox", help="serve the local PagerDuty-compatible sandbox until interrupted"
    )
    sandbox.add_argument("--port", type=int, default=8080)
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.set_defaults(run=_serve)
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args, Console())


if __name__ == "__main__":
    sys.exit(main())
