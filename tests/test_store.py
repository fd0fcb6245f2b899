"""The persistent incident store and its sync, against the sandbox (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import FIXED_NOW, ROOT
from sqlalchemy import text

from agents.investigate import build_graph
from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.api import PagerDutyAPI
from pd_toolkit.errors import PagerDutyServerError
from pd_toolkit.history import IncidentRecord, find_similar_incidents, prefetch_resolutions
from pd_toolkit.sandbox import Fault, Sandbox
from pd_toolkit.store import (
    SCHEMA_VERSION,
    IncidentStore,
    open_store,
    store_url,
    sync_incidents,
)
from pd_toolkit.store.db import epoch, from_epoch
from pd_toolkit.timewindow import iso_utc

pytestmark = pytest.mark.sandbox

DAYS = 30


def client_for(sb: Sandbox, key: str | None = None, **kwargs: object) -> PagerDutyClient:
    return PagerDutyClient(
        api_key=key or sb.api_key,
        base_url=sb.base_url,
        rate_limit_per_minute=None,
        **kwargs,  # type: ignore[arg-type]
    )


def parse_time(incident: dict[str, object]) -> datetime:
    """A sandbox incident's creation time."""
    return from_epoch(epoch(str(incident["created_at"])))


def created_between(sb: Sandbox, since_days: int, until: object = None) -> set[str]:
    """Ids of the sandbox incidents created in the last ``since_days`` days (ground truth)."""
    now = sb.now
    lo = epoch(now - timedelta(days=since_days))
    return {i["id"] for i in sb.account.incidents if lo <= epoch(i["created_at"]) < epoch(now)}


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, isolated_store: Path) -> Iterator[IncidentStore]:
    """An empty store on each backend (PostgreSQL: a fresh database on a throwaway server)."""
    if request.param == "sqlite":
        opened = open_store(str(isolated_store))
    else:
        opened = open_store(request.getfixturevalue("postgresql_db_url"))
    yield opened
    opened.close()


