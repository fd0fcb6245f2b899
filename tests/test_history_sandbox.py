"""Similar-incident search end to end against the live sandbox (real HTTP over loopback).

The broad searches (180 days, every service) run here rather than from cassettes, which would
be megabytes. The sandbox's hidden failure modes are read only by the assertions.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from conftest import FIXED_NOW

from pd_toolkit import PagerDutyClient
from pd_toolkit.api import PagerDutyAPI
from pd_toolkit.history import (
    fetch_incidents,
    find_similar_incidents,
    normalize_title,
)
from pd_toolkit.models import Incident
from pd_toolkit.render import render_similar_incidents

pytestmark = pytest.mark.sandbox


def client_for(sb: Any) -> PagerDutyClient:
    return PagerDutyClient(api_key=sb.api_key, base_url=sb.base_url, rate_limit_per_minute=None)


def api_for(sb: Any) -> PagerDutyAPI:
    """An API of the test's own (its store is the test's file: see conftest)."""
    return PagerDutyAPI(client_for(sb))


def recurring_incident(sb: Any, offset: int = 0) -> dict[str, Any]:
    """The newest resolved incident of the offset-th mode (by name) that recurs at least five
    times on that service in the last 170 days."""
    since = (FIXED_NOW - timedelta(days=170)).strftime("%Y-%m-%dT%H:%M:%SZ")
    mode_of = sb.account.failure_mode_of
    recent = sorted(
        (i for i in sb.account.incidents if i["created_at"] >= since),
        key=lambda i: i["created_at"],
    )
    counts = Counter((mode_of(i["id"]), i["service"]["id"]) for i in recent)
    picks = {
        mode_of(i["id"]): i
        for i in recent
        if i["status"] == "resolved" and counts[mode_of(i["id"]), i["service"]["id"]] >= 5
    }
    return picks[sorted(picks)[offset % len(picks)]]


def test_incident_search_finds_its_failure_mode_and_how_it_was_fixed(sandbox: Any) -> None:
    api = api_for(sandbox)
    account = sandbox.account
    query = recurring_incident(sandbox)
    result = find_similar_incidents(api, Incident.model_validate(query), now=FIXED_NOW)
    assert result.query.scope == f"services {query['service']['id']}"
    assert 1 <= len(result.matches) <= 5
    mode = account.failure_mode_of(query["id"])
    assert account.failure_mode_of(result.matches[0].incident.id) == mode
    assert query["id"] not in {m.incident.id for m in result.matches}
    assert all(
        m.incident.service_id == query["service"]["id"] and m.same_service for m in result.matches
    )
    assert [m.score for m in result.matches] == sorted(
        (m.score for m in result.matches), reverse=True
    )
    assert any(m.resolution is not None for m in result.matches)
    assert result.pattern.count >= len(result.matches)
    assert result.pattern.first_seen is not None and result.pattern.recurrence
    assert result.requests_used >= 2 and not result.from_cache
    text = render_similar_incidents(result)
    assert all(m.incident.id in text for m in result.matches)


def test_free_text_search_over_every_service(sandbox: Any) -> None:
    api = api_for(sandbox)
    account = sandbox.account
    query = recurring_incident(sandbox, offset=3)
    text = normalize_title(query["title"])  # what a person would type: no hosts, no numbers
    result = find_similar_incidents(api, text=text, now=FIXED_NOW)
    assert result.query.kind == "text" and result.query.scope == "all services"
    assert result.candidates > 1000
    assert account.failure_mode_of(result.matches[0].incident.id) == account.failure_mode_of(
        query["id"]
    )
    assert not result.notices  # free text never asks past_incidents


def test_unrelated_free_text_finds_nothing_similar_and_offers_no_fix(sandbox: Any) -> None:
    """Text the account never saw: its best matches are weak, listed as possibly related,
    and none of their (unrelated) fixes is offered."""
    api = api_for(sandbox)
    result = find_similar_incidents(
        api, text="the coffee machine on floor 3 is out of beans", now=FIXED_NOW
    )
    assert result.matches and all(m.weak for m in result.matches)
    assert result.pattern.count == 0 and result.fixes == [] and result.recent == []
    text = render_similar_incidents(result)
    assert text.startswith('No similar incident found for text "the coffee machine')
    assert "possibly related (weak) shown, no fix offered" in text.splitlines()[0]
    assert "fix (" not in text and "Fix 1" not in text and "fixed before" not in text


def test_402_fallback_is_silent_but_stated(fresh_sandbox: Any) -> None:
    api = api_for(fresh_sandbox)
    query = recurring_incident(fresh_sandbox)
    result = find_similar_incidents(api, Incident.model_validate(query), now=FIXED_NOW)
    assert result.matches
    assert len(result.notices) == 1 and "HTTP 402" in result.notices[0]
    assert all(m.pagerduty_score is None for m in result.matches)
    assert render_similar_incidents(result).splitlines()[-1].startswith("Note: ")


def test_past_incidents_scores_are_blended_when_enabled(fresh_sandbox: Any) -> None:
    fresh_sandbox.past_incidents_enabled = True
    api = api_for(fresh_sandbox)
    query = recurring_incident(fresh_sandbox)
    result = find_similar_incidents(api, Incident.model_validate(query), now=FIXED_NOW)
    assert not result.notices
    assert any(m.pagerduty_score is not None for m in result.matches)
    assert "PagerDuty score" in render_similar_incidents(result)


def test_second_search_is_served_from_the_cache(fresh_sandbox: Any) -> None:
    api = api_for(fresh_sandbox)
    query = recurring_incident(fresh_sandbox)
    first = find_similar_incidents(api, Incident.model_validate(query), now=FIXED_NOW)
    sent = len(fresh_sandbox.request_log)
    again = find_similar_incidents(api, Incident.model_validate(query), now=FIXED_NOW)
    assert again.requests_used == 0 and again.from_cache
    assert len(fresh_sandbox.request_log) == sent
    assert again.matches == first.matches


def test_rate_limited_history_fetch_is_retried(fresh_sandbox: Any) -> None:
    from pd_toolkit.sandbox import Fault

    fresh_sandbox.inject(Fault(kind="status", status=429, path="^/incidents$", retry_after=0.05))
    client = PagerDutyClient(
        api_key=fresh_sandbox.api_key, base_url=fresh_sandbox.base_url, max_retry_wait=0.1
    )
    result = find_similar_incidents(
        PagerDutyAPI(client),
        Incident.model_validate(recurring_incident(fresh_sandbox)),
        now=FIXED_NOW,
    )
    assert result.matches
    listing = [r.status for r in fresh_sandbox.request_log if r.path == "/incidents"]
    assert listing[:2] == [429, 200]


def test_empty_window_and_unknown_service(sandbox: Any) -> None:
    api = api_for(sandbox)
    long_ago = FIXED_NOW - timedelta(days=3 * 365)
    empty = find_similar_incidents(api, text="disk full", now=long_ago, window_days=30)
    assert empty.matches == [] and empty.candidates == 0
    assert empty.notices == ["No incidents in all services in the last 30 days."]
    assert empty.pattern.count == 0
    assert "Pattern" not in render_similar_incidents(empty)


def test_time_slicing_matches_one_big_fetch(sandbox: Any) -> None:
    client = client_for(sandbox)
    since = FIXED_NOW - timedelta(days=180)
    whole = fetch_incidents(client, since, FIXED_NOW)
    before = client.request_count
    sliced = fetch_incidents(client, since, FIXED_NOW, offset_cap=300)
    assert sorted(i["id"] for i in sliced) == sorted(i["id"] for i in whole)
    assert client.request_count - before > len(whole) / 100  # bisected into several slices
