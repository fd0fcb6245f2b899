"""PagerDuty's official MCP server (PyPI ``pagerduty-mcp``) as a peer face, where installed.

It is started over stdio (``pagerduty-mcp``, read tools only, as it starts by default; or the
command in EVALS_PAGERDUTY_MCP) with the sandbox's user API key and ``PAGERDUTY_API_HOST``
pointed at the sandbox, so the same cases run against the same account. It is not part of any
install of this project (it needs Python 3.12): install it yourself, e.g. ``pipx install
pagerduty-mcp``. Its server reads the real clock, not the case's; the system prompt still gives
the case's time.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from evals.faces import ToolSource, stdio_tools
from pd_toolkit.sandbox import Sandbox

PEER = "pagerduty-mcp"
COMMAND_ENV = "EVALS_PAGERDUTY_MCP"
NOT_INSTALLED = (
    f"error: --peer {PEER}: the command {{command!r}} is not installed (pipx install {PEER}, "
    f"Python 3.12; or set {COMMAND_ENV} to the command that starts it)."
)


def peer_command() -> list[str]:
    """The command line that starts the peer (EVALS_PAGERDUTY_MCP, else ``pagerduty-mcp``)."""
    return shlex.split(os.environ.get(COMMAND_ENV) or PEER)


def peer_installed() -> bool:
    """Whether the peer's command can be found."""
    command = peer_command()
    return bool(command) and shutil.which(command[0]) is not None


@asynccontextmanager
async def pagerduty_mcp_face(sb: Sandbox, clock: datetime) -> AsyncIterator[ToolSource]:
    """The peer's tools on the sandbox (one server for the sandbox's cases)."""
    command = peer_command()
    env = {"PAGERDUTY_USER_API_KEY": sb.user_api_key, "PAGERDUTY_API_HOST": sb.base_url}
    async with stdio_tools(command[0], command[1:], env) as tools:
        yield lambda: tools
