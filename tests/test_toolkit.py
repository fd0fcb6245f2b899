"""PagerDutyToolkit: the contract tool list, trimming, time zone, shared cache, secrets."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
import yaml
from conftest import CONTRACT_TOOLS, FIXED_NOW, REDACTED, ROOT
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ValidationError

from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.sandbox import Sandbox
from pd_toolkit.tools import PagerDutyTool
from pd_toolkit.tools.incidents import ListIncidentsArgs

SECRET = "unit-test-secret-key-0123456789"


@pytest.fixture
def client() -> PagerDutyClient:
    return PagerDutyClient(api_key=SECRET, base_url="http://127.0.0.1:9")


def test_get_tools_returns_the_contract_tools(client: PagerDutyClient) -> None:
    tools = PagerDutyToolkit(client=client).get_tools()
    assert [t.name for t in tools] == CONTRACT_TOOLS
    for tool in tools:
        assert tool.response_format == "content_and_artifact"
        assert tool.handle_tool_error is True and callable(tool.handle_validation_error)
        assert tool.args_schema is not None
        assert 60 < len(tool.description) <= 300, tool.name
        assert "request" in (type(tool).__doc__ or ""), f"{tool.name} states no request count"


def test_tools_share_one_api_and_clock(client: PagerDutyClient) -> None:
    toolkit = PagerDutyToolkit(client=client, now=lambda: FIXED_NOW)
    tools = toolkit.get_tools()
    assert all(isinstance(t, PagerDutyTool) for t in tools)
    assert {id(t.api) for t in tools} == {id(toolkit.api)}  # type: ignore[attr-defined]
    assert {t.clock() for t in tools} == {FIXED_NOW}  # type: ignore[attr-defined]


def test_tools_can_be_trimmed(client: PagerDutyClient) -> None:
    toolkit = PagerDutyToolkit(
        client=client, tools=["pagerduty_get_oncall", "pagerduty_list_incidents"]
    )
    assert [t.name for t in toolkit.get_tools()] == [
        "pagerduty_list_incidents",
        "pagerduty_get_oncall",
    ]
    with pytest.raises(ValidationError, match="Unknown tool names \\['pagerduty_delete_all'\\]"):
        PagerDutyToolkit(client=client, tools=["pagerduty_delete_all"])


def test_time_zone_sets_where_the_week_begins(client: PagerDutyClient) -> None:
    toolkit = PagerDutyToolkit(
        client=client, time_zone="America/Los_Angeles", now=lambda: FIXED_NOW
    )
    tool = toolkit.get_tools()[0]
    window = tool.window("this week", None, None)  # type: ignore[attr-defined]
    assert window.since == datetime(2026, 11, 16, 8, tzinfo=UTC)
    with pytest.raises(ValidationError, match="Unknown time zone 'Mars/Olympus'"):
        PagerDutyToolkit(client=client, time_zone="Mars/Olympus")


def test_from_env() -> None:
    toolkit = PagerDutyToolkit.from_env(
        {"PAGERDUTY_API_KEY": SECRET, "PAGERDUTY_API_HOST": "http://127.0.0.1:9"}, time_zone="UTC"
    )
    assert toolkit.client.base_url == "http://127.0.0.1:9"


def test_the_key_never_shows(client: PagerDutyClient) -> None:
    toolkit = PagerDutyToolkit(client=client)
    assert SECRET not in repr(toolkit)
    for tool in toolkit.get_tools():
        assert SECRET not in repr(tool) and SECRET not in str(tool.model_dump())
        assert SECRET not in str(tool.tool_call_schema.model_json_schema())


def test_every_cassette_is_scrubbed() -> None:
    cassettes = sorted((ROOT / "cassettes").rglob("*.yaml"))
    assert cassettes
    keys = [Sandbox.api_key, Sandbox.user_api_key, Sandbox.restricted_api_key]
    for path in cassettes:
        text = path.read_text()
        assert not any(key in text for key in keys), path
        for interaction in yaml.safe_load(text)["interactions"]:
            headers = {k.lower(): v for k, v in interaction["request"]["headers"].items()}
            assert headers.get("authorization") == [REDACTED], path


def test_the_library_does_not_import_langgraph() -> None:
    code = (
        "import sys, pd_toolkit, pd_toolkit.toolkit, pd_toolkit.tools; "
        "sys.exit(any(m.startswith('langgraph') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_the_schemas_the_model_sees_stay_the_same(client: PagerDutyClient) -> None:
    """Each tool's OpenAI tool format (name, description, argument JSON schema) matches the
    snapshot in tests/data/tool_schemas.json; a change to it is a change to the contract."""
    expected = json.loads((ROOT / "tests/data/tool_schemas.json").read_text())
    tools = PagerDutyToolkit(client=client).get_tools()
    assert {tool.name: convert_to_openai_tool(tool) for tool in tools} == expected


def test_an_omitted_argument_takes_the_args_model_default(client: PagerDutyClient) -> None:
    """answer() receives the validated args model, defaults filled in from one place."""
    received: list[BaseModel] = []
    tool = PagerDutyToolkit(client=client).get_tools()[0]

    def answer(args: BaseModel) -> tuple[str, BaseModel]:
        received.append(args)
        return "ok", args

    object.__setattr__(tool, "answer", answer)
    tool.invoke({"service": "checkout"})
    assert received == [ListIncidentsArgs(service="checkout")]
    assert received[0].limit == ListIncidentsArgs.model_fields["limit"].default == 20
