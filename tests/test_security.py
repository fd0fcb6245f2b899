"""Secrets and read-only, end to end over real HTTP to the sandbox.

- The API key (a distinctive one) never appears in reprs, DEBUG logs (pd_toolkit, urllib3 and
  everything else), exceptions with their chained causes, tool content or artifacts, the graph's
  state, or any recorded cassette.
- Every request any code path sends (all tools, error paths, retries, ``verify()``, the
  investigation graph) is a body-less GET, checked at the transport adapter, which also sees
  every request the client counted and the sandbox received (so nothing bypasses it). The one
  exception, the responder's approved note, is a POST to exactly ``/incidents/{id}/notes`` on a
  client built to allow it, through that client's own session and headers (no side channel).
"""

from __future__ import annotations

import ast
import json
import logging
import os
import re
import sys
import traceback
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import tenacity
from conftest import FIXED_NOW, ROOT, leaks
from langchain_core.messages import ToolCall, ToolMessage
from requests.adapters import HTTPAdapter

from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.errors import PagerDutyError
from pd_toolkit.sandbox import Fault, Sandbox

if str(ROOT) not in sys.path:  # agents/ is run from the checkout, not installed
    sys.path.insert(0, str(ROOT))

from agents.investigate import build_graph
from agents.responder.notes import IncidentNoteWriter

pytestmark = pytest.mark.sandbox

SECRET = "pdtk-SECRET-5f1e9c2b7a3d4e60-do-not-leak"
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("pagerduty_list_incidents", {}),
    ("pagerduty_list_incidents", {"service": "checkout", "time_range": "this week"}),
    ("pagerduty_list_incidents", {"team": "no such team"}),
    ("pagerduty_get_incident", {"incident": "#3088"}),
    ("pagerduty_get_incident", {"incident": "#999999"}),
    ("pagerduty_get_incident_timeline", {"incident": "#3088"}),
    ("pagerduty_get_incident_alerts", {"incident": "#3088"}),
    ("pagerduty_get_oncall", {"team": "payments"}),
    ("pagerduty_get_oncall", {}),
    ("pagerduty_get_service_status", {"service": "checkout"}),
    ("pagerduty_get_service_status", {}),
    ("pagerduty_find_similar_incidents", {"incident": "#3088"}),
    ("pagerduty_find_similar_incidents", {"text": "postgres pool exhausted"}),
    ("pagerduty_list_recent_changes", {"incident": "#3088"}),
    ("pagerduty_list_recent_changes", {"service": "checkout", "time_range": "last 7 days"}),
    ("pagerduty_get_incident", {"incident": ""}),
]


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without tenacity's backoff sleeps (the waits are not under test here)."""
    monkeypatch.setattr(tenacity.nap, "time", SimpleNamespace(sleep=lambda seconds: None))


@pytest.fixture
def secret_sandbox() -> Iterator[Sandbox]:
    """A sandbox of its own whose account key is SECRET."""
    with Sandbox(now=FIXED_NOW) as sb:
        sb.api_key = SECRET
        yield sb


