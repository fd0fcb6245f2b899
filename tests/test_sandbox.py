"""The PagerDuty sandbox over real loopback HTTP, seen through `requests`."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from pd_toolkit.sandbox import Fault, Sandbox, build_account

pytestmark = pytest.mark.sandbox

NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """A shared sandbox; tests that inject faults or flip flags use `fresh` instead."""
    with Sandbox(now=NOW) as sandbox:
        yield sandbox


@pytest.fixture
def fresh() -> Iterator[Sandbox]:
    with Sandbox(now=NOW) as sandbox:
        yield sandbox


def get(sb: Sandbox, path: str, key: str | None = None, **params: Any) -> requests.Response:
    headers = {"Authorization": f"Token token={key or sb.api_key}"}
    return requests.get(sb.base_url + path, params=params, headers=headers, timeout=10)


def ok(sb: Sandbox, path: str, **params: Any) -> dict[str, Any]:
    response = get(sb, path, **params)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    return response.json()


def error(response: requests.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["code"] == code and body["message"] and isinstance(body["errors"], list)
    return body


def service_id(sb: Sandbox, name: str) -> str:
    return sb.account.service_id_by_name[name]


# ---------------------------------------------------------------------- the account
def test_account_has_the_promised_shape(sb: Sandbox) -> None:
    account = sb.account
    assert len(account.incidents) >= 2000
    assert len(account.modes) >= 30
    assert all(len(ids) >= 15 for ids in account.incident_ids_by_mode().values())
    assert any(m.is_lookalike for m in account.modes)
    assert len(account.services) >= 12
    assert {s["status"] for s in account.services} == {
        "active",
        "warning",
        "critical",
        "maintenance",
        "disabled",
    }
    assert len(account.users) >= 25 and all(
        u["email"].endswith("@example.com") for u in account.users
    )
    teams = {t["name"] for t in account.teams}
    assert len(teams) >= 6 and "Payments" in teams
    checkout = account.service(service_id(sb, "checkout"))
    assert checkout is not None and checkout["teams"][0]["summary"] == "Checkout & Storefront"
    numbers = [i["incident_number"] for i in account.incidents]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert all(len(i["id"]) == 14 and i["id"].isalnum() for i in account.incidents)


def test_open_incidents_and_service_statuses_agree(sb: Sandbox) -> None:
    account = sb.account
    open_now = account.open_incidents()
    assert 5 <= len(open_now) <= 8
    assert {i["status"] for i in open_now} == {"triggered", "acknowledged"}
    assert {i["urgency"] for i in open_now} == {"high", "low"}
    assert any(i["service"]["summary"] == "checkout" for i in open_now)
    for service in account.services:
        mine = [i for i in open_now if i["service"]["id"] == service["id"]]
        if service["status"] == "critical":
            assert any(i["urgency"] == "high" and i["status"] == "triggered" for i in mine)
        elif service["status"] == "warning":
            assert mine and not any(
                i["urgency"] == "high" and i["status"] == "triggered" for i in mine
            )
        elif service["status"] == "active":
            assert not mine
    changed_before = [
        i
        for i in open_now
        if account.changes_between(
            datetime.fromisoformat(i["created_at"]) - timedelta(minutes=15),
            datetime.fromisoformat(i["created_at"]),
        )
    ]
    assert changed_before


def test_account_is_built_once_per_seed_and_clock() -> None:
    account = build_account(99, NOW)
    assert build_account(99, NOW) is account
    assert build_account(98, NOW) is not account


def test_same_seed_and_clock_serve_identical_payloads(sb: Sandbox) -> None:
    with Sandbox(now=NOW) as twin, Sandbox(now=NOW, seed=8) as other:
        params = {"date_range": "all", "limit": 100, "offset": 500}
        assert ok(sb, "/incidents", **params) == ok(twin, "/incidents", **params)
        assert ok(sb, "/incidents", **params) != ok(other, "/incidents", **params)


# ---------------------------------------------------------------------- wire behaviour
@pytest.mark.parametrize(
    "header",
    [None, "Token token=wrong-key-0123456789", "Token token=0123456789abcdef0123456789abcdef"],
)
def test_missing_or_unknown_keys_get_401(sb: Sandbox, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = requests.get(f"{sb.base_url}/incidents", headers=headers, timeout=10)
    error(response, 401, 2006)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_writes_are_refused_as_for_a_read_only_key(sb: Sandbox, method: str) -> None:
    response = requests.request(
        method,
        f"{sb.base_url}/incidents",
        headers={"Authorization": f"Token token={sb.api_key}"},
        json={"incident": {}},
        timeout=10,
    )
    assert "read-only" in error(response, 403, 2010)["errors"][0]


def test_head_is_allowed(sb: Sandbox) -> None:
    response = requests.head(
        f"{sb.base_url}/teams", headers={"Authorization": f"Token token={sb.api_key}"}, timeout=10
    )
    assert response.status_code == 200 and response.content == b""


@pytest.mark.parametrize(
    "path", ["/nope", "/incidents/QXXXXXXXXXXXXX", "/services/PNOPE00", "/incidents/999999/notes"]
)
def test_unknown_paths_and_ids_get_404(sb: Sandbox, path: str) -> None:
    error(get(sb, path), 404, 2100)


def test_pagination_follows_pagerduty_rules(sb: Sandbox) -> None:
    first = ok(sb, "/incidents", date_range="all", limit=40, total="true")
    second = ok(sb, "/incidents", date_range="all", limit=40, offset=40)
    assert first["more"] and first["total"] == len(sb.account.incidents)
    assert second["total"] is None and second["offset"] == 40
    assert not {i["id"] for i in first["incidents"]} & {i["id"] for i in second["incidents"]}
    default = ok(sb, "/users")
    assert default["limit"] == 25 and len(default["users"]) == 25 and default["more"]
    clamped = ok(sb, "/incidents", date_range="all", limit=500)
    assert clamped["limit"] == 100 and len(clamped["incidents"]) == 100
    last = ok(sb, "/users", offset=25, limit=25)
    assert not last["more"] and len(last["users"]) == len(sb.account.users) - 25
    error(get(sb, "/incidents", date_range="all", offset=9950, limit=100), 400, 2001)
    error(get(sb, "/incidents", limit="many"), 400, 2001)


def test_incidents_default_to_the_last_30_days_and_cap_the_range_at_6_months(sb: Sandbox) -> None:
    listed = ok(sb, "/incidents", limit=100, total="true")
    cutoff = NOW - timedelta(days=30)
    expected = [
        i for i in sb.account.incidents if datetime.fromisoformat(i["created_at"]) >= cutoff
    ]
    assert listed["total"] == len(expected)
    assert listed["incidents"][0]["id"] == expected[0]["id"]  # oldest first by default
    since = (NOW - timedelta(days=200)).isoformat()
    error(get(sb, "/incidents", since=since, until=NOW.isoformat()), 400, 2001)
    everything = ok(sb, "/incidents", since=since, date_range="all", total="true")
    assert everything["total"] == len(sb.account.incidents)
    error(get(sb, "/incidents", since="last tuesday"), 400, 2001)
    error(get(sb, "/incidents", since=NOW.isoformat(), until=cutoff.isoformat()), 400, 2001)


def test_incident_filters(sb: Sandbox) -> None:
    account = sb.account
    open_ids = {i["id"] for i in account.open_incidents()}
    listed = ok(sb, "/incidents", **{"statuses[]": ["triggered", "acknowledged"]})
    assert {i["id"] for i in listed["incidents"]} == open_ids
    error(get(sb, "/incidents", **{"statuses[]": "on_fire"}), 400, 2001)

    checkout = service_id(sb, "checkout")
    listed = ok(sb, "/incidents", limit=100, date_range="all", **{"service_ids[]": checkout})
    assert listed["incidents"] and all(i["service"]["id"] == checkout for i in listed["incidents"])

    payments = next(t["id"] for t in account.teams if t["name"] == "Payments")
    params = {"team_ids[]": payments, "urgencies[]": "low", "limit": 100}
    listed = ok(sb, "/incidents", **params)
    assert listed["incidents"]
    for inc in listed["incidents"]:
        assert inc["urgency"] == "low" and inc["teams"][0]["id"] == payments

    since, until = NOW - timedelta(days=3), NOW - timedelta(days=2)
    window = ok(sb, "/incidents", since=since.isoformat(), until=until.strftime("%Y-%m-%dT%H:%MZ"))
    created = [datetime.fromisoformat(i["created_at"]) for i in window["incidents"]]
    assert created and all(since <= c < until for c in created)

    newest = ok(sb, "/incidents", sort_by="created_at:desc", limit=5)["incidents"]
    assert newest[0]["id"] == account.incidents[-1]["id"]
    error(get(sb, "/incidents", sort_by="mood:desc"), 400, 2001)

    keys = Counter(i["incident_key"] for i in account.incidents)
    target = next(i for i in account.incidents[-40::-1] if keys[i["incident_key"]] == 1)
    by_key = ok(sb, "/incidents", incident_key=target["incident_key"], date_range="all")
    assert [i["id"] for i in by_key["incidents"]] == [target["id"]]
    # A generic alert's constant dedup key finds every incident it opened, whatever the cause.
    slo = {i["id"] for i in account.incidents if i["incident_key"] == "slo/checkout-availability"}
    by_key = ok(
        sb,
        "/incidents",
        incident_key="slo/checkout-availability",
        date_range="all",
        limit=100,
        total="true",
    )
    assert by_key["total"] == len(slo) > 100
    assert {i["id"] for i in by_key["incidents"]} <= slo


def test_incident_by_id_or_number_with_includes(sb: Sandbox) -> None:
    target = next(i for i in sb.account.open_incidents() if i["status"] == "acknowledged")
    by_number = ok(sb, f"/incidents/{target['incident_number']}")["incident"]
    assert by_number == ok(sb, f"/incidents/{target['id']}")["incident"] == target
    includes = ["services", "escalation_policies", "teams", "assignees", "acknowledgers"]
    full = ok(
        sb, f"/incidents/{target['id']}", **{"include[]": [*includes, "first_trigger_log_entries"]}
    )
    inc = full["incident"]
    assert inc["service"]["type"] == "service" and inc["service"]["name"]
    assert inc["escalation_policy"]["type"] == "escalation_policy"
    assert inc["teams"][0]["type"] == "team"
    assert inc["assignments"][0]["assignee"]["email"].endswith("@example.com")
    assert inc["acknowledgements"][0]["acknowledger"]["type"] == "user"
    assert inc["first_trigger_log_entry"]["type"] == "trigger_log_entry"


def test_incident_timeline_alerts_and_notes(sb: Sandbox) -> None:
    resolved = sb.account.incidents[len(sb.account.incidents) // 2]
    entries = ok(sb, f"/incidents/{resolved['id']}/log_entries", limit=100)["log_entries"]
    times = [e["created_at"] for e in entries]
    assert times == sorted(times, reverse=True)  # newest first
    types = {e["type"] for e in entries}
    assert {
        "trigger_log_entry",
        "notify_log_entry",
        "resolve_log_entry",
        "annotate_log_entry",
    } <= types
    assert entries[-1]["type"] == "trigger_log_entry"
    overview = ok(sb, f"/incidents/{resolved['id']}/log_entries", is_overview="true")
    assert not any(e["type"] == "notify_log_entry" for e in overview["log_entries"])

    alerts = ok(sb, f"/incidents/{resolved['id']}/alerts")["alerts"]
    assert alerts and all(a["status"] == "resolved" for a in alerts)
    assert alerts[0]["body"]["details"] and alerts[0]["body"]["cef_details"]["severity"]
    assert not ok(sb, f"/incidents/{resolved['id']}/alerts", **{"statuses[]": "triggered"})[
        "alerts"
    ]

    notes = ok(sb, f"/incidents/{resolved['id']}/notes")
    assert set(notes) == {"notes"} and notes["notes"][-1]["content"]


def test_related_change_events_precede_an_open_incident(sb: Sandbox) -> None:
    related = [
        (inc, ok(sb, f"/incidents/{inc['id']}/related_change_events")["change_events"])
        for inc in sb.account.open_incidents()
    ]
    inc, changes = next((i, c) for i, c in related if c)
    assert changes[0]["timestamp"] <= inc["created_at"]
    assert changes[0]["correlation_reason"]["reason"] in {"most_recent", "related_service"}


def test_change_events_filter_by_time_team_and_service(sb: Sandbox) -> None:
    since, until = NOW - timedelta(days=7), NOW
    changes = ok(sb, "/change_events", since=since.isoformat(), until=until.isoformat(), limit=100)
    stamps = [c["timestamp"] for c in changes["change_events"]]
    assert stamps and stamps == sorted(stamps, reverse=True)
    assert all(since <= datetime.fromisoformat(s) <= until for s in stamps)
    checkout = service_id(sb, "checkout")
    mine = ok(sb, f"/services/{checkout}/change_events", limit=100)["change_events"]
    assert mine and all(c["services"][0]["id"] == checkout for c in mine)


def test_users_me_needs_a_user_key(sb: Sandbox) -> None:
    body = error(get(sb, "/users/me"), 400, 2001)
    assert "user-level API key" in body["errors"][0]
    me = get(sb, "/users/me", key=sb.user_api_key).json()["user"]
    assert me["id"] == sb.account.user_key_user_id and me["type"] == "user"


def test_restricted_key_cannot_read_schedules_or_oncalls(sb: Sandbox) -> None:
    key = sb.restricted_api_key
    error(get(sb, "/schedules", key=key), 403, 2010)
    error(get(sb, "/oncalls", key=key), 403, 2010)
    assert get(sb, "/incidents", key=key).status_code == 200
    assert get(sb, "/abilities", key=key).status_code == 200


def test_past_incidents_need_the_plan(fresh: Sandbox) -> None:
    target = fresh.account.open_incidents()[0]
    error(get(fresh, f"/incidents/{target['id']}/past_incidents"), 402, 2014)
    assert "past_incidents" not in ok(fresh, "/abilities")["abilities"]
    fresh.past_incidents_enabled = True
    assert "past_incidents" in ok(fresh, "/abilities")["abilities"]
    body = ok(fresh, f"/incidents/{target['id']}/past_incidents", limit=10)
    scores = [p["score"] for p in body["past_incidents"]]
    assert len(scores) == 10 and scores == sorted(scores, reverse=True)
    mode = fresh.account.failure_mode_of(target["id"])
    same = [
        fresh.account.failure_mode_of(p["incident"]["id"]) == mode for p in body["past_incidents"]
    ]
    assert sum(same) >= 7  # the plan's ranking is informative, not perfect
    assert all(p["incident"]["created_at"] < target["created_at"] for p in body["past_incidents"])


# ---------------------------------------------------------------------- on-call
def _primary(sandbox: Sandbox, schedule: str) -> str:
    schedule_id = next(s["id"] for s in sandbox.account.schedules if s["name"] == schedule)
    oncalls = ok(sandbox, "/oncalls", **{"schedule_ids[]": schedule_id})["oncalls"]
    users = {o["user"]["id"] for o in oncalls}
    assert len(users) == 1
    return users.pop()


def test_oncall_rotates_with_the_clock(sb: Sandbox) -> None:
    with Sandbox(now=NOW + timedelta(days=7)) as later:
        assert _primary(sb, "Payments Primary") != _primary(later, "Payments Primary")
    with Sandbox(now=NOW + timedelta(days=1)) as tomorrow:
        assert _primary(sb, "Checkout Primary") != _primary(tomorrow, "Checkout Primary")


def test_oncalls_shape_and_filters(sb: Sandbox) -> None:
    oncalls = ok(sb, "/oncalls", limit=100)["oncalls"]
    scheduled = [o for o in oncalls if o["schedule"]]
    direct = [o for o in oncalls if not o["schedule"]]
    assert scheduled and direct
    for entry in scheduled:
        assert entry["start"] <= NOW.strftime("%Y-%m-%dT%H:%M:%SZ") < entry["end"]
    assert all(o["start"] is None and o["end"] is None for o in direct)
    policy = sb.account.escalation_policies[0]["id"]
    mine = ok(sb, "/oncalls", **{"escalation_policy_ids[]": policy})["oncalls"]
    assert mine and {o["escalation_policy"]["id"] for o in mine} == {policy}
    assert sorted({o["escalation_level"] for o in mine}) == [1, 2, 3]
    user = scheduled[0]["user"]["id"]
    assert all(
        o["user"]["id"] == user for o in ok(sb, "/oncalls", **{"user_ids[]": user})["oncalls"]
    )
    week = ok(
        sb,
        "/oncalls",
        since=NOW.isoformat(),
        until=(NOW + timedelta(days=7)).isoformat(),
        limit=100,
        **{"escalation_policy_ids[]": policy},
    )["oncalls"]
    assert len(week) > len(mine)
    included = ok(sb, "/oncalls", **{"include[]": "users"})["oncalls"]
    assert included[0]["user"]["type"] == "user"


def test_schedule_renders_the_next_week(sb: Sandbox) -> None:
    schedule = next(s for s in sb.account.schedules if len(s["schedule_layers"]) == 2)
    until = NOW + timedelta(days=7)
    body = ok(sb, f"/schedules/{schedule['id']}", since=NOW.isoformat(), until=until.isoformat())
    final = body["schedule"]["final_schedule"]
    entries = final["rendered_schedule_entries"]
    assert final["rendered_coverage_percentage"] == 100.0
    assert entries[0]["start"] == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert entries[-1]["end"] == until.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(entries))
    assert len({e["user"]["id"] for e in entries}) >= 3
    layer = body["schedule"]["schedule_layers"][0]
    assert layer["rotation_turn_length_seconds"] > 0 and layer["users"]
    assert layer["rotation_virtual_start"] < NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    default = ok(sb, f"/schedules/{schedule['id']}")["schedule"]["final_schedule"]
    assert default["rendered_schedule_entries"][-1]["end"] == (NOW + timedelta(days=14)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_directory_endpoints_filter(sb: Sandbox) -> None:
    payments = next(t["id"] for t in sb.account.teams if t["name"] == "Payments")
    services = ok(sb, "/services", **{"team_ids[]": payments})["services"]
    assert {s["name"] for s in services} >= {"payments-api", "payments-db"}
    assert ok(sb, "/services", query="CHECK")["services"][0]["name"] == "checkout"
    embedded = ok(sb, "/services", **{"include[]": ["escalation_policies", "teams"]})["services"]
    assert embedded[0]["escalation_policy"]["type"] == "escalation_policy"
    policies = ok(sb, "/escalation_policies", **{"team_ids[]": payments})["escalation_policies"]
    assert policies and all(p["teams"][0]["id"] == payments for p in policies)
    assert all(2 <= len(p["escalation_rules"]) <= 3 for p in sb.account.escalation_policies)
    user = sb.account.user_key_user_id
    assert ok(sb, "/escalation_policies", **{"user_ids[]": user})["escalation_policies"]
    assert ok(sb, "/users", query="alice")["users"][0]["id"] == user
    assert ok(sb, "/teams", query="pay")["teams"][0]["name"] == "Payments"
    assert ok(sb, f"/teams/{payments}")["team"]["name"] == "Payments"


# ---------------------------------------------------------------------- faults & instrumentation
def test_rate_limit_fault_sends_pagerduty_headers(fresh: Sandbox) -> None:
    fresh.inject(Fault(kind="status", status=429, retry_after=2, path=r"^/incidents$", times=2))
    for _ in range(2):
        response = get(fresh, "/incidents")
        error(response, 429, 2020)
        assert response.headers["Retry-After"] == "2"
        assert response.headers["ratelimit-limit"] == "960"
        assert response.headers["ratelimit-remaining"] == "0"
        assert response.headers["ratelimit-reset"] == "2"
    assert get(fresh, "/teams").status_code == 200
    assert get(fresh, "/incidents").status_code == 200


def test_server_error_fault_and_method_filter(fresh: Sandbox) -> None:
    fresh.inject(Fault(kind="status", status=503, method="POST", times=None))
    fresh.inject(Fault(kind="status", status=503))
    response = get(fresh, "/services")
    assert response.status_code == 503 and response.json()["error"]["message"]
    assert get(fresh, "/services").status_code == 200
    fresh.clear_faults()
    assert get(fresh, "/services").status_code == 200


def test_slow_fault_and_latency_delay_answers(fresh: Sandbox) -> None:
    fresh.inject(Fault(kind="slow", delay=0.3, path="teams"))
    started = time.monotonic()
    assert get(fresh, "/teams").status_code == 200
    assert time.monotonic() - started >= 0.3
    fresh.latency = 0.2
    started = time.monotonic()
    assert get(fresh, "/abilities").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_truncated_fault_breaks_the_body(fresh: Sandbox) -> None:
    fresh.inject(Fault(kind="truncated"))
    with pytest.raises((requests.exceptions.ChunkedEncodingError, json.JSONDecodeError)):
        get(fresh, "/incidents").json()
    assert get(fresh, "/incidents").status_code == 200


def test_not_json_fault_serves_an_html_page(fresh: Sandbox) -> None:
    fresh.inject(Fault(kind="not_json"))
    response = get(fresh, "/incidents")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()


def test_drop_fault_closes_the_connection(fresh: Sandbox) -> None:
    fresh.inject(Fault(kind="drop", path="/oncalls"))
    with requests.Session() as session:
        session.headers["Authorization"] = f"Token token={fresh.api_key}"
        assert session.get(f"{fresh.base_url}/teams", timeout=5).status_code == 200
        with pytest.raises(requests.ConnectionError):
            session.get(f"{fresh.base_url}/oncalls", timeout=5)
        assert session.get(f"{fresh.base_url}/oncalls", timeout=5).status_code == 200


def test_lost_fault_does_the_work_and_drops_the_answer(fresh: Sandbox) -> None:
    incident = fresh.trigger_incident("ledger", "ledger_recon_failed")["id"]
    fresh.inject(Fault(kind="lost", method="POST", path=r"/notes$"))
    headers = {
        "Authorization": f"Token token={fresh.write_api_key}",
        "From": "alice.nguyen@example.com",
    }
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{fresh.base_url}/incidents/{incident}/notes",
            json={"note": {"content": "Rolled back."}},
            headers=headers,
            timeout=5,
        )
    assert [note["content"] for note in fresh.account.notes[incident]] == ["Rolled back."]
    deadline = time.monotonic() + 10  # the sandbox logs the request after dropping it
    while not fresh.request_log and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (fresh.request_log[-1].fault, fresh.request_log[-1].status) == ("lost", None)


def test_unknown_fault_kinds_are_rejected() -> None:
    with pytest.raises(ValueError):
        Fault(kind="explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Fault(kind="status")


def test_request_log_records_every_request(fresh: Sandbox) -> None:
    fresh.inject(Fault(kind="status", status=500, path="services"))
    get(fresh, "/incidents", **{"statuses[]": ["triggered", "acknowledged"]})
    get(fresh, "/services")
    get(fresh, "/users/me", key=fresh.user_api_key)
    get(fresh, "/teams", key="not-a-real-key-at-all")
    first, second, third, fourth = fresh.request_log
    assert (first.method, first.path, first.status) == ("GET", "/incidents", 200)
    assert first.query == {"statuses[]": ["triggered", "acknowledged"]}
    assert first.started <= first.finished and first.fault is None and first.key_kind == "account"
    assert (second.status, second.fault) == (500, "status")
    assert third.key_kind == "user" and fourth.key_kind is None and fourth.status == 401


# ---------------------------------------------------------------------- ground truth
def test_ground_truth_is_consistent(sb: Sandbox) -> None:
    account = sb.account
    by_mode = account.incident_ids_by_mode()
    assert sum(len(ids) for ids in by_mode.values()) == len(account.incidents)
    for mode, ids in by_mode.items():
        assert all(account.failure_mode_of(i) == mode for i in ids[:5])
    names = {m.name for m in account.modes}
    assert all(m.lookalike in names for m in account.modes if m.is_lookalike)
    with pytest.raises(KeyError):
        account.failure_mode_of("QNOTANINCIDENT")


def test_mode_names_never_reach_an_api_body(sb: Sandbox) -> None:
    account = sb.account
    sample = [ids[n] for ids in account.incident_ids_by_mode().values() for n in (0, -1)]
    dumps = [
        get(sb, path, limit=100, date_range="all").text
        for path in ("/incidents", "/services", "/users", "/escalation_policies", "/oncalls")
    ]
    dumps += [get(sb, "/change_events", limit=100, offset=n).text for n in range(0, 1000, 100)]
    for iid in sample:
        for suffix in ("", "/log_entries", "/alerts", "/notes", "/related_change_events"):
            dumps.append(get(sb, f"/incidents/{iid}{suffix}", limit=100).text)
    text = "\n".join(dumps)
    assert sample[0] in text
    leaked = [m.name for m in account.modes if m.name in text]
    assert not leaked


def test_a_sandbox_can_trigger_note_and_resolve_without_touching_others() -> None:
    """Changes land in this sandbox's own copy: the shared, cached account keeps its history."""
    now = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
    with Sandbox(now=now) as changed, Sandbox(now=now) as untouched:
        auth = {"Authorization": f"Token token={changed.api_key}"}
        before = len(changed.account.incidents)
        assert changed.advance(timedelta(minutes=10)) == now + timedelta(minutes=10)
        incident = changed.trigger_incident("checkout", "checkout_deploy_npe")
        assert incident["status"] == "triggered"
        assert incident["created_at"] == "2026-11-18T09:40:00Z"
        assert (
            incident["incident_number"]
            == max(i["incident_number"] for i in untouched.account.incidents) + 1
        )
        assert changed.account.failure_mode_of(incident["id"]) == "checkout_deploy_npe"
        served = requests.get(
            f"{changed.base_url}/incidents/{incident['incident_number']}", headers=auth, timeout=5
        ).json()["incident"]
        assert served["id"] == incident["id"]
        checkout = changed.account.service_id_by_name["checkout"]
        assert changed.account.service(checkout)["status"] == "critical"

        changed.add_note(incident["id"], "Rolled back the deploy.")
        resolved = changed.resolve_incident(incident["incident_number"])
        assert resolved["status"] == "resolved"
        assert resolved["resolved_at"] == "2026-11-18T09:40:00Z"
        base = f"{changed.base_url}/incidents/{incident['id']}"
        notes = requests.get(f"{base}/notes", headers=auth, timeout=5).json()["notes"]
        assert [n["content"] for n in notes] == ["Rolled back the deploy."]
        entries = requests.get(f"{base}/log_entries", headers=auth, timeout=5).json()
        assert {"resolve_log_entry", "annotate_log_entry", "trigger_log_entry"} <= {
            e["type"] for e in entries["log_entries"]
        }
        assert len(changed.account.incidents) == before + 1
        assert len(untouched.account.incidents) == before
        assert untouched.account.find_incident(incident["id"]) is None
        with pytest.raises(ValueError, match="only moves forward"):
            changed.advance(timedelta(minutes=-1))
        with pytest.raises(ValueError, match="unknown failure mode"):
            changed.trigger_incident("checkout", "no_such_mode")


