"""Property-based fuzzing of every tool's arguments: whatever a model sends, the tool answers
with a success, a validation error or an error ToolMessage, never an unhandled exception (and
never the "failed unexpectedly" catch-all, which would mean a bug slipped through).

The tools run on the real client, whose session is served in-process by the sandbox's API
logic (no sockets), so each example costs microseconds and the fuzzing covers the HTTP
encoding, the response parsing and the error mapping too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, get_args, get_origin
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import requests
from conftest import CONTRACT_TOOLS, FIXED_NOW, LeakWatch, leak_watch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import ToolCall, ToolMessage
from langchain_core.tools import BaseTool
from requests.adapters import BaseAdapter
from werkzeug.datastructures import MultiDict

from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.sandbox import SandboxAccount, build_account
from pd_toolkit.sandbox.api import ApiError, Context, dispatch

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class InProcessAdapter(BaseAdapter):
    """A transport adapter that answers with the sandbox API's logic, without a socket."""

    def __init__(self, account: SandboxAccount) -> None:
        super().__init__()
        self.account = account

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(str(request.url))
        args = MultiDict(parse_qsl(parts.query, keep_blank_values=True))
        ctx = Context(self.account, FIXED_NOW, args, None, past_incidents_enabled=False)
        try:
            status, body = 200, dispatch(unquote(parts.path), ctx)
        except ApiError as error:
            status, body = error.status, error.body()
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url, response.request = str(request.url), request
        return response

    def close(self) -> None:
        """Nothing to release."""


FUZZ_KEY = "fuzz-key-7d2c"


@pytest.fixture(scope="module")
def watch() -> Iterator[LeakWatch]:
    """Every fuzzed answer and its logs are scanned for the key."""
    with leak_watch(FUZZ_KEY) as watching:
        yield watching


class LeakCheckedTool:
    """A tool whose every answer is scanned for the key (content, artifact and the logs)."""

    def __init__(self, tool: BaseTool, watch: LeakWatch) -> None:
        self.tool, self.watch, self.name = tool, watch, tool.name

    def invoke(self, call: ToolCall) -> ToolMessage:
        message = self.tool.invoke(call)
        self.watch.check(message)
        return message

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tool, name)


Tools = dict[str, LeakCheckedTool]


@pytest.fixture(scope="module")
def tools(watch: LeakWatch) -> Iterator[Tools]:
    """The eight tools on one in-process client (name and history caches warm up once)."""
    client = PagerDutyClient(api_key=FUZZ_KEY, base_url="http://sandbox.invalid")
    client.session.mount("http://", InProcessAdapter(build_account(7, FIXED_NOW)))
    toolkit = PagerDutyToolkit(client=client, now=lambda: FIXED_NOW)
    yield {tool.name: LeakCheckedTool(tool, watch) for tool in toolkit.get_tools()}


