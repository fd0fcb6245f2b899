"""PagerDutyClient over real HTTP against the sandbox (loopback only)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import tenacity

from pd_toolkit import PagerDutyClient
from pd_toolkit import client as client_module
from pd_toolkit.client import RequestEvent, _RateBudget, _retry_after_seconds
from pd_toolkit.errors import (
    PagerDutyAuthError,
    PagerDutyBadRequestError,
    PagerDutyConfigError,
    PagerDutyConnectionError,
    PagerDutyNotFoundError,
    PagerDutyPaginationLimitError,
    PagerDutyPlanError,
    PagerDutyRateLimitError,
    PagerDutyReadOnlyError,
    PagerDutyServerError,
)
from pd_toolkit.sandbox import Fault

pytestmark = pytest.mark.sandbox


def make_client(sb: Any, **kwargs: Any) -> PagerDutyClient:
    kwargs.setdefault("api_key", sb.api_key)
    return PagerDutyClient(base_url=sb.base_url, **kwargs)


def gets(sb: Any) -> list[Any]:
    return [record for record in sb.request_log if record.method == "GET"]


# -- configuration ---------------------------------------------------------------------------


def test_headers_carry_token_and_version() -> None:
    client = PagerDutyClient(api_key="k" * 20)
    prepared = client.session.prepare_request(requests.Request("GET", client.base_url + "/x"))
    assert prepared.headers["Authorization"] == "Token token=" + "k" * 20
    assert prepared.headers["Accept"] == "application/vnd.pagerduty+json;version=2"
    assert client.base_url == "https://api.pagerduty.com"


def test_eu_region_and_explicit_host() -> None:
    assert PagerDutyClient(api_key="k", region="EU").base_url == "https://api.eu.pagerduty.com"
    proxy = PagerDutyClient(api_key="k", base_url="http://proxy.local:8080/pd/")
    assert proxy.base_url == "http://proxy.local:8080/pd"


def test_from_env_reads_key_region_and_host() -> None:
    eu = PagerDutyClient.from_env({"PAGERDUTY_USER_API_KEY": "u" * 20, "PAGERDUTY_REGION": "eu"})
    assert eu.base_url == "https://api.eu.pagerduty.com"
    host = PagerDutyClient.from_env(
        {"PAGERDUTY_API_KEY": "a" * 20, "PAGERDUTY_API_HOST": "http://127.0.0.1:8080"}
    )
    assert host.base_url == "http://127.0.0.1:8080"
    with pytest.raises(PagerDutyConfigError, match="PAGERDUTY_API_KEY"):
        PagerDutyClient.from_env({})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"api_key": ""}, "empty"),
        ({"api_key": "   "}, "empty"),
        ({"api_key": "abc\ndef"}, "control characters"),
        ({"api_key": "k", "region": "mars"}, "Unknown PagerDuty region 'mars'"),
        ({"api_key": "k", "base_url": "api.pagerduty.com"}, "Malformed base_url"),
        ({"api_key": "k", "base_url": "ftp://x"}, "Malformed base_url"),
        ({"api_key": "k", "base_url": "http://h:99999"}, "bad port"),
    ],
)
def test_bad_configuration_is_a_clear_error(kwargs: dict, message: str) -> None:
    with pytest.raises(PagerDutyConfigError, match=message) as caught:
        PagerDutyClient(**kwargs)
    assert caught.value.hint


def test_absolute_urls_are_refused_so_the_key_cannot_leave_the_host() -> None:
    client = PagerDutyClient(api_key="k" * 20)
    with pytest.raises(PagerDutyConfigError, match="relative"):
        client.get("https://evil.example/incidents")


# -- the read-only guard -----------------------------------------------------------------------


def test_writes_are_refused_without_sending(fresh_sandbox: Any) -> None:
    client = make_client(fresh_sandbox)
    for method in (client.post, client.put, client.patch, client.delete):
        with pytest.raises(PagerDutyReadOnlyError, match="read-only"):
            method("/incidents", json={"incident": {}})
    assert fresh_sandbox.request_log == []
    assert client.request_count == 0


def note_client(sb: Any, **kwargs: Any) -> PagerDutyClient:
    """A client of the sandbox's write key that may post incident notes."""
    return make_client(sb, api_key=sb.write_api_key, allow_writes=["incident_note"], **kwargs)


