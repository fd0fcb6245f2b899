"""The scripted chat models that keep the cases honest without an LLM.

- :class:`OracleModel` makes a case's expected tool calls, one turn each (a later call may
  depend on an earlier answer, as in "who is on call for the service of #N?"), then answers by
  quoting the tools' successful outputs, and nothing else: when it scores full marks, every
  fact of the case is reachable through the tools. On a case whose answer is a refusal it adds
  one fixed sentence saying the data is not there.
- :class:`CarelessModel` answers from the wrong tool (``wrong-tool``), or calls the right ones
  and then invents a name (``invents``): the scorer must fail it on every case.

Both report ``usage_metadata`` (o200k_base tokens of everything sent, the tool definitions
included, and of the reply), so the runner's token accounting runs in CI too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr

from evals.cases import Case, ToolCallSpec
from evals.tokens import count_tokens

ORACLE = "oracle"
CARELESS = ("careless-wrong-tool", "careless-invents")
SCRIPTED = (ORACLE, *CARELESS)
REFUSAL_SENTENCE = (
    "PagerDuty's tools cannot answer this: the account holds no such data, so I will not guess."
)
INVENTED_ANSWER = (
    "Jordan Blake (PZ9ZZ9Z) has it: on call since this morning, and it was fixed last time by "
    "restarting the whole cluster (see incident #9999, alert Q9ZZZZ9ZZZZZZZ)."
)
# The careless model's "wrong tool": the first of these the case does not expect.
WRONG_TOOLS = (
    ToolCallSpec(name="pagerduty_get_service_status"),
    ToolCallSpec(name="pagerduty_list_incidents"),
    ToolCallSpec(name="pagerduty_get_oncall"),
)


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


class OracleModel(ScriptedModel):
    """The case's expected calls, then the tools' outputs quoted (plus a refusal sentence on
    a case whose answer is one)."""

    refuses: bool = False

    def final_answer(self, results: list[ToolMessage]) -> str:
        quoted = _quoted(results)
        if self.refuses:
            return f"{REFUSAL_SENTENCE}\n\n{quoted}".strip()
        return quoted or "No tool answered."


class CarelessModel(ScriptedModel):
    """``wrong-tool``: one call the case does not expect, quoted. ``invents``: the right
    calls, then a confident answer with an invented name, incident and id."""

    variant: Literal["wrong-tool", "invents"]

    def final_answer(self, results: list[ToolMessage]) -> str:
        if self.variant == "invents":
            return INVENTED_ANSWER
        return _quoted(results) or "No tool answered."


def scripted_model(name: str, case: Case) -> ScriptedModel:
    """The scripted model called ``name`` (one of SCRIPTED) for ``case`` (its refs filled)."""
    if name == ORACLE:
        return OracleModel(
            turns=[[call] for call in case.tools],
            refuses=any(spec.kind == "refusal" for spec in case.facts),
        )
    if name == "careless-invents":
        return CarelessModel(turns=[[call] for call in case.tools], variant="invents")
    if name == "careless-wrong-tool":
        expected = {call.name for call in case.tools}
        wrong = next(call for call in WRONG_TOOLS if call.name not in expected)
        return CarelessModel(turns=[[wrong]], variant="wrong-tool")
    raise ValueError(f"no scripted model {name!r}; choose from {', '.join(SCRIPTED)}")
