"""Run an agent on each case, on the sandbox, and record what it did and how it scored.

The agent is the assistant's: ``create_agent`` with the assistant's system prompt (the case's
clock as "now") over the face's tools. Per case it records the tool calls with their arguments,
errors and retries (a call to a tool that just failed), the tokens the model reports reading
and writing, the tokens of the tool outputs, the model calls and PagerDuty requests, the wall
time, and the score (:mod:`evals.scoring`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from itertools import groupby
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from agents.assistant import SYSTEM_PROMPT
from evals.cases import Case, clock_key
from evals.faces import FaceName, ToolSource, langchain_face, mcp_face
from evals.peers import pagerduty_mcp_face
from evals.scoring import score_answer
from evals.tokens import count_tokens
from evals.truth import resolve
from pd_toolkit.sandbox import Sandbox

ModelFactory = Callable[[Case], BaseChatModel]  # a model for a case (its refs filled in)
Progress = Callable[[int, int, "CaseResult"], None]
RECURSION_LIMIT = 30  # graph steps: about 14 tool turns


def open_face(
    name: FaceName, sb: Sandbox, clock: datetime
) -> AbstractAsyncContextManager[ToolSource]:
    """The face called ``name`` on ``sb``."""
    if name == "langchain":
        return langchain_face(sb, clock)
    if name == "mcp":
        return mcp_face(sb, clock)
    return pagerduty_mcp_face(sb, clock)


class ToolCallRecord(BaseModel):
    """One tool call the agent made."""

    name: str
    args: dict[str, Any]
    error: bool
    retry: bool  # a call to a tool whose previous call failed
    output_tokens: int
    output: str = Field(default="", exclude=True, repr=False)  # for re-scoring, not reported


class CaseResult(BaseModel):
    """What one agent run on one case did, and its score."""

    id: str
    category: str
    difficulty: str
    question: str
    answer: str = ""
    facts: list[str] = Field(default_factory=list)
    facts_found: list[str] = Field(default_factory=list)
    facts_missing: list[str] = Field(default_factory=list)
    forbidden_made: list[str] = Field(default_factory=list)
    cited_ids: list[str] = Field(default_factory=list)
    unsupported_ids: list[str] = Field(default_factory=list)
    score: float = 0.0
    passed: bool = False
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    expected_tools: list[str] = Field(default_factory=list)
    expected_tools_called: bool = False
    tool_errors: int = 0
    retries: int = 0
    model_calls: int = 0
    input_tokens: int | None = None  # as the model reports them (None: it reports none)
    output_tokens: int | None = None
    tool_output_tokens: int = 0
    pagerduty_requests: int = 0
    seconds: float = 0.0
    error: str | None = None  # the run failed (the model, the graph): scored 0


def _reported(messages: list[BaseMessage], key: str) -> int | None:
    usages = [m.usage_metadata for m in messages if isinstance(m, AIMessage) and m.usage_metadata]
    return sum(int(u[key]) for u in usages) if usages else None  # type: ignore[literal-required]


def record(result: CaseResult, messages: list[BaseMessage]) -> None:
    """Fill ``result`` with the tool calls and token counts of one run's messages."""
    outputs = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    failed: set[str] = set()
    for message in messages:
        if not isinstance(message, AIMessage):
            continue
        for call in message.tool_calls:
            output = outputs.get(str(call["id"]))
            error = output is None or output.status == "error"
            result.tool_calls.append(
                ToolCallRecord(
                    name=call["name"],
                    args=call["args"],
                    error=error,
                    retry=call["name"] in failed,
                    output_tokens=count_tokens(output.text) if output else 0,
                    output=output.text if output else "",
                )
            )
            (failed.add if error else failed.discard)(call["name"])
    result.tool_errors = sum(call.error for call in result.tool_calls)
    result.retries = sum(call.retry for call in result.tool_calls)
    result.tool_output_tokens = sum(call.output_tokens for call in result.tool_calls)
    result.model_calls = sum(isinstance(m, AIMessage) for m in messages)
    result.input_tokens = _reported(messages, "input_tokens")
    result.output_tokens = _reported(messages, "output_tokens")
    called = {call.name for call in result.tool_calls}
    result.expected_tools_called = set(result.expected_tools) <= called


async def run_case(
    case: Case, sb: Sandbox, tools: list[BaseTool], model_for: ModelFactory
) -> CaseResult:
    """One agent run on one case (the sandbox at the case's clock), recorded and scored."""
    filled, facts, must_not = resolve(case, sb.account)
    result = CaseResult(
        id=case.id,
        category=case.category,
        difficulty=case.difficulty,
        question=filled.question,
        facts=[fact.text for fact in facts],
        expected_tools=list(dict.fromkeys(call.name for call in filled.tools)),
    )
    agent = create_agent(
        model_for(filled),
        tools=tools,
        system_prompt=SYSTEM_PROMPT.format(now=f"{case.clock:%Y-%m-%d %H:%M} UTC"),
    )
    requests_before = len(sb.request_log)
    started = time.perf_counter()
    messages: list[BaseMessage] = []
    try:
        state = await agent.ainvoke(
            {"messages": [("user", filled.question)]}, {"recursion_limit": RECURSION_LIMIT}
        )
        messages = state["messages"]
        result.answer = messages[-1].text if messages else ""
    except Exception as exc:
        if is_model_unreachable(exc):
            raise
        result.error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    result.seconds = round(time.perf_counter() - started, 3)
    result.pagerduty_requests = len(sb.request_log) - requests_before
    record(result, messages)
    outputs = [m.text for m in messages if isinstance(m, ToolMessage)]
    score = score_answer(result.answer, facts, must_not, outputs, case.clock, filled.question)
    result.facts_found, result.facts_missing = score.facts_found, score.facts_missing
    result.forbidden_made = score.forbidden_made
    result.cited_ids, result.unsupported_ids = score.cited, score.unsupported
    result.score = 0.0 if result.error else score.score
    result.passed = result.error is None and score.passed
    return result


def is_model_unreachable(exc: Exception) -> bool:
    """A model service that cannot be reached or refuses the key: no case can run."""
    try:
        import openai
    except ImportError:
        return False
    return isinstance(exc, openai.APIConnectionError | openai.AuthenticationError)


async def run_cases(
    cases: list[Case],
    model_for: ModelFactory,
    face: FaceName = "langchain",
    progress: Progress | None = None,
) -> list[CaseResult]:
    """Every case, one sandbox (and face) per seed and clock; results in the cases' order."""
    order = {case.id: index for index, case in enumerate(cases)}
    results: list[CaseResult] = []
    for (seed, clock), group in groupby(sorted(cases, key=clock_key), key=clock_key):
        with Sandbox(now=clock, seed=seed) as sb:
            async with open_face(face, sb, clock) as tools_for:
                for case in group:
                    results.append(await run_case(case, sb, tools_for(), model_for))
                    if progress:
                        progress(len(results), len(cases), results[-1])
    return sorted(results, key=lambda result: order[result.id])


def run(
    cases: list[Case],
    model_for: ModelFactory,
    face: FaceName = "langchain",
    progress: Progress | None = None,
) -> list[CaseResult]:
    """:func:`run_cases` from synchronous code."""
    return asyncio.run(run_cases(cases, model_for, face, progress))
