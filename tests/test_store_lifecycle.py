"""The store does not grow without end: sandbox runs keep history in memory, partitions unused
for PD_TOOLKIT_STORE_PRUNE_DAYS are dropped (on open and on sync, at most once a day), and
`pd-toolkit store` shows what it holds, drops a partition or prunes now."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import FIXED_NOW, ROOT

from pd_toolkit import PagerDutyClient
from pd_toolkit.cli import main as cli
from pd_toolkit.errors import PagerDutyConfigError
from pd_toolkit.sandbox import Sandbox
from pd_toolkit.store import (
    PRUNE_ENV,
    SCHEMA_VERSION,
    IncidentStore,
    default_to_memory,
    open_store,
    sync_incidents,
)

DAY = timedelta(days=1)
A, B = "a" * 64, "b" * 64


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def fill(store: IncidentStore, partition: str, incidents: int = 2) -> None:
    """Incidents, a resolution, a fact and coverage in ``partition``."""
    rows = [
        {"id": f"P{n}", "created_at": f"2026-10-{n + 1:02d}T00:00:00Z", "status": "resolved"}
        for n in range(incidents)
    ]
    store.put_slice(
        partition,
        rows,
        scope="all",
        since=datetime.fromisoformat("2026-10-01T00:00:00+00:00"),
        until=datetime.fromisoformat("2026-11-01T00:00:00+00:00"),
    )
    store.put_resolutions(partition, {"P0": {"source": "note", "summary": "restarted"}})
    store.set_fact(partition, "plan", "402", FIXED_NOW)


def held(store: IncidentStore) -> set[str]:
    """The partitions a store holds (without reading them: a read records a use)."""
    return {p.partition for p in store.partitions()}


def holds(store: IncidentStore, partition: str) -> bool:
    """Whether ``partition`` holds anything (a read: it records the partition's use)."""
    found = [
        store.incidents(partition),
        store.resolutions(partition, ["P0"]),
        store.fact(partition, "plan"),
        store.coverage(partition, "all"),
    ]
    assert all(found) or not any(found), found  # a partition goes as a whole
    return bool(found[0])


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, isolated_store: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{isolated_store}"
    return str(request.getfixturevalue("postgresql_db_url"))


def test_partitions_unused_for_the_window_are_dropped(url: str) -> None:
    clock = Clock(FIXED_NOW)
    store = IncidentStore(url, now=clock, prune_after=timedelta(days=30))
    try:
        fill(store, A)
        fill(store, B)
        assert (store.stats().bytes_on_disk or 0) > 0  # a file's, or the tables'
        clock.now += timedelta(minutes=30)
        store.incidents(A)  # a read within the hour records nothing new: cheap
        assert {p.partition: p.last_used for p in store.partitions()}[A] == FIXED_NOW
        clock.now += 20 * DAY
        store.incidents(A)  # a read records A's use
        assert {p.partition: p.last_used for p in store.partitions()}[A] == clock.now
        clock.now += 15 * DAY  # A unused for 15 days, B for 35
        assert store.prune() == [B]
        assert held(store) == {A}
        clock.now += 2 * DAY
        assert store.prune(older_than=DAY) == [A]  # prune now, with another window
        assert not holds(store, A) and not holds(store, B)
        assert held(store) == set()  # reading a dropped partition does not bring it back
    finally:
        store.close()


def test_pruning_runs_on_open_and_on_sync_at_most_once_a_day(
    isolated_store: Path, sandbox: Sandbox
) -> None:
    url = f"sqlite:///{isolated_store}"
    start = FIXED_NOW
    writer = IncidentStore(url, now=lambda: start)
    fill(writer, A)
    writer.close()
    clock = Clock(start + 31 * DAY)
    opened = IncidentStore(url, now=clock)  # A is 31 days unused: dropped on open
    assert held(opened) == set()

    # B, last used 31 days ago (by a process with an old clock): not dropped until a day
    # after the last pruning, neither on open nor on sync.
    old = IncidentStore(url, now=lambda: start)
    fill(old, B)
    old.close()
    clock.now += 23 * timedelta(hours=1)
    again = IncidentStore(url, now=clock)
    assert held(again) == {B}
    again.close()
    client = PagerDutyClient(api_key=sandbox.api_key, base_url=sandbox.base_url)
    sync_incidents(client, opened, since=sandbox.now - DAY, until=sandbox.now)
    assert held(opened) == {B, opened.partition(client)}
    clock.now += 2 * timedelta(hours=1)  # a day since the last pruning: the next sync prunes
    sync_incidents(client, opened, since=sandbox.now - DAY, until=sandbox.now)
    assert held(opened) == {opened.partition(client)}  # the partition in use stays
    opened.close()


def test_prune_days_and_timeout_come_from_the_environment() -> None:
    assert open_store("memory", {}).prune_after == timedelta(days=30)
    assert open_store("memory", {PRUNE_ENV: "7"}).prune_after == timedelta(days=7)
    assert open_store("memory", {PRUNE_ENV: "0"}).prune_after is None
    assert open_store("memory", {"PD_TOOLKIT_STORE_TIMEOUT": "2.5"}).timeout == 2.5
    with pytest.raises(PagerDutyConfigError, match=PRUNE_ENV):
        open_store("memory", {PRUNE_ENV: "a month"})
    never = IncidentStore("sqlite://", prune_after=None)
    fill(never, A)
    assert never.prune() == [] and never.prune_if_due() == []


def test_sandbox_runs_default_to_memory_unless_a_store_is_named() -> None:
    for given, expected in ((None, "memory"), ("", "memory"), ("/srv/store.db", "/srv/store.db")):
        env = {} if given is None else {"PD_TOOLKIT_STORE": given}
        default_to_memory(env)
        assert env["PD_TOOLKIT_STORE"] == expected


@pytest.mark.parametrize(
    "command",
    [["-m", "agents.investigate", "--sandbox"], ["-m", "pd_toolkit.cli", "sync", "--sandbox"]],
)
def test_a_sandbox_run_leaves_no_store_in_the_cache(tmp_path: Path, command: list[str]) -> None:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PAGERDUTY_", "OPENAI_", "PD_TOOLKIT_"))
    }
    done = subprocess.run(
        [sys.executable, *command, *(["--days", "7"] if "sync" in command else [])],
        env={**clean, "XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(tmp_path.rglob("store.db*")) == []  # neither in XDG_CACHE_HOME nor ~/.cache


@pytest.fixture
def configured_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[PagerDutyClient]:
    """A key in the environment (never used to send anything): its client."""
    for name in ("PAGERDUTY_USER_API_KEY", "PAGERDUTY_OAUTH_TOKEN", "PAGERDUTY_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAGERDUTY_API_KEY", "k" * 20)
    monkeypatch.setenv("PAGERDUTY_API_HOST", "http://127.0.0.1:9")
    yield PagerDutyClient.from_env()


def test_pd_toolkit_store_shows_each_partition(
    isolated_store: Path, configured_key: PagerDutyClient, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(str(isolated_store))
    mine = store.partition(configured_key)
    fill(store, mine, incidents=3)
    fill(store, A)
    store.close()
    assert cli(["store"]) == 0
    shown = capsys.readouterr().out
    assert f"Store {isolated_store} (sqlite, " in shown
    assert f"schema version {SCHEMA_VERSION}" in shown
    assert "k" * 20 not in shown and mine not in shown  # a prefix only
    lines = shown.splitlines()
    mine_line = next(line for line in lines if mine[:12] in line)
    assert mine_line.startswith("* ")
    assert mine_line.split()[2:4] == ["3", "1"]  # incidents, resolutions
    assert "2026-10-01 .. 2026-11-01" in mine_line
    assert next(line for line in lines if A[:12] in line).startswith("  ")
    assert "(* is the configured key's partition.)" in shown


def test_pd_toolkit_store_drops_one_partition_and_refuses_an_ambiguous_prefix(
    isolated_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(str(isolated_store))
    first, second = "abc1" + "0" * 60, "abc2" + "0" * 60
    fill(store, first)
    fill(store, second)
    store.close()
    assert cli(["store", "--drop", "abc"]) == 2
    assert "error: 2 partitions start with 'abc' (abc100000000, abc200000000)" in (
        capsys.readouterr().out
    )
    assert cli(["store", "--drop", "zzz"]) == 2
    assert "error: 0 partitions start with 'zzz'" in capsys.readouterr().out
    assert cli(["store", "--drop", "ABC1"]) == 0
    assert "Dropped partition abc100000000 (2 incidents, 1 resolutions)." in (
        capsys.readouterr().out
    )
    store = open_store(str(isolated_store))
    assert [p.partition for p in store.partitions()] == [second]
    assert not holds(store, first) and holds(store, second)
    store.close()


def test_pd_toolkit_store_prunes_now(
    isolated_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    open_store(str(isolated_store)).close()  # pruned on open now: the next open will not
    stale = IncidentStore(
        f"sqlite:///{isolated_store}", now=lambda: datetime.now().astimezone() - 40 * DAY
    )
    fill(stale, A)
    stale.close()
    fresh = open_store(str(isolated_store))
    fill(fresh, B)
    fresh.close()
    assert cli(["store"]) == 0
    assert A[:12] in capsys.readouterr().out  # not due yet: opening the store kept it
    assert cli(["store", "--prune"]) == 0
    shown = capsys.readouterr().out
    assert f"Pruned 1 partition(s) unused for 30 days: {A[:12]}." in shown
    assert A[:12] not in shown.split("Pruned", 1)[1].split("\n", 1)[1] and B[:12] in shown
