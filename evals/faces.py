"""The faces an agent meets the toolkit through, on one running sandbox.

- ``langchain``: the toolkit's LangChain tools, in process; a new toolkit per case (cold name
  caches), sharing one history store.
- ``mcp``: ``pd-toolkit mcp`` over stdio (:mod:`evals.mcp_server`, the case's clock), loaded
  with langchain-mcp-adapters; one server (and session) per sandbox.
- ``pagerduty-mcp``: PagerDuty's official MCP server over stdio, where installed (see
  :mod:`evals.peers`); :func:`evals.runner.open_face` picks one.

The history store is filled ahead for the 180 days before the clock (as ``pd-toolkit sync``
would), so the similar-incident cases cost what they cost on a warm store, whatever their
order: resolutions are still fetched on first use and kept.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from langchain_core.tools import BaseTool

from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.sandbox import Sandbox
from pd_toolkit.store import IncidentStore, open_store, sync_incidents

FaceName = Literal["langchain", "mcp", "pagerduty-mcp"]
FACES: tuple[FaceName, ...] = ("langchain", "mcp")
HISTORY = timedelta(days=180)
CHECKOUT = Path(__file__).resolve().parents[1]  # evals runs from the checkout
ToolSource = Callable[[], list[BaseTool]]  # the tools for the next case


def sandbox_client(sb: Sandbox) -> PagerDutyClient:
    """A client of the sandbox's account key, without a rate limit (it is local)."""
    return PagerDutyClient(api_key=sb.api_key, base_url=sb.base_url, rate_limit_per_minute=None)


def filled_store(sb: Sandbox, spec: str, clock: datetime) -> IncidentStore:
    """A store holding the sandbox's last 180 days of incidents (the caller closes it)."""
    store = open_store(spec)
    sync_incidents(sandbox_client(sb), store, since=clock - HISTORY, until=clock)
    return store


@asynccontextmanager
async def langchain_face(sb: Sandbox, clock: datetime) -> AsyncIterator[ToolSource]:
    """A new toolkit per case on the sandbox, at the clock, sharing one filled store."""
    store = filled_store(sb, "memory", clock)
    try:
        yield lambda: PagerDutyToolkit(
            client=sandbox_client(sb), now=lambda: clock, store=store
        ).get_tools()
    finally:
        store.close()


@asynccontextmanager
async def stdio_tools(
    command: str, args: list[str], env: dict[str, str]
) -> AsyncIterator[list[BaseTool]]:
    """The tools of an MCP server started over stdio, on one session kept open."""
    from langchain_mcp_adapters.client import MultiServerMCPClient
    from langchain_mcp_adapters.tools import load_mcp_tools

    client = MultiServerMCPClient(
        {"server": {"transport": "stdio", "command": command, "args": args, "env": env}}
    )
    async with client.session("server") as session:
        yield await load_mcp_tools(session)


@asynccontextmanager
async def mcp_face(sb: Sandbox, clock: datetime) -> AsyncIterator[ToolSource]:
    """``pd-toolkit mcp`` (stdio, the case's clock) on the sandbox, its store a file filled
    ahead; one server for the sandbox's cases."""
    async with AsyncExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="evals-")))
        path = str(folder / "store.db")
        filled_store(sb, path, clock).close()
        env = {
            "PAGERDUTY_API_KEY": sb.api_key,
            "PAGERDUTY_API_HOST": sb.base_url,
            "PD_TOOLKIT_STORE": path,
            "PYTHONPATH": str(CHECKOUT),
        }
        tools = await stack.enter_async_context(
            stdio_tools(sys.executable, ["-m", "evals.mcp_server", clock.isoformat()], env)
        )
        yield lambda: tools
