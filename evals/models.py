"""The scripted chat models that keep the cases honest without an LLM.

- :class:`OracleModel` makes a case's expected tool calls, one turn each (a later call may
  depend on an earlier answer, as in "who is on call for the service of #N?"), then answers by
  quoting pieces of the tools' successful outputs verbatim, and nothing else: the fewest
  pieces (a clause between ", ", "; " or " | ", a line, or up to three lines) that hold the
  case's facts, chosen greedily (the piece holding most facts not yet held, the shortest on a
  tie). When it scores full marks, every fact of the case is reachable through the tools and
  stated where the tools state it. On a case whose answer is a refusal it says, in one fixed
  sentence, that the data is not there.
- :class:`CarelessModel` calls every tool the case does not expect and quotes them
  (``wrong-tool``), or calls the right ones and then invents a name, a fix and an incident
  (``invents``): the scorer must fail it on every case. tests/test_evals.py adds more careless
  answers (each unexpected tool's output alone, the oracle's answer plus an invented claim, a
  neighbouring case's answer, the question echoed).

Both report ``usage_metadata`` (o200k_base tokens of everything sent, the tool definitions
included, and of the reply), so the runner's token accounting runs in CI too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, PrivateAttr

from evals.cases import Case, ToolCallSpec
from evals.scoring import Fact, found
from evals.tokens import count_tokens
from evals.truth import facts_of
from pd_toolkit.sandbox import build_account
from pd_toolkit.toolkit import tool_names

ORACLE = "oracle"
CARELESS = ("careless-wrong-tool", "careless-invents")
SCRIPTED = (ORACLE, *CARELESS)
REFUSAL_SENTENCE = (
    "PagerDuty's tools cannot answer this: the account holds no {topic} data, so I will not guess."
)
INVENTED_ANSWER = (
    "Jordan Blake (PZ9ZZ9Z) has it: on call since this morning, and it was fixed last time by "
    "restarting the whole cluster (see incident #9999, alert Q9ZZZZ9ZZZZZZZ)."
)
# What a careless answer adds to a right one: a person the account does not have, on call,
# and a fix no failure mode has (no id, no incident number: only claim scoring can catch it).
INVENTION = (
    "Also, Jordan Blake is on call as backup, and last time it was fixed by restarting the "
    "whole cluster."
)
PIECE = re.compile(r", |; | \| ")


def _text(message: BaseMessage) -> str:
    calls = json.dumps(getattr(message, "tool_calls", None) or [], default=str)
    return f"{message.type}: {message.text} {calls if calls != '[]' else ''}"


class ScriptedModel(BaseChatModel):
    """A chat model that makes scripted tool calls, one turn per entry of ``turns``, then
    answers with :meth:`final_answer`; it reports its token usage like a served model."""

    turns: list[list[ToolCallSpec]]
    definition_tokens: int = 0  # of the tool definitions bound to it
    # Tokens per set of tools bound (create_agent binds before every call), shared by copies.
    _counted: dict[tuple[int, ...], int] = PrivateAttr(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "evals-scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedModel:
        """The script knows its calls; binding only counts the definitions a model is sent."""
        key = tuple(id(tool) for tool in tools)
        if key not in self._counted:
            schemas = [convert_to_openai_tool(tool) for tool in tools]
            self._counted[key] = count_tokens(json.dumps(schemas))
        return self.model_copy(update={"definition_tokens": self._counted[key]})

    def final_answer(self, results: list[ToolMessage]) -> str:
        """The answer once the script has run out of calls."""
        raise NotImplementedError

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        made = sum(1 for m in messages if isinstance(m, AIMessage) and m.tool_calls)
        if made < len(self.turns):
            reply = AIMessage(
                "",
                tool_calls=[
                    {"name": c.name, "args": c.args, "id": f"call-{made}-{n}", "type": "tool_call"}
                    for n, c in enumerate(self.turns[made])
                ],
            )
        else:
            reply = AIMessage(
                self.final_answer([m for m in messages if isinstance(m, ToolMessage)])
            )
        read = self.definition_tokens + sum(count_tokens(_text(m)) for m in messages)
        written = count_tokens(_text(reply))
        reply.usage_metadata = {
            "input_tokens": read,
            "output_tokens": written,
            "total_tokens": read + written,
        }
        return ChatResult(generations=[ChatGeneration(message=reply)])


def _quoted(results: list[ToolMessage]) -> str:
    return "\n\n".join(m.text for m in results if m.status != "error")


def pieces(text: str) -> list[str]:
    """The pieces of a tool output the oracle may quote: its clauses, lines, and runs of two
    or three lines."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    runs = ["\n".join(lines[i : i + n]) for n in (2, 3) for i in range(len(lines) - n + 1)]
    clauses = [c.strip() for line in lines for c in PIECE.split(line) if c.strip()]
    return list(dict.fromkeys([*clauses, *lines, *runs]))


