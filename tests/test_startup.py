"""Starting is cheap: the light commands import neither LangChain nor scikit-learn, and the MCP
server lists its tools before scikit-learn is imported (it loads with the first history
search). Checked on the modules a fresh process imports (``python -X importtime``), not on
timings; ``benchmarks/startup.py`` measures the times."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CONTRACT_TOOLS, ROOT
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

HEAVY = ("sklearn", "langchain_core", "langchain", "langgraph")
# The MCP server on a placeholder key: listing tools sends nothing to PagerDuty.
SERVER_ENV = {
    "PAGERDUTY_API_KEY": "startup-test-placeholder-key",
    "PAGERDUTY_API_HOST": "http://127.0.0.1:9",
    "PD_TOOLKIT_STORE": "memory",
}


def imported(importtime: str) -> set[str]:
    """Top-level packages named in ``python -X importtime`` output."""
    return {
        line.rpartition("|")[2].strip().split(".")[0]
        for line in importtime.splitlines()
        if line.startswith("import time:")
    }


@pytest.mark.parametrize(
    "arguments",
    [["--help"], ["check", "--help"], ["sandbox", "--help"], ["sync", "--help"]],
    ids=" ".join,
)
def test_light_commands_import_neither_langchain_nor_scikit_learn(arguments: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pd_toolkit.cli", *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0 and "usage: pd-toolkit" in done.stdout
    modules = imported(done.stderr)
    assert "pd_toolkit" in modules
    assert sorted(modules.intersection(HEAVY)) == []


async def test_mcp_lists_its_tools_before_importing_scikit_learn(tmp_path: Path) -> None:
    log = tmp_path / "importtime.txt"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-X", "importtime", "-m", "pd_toolkit.cli", "mcp"],
        env=SERVER_ENV,
        cwd=ROOT,
    )
    with log.open("w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            listed = [tool.name for tool in (await session.list_tools()).tools]
            modules = imported(log.read_text())  # what the server had imported by now
    assert listed == CONTRACT_TOOLS
    assert "mcp" in modules and "langchain_core" in modules
    assert "sklearn" not in modules