def posts(sb: Any) -> list[Any]:
    return [record for record in sb.request_log if record.method != "GET"]


def test_a_default_client_refuses_the_note_post_without_sending(fresh_sandbox: Any) -> None:
    incident = fresh_sandbox.account.incidents[0]["id"]
    client = make_client(fresh_sandbox, api_key=fresh_sandbox.write_api_key)
    assert client.allowed_writes == frozenset()
    with pytest.raises(PagerDutyReadOnlyError, match="read-only"):
        client.post(f"/incidents/{incident}/notes", {"note": {"content": "x"}})
    assert fresh_sandbox.request_log == [] and client.request_count == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "/incidents/{id}/notes"),
        ("patch", "/incidents/{id}/notes"),
        ("delete", "/incidents/{id}/notes"),
        ("post", "/incidents/{id}/notes/extra"),
        ("post", "/incidents/{id}/notes/"),
        ("post", "/incidents/{id}/notes?x=1"),
        ("post", "/incidents"),
        ("post", "/incidents/{id}/status"),
        ("post", "/incidents/{id}/../{id}/notes"),
        ("post", "/incidents//notes"),
        ("post", "https://evil.example/incidents/{id}/notes"),
    ],
)
def test_a_notes_client_refuses_every_other_write_without_sending(
    fresh_sandbox: Any, method: str, path: str
) -> None:
    client = note_client(fresh_sandbox)
    incident = fresh_sandbox.account.incidents[0]["id"]
    with pytest.raises(PagerDutyReadOnlyError, match="Refused to send") as caught:
        getattr(client, method)(path.format(id=incident), {"note": {"content": "x"}})
    assert "POST /incidents/{id}/notes" in caught.value.hint
    assert fresh_sandbox.request_log == [] and client.request_count == 0


def test_a_notes_client_posts_a_note_and_counts_it(fresh_sandbox: Any) -> None:
    incident = fresh_sandbox.account.incidents[0]["id"]
    client = note_client(fresh_sandbox)
    answer = client.post(
        f"/incidents/{incident}/notes",
        {"note": {"content": "Rolled back."}},
        headers={"From": "alice.nguyen@example.com"},
    )
    assert answer["note"]["content"] == "Rolled back."
    [post] = posts(fresh_sandbox)
    assert (post.path, post.status) == (f"/incidents/{incident}/notes", 200)
    assert client.request_count == 1


def test_allow_writes_knows_only_the_allow_list() -> None:
    with pytest.raises(PagerDutyConfigError, match="Unknown writes in allow_writes"):
        PagerDutyClient(api_key="k" * 20, allow_writes=["incident_update"])  # type: ignore[list-item]


def test_with_writes_derives_a_writing_client_and_leaves_this_one_read_only(
    fresh_sandbox: Any,
) -> None:
    client = make_client(fresh_sandbox, api_key=fresh_sandbox.write_api_key, timeout=7.0)
    writer = client.with_writes("incident_note")
    assert writer.allowed_writes == {"incident_note"} and client.allowed_writes == frozenset()
    assert writer.rate_budget is client.rate_budget  # one per-minute budget for the key
    assert (writer.base_url, writer.timeout, writer.max_retries) == (
        client.base_url,
        client.timeout,
        client.max_retries,
    )
    assert "allow_writes=['incident_note']" in repr(writer)
    assert fresh_sandbox.write_api_key not in repr(writer)
    incident = fresh_sandbox.account.incidents[0]["id"]
    with pytest.raises(PagerDutyReadOnlyError):
        client.post(f"/incidents/{incident}/notes", {"note": {"content": "x"}})
    headers = {"From": "alice.nguyen@example.com"}
    writer.post(f"/incidents/{incident}/notes", {"note": {"content": "x"}}, headers=headers)
    assert [record.key_kind for record in fresh_sandbox.request_log] == ["writer"]