def test_rename_shows_the_new_name_wherever_the_object_is_referenced() -> None:
    with Sandbox(now=NOW) as changed:
        account = changed.account
        incident = next(i for i in account.open_incidents() if i["assignments"])
        service = incident["service"]["id"]
        user = incident["assignments"][0]["assignee"]["id"]
        old = account.service(service)["name"]
        changed.rename({service: "svc [x](https://ev.il)", user: "Mallory @here"})
        served = ok(changed, f"/incidents/{incident['id']}")["incident"]
        assert served["service"]["summary"] == "svc [x](https://ev.il)"
        assert served["assignments"][0]["assignee"]["summary"] == "Mallory @here"
        assert ok(changed, f"/services/{service}")["service"]["name"] == "svc [x](https://ev.il)"
        assert ok(changed, f"/users/{user}")["user"]["summary"] == "Mallory @here"
        entries = ok(changed, f"/incidents/{incident['id']}/log_entries")["log_entries"]
        assert {e["service"]["summary"] for e in entries} == {"svc [x](https://ev.il)"}
        shifts = [
            o for o in ok(changed, "/oncalls", limit=100)["oncalls"] if o["user"]["id"] == user
        ]
        assert shifts and {o["user"]["summary"] for o in shifts} == {"Mallory @here"}
        assert build_account(7, NOW).service(service)["name"] == old  # the shared copy
        with pytest.raises(KeyError):
            changed.rename({incident["id"]: "not a named object"})


