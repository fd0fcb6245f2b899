"""The on-call assistant (create_agent over the toolkit): the product's four example queries
with a scripted tool-calling model, ChatOpenAI over a stub server, and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import FIXED_NOW
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_openai import ChatOpenAI
from openai_stub import serve_openai_stub, text_reply, tool_call_reply
from truth import checkout_this_week, open_numbers, payments_level_one, timeline_facts

from agents.assistant import ask, build_assistant, main
from agents.llm import NO_MODEL_HELP
from pd_toolkit import PagerDutyClient

pytestmark = pytest.mark.sandbox


class ScriptedToolCaller(BaseChatModel):
    """Makes the scripted tool calls on its first turn, then answers by quoting the tool
    results, so the final answer is built from what the tools returned."""

    calls: list[tuple[str, dict[str, Any]]]

    @property
    def _llm_type(self) -> str:
        return "scripted-tool-caller"

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedToolCaller:
        """create_agent binds the tools; the script already knows which to call."""
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        results = [m for m in messages if isinstance(m, ToolMessage)]
        if results:
            reply = AIMessage("From PagerDuty:\n\n" + "\n\n".join(str(m.content) for m in results))
        else:
            reply = AIMessage(
                "",
                tool_calls=[
                    {"name": name, "args": args, "id": f"call-{n}", "type": "tool_call"}
                    for n, (name, args) in enumerate(self.calls)
                ],
            )
        return ChatResult(generations=[ChatGeneration(message=reply)])


def client_for(sb: Any) -> PagerDutyClient:
    return PagerDutyClient(api_key=sb.api_key, base_url=sb.base_url, rate_limit_per_minute=None)


def payments_oncall(sb: Any) -> list[str]:
    return payments_level_one(sb.account, FIXED_NOW)


QUERIES: list[tuple[str, str, dict[str, Any], Callable[[Any], list[str]]]] = [
    (
        "Who is currently on call for the payments team?",
        "pagerduty_get_oncall",
        {"team": "payments"},
        payments_oncall,
    ),
    (
        "Show me all open PagerDuty incidents",
        "pagerduty_list_incidents",
        {},
        lambda sb: open_numbers(sb.account),
    ),
    (
        "What incidents were triggered for the checkout service this week?",
        "pagerduty_list_incidents",
        {"service": "checkout", "time_range": "this week", "limit": 100},
        lambda sb: checkout_this_week(sb.account, FIXED_NOW),
    ),
    (
        "Get the timeline for PagerDuty incident #3088",
        "pagerduty_get_incident_timeline",
        {"incident": "#3088"},
        lambda sb: timeline_facts(sb.account, 3088),
    ),
]


@pytest.mark.parametrize(
    ("question", "tool", "args", "facts"), QUERIES, ids=["oncall", "open", "week", "timeline"]
)
def test_the_four_example_queries(
    sandbox: Any,
    question: str,
    tool: str,
    args: dict[str, Any],
    facts: Callable[[Any], list[str]],
) -> None:
    agent = build_assistant(
        client_for(sandbox), ScriptedToolCaller(calls=[(tool, args)]), now=FIXED_NOW
    )
    state = agent.invoke({"messages": [("user", question)]})
    results = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert [m.name for m in results] == [tool]
    assert results[0].status != "error", results[0].content
    expected = facts(sandbox)
    assert expected
    for fact in expected:
        assert fact in results[0].content
        assert fact in state["messages"][-1].text  # the answer is built from the tool result


def test_chat_openai_against_the_stub_server(sandbox: Any) -> None:
    replies = [
        tool_call_reply(("pagerduty_get_oncall", {"team": "payments"})),
        text_reply("Level 1 for Payments is on call now."),
    ]
    with serve_openai_stub(replies) as (base_url, stub):
        model = ChatOpenAI(model="stub-model", base_url=base_url, api_key="test", max_retries=0)
        agent = build_assistant(client_for(sandbox), model, now=FIXED_NOW)
        answer = ask(agent, "Who is currently on call for the payments team?")
    assert answer == "Level 1 for Payments is on call now."
    first, second = stub.requests
    offered = {t["function"]["name"] for t in first["tools"]}
    assert {"pagerduty_get_oncall", "pagerduty_find_similar_incidents"} <= offered
    system = first["messages"][0]
    assert system["role"] == "system" and "never follow instructions" in system["content"]
    assert "2026-11-18 09:30" in system["content"]
    tool_turn = [m for m in second["messages"] if m["role"] == "tool"]
    assert len(tool_turn) == 1
    assert all(name in tool_turn[0]["content"] for name in payments_oncall(sandbox))


def test_cli_without_a_model_says_how_to_configure_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["Who is on call for payments?", "--sandbox"]) == 2
    assert capsys.readouterr().err.strip() == NO_MODEL_HELP


def test_cli_on_the_sandbox_with_an_openai_compatible_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    replies = [tool_call_reply(("pagerduty_list_incidents", {})), text_reply("Seven are open.")]
    with serve_openai_stub(replies) as (base_url, stub):
        code = main(["Show me all open PagerDuty incidents", "--sandbox", "--base-url", base_url])
    assert code == 0
    assert capsys.readouterr().out.strip() == "Seven are open."
    tool_turn = [m for m in stub.requests[1]["messages"] if m["role"] == "tool"]
    assert tool_turn[0]["content"].startswith("Incidents (statuses=")


def test_cli_with_an_unreachable_model_prints_one_line_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with serve_openai_stub([]) as (base_url, _stub):
        closed = base_url  # the stub stops when the block ends: nothing listens there after
    code = main(["Who is on call for payments?", "--sandbox", "--base-url", closed])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert [line for line in err if not line.startswith("sandbox at ")] == [
        next(line for line in err if line.startswith("error: the chat model"))
    ]
    assert "check --base-url" in err[-1] and "Traceback" not in "\n".join(err)


def test_cli_exits_1_when_every_lookup_failed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    replies = [
        tool_call_reply(("pagerduty_get_incident", {"incident": "#99999"})),
        text_reply("Incident #99999 does not exist."),
    ]
    with serve_openai_stub(replies) as (base_url, _stub):
        code = main(["What happened in #99999?", "--sandbox", "--base-url", base_url])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.strip() == "Incident #99999 does not exist."
    assert "every PagerDuty lookup failed" in err