def test_a_429_on_the_note_post_is_waited_out_and_repeated(
    fresh_sandbox: Any, waits: list[float]
) -> None:
    """PagerDuty did nothing with a 429: the client repeats the post after Retry-After."""
    incident = fresh_sandbox.account.incidents[0]["id"]
    fresh_sandbox.inject(Fault(kind="status", status=429, retry_after=2, method="POST"))
    client = note_client(fresh_sandbox)
    headers = {"From": "alice.nguyen@example.com"}
    client.post(f"/incidents/{incident}/notes", {"note": {"content": "x"}}, headers=headers)
    assert [record.status for record in posts(fresh_sandbox)] == [429, 200]
    assert waits == [2.0] and client.request_count == 2


@pytest.mark.parametrize(
    ("fault", "error", "wording"),
    [
        (Fault(kind="status", status=503, method="POST"), PagerDutyServerError, "not repeated"),
        (Fault(kind="lost", method="POST"), PagerDutyConnectionError, "Could not reach"),
        (Fault(kind="not_json", method="POST"), PagerDutyConnectionError, "not JSON"),
    ],
)
def test_a_note_post_that_may_have_happened_is_not_repeated(
    fresh_sandbox: Any, waits: list[float], fault: Fault, error: type, wording: str
) -> None:
    """After a 5xx or a lost answer the note may exist: the caller looks before posting
    again, so the transport sends the post once (a GET would be retried 3 times)."""
    incident = fresh_sandbox.account.incidents[0]["id"]
    fresh_sandbox.inject(fault)
    client = note_client(fresh_sandbox)
    headers = {"From": "alice.nguyen@example.com"}
    with pytest.raises(error, match=wording):
        client.post(f"/incidents/{incident}/notes", {"note": {"content": "x"}}, headers=headers)
    assert client.request_count == 1 and waits == []  # one attempt, no wait for another


# -- retries -----------------------------------------------------------------------------------


def test_429_honours_retry_after(fresh_sandbox: Any, waits: list[float]) -> None:
    fresh_sandbox.inject(Fault(kind="status", status=429, retry_after=3, path="^/services$"))
    client = make_client(fresh_sandbox)
    body = client.get("/services")
    assert body["services"]
    assert client.request_count == 2
    first, second = gets(fresh_sandbox)
    assert first.status == 429 and second.status == 200
    assert waits == [3.0]


def test_retry_after_is_capped(fresh_sandbox: Any, waits: list[float]) -> None:
    fresh_sandbox.inject(Fault(kind="status", status=429, retry_after=120, path="^/teams$"))
    client = make_client(fresh_sandbox, max_retry_wait=7.5)
    client.get("/teams")
    assert waits == [7.5]


def test_a_5xx_backs_off_exponentially_with_jitter(fresh_sandbox: Any, waits: list[float]) -> None:
    fresh_sandbox.inject(Fault(kind="status", status=503, times=2, path="^/teams$"))
    client = make_client(fresh_sandbox)
    client.get("/teams")
    assert len(waits) == 2
    assert 0.5 <= waits[0] <= 1.0 and 1.0 <= waits[1] <= 1.5


def test_retry_after_header_parsing() -> None:
    response = requests.Response()
    response.headers["ratelimit-reset"] = "7"
    assert _retry_after_seconds(response) == 7.0
    response.headers["Retry-After"] = "2"
    assert _retry_after_seconds(response) == 2.0
    response.headers["Retry-After"] = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert _retry_after_seconds(response) == 0.0
    response.headers["Retry-After"] = "soon"
    assert _retry_after_seconds(response) == 7.0


def test_5xx_is_retried_then_succeeds(fresh_sandbox: Any) -> None:
    fresh_sandbox.inject(Fault(kind="status", status=503, path="^/teams$", times=2))
    client = make_client(fresh_sandbox)
    assert client.get("/teams")["teams"]
    assert [record.status for record in gets(fresh_sandbox)] == [503, 503, 200]