def test_one_change_event_by_id(sb: Sandbox) -> None:
    change = sb.account.change_events[-1]
    assert ok(sb, f"/change_events/{change['id']}") == {"change_event": change}
    error(get(sb, "/change_events/01NOSUCHCHANGE"), 404, 2100)


def test_the_same_seed_tells_the_same_story_whatever_the_clock() -> None:
    """Two clocks a day apart: the same incidents (numbers, ids, titles, causes, details,
    notes), each exactly a day later; dates written inside texts move with them."""
    early = build_account(7, NOW)
    late = build_account(7, NOW + timedelta(days=1))

    def moved(value: Any) -> str:
        """``value`` as JSON with every date one day later."""
        return re.sub(
            r"\d{4}-\d\d-\d\d",
            lambda m: (datetime.fromisoformat(m.group(0)) + timedelta(days=1)).date().isoformat(),
            json.dumps(value, sort_keys=True),
        )

    assert len(early.incidents) == len(late.incidents) > 2000
    for before, after in zip(early.incidents, late.incidents, strict=True):
        assert after["incident_number"] == before["incident_number"]
        assert after["id"] == before["id"]
        assert early.failure_mode_of(before["id"]) == late.failure_mode_of(after["id"])
        story = ("title", "service", "urgency", "priority", "incident_key", "status")
        assert json.dumps([after[k] for k in story], sort_keys=True) == moved(
            [before[k] for k in story]
        )
        assert parse(after["created_at"]) - parse(before["created_at"]) == timedelta(days=1)
        trigger = early.log_entries[before["id"]][0]["channel"]
        assert json.dumps(late.log_entries[after["id"]][0]["channel"], sort_keys=True) == moved(
            trigger
        )
        notes = [n["content"] for n in early.notes[before["id"]]]
        assert json.dumps([n["content"] for n in late.notes[after["id"]]], sort_keys=True) == moved(
            notes
        )
    assert len(early.change_events) == len(late.change_events)
    assert [c["summary"] for c in early.change_events] == [c["summary"] for c in late.change_events]


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
