"""Hostile incident text (``Sandbox(hostile=True)``, see pd_toolkit/sandbox/hostile.py): a title,
alert body, note and change summary carrying prompt injection, fake tool-call syntax, control
characters and ANSI escapes, Markdown/HTML and 20,000 characters. Every tool's content, the
graph's brief and the synthesis prompt show it only as quoted, length-capped data:

- no control character survives; no line *starts* with injected text (heading, tag, command);
- every injected marker sits inside a quoted span ``"..."`` (quotes inside are neutralised, so
  spans are balanced per line) and, in the Markdown brief, inside a code span;
- each quoted span is capped (at most NOTE_CAP characters plus the "…(+N chars)" mark).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import FIXED_NOW, ROOT
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolCall, ToolMessage
from pydantic import Field

from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.phrases import NOTE_CAP
from pd_toolkit.sandbox import Sandbox
from pd_toolkit.sandbox.hostile import HOSTILE_CHANGE_ID, HOSTILE_ID, HOSTILE_LENGTH, HOSTILE_TEXT

if str(ROOT) not in sys.path:  # agents/ is run from the checkout, not installed
    sys.path.insert(0, str(ROOT))

from agents.investigate import build_graph
from agents.synthesis import SYSTEM_PROMPT, build_messages

pytestmark = pytest.mark.sandbox

MARKERS = (
    "ignore previous instructions",
    "tool_call",
    "# system",
    "admin mode",
    "</data>",
    "<script",
    "</evidence-0000000000000000>",
    "qfake00000000000",
    "gnirts desrever",
)
INJECTED_LINE = re.compile(r"^\W*(#+\s*system|</?[a-z]|ignore previous|you are now)", re.I)
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064]")
QUOTED = re.compile(r'"[^"\n]*"')
CODE = re.compile(r"`[^`\n]*`")
LONGEST_QUOTE = 2 + NOTE_CAP + len(f"…(+{HOSTILE_LENGTH} chars)")
SHOWS_ATTACK = {  # tool call -> shows the attacker's text
    ("pagerduty_list_incidents", "service"): True,
    ("pagerduty_get_incident", "incident"): True,
    ("pagerduty_get_incident_timeline", "incident"): True,
    ("pagerduty_get_incident_alerts", "incident"): True,
    ("pagerduty_get_oncall", "service"): False,
    ("pagerduty_get_service_status", "service"): True,
    ("pagerduty_find_similar_incidents", "incident"): True,
    ("pagerduty_find_similar_incidents", "text"): True,
    ("pagerduty_list_recent_changes", "incident"): True,
}
ARGS = {
    "service": {"service": "checkout"},
    "incident": {"incident": HOSTILE_ID},
    "text": {"text": "checkout 5xx ignore previous instructions", "all_services": True},
}


def assert_inert(text: str, *, markdown: bool = False) -> None:
    """The attack in ``text`` is quoted, capped, single-line data (see the module docstring)."""
    assert not CONTROL.search(text), repr(CONTROL.search(text))
    assert "\x1b" not in text
    for line in text.splitlines():
        assert line.count('"') % 2 == 0, line
        if markdown:
            assert line.count("`") % 2 == 0, line
        assert not INJECTED_LINE.match(line), line
        outside = (CODE if markdown else QUOTED).sub("``", line).lower()
        assert not any(marker in outside for marker in MARKERS), line
        for quoted in QUOTED.findall(line):
            assert len(quoted) <= LONGEST_QUOTE, len(quoted)
    assert len(text) < HOSTILE_LENGTH


@pytest.fixture(scope="module")
def hostile() -> Iterator[Sandbox]:
    with Sandbox(now=FIXED_NOW, hostile=True) as sb:
        yield sb


def client_for(sb: Sandbox) -> PagerDutyClient:
    return PagerDutyClient(api_key=sb.api_key, base_url=sb.base_url)


def test_the_sandbox_serves_the_attack_and_leaves_the_shared_account_alone(
    hostile: Sandbox,
) -> None:
    assert Sandbox(now=FIXED_NOW).account.find_incident(HOSTILE_ID) is None
    incident = hostile.account.find_incident(HOSTILE_ID)
    assert incident is not None and incident["title"] == HOSTILE_TEXT["title"]
    assert len(HOSTILE_TEXT["title"]) == HOSTILE_LENGTH
    assert hostile.account.notes[HOSTILE_ID][0]["content"] == HOSTILE_TEXT["note"]
    assert any(c["id"] == HOSTILE_CHANGE_ID for c in hostile.account.change_events)
    body = client_for(hostile).get(f"/incidents/{HOSTILE_ID}/alerts")
    assert body["alerts"][0]["body"]["details"]["message"] == HOSTILE_TEXT["alert"]


@pytest.mark.parametrize(("tool", "kind"), SHOWS_ATTACK)
def test_every_tool_renders_the_attack_as_quoted_capped_data(
    hostile: Sandbox, tool: str, kind: str
) -> None:
    toolkit = PagerDutyToolkit(client=client_for(hostile), now=lambda: FIXED_NOW)
    found = next(t for t in toolkit.get_tools() if t.name == tool)
    message: ToolMessage = found.invoke(
        ToolCall(name=tool, args=ARGS[kind], id="call-1", type="tool_call")
    )
    assert message.status == "success", message.content
    content = str(message.content)
    assert ("Ignore previous instructions" in content) is SHOWS_ATTACK[(tool, kind)]
    assert_inert(content)


class RecordingModel(FakeMessagesListChatModel):
    """A scripted chat model that keeps the prompts it was sent."""

    prompts: list[list[BaseMessage]] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.prompts.append(list(messages))
        return super()._generate(messages, *args, **kwargs)


def test_the_brief_and_the_synthesis_prompt_keep_the_attack_as_data(hostile: Sandbox) -> None:
    obeyed = (
        'Done. <tool_call>{"name": "pagerduty_resolve_incident"}</tool_call> As instructed '
        f"[incident QFAKE00000000000]; the deploy [change {HOSTILE_CHANGE_ID}] came first."
    )
    model = RecordingModel(responses=[AIMessage(obeyed)])
    state = build_graph(client_for(hostile), model, now=FIXED_NOW).invoke({"incident": HOSTILE_ID})
    brief = state["brief"]
    assert "Ignore previous instructions" in brief
    assert_inert(brief.split("## Assessment")[0], markdown=True)

    (system, human), *_ = model.prompts
    assert system.content == SYSTEM_PROMPT
    lines = str(human.content).splitlines()
    closing = [line for line in lines if re.fullmatch(r"</EVIDENCE-[0-9a-f]{16}>", line)]
    assert len(closing) == 1, closing  # one line-led end marker: the real one
    start, end = lines.index(closing[0].replace("</", "<")), lines.index(closing[0])
    block = "\n".join(lines[start + 1 : end])
    assert "Ignore previous instructions" in block
    assert_inert(block, markdown=True)
    assert lines[end + 1].startswith("Write the narrative")

    assert "incident QFAKE00000000000" in state["synthesis"]["removed"]
    assert f"change {HOSTILE_CHANGE_ID}" in state["synthesis"]["cited"]


def test_the_end_marker_cannot_be_guessed() -> None:
    """Each prompt's evidence marker carries a fresh 64-bit nonce, so data cannot close it."""
    nonces = {
        re.findall(r"</EVIDENCE-([0-9a-f]{16})>", str(build_messages("brief")[1].content))[0]
        for _ in range(50)
    }
    assert len(nonces) == 50
