"""A responder killed with SIGKILL strands nothing: more accepted work than its queue holds,
one investigation mid-lookup, briefs waiting for people; after a restart on the same state
every accepted incident reaches a brief, the interrupted one resumes from its checkpoint, and no
finished brief is investigated again.

The responder runs as a real process (``python -m agents.responder``) on a SQLite state file.
The kill waits on the checkpoint (the other lookups' writes are saved), not on a request count.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
import requests
from conftest import leaks
from langgraph.checkpoint.sqlite import SqliteSaver
from postgres import free_port
from responder_helpers import (
    SECRET,
    TOKEN,
    bearer,
    investigations,
    notes_of,
    responder_process,
    signed_post,
    status_of,
    triggered,
    wait_for,
)

from pd_toolkit.sandbox import Fault, Sandbox

pytestmark = pytest.mark.sandbox
OTHER_LOOKUPS = {"alerts", "oncall", "service_status", "similar_history", "recent_changes"}


def saved_lookups(state: Path, incident_id: str) -> set[str]:
    """The lookups of the incident's investigation whose results the checkpoint holds (read
    only: the reader must not hold a lock the responder waits for)."""
    conn = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute(
            "SELECT thread_id FROM pdtk_responder_investigations WHERE incident_id = ?",
            (incident_id,),
        ).fetchone()
        if row is None:
            return set()
        saver = SqliteSaver(conn)
        saver.is_setup = True  # the responder made the tables; setting up would write
        saved = saver.get_tuple({"configurable": {"thread_id": row[0]}})
    finally:
        conn.close()
    if saved is None:
        return set()
    done = set((saved.checkpoint["channel_values"].get("lookups") or {}).keys())
    for _task, channel, value in saved.pending_writes or []:
        if channel == "lookups":
            done |= set(value)
    return done


def test_kill_9_strands_nothing(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    sb = fresh_sandbox
    state, log, port = tmp_path / "responder.db", tmp_path / "responder.log", free_port()
    options = ["--queue-size", "3", "--workers", "1"]
    waiting = [triggered(sb) for _ in range(3)]
    held, *queued = [triggered(sb) for _ in range(4)]
    held_id = held["event"]["data"]["id"]
    timeline = f"/incidents/{held_id}/log_entries"
    ids = [e["event"]["data"]["id"] for e in [*waiting, held, *queued]]

    with responder_process(sb, str(state), port, log, *options) as url:
        for envelope in waiting:
            assert signed_post(url, envelope).status_code == 202
        for envelope in waiting:
            incident_id = envelope["event"]["data"]["id"]
            wait_for(lambda i=incident_id: status_of(url, i) == "awaiting_approval", what="brief")
        sb.inject(Fault(kind="slow", delay=60, path=f"^{re.escape(timeline)}$", times=1))
        assert signed_post(url, held).status_code == 202
        wait_for(lambda: status_of(url, held_id) == "running", what="the held investigation")
        answers = [signed_post(url, envelope).status_code for envelope in queued]
        assert answers == [202, 202, 202]  # 3 + 1 + 3 accepted: more than the queue's 3
        wait_for(
            lambda: saved_lookups(state, held_id) >= OTHER_LOOKUPS,
            what="the other lookups in the checkpoint",
        )
        assert timeline not in [r.path for r in sb.request_log]  # still held
    before = len(sb.request_log)

    with responder_process(sb, str(state), port, log, *options) as url:
        for incident_id in ids:
            wait_for(
                lambda i=incident_id: status_of(url, i) == "awaiting_approval",
                timeout=120,
                what=f"the brief of {incident_id}",
            )
        listed = investigations(url)
        assert all(listed[i]["brief"].startswith("# Incident #") for i in ids)
        for envelope in [*waiting, held, *queued]:  # PagerDuty redelivers: already known
            envelope["event"]["id"] = envelope["event"]["id"][:-1] + "Z"
            assert signed_post(url, envelope).json()["outcome"] == "known"
        approved = requests.post(
            f"{url}/investigations/{held_id}/approve", headers=bearer(), timeout=60
        )
        assert approved.status_code == 200, approved.text
    after = [(r.method, r.path) for r in sb.request_log[before:]]
    # The finished briefs were not investigated again; the held one resumed with only its
    # interrupted timeline lookup (a fresh run would ask for its alerts again).
    for incident_id in ids[:3]:
        assert ("GET", f"/incidents/{incident_id}") not in after
    assert ("GET", timeline) in after
    assert ("GET", f"/incidents/{held_id}/alerts") not in after
    assert after.count(("POST", f"/incidents/{held_id}/notes")) == 1
    (note,) = notes_of(sb, held_id)
    assert note["content"].startswith(listed[held_id]["brief"].strip()[:100])
    assert leaks([log.read_text()], SECRET, TOKEN, sb.write_api_key[-16:]) == []
