"""A responder killed mid-investigation resumes from its checkpoint after a restart.

The responder runs as a real process (``python -m agents.responder``) on a SQLite state file.
The sandbox holds one lookup (the timeline's log entries) for 20 s; once the other lookups
have answered, the process is killed with SIGKILL and started again on the same state: only
the interrupted lookup runs again, and the nodes that had finished send no request twice.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from postgres import free_port
from responder_helpers import (
    SECRET,
    TOKEN,
    investigations,
    notes_of,
    signed_post,
    status_of,
    triggered,
    wait_for,
)

from pd_toolkit.sandbox import Fault, Sandbox

pytestmark = pytest.mark.sandbox
ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def responder_process(sb: Sandbox, state: Path, port: int, log: Path) -> Iterator[str]:
    """``python -m agents.responder`` on ``sb``; its URL once it answers."""
    env = {
        **os.environ,
        "PAGERDUTY_API_KEY": sb.write_api_key,
        "PAGERDUTY_API_HOST": sb.base_url,
        "PAGERDUTY_WEBHOOK_SECRET": f"old-secret,{SECRET}",
        "PD_TOOLKIT_APPROVAL_TOKEN": TOKEN,
        "PAGERDUTY_FROM_EMAIL": "alice.nguyen@example.com",
    }
    args = ["--port", str(port), "--state", str(state), "--allow-notes", "--name", "test"]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "agents.responder", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=1).ok
        except requests.ConnectionError:
            assert process.poll() is None, log.read_text()
            return False

    try:
        wait_for(healthy, timeout=60, what="the responder process")
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


def test_restart_mid_investigation_resumes_from_the_checkpoint(
    fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    sb = fresh_sandbox
    envelope = triggered(sb)
    incident_id = envelope["event"]["data"]["id"]
    timeline = f"/incidents/{incident_id}/log_entries"
    sb.inject(Fault(kind="slow", delay=20, path=f"^{re.escape(timeline)}$", times=1))
    state, log, port = tmp_path / "responder.db", tmp_path / "responder.log", free_port()

    with responder_process(sb, state, port, log) as url:
        assert signed_post(url, envelope).status_code == 202
        # Every lookup but the held timeline answers: 15 of an investigation's 17 requests.
        wait_for(lambda: len(sb.request_log) >= 15, timeout=60, what="the other lookups")
        assert status_of(url, incident_id) == "running"
    before = [r.path for r in sb.request_log]
    assert timeline not in before  # still held when the process died
    assert before.count(f"/incidents/{incident_id}") == 1

    with responder_process(sb, state, port, log) as url:
        wait_for(lambda: status_of(url, incident_id) == "awaiting_approval", what="the brief")
        brief = investigations(url)[incident_id]["brief"]
        approved = requests.post(
            f"{url}/investigations/{incident_id}/approve",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=60,
        )
        assert approved.status_code == 200, approved.text
    after = [(r.method, r.path) for r in sb.request_log][len(before) :]
    incident, notes = f"/incidents/{incident_id}", f"/incidents/{incident_id}/notes"
    # Resumed: only the interrupted timeline lookup ran again (its incident lookup, cold in a
    # new process, then log entries and notes); a fresh run would send 17 GETs. Then the note:
    # its marker check and one POST.
    assert after == [
        ("GET", incident),
        ("GET", timeline),
        ("GET", notes),
        ("GET", notes),
        ("POST", notes),
    ]
    assert "Timeline" in brief or "timeline" in brief
    (note,) = notes_of(sb, incident_id)
    assert note["content"].startswith(brief.strip()[:100])
    assert SECRET not in log.read_text() and TOKEN not in log.read_text()
    assert sb.write_api_key not in log.read_text()
