"""Choosing the tools: ``PagerDutyToolkit.from_env()`` honours PD_TOOLKIT_TOOLS, and
``pd-toolkit mcp --tools a,b`` or PD_TOOLKIT_TOOLS=a,b serves exactly what
``PagerDutyToolkit(tools=[a, b])`` gives; an unknown name is refused at start (exit 2, one
line listing the valid names)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import CONTRACT_TOOLS, ROOT
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.errors import PagerDutyConfigError

# The server starts without PagerDuty: listing tools sends no request.
ENV = {
    "PAGERDUTY_API_KEY": "placeholder-key-never-sent",
    "PAGERDUTY_API_HOST": "http://127.0.0.1:9",
    "PD_TOOLKIT_STORE": "memory",
}
CHOSEN = ["pagerduty_get_oncall", "pagerduty_list_incidents"]


def toolkit_names(tools: list[str]) -> list[str]:
    """What PagerDutyToolkit(tools=...) serves, in its order."""
    client = PagerDutyClient(api_key=ENV["PAGERDUTY_API_KEY"], base_url=ENV["PAGERDUTY_API_HOST"])
    return [tool.name for tool in PagerDutyToolkit(client=client, tools=tools).get_tools()]


def test_from_env_honours_pd_toolkit_tools() -> None:
    env = {**ENV, "PD_TOOLKIT_TOOLS": " pagerduty_get_oncall, pagerduty_list_incidents,"}
    assert [t.name for t in PagerDutyToolkit.from_env(env).get_tools()] == toolkit_names(CHOSEN)
    assert len(PagerDutyToolkit.from_env(ENV).get_tools()) == len(CONTRACT_TOOLS)
    given = PagerDutyToolkit.from_env(env, tools=["pagerduty_get_incident"])  # the argument wins
    assert [t.name for t in given.get_tools()] == ["pagerduty_get_incident"]


def test_from_env_refuses_an_unknown_tool_with_the_valid_names() -> None:
    env = {**ENV, "PD_TOOLKIT_TOOLS": "pagerduty_get_oncall,pagerduty_delete_all"}
    with pytest.raises(PagerDutyConfigError, match="'pagerduty_delete_all'") as raised:
        PagerDutyToolkit.from_env(env)
    assert all(name in str(raised.value) for name in CONTRACT_TOOLS)


@pytest.mark.parametrize(
    ("flags", "env"),
    [(["--tools", ",".join(CHOSEN)], {}), ([], {"PD_TOOLKIT_TOOLS": ",".join(CHOSEN)})],
    ids=["--tools", "PD_TOOLKIT_TOOLS"],
)
async def test_mcp_lists_only_the_chosen_tools(flags: list[str], env: dict[str, str]) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "pd_toolkit.cli", "mcp", *flags],
        env={**ENV, **env},
        cwd=ROOT,
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        listed = [tool.name for tool in (await session.list_tools()).tools]
    assert listed == toolkit_names(CHOSEN)


@pytest.mark.parametrize(
    ("flags", "env"),
    [
        (["--tools", "pagerduty_get_oncall,pagerduty_nope"], {}),
        # with --sandbox: refused before the sandbox starts
        (["--sandbox"], {"PD_TOOLKIT_TOOLS": "pagerduty_get_oncall,pagerduty_nope"}),
    ],
    ids=["--tools", "PD_TOOLKIT_TOOLS --sandbox"],
)
def test_mcp_refuses_an_unknown_tool_at_start(flags: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pd_toolkit.cli", "mcp", *flags],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, **ENV, **env},
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("Cannot serve MCP: Unknown tool name 'pagerduty_nope'.")
    assert done.stderr.count("\n") == 1
    assert all(name in done.stderr for name in CONTRACT_TOOLS)
    assert "Started the built-in sandbox" not in done.stderr