def test_retries_are_bounded_then_a_clear_error(fresh_sandbox: Any) -> None:
    fresh_sandbox.inject(Fault(kind="status", status=502, path="^/teams$", times=None))
    client = make_client(fresh_sandbox, max_retries=2)
    with pytest.raises(PagerDutyServerError, match="HTTP 502 and retries ran out"):
        client.get("/teams")
    assert client.request_count == 3


def test_429_storm_ends_in_rate_limit_error(fresh_sandbox: Any) -> None:
    fresh_sandbox.inject(Fault(kind="status", status=429, retry_after=0, times=None))
    client = make_client(fresh_sandbox, max_retries=1)
    with pytest.raises(PagerDutyRateLimitError) as caught:
        client.get("/teams")
    assert "narrow the query" in str(caught.value)
    assert client.request_count == 2


def test_401_is_explained_and_not_retried(fresh_sandbox: Any) -> None:
    client = make_client(fresh_sandbox, api_key="not-a-real-key-123456")
    with pytest.raises(PagerDutyAuthError) as caught:
        client.get("/incidents")
    message = str(caught.value)
    assert "not been revoked" in message and "REST API key" in message and "Events" in message
    assert client.request_count == 1


def test_401_with_an_events_key_says_so(fresh_sandbox: Any) -> None:
    client = make_client(fresh_sandbox, api_key="0123456789abcdef0123456789abcdef")
    with pytest.raises(PagerDutyAuthError, match="shape of an Events API integration key"):
        client.get("/incidents")


def test_404_and_400_and_402_map_to_their_errors(fresh_sandbox: Any) -> None:
    client = make_client(fresh_sandbox)
    with pytest.raises(PagerDutyNotFoundError, match="incidents/NOPE"):
        client.get("/incidents/NOPE")
    with pytest.raises(PagerDutyBadRequestError):
        client.get("/incidents", {"since": "not-a-date"})
    some_id = fresh_sandbox.account.incidents[0]["id"]
    with pytest.raises(PagerDutyPlanError, match="plan"):
        client.get(f"/incidents/{some_id}/past_incidents")
    assert client.request_count == 3


@pytest.mark.parametrize("kind", ["truncated", "not_json", "drop"])
def test_broken_bodies_and_dropped_connections_are_retried(fresh_sandbox: Any, kind: str) -> None:
    fresh_sandbox.inject(Fault(kind=kind, path="^/teams$"))
    client = make_client(fresh_sandbox)
    assert client.get("/teams")["teams"]
    assert client.request_count == 2


def test_persistent_non_json_is_a_clear_error(fresh_sandbox: Any) -> None:
    fresh_sandbox.inject(Fault(kind="not_json", times=None))
    client = make_client(fresh_sandbox, max_retries=1)
    with pytest.raises(PagerDutyConnectionError, match="not JSON"):
        client.get("/teams")


def test_slow_response_times_out_clearly(fresh_sandbox: Any) -> None:
    fresh_sandbox.inject(Fault(kind="slow", delay=2.0, times=None))
    client = make_client(fresh_sandbox, timeout=(1.0, 0.5), max_retries=1)
    with pytest.raises(
        PagerDutyConnectionError,
        match=r"did not answer GET teams within 0.5 s \(after 2 attempts\)",
    ):
        client.get("/teams")
    assert client.request_count == 2


# -- pagination --------------------------------------------------------------------------------