def relevant_pieces(facts: list[Fact], outputs: list[str], clock: datetime) -> list[str]:
    """The fewest pieces of the outputs holding the facts: greedily the piece holding most
    facts not yet held (the shortest on a tie), among clauses and lines first, then among runs
    of lines for the facts no line holds; facts no piece holds are left out."""
    chosen: list[str] = []
    wanted = set(range(len(facts)))
    all_pieces = [p for text in outputs for p in pieces(text)]
    for candidates in ([p for p in all_pieces if "\n" not in p], all_pieces):
        holds = {p: {i for i in wanted if found(facts[i], p, clock, outputs)} for p in candidates}
        while wanted:
            best = max(candidates, key=lambda p: (len(holds[p] & wanted), -len(p)), default=None)
            if best is None or not holds[best] & wanted:
                break
            chosen.append(best)
            wanted -= holds[best]
    return chosen


class OracleModel(ScriptedModel):
    """The case's expected calls, then the pieces of their outputs that hold its facts (or,
    without facts, the outputs whole), plus a refusal sentence on a case whose answer is one."""

    refuses: bool = False
    facts: list[Fact] = Field(default_factory=list)
    clock: datetime | None = None

    def final_answer(self, results: list[ToolMessage]) -> str:
        if self.refuses:
            topic = next((f.options[0] for f in self.facts if f.kind == "refusal"), "such")
            return REFUSAL_SENTENCE.format(topic=topic)
        outputs = [m.text for m in results if m.status != "error"]
        if not self.facts or self.clock is None:
            return _quoted(results) or "No tool answered."
        return "\n".join(relevant_pieces(self.facts, outputs, self.clock)) or "No tool answered."


class CarelessModel(ScriptedModel):
    """``wrong-tool``: the calls the case does not expect, quoted. ``invents``: the right
    calls, then a confident answer with an invented name, fix, incident and id."""

    variant: Literal["wrong-tool", "invents"]

    def final_answer(self, results: list[ToolMessage]) -> str:
        if self.variant == "invents":
            return INVENTED_ANSWER
        return _quoted(results) or "No tool answered."


def claim_sentence(claim: Fact) -> str:
    """A sentence making a forbidden claim, as a careless answer would (for the tests)."""
    first = claim.options[0] if claim.options else claim.text
    if claim.kind == "status":
        return f"{claim.subject} is {claim.text}."
    if claim.kind == "other_number":
        return f"{int(claim.text) + 1} {first}s."
    sentences = {
        "name": f"{first} is on call too.",
        "incident": f"See also incident {first}.",
        "id": f"Related: {first}.",
        "figure": f"It is about 93 {first}.",
        "pattern": "They use #payments-war-room.",
        "stranger": "Jordan Blake is on call.",
    }
    return sentences.get(claim.kind, claim.text)


def unexpected_tools(case: Case) -> list[ToolCallSpec]:
    """A call without arguments to each tool the case does not expect."""
    expected = {call.name for call in case.tools}
    return [ToolCallSpec(name=name) for name in tool_names() if name not in expected]


def scripted_model(name: str, case: Case) -> ScriptedModel:
    """The scripted model called ``name`` (one of SCRIPTED) for ``case`` (its refs filled)."""
    if name == ORACLE:
        facts = facts_of(case.facts, build_account(case.seed, case.clock), case)
        return OracleModel(
            turns=[[call] for call in case.tools],
            refuses=any(fact.kind == "refusal" for fact in facts),
            facts=facts,
            clock=case.clock,
        )
    if name == "careless-invents":
        return CarelessModel(turns=[[call] for call in case.tools], variant="invents")
    if name == "careless-wrong-tool":
        return CarelessModel(turns=[unexpected_tools(case)], variant="wrong-tool")
    raise ValueError(f"no scripted model {name!r}; choose from {', '.join(SCRIPTED)}")