def test_store_spec_resolution(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    assert store_url(None, env) == f"sqlite:///{tmp_path}/pd_toolkit/store.db"
    assert store_url(None, {"PD_TOOLKIT_STORE": "memory"}) == "sqlite://"
    assert store_url("postgresql+psycopg://u@h/db", env) == "postgresql+psycopg://u@h/db"
    assert store_url(str(tmp_path / "x.db"), env) == f"sqlite:///{tmp_path}/x.db"
    memory = open_store("memory")
    assert open_store(memory) is memory  # a store is used as it is
    assert open_store("memory") is not memory  # a spec opens a store its caller owns


def test_sync_then_incremental_sync(store: IncidentStore) -> None:
    with Sandbox(now=FIXED_NOW) as sb:
        client = client_for(sb)
        partition = store.partition(client)
        first = sync_incidents(client, store, since=sb.now - timedelta(days=DAYS), until=sb.now)
        stored = store.incidents(partition)
        assert {i["id"] for i in stored} == created_between(sb, DAYS)
        assert first.stored.added == len(stored) and first.requests == len(sb.request_log)
        trigger = next(i for i in stored if i.get("first_trigger_log_entry"))
        assert trigger["first_trigger_log_entry"]["channel"]["summary"]
        assert IncidentRecord.from_api(trigger).id == trigger["id"]
        assert "assignments" not in trigger and "alert_counts" not in trigger  # kept compact

        # An hour later: one new incident, and one of the open ones resolved.
        open_before = {i["id"] for i in stored if i["status"] != "resolved"}
        sb.advance(timedelta(hours=1))
        new = sb.trigger_incident(
            "checkout", "checkout_deploy_npe", at=sb.now - timedelta(minutes=1)
        )
        resolved = sb.resolve_incident(sorted(open_before)[0])
        before = len(sb.request_log)
        delta = sync_incidents(client, store, since=sb.now - timedelta(days=DAYS), until=sb.now)
        assert delta.requests == len(sb.request_log) - before == 1
        listing = sb.request_log[-1]
        assert listing.path == "/incidents"
        assert listing.query["include[]"] == ["first_trigger_log_entries"]
        by_id = {i["id"]: i for i in store.incidents(partition)}
        assert by_id[new["id"]]["status"] == "triggered"
        assert by_id[resolved["id"]]["status"] == "resolved"
        assert delta.stored.added == 1 and delta.stored.updated >= 1

        # Nothing new at the same moment: no request at all.
        again = sync_incidents(client, store, since=sb.now - timedelta(days=DAYS), until=sb.now)
        assert again.requests == 0 and again.up_to_date


def test_old_open_incidents_are_refreshed_apart(store: IncidentStore) -> None:
    """An incident open for longer than the delta listing reaches back is refreshed by the
    open-set listing plus one GET, once it leaves the open set."""
    with Sandbox(now=FIXED_NOW) as sb:
        client = client_for(sb)
        partition = store.partition(client)
        sync_incidents(client, store, since=sb.now - timedelta(days=DAYS), until=sb.now)
        old_open = sorted(
            i["id"] for i in store.incidents(partition, statuses=("triggered", "acknowledged"))
        )
        sb.advance(timedelta(days=3))  # they stay open; now older than the delta reaches
        sync_incidents(client, store, since=sb.now - timedelta(days=DAYS), until=sb.now)
        sb.advance(timedelta(hours=1))
        sb.resolve_incident(old_open[0])
        before = len(sb.request_log)
        report = sync_incidents(client, store, since=sb.now - timedelta(days=DAYS), until=sb.now)
        paths = [r.path for r in sb.request_log[before:]]
        assert paths.count(f"/incidents/{old_open[0]}") == 1
        assert report.refreshed_open >= 1
        found = store.incidents(partition, statuses=("resolved",))
        assert old_open[0] in {i["id"] for i in found}


def test_keys_and_hosts_never_share_a_partition(isolated_store: Path) -> None:
    store = open_store(str(isolated_store))
    with Sandbox(now=FIXED_NOW) as sb, Sandbox(now=FIXED_NOW) as other:
        account, user = client_for(sb), client_for(sb, sb.user_api_key)
        elsewhere = client_for(other)  # same key, another host
        partitions = {store.partition(c) for c in (account, user, elsewhere)}
        assert len(partitions) == 3
        assert store.partition(client_for(sb)) == store.partition(account)  # stable per key
        search = {"text": "checkout 5xx", "window_days": DAYS, "now": sb.now}
        find_similar_incidents(PagerDutyAPI(account, store=store), **search)
        assert store.incidents(store.partition(account))
        assert store.incidents(store.partition(user)) == []
        before = len(sb.request_log)
        result = find_similar_incidents(PagerDutyAPI(user, store=store), **search)
        user_requests = sb.request_log[before:]
        assert {r.key_kind for r in user_requests} == {"user"}
        assert any(r.path == "/incidents" for r in user_requests)  # its own fetch, not a reuse
        assert not result.from_cache
    raw = b"".join(p.read_bytes() for p in isolated_store.parent.glob(isolated_store.name + "*"))
    for key in (Sandbox.api_key, Sandbox.user_api_key):
        assert key.encode() not in raw


def test_a_store_of_another_schema_version_is_rebuilt_not_misread(isolated_store: Path) -> None:
    url = f"sqlite:///{isolated_store}"
    with Sandbox(now=FIXED_NOW) as sb:
        client = client_for(sb)
        first = IncidentStore(url)
        sync_incidents(client, first, since=sb.now - timedelta(days=3), until=sb.now)
        assert first.incidents(first.partition(client))
        first.close()
        for version in ("0", str(SCHEMA_VERSION + 1)):
            older = IncidentStore(url)
            with older.engine.begin() as conn:
                conn.execute(
                    text("UPDATE pdtk_meta SET value = :v WHERE name = 'schema_version'"),
                    {"v": version},
                )
                conn.execute(text("UPDATE pdtk_incidents SET data = 'not json'"))
            older.close()
            reopened = IncidentStore(url)
            assert reopened.schema_version() == SCHEMA_VERSION
            assert reopened.incidents(reopened.partition(client)) == []
            report = sync_incidents(
                client, reopened, since=sb.now - timedelta(days=3), until=sb.now
            )
            assert report.stored.added == len(reopened.incidents(reopened.partition(client))) > 0
            reopened.close()


def test_two_concurrent_syncs_with_separate_engines(store: IncidentStore) -> None:
    with Sandbox(now=FIXED_NOW) as sb:
        errors: list[BaseException] = []

        def sync() -> None:
            own = IncidentStore(store.location if store.path is None else f"sqlite:///{store.path}")
            try:
                sync_incidents(
                    client_for(sb),
                    own,
                    since=sb.now - timedelta(days=DAYS),
                    until=sb.now,
                    offset_cap=300,  # many small slices, so the two interleave
                )
            except BaseException as exc:
                errors.append(exc)
            finally:
                own.close()

        threads = [threading.Thread(target=sync) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        partition = store.partition(client_for(sb))
        ids = [i["id"] for i in store.incidents(partition)]
        assert len(ids) == len(set(ids)) and set(ids) == created_between(sb, DAYS)
        assert len(store.coverage(partition, "all")) == 1


SYNC_SCRIPT = """
import sys
from datetime import datetime, timedelta
from pd_toolkit import PagerDutyClient
from pd_toolkit.store import open_store, sync_incidents
base_url, key, now = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])
client = PagerDutyClient(api_key=key, base_url=base_url, rate_limit_per_minute=None)
report = sync_incidents(client, open_store(), since=now - timedelta(days=30), until=now,
                        offset_cap=300)
print(report.fetched)
"""


def test_two_processes_syncing_one_file(isolated_store: Path) -> None:
    with Sandbox(now=FIXED_NOW) as sb:
        env = {"PD_TOOLKIT_STORE": str(isolated_store), "PATH": "/usr/bin:/bin"}
        args = [sys.executable, "-c", SYNC_SCRIPT, sb.base_url, sb.api_key, sb.now.isoformat()]
        procs = [
            subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=300)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outputs
        store = open_store(str(isolated_store))
        ids = [i["id"] for i in store.incidents(store.partition(client_for(sb)))]
        assert len(ids) == len(set(ids)) and set(ids) == created_between(sb, DAYS)


def test_a_killed_sync_leaves_a_consistent_store_and_the_next_completes_it(
    store: IncidentStore,
) -> None:
    with Sandbox(now=FIXED_NOW) as sb:
        listings = 0

        def fail_after_three_slices(event: object) -> None:
            nonlocal listings
            if getattr(event, "path", "") == "/incidents":
                listings += 1
                if listings == 3:  # from now on every listing fails: the sync dies midway
                    sb.inject(Fault("status", path=r"^/incidents$", status=500, times=None))

        client = client_for(
            sb, max_retries=0, max_concurrency=1, on_request=fail_after_three_slices
        )
        partition = store.partition(client)
        since = sb.now - timedelta(days=DAYS)
        with pytest.raises(PagerDutyServerError):
            sync_incidents(client, store, since=since, until=sb.now, offset_cap=300)
        covered = store.coverage(partition, "all")
        stored = {i["id"] for i in store.incidents(partition)}
        assert covered and stored and stored < created_between(sb, DAYS)
        for lo, hi in covered:  # every interval marked synced holds all its incidents
            truth = {
                i["id"]
                for i in sb.account.incidents
                if epoch(lo) <= epoch(i["created_at"]) < epoch(hi)
            }
            assert truth <= stored
        sb.clear_faults()
        before = len(sb.request_log)
        report = sync_incidents(client, store, since=since, until=sb.now, offset_cap=300)
        assert {i["id"] for i in store.incidents(partition)} == created_between(sb, DAYS)
        full = sync_incidents(
            client_for(sb), IncidentStore.memory(), since=since, until=sb.now, offset_cap=300
        )
        assert 0 < report.requests == len(sb.request_log) - before - full.requests
        assert report.requests < full.requests  # only what the killed sync had not stored


def test_a_second_toolkit_on_the_same_store_sends_only_the_delta(
    store: IncidentStore,
) -> None:
    with Sandbox(now=FIXED_NOW) as sb:
        args = {"incident": "#3088", "window_days": 90}

        def search(now_offset: timedelta) -> list[str]:
            toolkit = PagerDutyToolkit(
                client=client_for(sb), store=store, now=lambda: FIXED_NOW + now_offset
            )
            tool = next(
                t for t in toolkit.get_tools() if t.name == "pagerduty_find_similar_incidents"
            )
            before = len(sb.request_log)
            tool.invoke(args)
            return [r.path for r in sb.request_log[before:]]

        cold = search(timedelta(0))
        assert cold.count("/incidents") >= 2 and "/incidents/3088" in cold
        assert any(p.endswith("/past_incidents") for p in cold)
        assert any(p.endswith("/notes") for p in cold)
        warm = search(timedelta(0))
        assert warm == ["/incidents/3088"]  # the incident itself; history, 402, fixes: stored
        sb.advance(timedelta(hours=1))
        later = search(timedelta(hours=1))
        assert sorted(later) == ["/incidents", "/incidents/3088"]  # + the hour's delta


def test_investigation_on_a_warm_store_sends_at_most_eight_requests(isolated_store: Path) -> None:
    with Sandbox(now=FIXED_NOW) as sb:

        def investigate() -> int:
            client = client_for(sb)
            state = build_graph(client, now=sb.now, store=str(isolated_store)).invoke(
                {"incident": "#3088"}
            )
            assert state["lookups"]["similar_history"]["ok"]
            return client.request_count

        cold = investigate()
        warm = investigate()
        sb.advance(timedelta(hours=1))
        later = investigate()
        assert cold <= 17 and warm <= 8 and later <= 9  # later: + the hour's delta
        assert warm < cold


def test_store_rows_are_json_in_api_shape(store: IncidentStore) -> None:
    with Sandbox(now=FIXED_NOW) as sb:
        client = client_for(sb)
        sync_incidents(client, store, since=sb.now - timedelta(days=2), until=sb.now)
        for incident in store.incidents(client and store.partition(client)):
            assert json.loads(json.dumps(incident)) == incident
            assert {"id", "incident_number", "title", "status", "service", "teams"} <= set(incident)


def test_two_toolkits_on_two_stores_do_not_see_each_other() -> None:
    """Stores and histories belong to the toolkit (its API object) that opened them: two
    toolkits in one process, each on a store of its own, share nothing by accident, even when
    both ask for "memory"."""
    with Sandbox(now=FIXED_NOW) as sb:
        client = client_for(sb)
        args = {"text": "checkout 5xx", "window_days": DAYS}
        with (
            PagerDutyToolkit(client=client, store="memory", now=lambda: FIXED_NOW) as first,
            PagerDutyToolkit(client=client, store="memory", now=lambda: FIXED_NOW) as second,
        ):
            tools = [
                next(t for t in kit.get_tools() if t.name == "pagerduty_find_similar_incidents")
                for kit in (first, second)
            ]
            tools[0].invoke(args)
            assert first.api.store is not second.api.store
            assert first.api.store.incidents(first.api.partition())
            assert second.api.store.incidents(second.api.partition()) == []
            before = len(sb.request_log)
            tools[1].invoke(args)
            assert any(r.path == "/incidents" for r in sb.request_log[before:])  # its own fetch


def test_a_delta_sync_rereads_the_last_minutes_of_the_previous_one(store: IncidentStore) -> None:
    """An incident PagerDuty lists only after a sync, though created minutes before that
    sync's end, is found by the next delta sync: it starts ``OVERLAP`` (5 min) before the
    previous end. Every incident is resolved first, so no open one pulls the listing back."""
    with Sandbox(now=FIXED_NOW) as sb:
        for open_one in [i["id"] for i in sb.account.incidents if i["status"] != "resolved"]:
            sb.resolve_incident(open_one)
        client = client_for(sb)
        partition = store.partition(client)
        since = sb.now - timedelta(days=DAYS)
        sync_incidents(client, store, since=since, until=sb.now)
        late = sb.trigger_incident(
            "checkout", "checkout_deploy_npe", at=sb.now - timedelta(minutes=3)
        )
        synced_until = sb.now
        sb.advance(timedelta(hours=1))
        before = len(sb.request_log)
        sync_incidents(client, store, since=sb.now - timedelta(days=DAYS), until=sb.now)
        (listing,) = sb.request_log[before:]
        assert listing.query["since"] == [iso_utc(synced_until - timedelta(minutes=5))]
        assert late["id"] in {i["id"] for i in store.incidents(partition)}


@pytest.mark.parametrize("failing_step", ["incidents", "coverage"])
def test_a_slice_and_its_coverage_are_written_in_one_transaction(
    store: IncidentStore, monkeypatch: pytest.MonkeyPatch, failing_step: str
) -> None:
    """A slice whose write fails after its incidents (or before its coverage) leaves neither:
    no interval marked synced without its incidents, no incidents the sync would fetch again."""
    partition = "p" * 16
    incidents = [
        {"id": f"Q{n}", "created_at": f"2026-11-1{n}T00:00:00Z", "status": "resolved"}
        for n in range(3)
    ]
    if failing_step == "incidents":
        upsert = IncidentStore._upsert

        def upsert_then_fail(self: IncidentStore, *args: object) -> object:
            upsert(self, *args)  # type: ignore[arg-type]
            raise RuntimeError("the connection dropped")

        monkeypatch.setattr(IncidentStore, "_upsert", upsert_then_fail)
    else:

        def fail(*_: object) -> None:
            raise RuntimeError("the connection dropped")

        monkeypatch.setattr("pd_toolkit.store.db.merge_intervals", fail)
    with pytest.raises(Exception, match="connection dropped"):
        store.put_slice(
            partition, incidents, scope="all", since=FIXED_NOW - timedelta(days=9), until=FIXED_NOW
        )
    monkeypatch.undo()
    assert store.incidents(partition) == [] and store.coverage(partition, "all") == []
    store.put_slice(
        partition, incidents, scope="all", since=FIXED_NOW - timedelta(days=9), until=FIXED_NOW
    )
    assert len(store.incidents(partition)) == 3 and len(store.coverage(partition, "all")) == 1


def test_a_sync_fetches_ahead_what_searches_of_open_and_recent_incidents_need(
    store: IncidentStore,
) -> None:
    """After ``prefetch_resolutions`` (what ``pd-toolkit sync`` runs), a search of an open or
    recent incident sends no resolution lookup and no past_incidents probe (the 402 is
    stored); only the open incident itself is fetched (its status may change). A resolved
    incident the store holds is read from the store when named by id: no request at all."""
    with Sandbox(now=FIXED_NOW) as sb:
        client = client_for(sb)
        since = sb.now - timedelta(days=DAYS)
        sync_incidents(client, store, since=since, until=sb.now)
        searched, sent = prefetch_resolutions(
            PagerDutyAPI(client, store=store), window_days=DAYS, now=sb.now
        )
        assert searched > 0 and sent > 0
        open_one = next(i for i in reversed(sb.account.incidents) if i["status"] != "resolved")
        recent = next(
            i
            for i in reversed(sb.account.incidents)
            if i["status"] == "resolved" and sb.now - timedelta(hours=12) < parse_time(i)
        )

        def search(ref: str) -> list[str]:
            toolkit = PagerDutyToolkit(client=client_for(sb), store=store, now=lambda: sb.now)
            tool = next(
                t for t in toolkit.get_tools() if t.name == "pagerduty_find_similar_incidents"
            )
            before = len(sb.request_log)
            message = tool.invoke({"incident": ref, "window_days": DAYS})
            assert ref.lstrip("#") in message  # an answer about it, not an error
            return [r.path for r in sb.request_log[before:]]

        assert search(open_one["id"]) == [f"/incidents/{open_one['id']}"]
        assert search(recent["id"]) == []
        assert search(f"#{recent['incident_number']}") == [
            f"/incidents/{recent['incident_number']}"
        ]