def test_iter_all_follows_more_across_pages(fresh_sandbox: Any) -> None:
    client = make_client(fresh_sandbox)
    params = {"date_range": "all"}
    everything = list(client.iter_all("/incidents", params))
    assert len(everything) == len(fresh_sandbox.account.incidents)
    assert len({item["id"] for item in everything}) == len(everything)
    assert client.request_count == -(-len(everything) // 100)
    limits = [record.query["limit"] for record in gets(fresh_sandbox)]
    assert set(map(tuple, limits)) == {("100",)}


def test_iter_all_stops_at_max_items_and_asks_only_for_what_it_needs(fresh_sandbox: Any) -> None:
    client = make_client(fresh_sandbox)
    items = list(client.iter_all("/incidents", {"date_range": "all"}, max_items=150))
    assert len(items) == 150
    assert [record.query["limit"] for record in gets(fresh_sandbox)] == [["100"], ["50"]]


class EndlessClient(PagerDutyClient):
    """A client whose every page says there is more, to prove the offset cap holds."""

    def __init__(self) -> None:
        super().__init__(api_key="k" * 20)
        self.offsets: list[int] = []

    def get(self, path: str, params: Any = None) -> dict:
        self.offsets.append(params["offset"] + params["limit"])
        first = params["offset"]
        return {
            "incidents": [{"id": f"P{first + i}"} for i in range(params["limit"])],
            "more": True,
        }


def test_iter_all_never_asks_past_offset_10000() -> None:
    client = EndlessClient()
    with pytest.raises(PagerDutyPaginationLimitError, match="narrow the time window"):
        for _ in client.iter_all("/incidents"):
            pass
    assert max(client.offsets) == 10_000
    assert len(client.offsets) == 100


class RepeatingClient(PagerDutyClient):
    """A server like PagerDuty's documented examples: the same one item, always with more."""

    def __init__(self) -> None:
        super().__init__(api_key="k" * 20)
        self.pages = 0

    def get(self, path: str, params: Any = None) -> dict:
        self.pages += 1
        return {"incidents": [{"id": "PT4KHLK", "title": "example"}], "more": True}


def test_iter_all_stops_when_a_page_brings_nothing_new(caplog: pytest.LogCaptureFixture) -> None:
    client = RepeatingClient()
    with caplog.at_level("WARNING", logger="pd_toolkit.client"):
        items = list(client.iter_all("/incidents"))
    assert items == [{"id": "PT4KHLK", "title": "example"}]
    assert client.pages == 2
    assert "repeated earlier items" in caplog.text


# -- secrets and logging -----------------------------------------------------------------------


def test_key_never_in_repr_logs_or_errors(
    fresh_sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[RequestEvent] = []
    client = make_client(fresh_sandbox, on_request=events.append)
    key = fresh_sandbox.api_key
    assert key not in repr(client) and key not in str(client)
    with caplog.at_level(logging.DEBUG):
        client.get("/teams")
        with pytest.raises(PagerDutyNotFoundError) as caught:
            client.get("/teams/NOPE")
    assert key not in caplog.text
    assert "GET /teams" in caplog.text
    assert key not in str(caught.value) and key not in repr(caught.value)
    assert [(event.path, event.status, event.attempt) for event in events] == [
        ("/teams", 200, 1),
        ("/teams/NOPE", 404, 1),
    ]
    assert all(key not in event.model_dump_json() for event in events)


# -- rate budget -------------------------------------------------------------------------------


def test_rate_budget_keeps_any_minute_under_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = {"now": 1000.0}
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            clock["now"] += seconds

    monkeypatch.setattr(client_module.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(client_module.time, "sleep", sleep)
    budget = _RateBudget(per_minute=3)
    stamps: list[float] = []

    def take() -> None:
        budget.acquire()
        with lock:
            stamps.append(clock["now"])

    threads = [threading.Thread(target=take) for _ in range(7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    stamps.sort()
    assert len(stamps) == 7
    assert all(later - earlier >= 60 for earlier, later in zip(stamps, stamps[3:], strict=False))


# -- "Test Connection" -------------------------------------------------------------------------


def test_verify_with_account_key(sandbox: Any) -> None:
    check = make_client(sandbox).verify()
    assert check.ok and check.key_kind == "account" and check.user is None
    assert check.read_access == dict.fromkeys(("incidents", "services", "schedules", "users"), True)
    assert check.abilities


def test_verify_with_user_key(sandbox: Any) -> None:
    check = make_client(sandbox, api_key=sandbox.user_api_key).verify()
    assert check.ok and check.key_kind == "user"
    assert check.user and "@" in check.user


def test_verify_reports_areas_the_key_cannot_read(sandbox: Any) -> None:
    check = make_client(sandbox, api_key=sandbox.restricted_api_key).verify()
    assert check.ok
    assert check.read_access["schedules"] is False
    assert any(hint.startswith("schedules:") and "read access" in hint for hint in check.hints)


def test_verify_with_bad_key_is_not_ok_and_says_why(sandbox: Any) -> None:
    check = make_client(sandbox, api_key="revoked-key-000000000").verify()
    assert not check.ok and check.key_kind == "unknown"
    assert "REST API key" in check.hints[0]


def test_cli_check_against_the_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    from pd_toolkit.cli import main

    assert main(["check", "--sandbox"]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "General Access" in out and "read incidents" in out


def test_cli_check_without_a_key_exits_non_zero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pd_toolkit.cli import main

    monkeypatch.delenv("PAGERDUTY_API_KEY", raising=False)
    monkeypatch.delenv("PAGERDUTY_USER_API_KEY", raising=False)
    assert main(["check"]) == 2
    assert "PAGERDUTY_API_KEY" in capsys.readouterr().out


def test_count_requests_counts_only_this_context(fresh_sandbox: Any) -> None:
    client = make_client(fresh_sandbox)
    fresh_sandbox.inject(Fault(kind="status", status=503, path="^/teams$"))
    counted: dict[str, int] = {}

    def work(name: str, path: str, times: int) -> None:
        with client.count_requests() as tally:
            for _ in range(times):
                client.get(path)
        counted[name] = tally.count

    threads = [
        threading.Thread(target=work, args=("teams", "/teams", 2)),
        threading.Thread(target=work, args=("users", "/users", 3)),
    ]
    with client.count_requests() as outer:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        client.get("/abilities")
    assert counted == {"teams": 3, "users": 3}  # the 503 retry counts for teams
    assert outer.count == 1
    assert client.request_count == 7


def test_map_concurrently_overlaps_counts_and_keeps_order(fresh_sandbox: Any) -> None:
    fresh_sandbox.latency = 0.2
    client = make_client(fresh_sandbox, max_concurrency=3)
    paths = ["/teams", "/users", "/teams/NOPE"]
    with client.count_requests() as tally:
        futures = client.map_concurrently(client.get, paths)
    assert "teams" in futures[0].result() and "users" in futures[1].result()
    with pytest.raises(PagerDutyNotFoundError):
        futures[2].result()
    assert tally.count == 3
    records = gets(fresh_sandbox)
    assert max(r.started for r in records) < min(r.finished for r in records)  # all in flight


def test_map_concurrently_with_one_runs_one_after_another(fresh_sandbox: Any) -> None:
    client = make_client(fresh_sandbox, max_concurrency=1)
    futures = client.map_concurrently(client.get, ["/teams", "/users"])
    assert all(future.done() for future in futures)
    first, second = gets(fresh_sandbox)
    assert first.finished <= second.started
    with pytest.raises(PagerDutyConfigError, match="max_concurrency"):
        make_client(fresh_sandbox, max_concurrency=0)


def test_retry_deadline_bounds_a_call_whatever_max_retries_says(
    fresh_sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a clock that moves only by the waits: no retry is started whose wait would end past
    the deadline, so 0.4 s waits within a 1 s deadline allow exactly three attempts."""
    clock = {"now": 0.0}

    def sleep(seconds: float) -> None:
        clock["now"] += seconds

    monkeypatch.setattr(tenacity, "time", SimpleNamespace(monotonic=lambda: clock["now"]))
    monkeypatch.setattr(tenacity.nap, "time", SimpleNamespace(sleep=sleep))
    fresh_sandbox.inject(Fault(kind="status", status=429, retry_after=0.4, times=None))
    client = make_client(fresh_sandbox, max_retries=50, retry_deadline=1.0)
    with pytest.raises(PagerDutyRateLimitError):
        client.get("/teams")
    assert client.request_count == 3
    assert clock["now"] == pytest.approx(0.8)


def test_version_comes_from_the_installed_metadata_and_types_ship() -> None:
    from importlib.metadata import version

    import pd_toolkit

    assert pd_toolkit.__version__ == version("pd_toolkit")
    client = PagerDutyClient(api_key="k" * 20)
    assert client.session.headers["User-Agent"] == f"pd_toolkit/{version('pd_toolkit')}"
    assert (Path(pd_toolkit.__file__).parent / "py.typed").is_file()
