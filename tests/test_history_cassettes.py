"""Similar-incident search replayed from cassettes (narrow windows keep them small).

Re-record: ``pytest --record-mode=rewrite tests/test_history_cassettes.py`` (a sandbox at
FIXED_NOW, or a real account when PAGERDUTY_API_KEY is set). Assertions are structural so a
real account's recording passes too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import FIXED_NOW

from pd_toolkit import PagerDutyClient
from pd_toolkit.api import PagerDutyAPI
from pd_toolkit.history import find_similar_incidents
from pd_toolkit.models import Incident
from pd_toolkit.render import render_similar_incidents

WINDOW_DAYS = 14


@pytest.fixture
def api(cassette_client: PagerDutyClient) -> Iterator[PagerDutyAPI]:
    with PagerDutyAPI(cassette_client) as opened:
        yield opened


def latest_resolved(client: PagerDutyClient) -> dict[str, Any]:
    """The newest resolved incident of the last week (one recorded request)."""
    body = client.get(
        "/incidents",
        {
            "statuses[]": ["resolved"],
            "since": "2026-11-11T09:30:00Z",
            "until": "2026-11-18T09:30:00Z",
            "sort_by": "created_at:desc",
            "limit": 1,
        },
    )
    return body["incidents"][0]


@pytest.mark.vcr
def test_incident_query_default_scope_with_402_fallback(
    cassette_client: PagerDutyClient, api: PagerDutyAPI
) -> None:
    query = latest_resolved(cassette_client)
    detail = cassette_client.get(f"/incidents/{query['id']}")["incident"]
    result = find_similar_incidents(
        api, Incident.model_validate(detail), now=FIXED_NOW, window_days=WINDOW_DAYS
    )
    assert result.query.incident_id == query["id"]
    assert result.query.scope == f"services {query['service']['id']}"
    assert query["id"] not in {m.incident.id for m in result.matches}
    assert all(m.incident.service_id == query["service"]["id"] for m in result.matches)
    if result.notices:
        assert "HTTP 402" in result.notices[0]
    text = render_similar_incidents(result)
    assert text.startswith(f"Similar incidents to incident #{query['incident_number']} ")
    assert all(m.incident.id in text for m in result.matches)


@pytest.mark.vcr
def test_free_text_query_on_a_service(cassette_client: PagerDutyClient, api: PagerDutyAPI) -> None:
    query = latest_resolved(cassette_client)
    service = query["service"]["id"]
    result = find_similar_incidents(
        api,
        text=query["title"],
        service_ids=[service],
        now=FIXED_NOW,
        window_days=WINDOW_DAYS,
    )
    assert result.query.kind == "text" and result.candidates >= 1
    assert result.matches and result.matches[0].similarity > 0.9  # its own title is there
    assert result.pattern.count >= 1 and result.pattern.last_seen is not None
    again = find_similar_incidents(
        api,
        text=query["title"],
        service_ids=[service],
        now=FIXED_NOW,
        window_days=WINDOW_DAYS,
    )
    # Warm: the history and resolved matches' resolutions come from the store; only an open
    # match's notes are asked again (it may have new ones).
    open_shown = sum(match.incident.status != "resolved" for match in again.matches)
    assert again.requests_used == open_shown and again.from_cache


@pytest.mark.vcr
def test_empty_window(cassette_client: PagerDutyClient, api: PagerDutyAPI) -> None:
    result = find_similar_incidents(
        api,
        text="disk full",
        service_ids=["PNOSUCH"],
        now=FIXED_NOW,
        window_days=WINDOW_DAYS,
    )
    assert result.matches == [] and result.candidates == 0
    assert "No incidents in services PNOSUCH" in render_similar_incidents(result)
