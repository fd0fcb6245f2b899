"""Responders sharing a PostgreSQL state: one investigates, another lists and approves."""

from __future__ import annotations

import pytest
from responder_helpers import (
    decide,
    notes_of,
    responder_on,
    signed_post,
    status_of,
    triggered,
    wait_for,
)

from pd_toolkit.sandbox import Sandbox

pytestmark = pytest.mark.sandbox


def test_two_responders_share_the_work(fresh_sandbox: Sandbox, postgresql_url: str) -> None:
    envelope = triggered(fresh_sandbox)
    incident_id = envelope["event"]["data"]["id"]
    with responder_on(fresh_sandbox, state=postgresql_url, owner="a") as first:
        assert signed_post(first.url, envelope).status_code == 202
        wait_for(lambda: status_of(first.url, incident_id) == "awaiting_approval", what="brief")
        with responder_on(fresh_sandbox, state=postgresql_url, owner="b") as second:
            assert status_of(second.url, incident_id) == "awaiting_approval"
            assert signed_post(second.url, envelope).json()["outcome"] == "duplicate"
            assert decide(second.url, incident_id, "approve").json()["status"] == "posted"
        assert status_of(first.url, incident_id) == "posted"
    assert len(notes_of(fresh_sandbox, incident_id)) == 1