# Values near the edges of what the tools parse: references, names, times, numbers.
EDGY = [
    "#3088",
    "#0",
    "#-1",
    "# 3088",
    "#99999999999999999999999",
    "3088",
    "00003088",
    "QF8YCT42E5A9UU",
    "https://sandbox.pagerduty.com/incidents/QF8YCT42E5A9UU",
    "https://x.pagerduty.com/incidents/",
    "checkout",
    "payments",
    "PLDGBP0",
    "P000000",
    "this week",
    "last 24 hours",
    "last 0 days",
    "last 99999999 days",
    "last 99999999999999999999 hours",
    "2026-11-18",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "0001-01-01..9999-12-31",
    "2026-11-18T09:30:00+14:00",
    "2026-11-18T09:30:00-23:59",
    "today..yesterday",
    "..",
    "",
    " ",
    "\x00",
    "\n",
    "🔥",
    "%00",
    "../../etc/passwd",
    "open,resolved",
    "open, all",
    "null",
    "NaN",
    "1e309",
]
SPECIAL_KEYS = ["run_manager", "callbacks", "config", "self", "kwargs", "args", "tool_call_id"]
wild_text = st.one_of(
    st.sampled_from(EDGY),
    st.text(max_size=40),
    st.builds(lambda part, times: part * times, st.sampled_from(EDGY[:12]), st.integers(2, 500)),
)
wild_int = st.one_of(
    st.integers(), st.sampled_from([0, -1, 1, 100, 101, 365, 366, 2**31, 2**63, 10**30])
)
json_value = st.recursive(
    st.none() | st.booleans() | wild_int | st.floats() | wild_text,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def field_names(tool: BaseTool) -> list[str]:
    return list(tool.args_schema.model_fields)  # type: ignore[union-attr]


def wild_value(annotation: Any) -> st.SearchStrategy[Any]:
    """Values of roughly the field's type, and some of the wrong one."""
    kinds = {get_origin(a) or a for a in (get_args(annotation) or (annotation,))}
    options: list[st.SearchStrategy[Any]] = [wild_text, st.none()]
    if int in kinds:
        options.append(wild_int)
    if bool in kinds:
        options.append(st.booleans())
    if list in kinds:
        options.append(st.lists(wild_text, max_size=4))
    options.append(json_value)
    return st.one_of(options)


def schema_shaped(tool: BaseTool) -> st.SearchStrategy[dict[str, Any]]:
    fields = tool.args_schema.model_fields  # type: ignore[union-attr]
    return st.fixed_dictionaries(
        {}, optional={name: wild_value(info.annotation) for name, info in fields.items()}
    )


def any_dict(tool: BaseTool) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.one_of(st.sampled_from(field_names(tool) + SPECIAL_KEYS), st.text(max_size=12))
    return st.dictionaries(keys, json_value, max_size=5)


def assert_answered(tool: BaseTool, args: Mapping[str, Any]) -> ToolMessage:
    message = tool.invoke(ToolCall(name=tool.name, args=dict(args), id="fuzz", type="tool_call"))
    assert isinstance(message, ToolMessage)
    assert message.status in ("success", "error")
    assert isinstance(message.content, str) and message.content.strip()
    assert "unexpectedly" not in message.content, message.content
    return message


@pytest.mark.parametrize("name", CONTRACT_TOOLS)
@FUZZ
@given(data=st.data())
def test_schema_shaped_wild_arguments(tools: Tools, name: str, data: Any) -> None:
    tool = tools[name]
    assert_answered(tool, data.draw(schema_shaped(tool), label="args"))


@pytest.mark.parametrize("name", CONTRACT_TOOLS)
@FUZZ
@given(data=st.data())
def test_arbitrary_json_arguments(tools: Tools, name: str, data: Any) -> None:
    tool = tools[name]
    assert_answered(tool, data.draw(any_dict(tool), label="args"))


def test_the_in_process_transport_answers_like_the_sandbox(
    tools: Tools,
) -> None:
    """The fuzzing runs on real answers: a valid call succeeds, a wrong one is a clear error."""
    found = assert_answered(tools["pagerduty_get_incident"], {"incident": "#3088"})
    incident_id = build_account(7, FIXED_NOW).find_incident(3088)["id"]
    assert found.status == "success" and incident_id in found.content
    missing = assert_answered(tools["pagerduty_get_incident"], {"incident": "#999999"})
    assert missing.status == "error" and "No incident #999999" in missing.content


# -- regressions: bugs the fuzzing found ----------------------------------------------------

OUT_OF_RANGE = [
    ("pagerduty_list_incidents", {"until": "0001-01-01"}),
    ("pagerduty_list_incidents", {"until": "9999-12-31"}),
    ("pagerduty_list_incidents", {"since": "0001-01-01T00:00:00+14:00"}),
    ("pagerduty_list_incidents", {"time_range": "last 99999999 days"}),
    ("pagerduty_list_incidents", {"time_range": "last 999999999999 hours"}),
    ("pagerduty_list_recent_changes", {"incident": "#3088", "until": "9999-12-31"}),
    ("pagerduty_list_recent_changes", {"until": "0001-01-01"}),
    ("pagerduty_get_oncall", {"at": "9999-12-31"}),
    ("pagerduty_get_oncall", {"at": "0001-01-01T00:00:00+14:00"}),
]


@pytest.mark.parametrize(("name", "args"), OUT_OF_RANGE)
def test_times_beyond_the_datetime_range_are_clear_errors(
    tools: Tools, name: str, args: dict[str, Any]
) -> None:
    message = tools[name].invoke(ToolCall(name=name, args=args, id="1", type="tool_call"))
    assert message.status == "error"
    assert "unexpectedly" not in message.content
    assert "OverflowError" not in message.content


@pytest.mark.parametrize("reference", ["#" + "9" * 5000, "9" * 5000, "²", "#³"])
@pytest.mark.parametrize(
    "name",
    [
        "pagerduty_get_incident",
        "pagerduty_get_incident_timeline",
        "pagerduty_get_incident_alerts",
        "pagerduty_list_recent_changes",
        "pagerduty_find_similar_incidents",
    ],
)
def test_odd_incident_numbers_are_clear_errors(tools: Tools, name: str, reference: str) -> None:
    args = {"incident": reference}
    message = tools[name].invoke(ToolCall(name=name, args=args, id="1", type="tool_call"))
    assert message.status == "error"
    assert "unexpectedly" not in message.content


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("pagerduty_get_incident", {"incident": "x" * 5000}),
        ("pagerduty_list_incidents", {"service": "x" * 5000}),
        ("pagerduty_list_incidents", {"time_range": "x" * 5000}),
        ("pagerduty_get_oncall", {"team": "x" * 5000}),
        ("pagerduty_get_oncall", {"at": "x" * 5000}),
        ("pagerduty_get_service_status", {"service": "x" * 5000}),
        ("pagerduty_find_similar_incidents", {"text": "db", "service": "y" * 3000}),
    ],
)
def test_errors_do_not_echo_huge_arguments(tools: Tools, name: str, args: dict[str, Any]) -> None:
    message = tools[name].invoke(ToolCall(name=name, args=args, id="1", type="tool_call"))
    assert message.status == "error"
    assert len(message.content) < 600
