"""Every store failure is one PagerDutyStoreError: unreachable, corrupt, locked or not writable,
a short reason and what to do, never SQL, a traceback or a password. The tools (and so the MCP
server), `pd-toolkit sync|store` and `python -m agents.investigate` all say it in one line."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from langchain_core.messages import ToolCall, ToolMessage
from postgres import free_port

from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.errors import PagerDutyStoreError
from pd_toolkit.store import TIMEOUT_ENV, open_store

PASSWORD = "hunter2-Store-Secret"
PROBLEMS = ["unreachable", "not writable", "corrupt", "locked"]


def unreachable_url() -> str:
    """A PostgreSQL URL with a password, on a loopback port nothing listens on."""
    return f"postgresql+psycopg://pdtk:{PASSWORD}@127.0.0.1:{free_port()}/pdtk"


@pytest.fixture(params=PROBLEMS)
def broken(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str]]:
    """(store spec, the problem it has)."""
    problem = request.param
    if problem == "unreachable":
        pytest.importorskip("psycopg")
        yield unreachable_url(), problem
    elif problem == "not writable":
        yield "/proc/pdtk/store.db", problem
    elif problem == "corrupt":
        path = tmp_path / "corrupt.db"
        path.write_bytes(b"this is not a SQLite database\n" * 200)
        yield str(path), problem
    else:
        path = tmp_path / "locked.db"
        open_store(str(path)).close()
        monkeypatch.setenv(TIMEOUT_ENV, "0.2")  # wait 0.2 s for the lock, not 30
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        yield str(path), problem
        holder.rollback()
        holder.close()


def assert_one_clean_line(text: str, problem: str) -> None:
    assert f"is {problem}: " in text, text
    assert "PD_TOOLKIT_STORE=memory" in text
    assert "\n" not in text.strip()
    for leak in ("SQL", "BEGIN", "Traceback", "sqlalche.me", PASSWORD, "unexpected shape"):
        assert leak not in text, text


def test_opening_a_broken_store_raises_one_store_error(broken: tuple[str, str]) -> None:
    spec, problem = broken
    with pytest.raises(PagerDutyStoreError) as caught:
        open_store(spec)
    assert caught.value.problem == problem
    assert_one_clean_line(str(caught.value), problem)
    if problem == "unreachable":
        assert "postgresql+psycopg://pdtk:***@127.0.0.1:" in str(caught.value)


def test_a_tool_on_a_broken_store_answers_one_clear_error(broken: tuple[str, str]) -> None:
    """The model gets the store's error as an error ToolMessage (so does an MCP client: the
    server runs the same tools), not SQL and not a blame on PagerDuty."""
    spec, problem = broken
    client = PagerDutyClient(api_key="k" * 20, base_url="http://127.0.0.1:9", max_retries=0)
    with PagerDutyToolkit(client=client, store=spec) as toolkit:
        tool = next(t for t in toolkit.get_tools() if t.name == "pagerduty_find_similar_incidents")
        message = tool.invoke(
            ToolCall(name=tool.name, args={"text": "checkout 5xx"}, id="call-1", type="tool_call")
        )
    assert isinstance(message, ToolMessage) and message.status == "error"
    assert_one_clean_line(str(message.content), problem)


def test_reads_and_writes_of_a_store_locked_after_opening_fail_the_same_way(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    store = open_store(str(path), {TIMEOUT_ENV: "0.2"})
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        for call in (
            lambda: store.incidents("p" * 64),
            lambda: store.put_incidents("p" * 64, []),
            lambda: store.fact("p" * 64, "plan"),
            lambda: store.partitions(),
        ):
            with pytest.raises(PagerDutyStoreError) as caught:
                call()
            assert_one_clean_line(str(caught.value), "locked")
            assert "0.2 s (PD_TOOLKIT_STORE_TIMEOUT)" in str(caught.value)
    finally:
        holder.rollback()
        holder.close()
        store.close()


def test_a_bad_setting_is_a_config_error_not_a_traceback() -> None:
    from pd_toolkit.errors import PagerDutyConfigError

    for name, value in ((TIMEOUT_ENV, "soon"), ("PD_TOOLKIT_STORE_PRUNE_DAYS", "-1")):
        with pytest.raises(PagerDutyConfigError, match=name):
            open_store("memory", {name: value})
    with pytest.raises(PagerDutyStoreError, match="not supported"):
        open_store(f"mysql://pdtk:{PASSWORD}@db/pdtk")


def test_an_unexpected_error_reaches_the_model_as_its_first_line_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = PagerDutyClient(api_key="k" * 20, base_url="http://127.0.0.1:9")
    tool = PagerDutyToolkit(client=client, store="memory").get_tools()[0]

    def broken_answer(self: object, args: object) -> None:
        raise RuntimeError("boom\n[SQL: SELECT secret FROM somewhere]")

    monkeypatch.setattr(type(tool), "answer", broken_answer)
    message = tool.invoke(ToolCall(name=tool.name, args={}, id="call-1", type="tool_call"))
    assert message.status == "error"
    assert "(RuntimeError: boom)" in str(message.content)
    assert "SQL" not in str(message.content)


def run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """``command`` in a subprocess, with no credentials or model but ``env``."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PAGERDUTY_", "OPENAI_", "PD_TOOLKIT_"))
    }
    return subprocess.run(
        [sys.executable, *command],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", [["sync"], ["store"]])
def test_pd_toolkit_on_an_unreachable_store_prints_one_line(command: list[str]) -> None:
    pytest.importorskip("psycopg")
    done = run(
        ["-m", "pd_toolkit.cli", *command],
        PD_TOOLKIT_STORE=unreachable_url(),
        PAGERDUTY_API_KEY="k" * 20,
        PAGERDUTY_API_HOST="http://127.0.0.1:9",
    )
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 2, output
    assert output.startswith("error: ")
    assert_one_clean_line(output, "unreachable")


def test_investigate_on_an_unreachable_store_prints_one_line() -> None:
    pytest.importorskip("psycopg")
    done = run(["-m", "agents.investigate", "--sandbox"], PD_TOOLKIT_STORE=unreachable_url())
    lines = [line for line in done.stderr.splitlines() if not line.startswith("sandbox at ")]
    assert done.returncode != 0, done.stderr
    assert done.stdout == ""
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert_one_clean_line(lines[0], "unreachable")
