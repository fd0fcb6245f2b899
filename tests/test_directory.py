"""The directory: names and incident references -> objects; tolerant matching, precise errors,
a TTL cache."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pd_toolkit.api import PagerDutyAPI, SharedReads
from pd_toolkit.directory import Directory, match_name, parse_incident_ref
from pd_toolkit.errors import IncidentRefError, NameMatchError, PagerDutyNotFoundError

TEAMS = [
    {"id": "PTEAM01", "name": "Payments"},
    {"id": "PTEAM02", "name": "Platform Infrastructure"},
    {"id": "PTEAM03", "name": "Search"},
    {"id": "PTEAM04", "name": "Mobile Apps"},
]
SERVICES = [
    {"id": "PSVC001", "name": "checkout"},
    {"id": "PSVC002", "name": "checkout-worker"},
    {"id": "PSVC003", "name": "payments-api"},
    {"id": "PSVC004", "name": "payments-ledger"},
    {"id": "PSVC005", "name": "Search Indexer"},
]

USERS = [
    {"id": "PUSR001", "name": "Ann Lee", "email": "ann@example.com"},
    {"id": "PUSR002", "name": "Bob Stone", "email": "bob@example.com"},
]


class FakeClient:
    """Just enough of PagerDutyClient: listings, GET /incidents/{x}, a request counter."""

    def __init__(self) -> None:
        self.request_count = 0
        self.lists = {"/teams": TEAMS, "/services": SERVICES, "/users": USERS}

    def iter_all(
        self, path: str, params: Mapping[str, Any] | None = None, max_items: int | None = None
    ) -> Iterator[dict[str, Any]]:
        self.request_count += 1
        yield from self.lists[path]

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        self.request_count += 1
        if path == "/incidents/1234":
            return {"incident": {"id": "Q0INCIDENT0001", "incident_number": 1234}}
        raise PagerDutyNotFoundError("No such PagerDuty resource")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        ("team", "payments", "PTEAM01"),
        ("team", "PAYMENTS", "PTEAM01"),
        ("team", "payments team", "PTEAM01"),
        ("team", "the Payments Team", "PTEAM01"),
        ("team", "platform", "PTEAM02"),
        ("team", "mobile", "PTEAM04"),
        ("service", "checkout", "PSVC001"),
        ("service", "Checkout service", "PSVC001"),
        ("service", "payments api", "PSVC003"),
        ("service", "payments_ledger", "PSVC004"),
        ("service", "search", "PSVC005"),
    ],
)
def test_tolerant_matching(kind: str, name: str, expected: str) -> None:
    candidates = TEAMS if kind == "team" else SERVICES
    assert match_name(name, candidates, kind)["id"] == expected  # type: ignore[arg-type]


def test_ambiguous_name_lists_the_candidates() -> None:
    with pytest.raises(NameMatchError) as caught:
        match_name("payments", SERVICES, "service")
    text = str(caught.value)
    assert "matches 2 service names" in text
    assert '"payments-api" (PSVC003)' in text and '"payments-ledger" (PSVC004)' in text
    assert "exact service name or its id" in text


def test_unknown_name_lists_the_closest_real_names() -> None:
    with pytest.raises(NameMatchError) as caught:
        match_name("paymnets", TEAMS, "team")
    text = str(caught.value)
    assert "No team named 'paymnets'" in text
    assert '"Payments" (PTEAM01)' in text
    assert isinstance(caught.value, PagerDutyNotFoundError)


def test_unknown_name_without_close_matches_lists_known_names() -> None:
    with pytest.raises(NameMatchError, match=r"known: .*Mobile Apps"):
        match_name("zzzz", TEAMS, "team")


def test_listing_is_cached_for_the_ttl() -> None:
    client, clock = FakeClient(), Clock()
    directory = Directory(client, ttl=300, clock=clock)  # type: ignore[arg-type]
    assert directory.find("team", "payments")["id"] == "PTEAM01"
    assert directory.find("team", "search")["name"] == "Search"
    assert client.request_count == 1
    clock.now = 299
    directory.find("team", "platform")
    assert client.request_count == 1
    clock.now = 301
    directory.find("team", "platform")
    assert client.request_count == 2


def test_ids_pass_through_without_requests() -> None:
    client = FakeClient()
    directory = Directory(client)  # type: ignore[arg-type]
    assert directory.find("service", "PABC123")["id"] == "PABC123"
    assert client.request_count == 0
    directory.listing("service")
    assert directory.find("service", "PSVC001")["name"] == "checkout"  # a cached id gains its name
    assert client.request_count == 1


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("12345", "12345"),
        ("#12345", "12345"),
        (" # 42 ", "42"),
        (12345, "12345"),
        ("incident #7", "7"),
        ("Q2K0YS1M3L1J3B", "Q2K0YS1M3L1J3B"),
        ("q2k0ys1m3l1j3b", "Q2K0YS1M3L1J3B"),
        ("PT4KHLK", "PT4KHLK"),
        ("https://acme.pagerduty.com/incidents/Q2K0YS1M3L1J3B", "Q2K0YS1M3L1J3B"),
        ("https://acme.eu.pagerduty.com/incidents/Q2K0YS1M3L1J3B/timeline?x=1", "Q2K0YS1M3L1J3B"),
    ],
)
def test_incident_refs(ref: str | int, expected: str) -> None:
    assert parse_incident_ref(ref) == expected


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("#abc", "'#abc' is not an incident number: after '#' give digits only"),
        ("#", "after '#' give digits"),
        ("#0", "after '#' give digits"),
        ("abc", "'abc' is not an incident number, id or URL"),
        ("", "is not an incident number, id or URL"),
        ("https://example.com/incidents/Q1", "is not a PagerDuty incident URL"),
        ("-5", "is not an incident number"),
    ],
)
def test_bad_incident_refs_are_precise(ref: str, message: str) -> None:
    with pytest.raises(IncidentRefError, match=message) as caught:
        parse_incident_ref(ref)
    assert "#12345" in str(caught.value)  # the hint shows the accepted forms


def test_incident_lookup_and_not_found() -> None:
    client = FakeClient()
    api = PagerDutyAPI(client)  # type: ignore[arg-type]
    assert api.incident("#1234").id == "Q0INCIDENT0001"
    assert api.incident_id("Q0INCIDENT0001") == ("Q0INCIDENT0001", None)
    assert client.request_count == 1
    with pytest.raises(PagerDutyNotFoundError, match="No incident #999 in this PagerDuty"):
        api.incident("999")


def test_every_kind_is_found_by_name() -> None:
    directory = Directory(FakeClient())  # type: ignore[arg-type]
    assert directory.find("user", "ann")["email"] == "ann@example.com"
    assert directory.find("team", "Search")["id"] == "PTEAM03"
    assert directory.find("service", "checkout worker")["id"] == "PSVC002"


def test_incident_is_fetched_once_within_its_ttl_and_again_after() -> None:
    clock = {"now": 0.0}
    body = {"incident": {"id": "Q1ABCDEFGHIJKL", "incident_number": 42, "title": "t"}}

    class CountingClient:
        calls = 0

        def get(self, path: str, params: Any = None) -> dict[str, Any]:
            CountingClient.calls += 1
            return body

    api = PagerDutyAPI(CountingClient(), incident_cache_ttl=30)  # type: ignore[arg-type]
    api.shared.clock = lambda: clock["now"]
    assert api.incident("#42").id == "Q1ABCDEFGHIJKL"
    assert api.incident("Q1ABCDEFGHIJKL").incident_number == 42
    assert CountingClient.calls == 1
    clock["now"] = 31.0
    api.incident(42)
    assert CountingClient.calls == 2


class SlowClient:
    """Every GET takes 0.3 s (so a second caller arrives while it is in flight), then answers,
    or fails when ``ok`` is False."""

    def __init__(self, ok: bool) -> None:
        self.ok = ok
        self.gets = 0

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        self.gets += 1
        time.sleep(0.3)
        if not self.ok:
            raise PagerDutyNotFoundError("gone")
        return {"path": path}


@pytest.mark.parametrize("ok", [True, False])
def test_shared_get_sends_one_request_for_concurrent_callers(ok: bool) -> None:
    """Two lookups asking the same thing at once share one GET, its answer or its error
    (neither waits forever when it fails), and a failure is not kept."""
    client = SlowClient(ok)
    shared = SharedReads(client)  # type: ignore[arg-type]
    params = {"statuses[]": ["triggered", "acknowledged"], "limit": 100}
    same = {"limit": 100, "statuses[]": ["acknowledged", "triggered"]}  # other order

    def call(p: dict[str, Any]) -> object:
        try:
            return shared.get("/incidents", p)
        except PagerDutyNotFoundError as exc:
            return exc

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(call, params)
        time.sleep(0.1)
        second = pool.submit(call, same)
        results = [first.result(timeout=10), second.result(timeout=10)]
    assert client.gets == 1
    if ok:
        assert results == [{"path": "/incidents"}] * 2
    else:
        assert all(isinstance(r, PagerDutyNotFoundError) for r in results)
        assert isinstance(call(params), PagerDutyNotFoundError) and client.gets == 2
