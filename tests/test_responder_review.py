"""The responder's interrupt in LangChain's human-in-the-loop shape, resumed with ``decisions``
of each type on a checkpointed thread (as Studio, the page, the API and the CLI resume it)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from langchain.agents.middleware.human_in_the_loop import HITLRequest, HITLResponse
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from pydantic import TypeAdapter
from responder_helpers import FROM_EMAIL, notes_of

from agents.responder.graph import NOTES_DISABLED, build_responder_graph
from agents.responder.notes import IncidentNoteWriter
from agents.responder.review import ACTION, ReviewError, read_response, response_for
from pd_toolkit import PagerDutyClient
from pd_toolkit.sandbox import Sandbox

pytestmark = pytest.mark.sandbox


@pytest.fixture
def waiting(fresh_sandbox: Sandbox) -> Iterator[tuple[CompiledStateGraph, dict, dict, str]]:
    """A responder graph (notes on) paused at ``await_approval`` on a new incident: (graph,
    config, the interrupt's value, the incident id)."""
    client = PagerDutyClient(api_key=fresh_sandbox.write_api_key, base_url=fresh_sandbox.base_url)
    writer = IncidentNoteWriter(client.with_writes("incident_note"), from_email=FROM_EMAIL)
    graph = build_responder_graph(
        client,
        InMemorySaver(),
        writer=writer,
        rest_url=lambda incident_id: f"/investigations/{incident_id}",
        note_lock=lambda incident_id: nullcontext(),
    )
    incident = fresh_sandbox.trigger_incident("payments-api", "psp_timeouts")
    config = {"configurable": {"thread_id": "t1"}}
    graph.invoke({"incident": incident["id"]}, config)
    (pending,) = graph.get_state(config).interrupts
    yield graph, config, pending.value, incident["id"]
    writer.client.close()
    client.close()


def test_the_interrupt_is_langchains_hitl_request(
    waiting: tuple[CompiledStateGraph, dict, dict, str],
) -> None:
    graph, config, request, incident_id = waiting
    TypeAdapter(HITLRequest).validate_python(request, strict=True)
    assert set(request) == {"action_requests", "review_configs"}
    (action,) = request["action_requests"]
    assert action["name"] == ACTION
    assert action["args"]["incident_id"] == incident_id
    assert action["args"]["text"] == graph.get_state(config).values["brief"]
    assert f"#{action['args']['incident_number']}" in action["description"]
    assert request["review_configs"] == [
        {"action_name": ACTION, "allowed_decisions": ["approve", "edit", "reject"]}
    ]


@pytest.mark.parametrize(
    ("decision", "posted"),
    [
        ({"type": "approve"}, "brief"),
        (
            {
                "type": "edit",
                "edited_action": {"name": ACTION, "args": {"text": "PSP timeouts; on it."}},
            },
            "PSP timeouts; on it.",
        ),
        ({"type": "reject", "message": "duplicate of #3088"}, None),
    ],
    ids=["approve", "edit", "reject"],
)
def test_a_decisions_payload_of_each_type_resumes_the_thread(
    waiting: tuple[CompiledStateGraph, dict, dict, str],
    fresh_sandbox: Sandbox,
    decision: dict[str, Any],
    posted: str | None,
) -> None:
    graph, config, request, incident_id = waiting
    resume = {"decisions": [decision]}
    TypeAdapter(HITLResponse).validate_python(resume)  # what LangChain's tools send
    state = graph.invoke(Command(resume=resume), config)
    assert not graph.get_state(config).interrupts and not graph.get_state(config).next
    notes = notes_of(fresh_sandbox, incident_id)
    if posted is None:
        assert notes == []
        assert state["decision"]["decision"] == "reject"
        assert state["decision"]["message"] == "duplicate of #3088"
        return
    (note,) = notes
    expected = request["action_requests"][0]["args"]["text"] if posted == "brief" else posted
    assert note["content"].startswith(expected.strip()[:200])
    assert state["note"]["approval_id"] == state["decision"]["approval_id"]


@pytest.mark.parametrize(
    "resume",
    [
        {"decisions": [{"type": "respond", "message": "posted it myself"}]},
        {"decisions": []},
        {"decisions": [{"type": "approve"}, {"type": "approve"}]},
        {"decision": "approve"},  # the responder's old shape
        {"decisions": [{"type": "edit", "edited_action": {"name": ACTION, "args": {"text": " "}}}]},
        {
            "decisions": [
                {
                    "type": "edit",
                    "edited_action": {"name": ACTION, "args": {"text": "x", "incident_id": "PX"}},
                }
            ]
        },
        {"decisions": [{"type": "edit", "edited_action": {"name": "rm_rf", "args": {}}}]},
    ],
    ids=["respond", "none", "two", "old-shape", "blank-edit", "retarget", "other-action"],
)
def test_a_resume_that_is_no_allowed_decision_is_refused_and_the_thread_still_waits(
    waiting: tuple[CompiledStateGraph, dict, dict, str],
    fresh_sandbox: Sandbox,
    resume: dict[str, Any],
) -> None:
    graph, config, _, incident_id = waiting
    with pytest.raises(ReviewError):
        read_response(resume, graph.get_state(config).interrupts[0].value)
    graph.invoke(Command(resume=resume), config)
    (asked_again,) = graph.get_state(config).interrupts
    assert (
        "The last decision was not carried out"
        in (asked_again.value["action_requests"][0]["description"])
    )
    assert notes_of(fresh_sandbox, incident_id) == []
    graph.invoke(Command(resume={"decisions": [{"type": "approve"}]}), config)
    assert len(notes_of(fresh_sandbox, incident_id)) == 1


def test_the_responders_own_decisions_are_the_same_payloads() -> None:
    adapter = TypeAdapter(HITLResponse)
    approve = response_for("approve", None, "0123456789abcdef")
    edit = response_for("approve", "edited", "0123456789abcdef")
    reject = response_for("reject", "not ours", "0123456789abcdef")
    for payload in (approve, edit, reject):
        adapter.validate_python({"decisions": payload["decisions"]})
    assert approve["decisions"] == [{"type": "approve"}]
    assert edit["decisions"][0]["edited_action"]["args"] == {"text": "edited"}
    assert reject["decisions"] == [{"type": "reject", "message": "not ours"}]


def _studio_factory(monkeypatch: pytest.MonkeyPatch) -> Any:
    """langgraph.json's responder factory, loaded as the LangGraph server loads it."""
    from langgraph_cli.config import validate_config_file

    config = validate_config_file(ROOT / "langgraph.json")
    path, _, attribute = config["graphs"]["responder"].partition(":")
    spec = importlib.util.spec_from_file_location("studio_responder", ROOT / path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)  # importable without any key
    return getattr(module, attribute)


def test_langgraph_json_exports_the_responder_without_a_checkpointer(
    fresh_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from agents.investigate import client_from_env

    for name in ("PAGERDUTY_USER_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAGERDUTY_API_KEY", fresh_sandbox.write_api_key)
    monkeypatch.setenv("PAGERDUTY_API_HOST", fresh_sandbox.base_url)
    monkeypatch.setenv("PAGERDUTY_FROM_EMAIL", FROM_EMAIL)
    store = tmp_path / "studio.db"
    monkeypatch.setenv("PD_TOOLKIT_STORE", str(store))
    factory = _studio_factory(monkeypatch)
    client_from_env.cache_clear()
    try:
        for allow, expected_notes in (("0", 0), ("1", 1)):
            monkeypatch.setenv("PD_TOOLKIT_ALLOW_NOTES", allow)
            compiled = factory({"configurable": {}})
            assert compiled.checkpointer is None
            assert not store.exists(), "the factory (in the server's event loop) opens no store"
            graph = compiled.copy(update={"checkpointer": InMemorySaver()})
            incident = fresh_sandbox.trigger_incident("payments-api", "psp_timeouts")
            config = {"configurable": {"thread_id": incident["id"]}}
            graph.invoke({"incident": incident["id"]}, config)
            state = graph.invoke(Command(resume={"decisions": [{"type": "approve"}]}), config)
            assert len(notes_of(fresh_sandbox, incident["id"])) == expected_notes
            if expected_notes == 0:  # notes off: the brief waits again, saying why
                (pending,) = graph.get_state(config).interrupts
                assert NOTES_DISABLED in pending.value["action_requests"][0]["description"]
                assert state["note_error"] == NOTES_DISABLED
            store.unlink(missing_ok=True)
    finally:
        client_from_env.cache_clear()
