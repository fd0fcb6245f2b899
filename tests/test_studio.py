"""LangGraph Studio's server for real: ``langgraph dev`` (in-memory runtime) loads
langgraph.json and runs the investigation graph on the sandbox, through ``langgraph_sdk``.

The server calls the graph factory in its event loop and refuses blocking calls there
(``BlockingError``), so this is where a factory that opens the store would fail.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import ROOT
from langgraph_sdk import get_sync_client
from postgres import free_port

from agents.investigate import LOOKUPS

# Looked up, not imported: importing the runtime creates .langgraph_api/ in the working directory.
INMEM = all(find_spec(name) for name in ("langgraph_api", "langgraph_runtime_inmem"))
pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(
        not INMEM,
        reason="langgraph dev needs langgraph-cli's in-memory runtime: "
        "pip install 'langgraph-cli[inmem]'",
    ),
]

STARTUP_SECONDS = 120.0


def _server_env(sb: Any) -> dict[str, str]:
    """The sandbox's key and host, an in-memory store, no chat model, no telemetry."""
    dropped = ("PAGERDUTY_", "OPENAI_", "LANGSMITH_", "LANGCHAIN_", "PD_TOOLKIT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    return env | {
        "PAGERDUTY_API_KEY": sb.api_key,
        "PAGERDUTY_API_HOST": sb.base_url,
        "PD_TOOLKIT_STORE": "memory",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGSMITH_TRACING": "false",
        "PYTHONUNBUFFERED": "1",
    }


@contextmanager
def langgraph_dev(sb: Any, workdir: Path) -> Iterator[tuple[str, Path]]:
    """``langgraph dev`` on the checkout's langgraph.json, on a free loopback port, without
    browser or reload; yields (its URL, its log) once it answers, stops it on exit.

    It runs in ``workdir`` (where the in-memory runtime keeps its ``.langgraph_api`` files),
    which links ``agents`` to the checkout's: langgraph.json's graph path is relative to the
    working directory."""
    (workdir / "agents").symlink_to(ROOT / "agents", target_is_directory=True)
    port = free_port()
    log = workdir / "langgraph-dev.log"
    command = [
        sys.executable,
        "-m",
        "langgraph_cli",
        "dev",
        "--config",
        str(ROOT / "langgraph.json"),
    ]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-browser", "--no-reload"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=_server_env(sb),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, f"langgraph dev exited:\n{log.read_text()[-4000:]}"
            try:
                if requests.get(f"{url}/ok", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"no answer:\n{log.read_text()[-4000:]}"
            time.sleep(0.5)
        yield url, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture(scope="module")
def studio(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One ``langgraph dev`` server for the module's tests: (its URL, its log)."""
    with langgraph_dev(sandbox, tmp_path_factory.mktemp("studio")) as served:
        yield served


def test_langgraph_dev_runs_the_investigation_graph(studio: tuple[str, Path]) -> None:
    url, log = studio
    client = get_sync_client(url=url)
    thread = client.threads.create()
    state = client.runs.wait(
        thread["thread_id"], "investigate", input={"incident": "#3088"}, raise_error=False
    )
    output = log.read_text()
    assert isinstance(state, dict) and "__error__" not in state, (state, output[-4000:])
    assert "BlockingError" not in output
    assert state["target"]["incident_number"] == 3088
    assert all(state["lookups"][name]["ok"] for name in ("incident", *LOOKUPS))
    brief = state["brief"]
    assert brief.startswith("# Incident #3088:")
    assert "## Similar past incidents and how they were resolved" in brief
    assert "## Suggested next steps" in brief


def test_langgraph_dev_pauses_the_responder_for_a_decision_and_resumes_it(
    studio: tuple[str, Path],
) -> None:
    """Studio shows the responder's interrupt (LangChain's human-in-the-loop request) and
    resumes it with a ``decisions`` list; notes are off here, so nothing is written."""
    url, log = studio
    client = get_sync_client(url=url)
    thread = client.threads.create()
    client.runs.wait(thread["thread_id"], "responder", input={"incident": "#3088"})
    (pending,) = client.threads.get_state(thread["thread_id"])["interrupts"]
    (action,) = pending["value"]["action_requests"]
    assert action["name"] == "post_incident_note"
    assert action["args"]["text"].startswith("# Incident #3088:")
    assert pending["value"]["review_configs"][0]["allowed_decisions"] == [
        "approve",
        "edit",
        "reject",
    ]
    state = client.runs.wait(
        thread["thread_id"],
        "responder",
        command={"resume": {"decisions": [{"type": "reject", "message": "known issue"}]}},
    )
    assert state["decision"]["decision"] == "reject"
    assert state["decision"]["message"] == "known issue"
    assert client.threads.get_state(thread["thread_id"])["next"] == []
    assert "BlockingError" not in log.read_text()
