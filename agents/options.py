"""Command-line options shared by the agents' CLIs: where PagerDuty is, and which chat model."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack

from pd_toolkit import PagerDutyClient
from pd_toolkit.errors import PagerDutyConfigError


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """--sandbox, --model, --base-url."""
    parser.add_argument("--sandbox", action="store_true", help="use the built-in sandbox")
    parser.add_argument("--model", help="chat model name (OpenAI or compatible)")
    parser.add_argument("--base-url", help="OpenAI-compatible server URL")


def open_client(args: argparse.Namespace, stack: ExitStack) -> PagerDutyClient | None:
    """A client for the built-in sandbox (started on ``stack``; history then stays in memory
    unless PD_TOOLKIT_STORE is set) or from the environment; None, with the reason on stderr,
    when no key is configured."""
    if not args.sandbox:
        try:
            return PagerDutyClient.from_env()
        except PagerDutyConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return None
    from pd_toolkit.sandbox import Sandbox
    from pd_toolkit.store import default_to_memory

    default_to_memory()  # each sandbox run is a new partition: keep it out of the cache
    sandbox = stack.enter_context(Sandbox())
    print(f"sandbox at {sandbox.base_url}", file=sys.stderr)
    return PagerDutyClient(api_key=sandbox.api_key, base_url=sandbox.base_url)
