"""The MCP server (`pd-toolkit mcp`), driven by the official `mcp` client library and by
langchain-mcp-adapters, against the sandbox: the same tools as through LangChain (names,
argument schemas, content text), artifacts as structured content matching the output schema,
failures as isError results, progress during the history search, and streamable HTTP with and
without the server token, on a busy port (one line) and through a client's disconnect (one
debug line, not the SDK's error traceback)."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from typing import Any

import anyio
import httpx
import jsonschema
import pytest
import uvicorn
from conftest import CONTRACT_TOOLS, FIXED_NOW, ROOT
from langchain.agents import create_agent
from langchain_core.messages import ToolCall, ToolMessage
from langchain_mcp_adapters.client import MultiServerMCPClient
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from test_assistant import ScriptedToolCaller, payments_oncall

from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.mcp import SSE_LOGGER, input_schema, is_loopback, serve_http
from pd_toolkit.sandbox import Sandbox

pytestmark = pytest.mark.sandbox

FIXED_CLOCK_SERVER = str(ROOT / "tests" / "mcp_fixed_clock_server.py")
SERVER_TOKEN = "mcp-server-token-7c1e5a9b3d2f4e68"
# At least one call per tool; the last ones fail on purpose.
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("pagerduty_list_incidents", {}),
    ("pagerduty_list_incidents", {"service": "checkout", "time_range": "this week"}),
    ("pagerduty_get_incident", {"incident": "#3088"}),
    ("pagerduty_get_incident_timeline", {"incident": "#3088"}),
    ("pagerduty_get_incident_alerts", {"incident": "#3088", "limit": 3}),
    ("pagerduty_get_oncall", {"team": "payments"}),
    ("pagerduty_get_service_status", {"service": "checkout"}),
    ("pagerduty_get_service_status", {}),
    ("pagerduty_list_recent_changes", {"incident": "#3088"}),
    ("pagerduty_find_similar_incidents", {"incident": "#3088"}),
]
FAILURES: list[tuple[str, dict[str, Any], str]] = [
    ("pagerduty_get_incident", {"incident": "#999999"}, "No incident #999999"),
    ("pagerduty_get_oncall", {"team": "no such team"}, "No team named 'no such team'"),
    ("pagerduty_list_incidents", {"limit": 500}, "Invalid arguments: limit"),
    ("pagerduty_get_incident", {"incident": "#1", "extra": 1}, "Extra inputs are not permitted"),
    ("pagerduty_no_such_tool", {}, "Unknown tool 'pagerduty_no_such_tool'"),
]


# A server that starts without PagerDuty: a placeholder key and an unreachable host.
PLACEHOLDER_ENV = {
    "PAGERDUTY_API_KEY": "placeholder-key-never-sent",
    "PAGERDUTY_API_HOST": "http://127.0.0.1:9",
    "PD_TOOLKIT_STORE": "memory",
}


def server_env(sb: Sandbox) -> dict[str, str]:
    return {"PAGERDUTY_API_KEY": sb.api_key, "PAGERDUTY_API_HOST": sb.base_url}


@asynccontextmanager
async def stdio_session(sb: Sandbox) -> AsyncIterator[ClientSession]:
    """A client session with the MCP server (fixed clock) in a subprocess over stdio."""
    params = StdioServerParameters(
        command=sys.executable, args=[FIXED_CLOCK_SERVER], env=server_env(sb)
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def langchain_tools(sb: Sandbox) -> dict[str, Any]:
    client = PagerDutyClient(api_key=sb.api_key, base_url=sb.base_url)
    toolkit = PagerDutyToolkit(client=client, now=lambda: FIXED_NOW)
    return {tool.name: tool for tool in toolkit.get_tools()}


async def test_tools_are_listed_as_in_langchain(sandbox: Sandbox) -> None:
    reference = langchain_tools(sandbox)
    async with stdio_session(sandbox) as session:
        listed = (await session.list_tools()).tools
    assert [tool.name for tool in listed] == CONTRACT_TOOLS
    for tool in listed:
        assert tool.description == reference[tool.name].description
        assert tool.inputSchema == input_schema(reference[tool.name])
        assert tool.inputSchema["properties"]
        assert tool.annotations is not None and tool.annotations.readOnlyHint is True
        assert tool.annotations.destructiveHint is False
        assert tool.outputSchema is not None and tool.outputSchema["type"] == "object"


async def test_every_tool_answers_as_through_langchain(sandbox: Sandbox) -> None:
    reference = langchain_tools(sandbox)
    assert {name for name, _ in CALLS} == set(CONTRACT_TOOLS)
    async with stdio_session(sandbox) as session:
        schemas = {tool.name: tool.outputSchema for tool in (await session.list_tools()).tools}
        for name, args in CALLS:
            result = await session.call_tool(name, args)
            expected: ToolMessage = reference[name].invoke(
                ToolCall(name=name, args=args, id="call-1", type="tool_call")
            )
            assert expected.status == "success"
            assert not result.isError, (name, result.content)
            assert [block.type for block in result.content] == ["text"]
            assert isinstance(result.content[0], types.TextContent)
            assert result.content[0].text == expected.content, name
            structured = result.structuredContent
            assert structured is not None
            jsonschema.validate(structured, schemas[name])
            assert structured == expected.artifact.model_dump(mode="json"), name


async def test_failures_are_error_results_with_our_explanation(sandbox: Sandbox) -> None:
    async with stdio_session(sandbox) as session:
        for name, args, text in FAILURES:
            result = await session.call_tool(name, args)
            assert result.isError, (name, args)
            assert result.structuredContent is None
            assert isinstance(result.content[0], types.TextContent)
            assert text in result.content[0].text, result.content[0].text
        still_serving = await session.call_tool("pagerduty_get_incident", {"incident": "#3088"})
        assert not still_serving.isError


async def test_the_history_search_reports_progress(sandbox: Sandbox) -> None:
    heard: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        heard.append((progress, total, message))

    async with stdio_session(sandbox) as session:
        result = await session.call_tool(
            "pagerduty_find_similar_incidents",
            {"text": "postgres connection pool exhausted", "all_services": True},
            progress_callback=on_progress,
        )
    assert not result.isError
    sent = result.structuredContent["requests_used"]
    assert len(heard) >= sent > 5
    assert [p for p, _, _ in heard] == sorted(p for p, _, _ in heard)
    assert heard[0][2] == "1 PagerDuty request sent"
    assert heard[-1][2] == f"{int(heard[-1][0])} PagerDuty requests sent"


async def test_the_cli_serves_the_sandbox_over_stdio() -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "pd_toolkit.cli", "mcp", "--sandbox"], env={}
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        info = await session.initialize()
        assert info.serverInfo.name == "pd_toolkit"
        assert len((await session.list_tools()).tools) == 8
        result = await session.call_tool("pagerduty_list_incidents", {})
    assert not result.isError and result.content[0].text.startswith("Incidents (statuses=")


async def test_langchain_mcp_adapters_feed_create_agent(sandbox: Sandbox) -> None:
    client = MultiServerMCPClient(
        {
            "pagerduty": {
                "transport": "stdio",
                "command": sys.executable,
                "args": [FIXED_CLOCK_SERVER],
                "env": server_env(sandbox),
            }
        }
    )
    tools = await client.get_tools()
    assert sorted(tool.name for tool in tools) == sorted(CONTRACT_TOOLS)
    model = ScriptedToolCaller(calls=[("pagerduty_get_oncall", {"team": "payments"})])
    agent = create_agent(model, tools=tools)
    state = await agent.ainvoke({"messages": [("user", "Who is on call for payments?")]})
    results = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert [m.name for m in results] == ["pagerduty_get_oncall"]
    assert results[0].status != "error"
    answer = state["messages"][-1].text
    for name in payments_oncall(sandbox):
        assert name in answer
    assert results[0].artifact["structured_content"]["target"].startswith("team Payments")


# -- streamable HTTP ---------------------------------------------------------------------------


@contextmanager
def http_server(*flags: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`pd-toolkit mcp --sandbox --http --port 0 ...` in a subprocess; yields its URL."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pd_toolkit.cli",
            "mcp",
            "--sandbox",
            "--http",
            "--port",
            "0",
            *flags,
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    try:
        assert process.stderr is not None
        for _ in range(5):
            line = process.stderr.readline()
            found = re.search(r"http://127\.0\.0\.1:\d+/mcp", line)
            if found:
                yield found.group(0)
                return
        raise AssertionError(f"no URL announced; last line {line!r}")
    finally:
        process.terminate()
        process.wait(timeout=10)


async def http_tool_names(url: str, headers: dict[str, str] | None = None) -> list[str]:
    async with (
        create_mcp_http_client(headers=headers) as http,
        streamable_http_client(url, http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool("pagerduty_get_oncall", {"team": "payments"})
        assert not result.isError and "On call for team Payments" in result.content[0].text
        return [tool.name for tool in (await session.list_tools()).tools]


async def test_http_without_a_token_on_loopback() -> None:
    with http_server() as url:
        assert await http_tool_names(url) == CONTRACT_TOOLS
        async with httpx.AsyncClient() as plain:  # a foreign Host is refused (DNS rebinding)
            rebound = await plain.post(url, headers={"Host": "evil.example:80"}, json={})
        assert rebound.status_code in (400, 421)


async def test_http_with_a_token_requires_it_on_every_request() -> None:
    with http_server("--auth-token", SERVER_TOKEN) as url:
        hello = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        accept = {"Accept": "application/json, text/event-stream"}
        async with httpx.AsyncClient() as plain:
            missing = await plain.post(url, json=hello, headers=accept)
            wrong = await plain.post(
                url, json=hello, headers={**accept, "Authorization": "Bearer nope"}
            )
            as_token = await plain.post(
                url, json=hello, headers={**accept, "Authorization": f"Token {SERVER_TOKEN}"}
            )
        for refused in (missing, wrong, as_token):
            assert refused.status_code == 401
            assert refused.headers["WWW-Authenticate"].startswith("Bearer")
            assert SERVER_TOKEN not in refused.text
        good = {"Authorization": f"Bearer {SERVER_TOKEN}"}
        assert await http_tool_names(url, good) == CONTRACT_TOOLS


async def test_http_token_from_the_environment() -> None:
    with http_server(env={"PD_TOOLKIT_MCP_TOKEN": SERVER_TOKEN}) as url:
        async with httpx.AsyncClient() as plain:
            assert (await plain.post(url, json={})).status_code == 401
        good = {"Authorization": f"Bearer {SERVER_TOKEN}"}
        assert await http_tool_names(url, good) == CONTRACT_TOOLS


def test_http_on_a_busy_port_is_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "pd_toolkit.cli", "mcp", "--http", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **PLACEHOLDER_ENV},
        )
    assert done.returncode == 2
    assert done.stderr.startswith(f"Cannot serve MCP: Cannot listen on 127.0.0.1 port {port}: ")
    assert done.stderr.count("\n") == 1 and "--port" in done.stderr


async def test_a_client_disconnect_is_one_debug_line(
    sandbox: Sandbox,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = PagerDutyClient(api_key=sandbox.api_key, base_url=sandbox.base_url)
    caplog.set_level(logging.DEBUG, logger=SSE_LOGGER)
    servers: list[uvicorn.Server] = []

    class Stoppable(uvicorn.Server):  # so that the test stops it as Ctrl-C would
        def __init__(self, config: uvicorn.Config) -> None:
            super().__init__(config)
            servers.append(self)

    monkeypatch.setattr(uvicorn, "Server", Stoppable)

    def closed() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage().startswith("Standalone SSE stream")]

    def noisy() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.levelno >= logging.ERROR and "SSE" in r.msg]

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(partial(serve_http, PagerDutyToolkit(client=client), port=0))
        announced = ""
        with anyio.fail_after(60):
            while not (found := re.search(r"http://127\.0\.0\.1:\d+/mcp", announced)):
                await anyio.sleep(0.05)
                announced += capsys.readouterr().err
            assert await http_tool_names(found.group(0)) == CONTRACT_TOOLS  # then disconnects
            while not (closed() or noisy()):
                await anyio.sleep(0.05)
            servers[0].should_exit = True
    assert [r.getMessage() for r in noisy()] == []
    assert [(r.name, r.levelno, r.exc_info) for r in closed()] == [
        (SSE_LOGGER, logging.DEBUG, None)
    ]


def test_http_refuses_another_address_without_a_token() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PD_TOOLKIT_MCP_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-m", "pd_toolkit.cli", "mcp", "--sandbox", "--http", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 2
    assert "Serving" not in done.stderr  # refused before starting anything
    assert "Refusing to serve MCP over HTTP on 0.0.0.0 without a server token" in done.stderr
    assert "PD_TOOLKIT_MCP_TOKEN" in done.stderr


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        *[("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True)],
        *[("0.0.0.0", False), ("192.168.1.5", False), ("::", False), ("example.com", False)],
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
