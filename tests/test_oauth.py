"""OAuth access tokens: sent as ``Authorization: Bearer``, kept as secret as the API key, and
reported by ``verify()`` / ``pd-toolkit check`` with the scopes the API accepts. End to end
over real HTTP against the sandbox, which accepts OAuth tokens only as Bearer."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from conftest import FIXED_NOW, leaks
from rich.console import Console
from test_security import CALLS, ask_all, exception_text

from agents.investigate import build_graph
from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.cli import print_check
from pd_toolkit.errors import PagerDutyConfigError, PagerDutyError
from pd_toolkit.sandbox import Fault, Sandbox

pytestmark = pytest.mark.sandbox

TOKEN = "pdtk-OAUTH-9a8b7c6d5e4f3a2b-do-not-leak"


@pytest.fixture
def oauth_sandbox() -> Iterator[Sandbox]:
    """A sandbox of its own whose full-scope OAuth token is TOKEN."""
    with Sandbox(now=FIXED_NOW) as sb:
        sb.oauth_token = TOKEN
        yield sb


def test_the_token_is_sent_as_bearer_and_only_that_way(oauth_sandbox: Sandbox) -> None:
    client = PagerDutyClient(oauth_token=TOKEN, base_url=oauth_sandbox.base_url)
    schemes: list[str] = []

    def scheme(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        schemes.append(str(response.request.headers["Authorization"]).split(" ")[0])

    client.session.hooks["response"].append(scheme)
    assert client.get("/abilities")["abilities"]
    assert schemes == ["Bearer"]
    # The same token in the REST-key scheme is refused, and a REST key sent as Bearer too.
    with pytest.raises(PagerDutyError, match="refused the API key"):
        PagerDutyClient(api_key=TOKEN, base_url=oauth_sandbox.base_url).get("/abilities")
    key_as_token = PagerDutyClient(
        oauth_token=oauth_sandbox.api_key, base_url=oauth_sandbox.base_url
    )
    with pytest.raises(PagerDutyError, match="refused the OAuth access token"):
        key_as_token.get("/abilities")
    assert [r.key_kind for r in oauth_sandbox.request_log] == ["account", None, None]


def test_exactly_one_credential() -> None:
    with pytest.raises(PagerDutyConfigError, match="Both an API key and an OAuth token"):
        PagerDutyClient(api_key="k" * 20, oauth_token="t" * 20)
    with pytest.raises(PagerDutyConfigError, match="OAuth token is empty"):
        PagerDutyClient(oauth_token="  ")
    from_env = PagerDutyClient.from_env({"PAGERDUTY_OAUTH_TOKEN": "t" * 20})
    assert from_env.is_oauth and "oauth_token=SecretStr('**********')" in repr(from_env)
    with pytest.raises(PagerDutyConfigError, match="Both PAGERDUTY_API_KEY and"):
        PagerDutyClient.from_env({"PAGERDUTY_API_KEY": "k" * 20, "PAGERDUTY_OAUTH_TOKEN": "t"})


def test_verify_and_check_report_an_oauth_token_and_its_scopes(sandbox: Any) -> None:
    full = PagerDutyClient(oauth_token=sandbox.oauth_token, base_url=sandbox.base_url).verify()
    assert full.ok and full.credential == "oauth_token"
    assert full.scopes and all(full.scopes.values())
    assert {"incidents.read", "oncalls.read", "schedules.read"} <= set(full.scopes)

    restricted = PagerDutyClient(
        oauth_token=sandbox.restricted_oauth_token, base_url=sandbox.base_url
    ).verify()
    refused = {scope for scope, granted in restricted.scopes.items() if not granted}
    assert restricted.ok and refused == {"schedules.read", "oncalls.read"}
    console = Console(record=True, width=200)
    print_check(restricted, console)
    shown = console.export_text()
    assert "OAuth access token (app-level, scoped)" in shown
    assert "scope oncalls.read" in shown and "refused (403)" in shown
    assert "refuses schedules.read, oncalls.read" in shown


def test_a_missing_scope_is_a_clear_tool_error(sandbox: Any) -> None:
    client = PagerDutyClient(oauth_token=sandbox.restricted_oauth_token, base_url=sandbox.base_url)
    tools = {t.name: t for t in PagerDutyToolkit(client=client, now=lambda: FIXED_NOW).get_tools()}
    message = tools["pagerduty_get_oncall"].invoke(
        {"type": "tool_call", "name": "x", "id": "1", "args": {"schedule": "PFDWJ3C"}}
    )
    assert message.status == "error"
    assert "OAuth token lacks read access to oncalls" in message.content
    assert "oncalls.read" in message.content


def test_the_token_never_leaks_end_to_end(
    oauth_sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Every tool, errors, verify() and the graph over an OAuth client: TOKEN appears nowhere."""
    caplog.set_level(logging.DEBUG)
    for name in ("pd_toolkit", "urllib3", "agents"):
        caplog.set_level(logging.DEBUG, logger=name)
    client = PagerDutyClient(oauth_token=TOKEN, base_url=oauth_sandbox.base_url, max_retries=1)
    toolkit = PagerDutyToolkit(client=client, now=lambda: FIXED_NOW)
    seen = [repr(client), str(client), repr(vars(client)), repr(toolkit)]
    oauth_sandbox.inject(Fault(kind="status", status=503, path="/log_entries$", times=2))
    messages = ask_all(client)
    assert sum(m.status == "success" for m in messages) >= len(CALLS) - 4
    seen += [m.model_dump_json() for m in messages]
    seen += [m.artifact.model_dump_json() for m in messages if m.artifact is not None]
    errors = []
    for path in ("/incidents/NOPE", "/teams"):
        if path == "/teams":
            oauth_sandbox.inject(Fault(kind="drop", times=2))
        with pytest.raises(PagerDutyError) as caught:
            client.get(path)
        errors.append(exception_text(caught.value))
    refused = PagerDutyClient(oauth_token=TOKEN + "x", base_url=oauth_sandbox.base_url)
    with pytest.raises(PagerDutyError) as caught:
        refused.get("/abilities")
    errors.append(exception_text(caught.value))
    seen += errors
    seen.append(client.verify().model_dump_json())
    state = build_graph(client, now=FIXED_NOW).invoke({"incident": "#3088"})
    assert "## " in state["brief"]
    seen.append(json.dumps(state, default=str))
    seen += [caplog.text, *(repr(record.__dict__) for record in caplog.records)]
    assert "GET /incidents" in caplog.text
    assert [record for record in oauth_sandbox.request_log if record.key_kind == "account"]
    assert leaks(seen, TOKEN) == []