class RecordingAdapter(HTTPAdapter):
    """The real transport, recording (method, url, body) of every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, Any]] = []
        self.headers: list[dict[str, str]] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        self.sent.append((str(request.method), str(request.url), request.body))
        self.headers.append(dict(request.headers))
        return super().send(request, *args, **kwargs)


def client_for(sb: Sandbox, **kwargs: Any) -> PagerDutyClient:
    kwargs.setdefault("max_retries", 1)
    return PagerDutyClient(api_key=sb.api_key, base_url=sb.base_url, **kwargs)


def ask_all(client: PagerDutyClient) -> list[ToolMessage]:
    toolkit = PagerDutyToolkit(client=client, now=lambda: FIXED_NOW)
    tools = {tool.name: tool for tool in toolkit.get_tools()}
    assert len(tools) == 8 and {name for name, _ in CALLS} == set(tools)
    return [
        tools[name].invoke(ToolCall(name=name, args=args, id="call-1", type="tool_call"))
        for name, args in CALLS
    ]


def exception_text(error: BaseException) -> str:
    """str, repr and the formatted traceback with every chained cause and context."""
    return "\n".join([str(error), repr(error), *traceback.format_exception(error)])


def test_the_key_never_leaks(secret_sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("pd_toolkit", "urllib3", "agents"):
        caplog.set_level(logging.DEBUG, logger=name)
    client = client_for(secret_sandbox)
    toolkit = PagerDutyToolkit(client=client, now=lambda: FIXED_NOW)
    seen: list[str] = [repr(client), str(client), repr(vars(client)), repr(toolkit)]
    seen += [repr(tool) for tool in toolkit.get_tools()]

    secret_sandbox.inject(Fault(kind="status", status=503, path="/log_entries$", times=1))
    messages = ask_all(client)
    assert any(m.status == "success" for m in messages)
    assert any(m.status == "error" for m in messages)
    seen += [m.model_dump_json() for m in messages]
    seen += [m.artifact.model_dump_json() for m in messages if m.artifact is not None]

    errors: list[BaseException] = []
    for fault in ("drop", "not_json", "truncated"):
        secret_sandbox.inject(Fault(kind=fault, times=2))  # type: ignore[arg-type]
        with pytest.raises(PagerDutyError) as caught:
            client.get("/teams")
        errors.append(caught.value)
    secret_sandbox.inject(Fault(kind="status", status=429, retry_after=0, times=2))
    with pytest.raises(PagerDutyError) as caught:
        client.get("/teams")
    errors.append(caught.value)
    with pytest.raises(PagerDutyError) as caught:
        client.get("/incidents/NOPE")
    errors.append(caught.value)
    seen += [exception_text(error) for error in errors]

    seen.append(client.verify().model_dump_json())
    state = build_graph(client, now=FIXED_NOW).invoke({"incident": "#3088"})
    assert state["brief"]
    seen.append(json.dumps(state, default=str))
    seen += [caplog.text, *(repr(record.__dict__) for record in caplog.records)]

    assert "GET /teams" in caplog.text  # the DEBUG logs of both layers were captured
    assert any(record.name.startswith("urllib3") for record in caplog.records)
    assert client.request_count > 40
    assert leaks(seen, SECRET) == []


def test_a_refused_key_is_not_echoed(secret_sandbox: Sandbox) -> None:
    """A wrong key (401) gets a clear error from every tool, without the key in it."""
    wrong = "pdtk-WRONG-0b9a8c7d6e5f4a3b-do-not-leak"
    messages = ask_all(PagerDutyClient(api_key=wrong, base_url=secret_sandbox.base_url))
    assert all(m.status == "error" for m in messages)
    assert leaks([m.model_dump_json() for m in messages], wrong) == []
    refused = [m for m in messages if "refused the API key (HTTP 401)" in m.content]
    assert len(refused) == len(CALLS) - 1  # all but the empty reference, refused unsent


def test_no_cassette_holds_a_key() -> None:
    """Every file under cassettes/: Authorization only as the REDACTED placeholder."""
    files = [path for path in (ROOT / "cassettes").rglob("*") if path.is_file()]
    assert files
    keys = [Sandbox.api_key, Sandbox.user_api_key, Sandbox.restricted_api_key, SECRET]
    keys += [Sandbox.oauth_token, Sandbox.restricted_oauth_token]
    keys += [
        os.environ[name]
        for name in ("PAGERDUTY_API_KEY", "PAGERDUTY_USER_API_KEY", "PAGERDUTY_OAUTH_TOKEN")
        if os.environ.get(name)
    ]
    for path in files:
        text = path.read_text(errors="replace")
        assert not any(key in text for key in keys), path
        assert set(re.findall(r"Token token=(\S+)", text)) <= {"REDACTED"}, path
        assert not re.findall(r"Bearer \S+", text), path


def test_every_code_path_sends_only_body_less_gets(fresh_sandbox: Sandbox) -> None:
    adapter = RecordingAdapter()
    client = client_for(fresh_sandbox)
    client.session.mount("http://", adapter)
    client.session.mount("https://", adapter)

    fresh_sandbox.inject(Fault(kind="status", status=503, path="^/incidents/3088$", times=1))
    fresh_sandbox.inject(Fault(kind="drop", path="/alerts$", times=1))
    messages = ask_all(client)
    assert sum(m.status == "success" for m in messages) >= 12
    assert client.verify().ok
    graph = build_graph(client, now=FIXED_NOW)
    for request in ({"incident": "#3088"}, {"service": "payments-db"}, {}):
        assert "## " in graph.invoke(request)["brief"]

    assert adapter.sent and {method for method, _, _ in adapter.sent} == {"GET"}
    assert all(body is None for _, _, body in adapter.sent)
    assert all(url.startswith(fresh_sandbox.base_url + "/") for _, url, _ in adapter.sent)
    assert len(adapter.sent) == client.request_count == len(fresh_sandbox.request_log)
    assert {record.method for record in fresh_sandbox.request_log} == {"GET"}


def test_the_one_write_is_the_allowed_note_through_the_clients_own_transport(
    fresh_sandbox: Sandbox,
) -> None:
    """The note writer posts through its client's session (the adapter sees the POST, with the
    same headers as the GETs): no second session, no other write."""
    adapter = RecordingAdapter()
    reader = PagerDutyClient(api_key=fresh_sandbox.write_api_key, base_url=fresh_sandbox.base_url)
    client = reader.with_writes("incident_note")  # as the responder derives it
    client.session.mount("http://", adapter)
    incident = fresh_sandbox.trigger_incident("ledger", "ledger_recon_failed")["id"]
    writer = IncidentNoteWriter(client, from_email="alice.nguyen@example.com")
    assert not hasattr(writer, "_session")
    posted = writer.post_once(incident, "The brief.", approval_id="s1", rest="/x")
    assert not posted.already_posted

    notes_url = f"{fresh_sandbox.base_url}/incidents/{incident}/notes"
    assert [(method, url) for method, url, _ in adapter.sent] == [
        ("GET", notes_url),  # the marker check
        ("POST", notes_url),  # the note
    ]
    assert json.loads(adapter.sent[1][2])["note"]["content"].startswith("The brief.")
    read, write = adapter.headers
    for name in ("Authorization", "User-Agent", "Accept"):
        assert write[name] == read[name]
    assert write["From"] == "alice.nguyen@example.com"
    assert len(adapter.sent) == client.request_count == len(fresh_sandbox.request_log)


def test_the_library_is_read_only_by_construction() -> None:
    """No module of pd_toolkit but the client's own builds a client that may write, or imports
    the responder (whose note writer is the only user of the write allow-list)."""
    found = []
    for path in sorted((ROOT / "pd_toolkit").rglob("*.py")):
        if path.name == "client.py" and path.parent.name == "pd_toolkit":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [alias.name for alias in node.names]
                found += [f"{where} imports {n}" for n in names if n.split(".")[0] == "agents"]
            elif isinstance(node, ast.Call):
                if isinstance(node.func, ast.Attribute) and node.func.attr == "with_writes":
                    found.append(f"{where} calls with_writes")
                found += [
                    f"{where} passes allow_writes" for k in node.keywords if k.arg == "allow_writes"
                ]
    assert found == []
