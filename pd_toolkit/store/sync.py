"""Sync PagerDuty incidents into the store: backfill a window, then pay only the delta.

**Fetching.** PagerDuty lists at most 6 months per /incidents request and refuses offsets past
10,000, so a window is cut into slices of at most 180 days, and a slice holding more than the
offset cap is split in time (into as many parts as its total needs) until each part fits. The
first page asks for ``total``, so the other pages of a slice are fetched side by side, and an
oversized slice costs one request, not a hundred. Every request asks for
``include[]=first_trigger_log_entries``, so each incident's trigger details arrive with it.

**Sync.** A scope (every service, or some services/teams) remembers which [since, until)
intervals it holds. A sync fetches the gaps of the window, each slice stored with its interval
in one transaction (so a sync killed halfway keeps what it finished and the next one fetches
the rest). The newest gap starts ``OVERLAP`` before the high-water mark, and reaches back to the
scope's oldest still-open incident when that is at most ``REFRESH_SPAN`` older, so one listing
both finds new incidents and refreshes open ones; older open incidents are refreshed by one
listing of the open set plus one GET per incident that left it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, Protocol

from pd_toolkit.client import OFFSET_CAP
from pd_toolkit.errors import PagerDutyNotFoundError, PagerDutyPaginationLimitError
from pd_toolkit.store.compact import compact_incident
from pd_toolkit.store.db import (
    ALL_SCOPE,
    IncidentStore,
    UpsertCount,
    epoch,
    from_epoch,
    merge_intervals,
)
from pd_toolkit.timewindow import iso_utc

MAX_RANGE = timedelta(days=180)
MIN_SLICE = timedelta(minutes=1)
OVERLAP = timedelta(minutes=5)
REFRESH_SPAN = timedelta(days=2)
FILL_RATIO = 0.8  # an oversized slice is split into parts expected to fill 80% of the cap
INCLUDE = ("first_trigger_log_entries",)
OPEN_STATUSES = ("triggered", "acknowledged")


class ClientLike(Protocol):
    """The client calls sync makes (PagerDutyClient has them)."""

    def get(self, path: str, params: Any = None) -> dict[str, Any]: ...

    def iter_all(
        self,
        path: str,
        params: Any = None,
        max_items: int | None = None,
        *,
        key: str | None = None,
        offset_cap: int = ...,
        concurrent: bool = False,
    ) -> Iterator[dict[str, Any]]: ...

    def map_concurrently(self, function: Callable[[Any], Any], items: Sequence[Any]) -> list: ...

    def credential_fingerprint(self, salt: bytes) -> str: ...

    def count_requests(self) -> AbstractContextManager[Any]: ...


def _params(service_ids: Sequence[str], team_ids: Sequence[str]) -> dict[str, Any]:
    params: dict[str, Any] = {"time_zone": "UTC", "include[]": list(INCLUDE)}
    if service_ids:
        params["service_ids[]"] = list(service_ids)
    if team_ids:
        params["team_ids[]"] = list(team_ids)
    return params


def _slice(client: ClientLike, params: dict[str, Any], offset_cap: int) -> list[dict[str, Any]]:
    """The incidents of one slice, through the client's page loop (the first page tells the
    total, the others are fetched side by side); PagerDutyPaginationLimitError, with the
    ``total`` when known, when they cannot fit under the offset cap."""
    return list(
        client.iter_all(
            "/incidents", params, key="incidents", offset_cap=offset_cap, concurrent=True
        )
    )


def iter_slices(
    client: ClientLike,
    since: datetime,
    until: datetime,
    *,
    service_ids: Sequence[str] = (),
    team_ids: Sequence[str] = (),
    offset_cap: int = OFFSET_CAP,
) -> Iterator[tuple[datetime, datetime, list[dict[str, Any]]]]:
    """(start, end, incidents) of each slice of [since, until), oldest first, as fetched."""
    params = _params(service_ids, team_ids)

    def fetch(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime, list]]:
        try:
            found = _slice(
                client, {**params, "since": iso_utc(start), "until": iso_utc(end)}, offset_cap
            )
        except PagerDutyPaginationLimitError as exc:
            if end - start <= MIN_SLICE:
                raise PagerDutyPaginationLimitError(str(exc.message)) from None
            parts = max(2, math.ceil((exc.total or 0) / (offset_cap * FILL_RATIO)))
            step = max((end - start) / parts, MIN_SLICE / 2)
            cuts = [start + step * k for k in range(1, parts)]
            bounds = [start, *(c.replace(microsecond=0) for c in cuts if c < end), end]
            for left, right in pairwise(bounds):
                if left < right:
                    yield from fetch(left, right)
            return
        yield start, end, found

    start = since
    while start < until:
        end = min(start + MAX_RANGE, until)
        yield from fetch(start, end)
        start = end


def fetch_incidents(
    client: ClientLike,
    since: datetime,
    until: datetime,
    *,
    service_ids: Sequence[str] = (),
    team_ids: Sequence[str] = (),
    offset_cap: int = OFFSET_CAP,
) -> list[dict[str, Any]]:
    """Every incident created in [since, until), oldest slice first, without duplicates."""
    seen: dict[str, dict[str, Any]] = {}
    for _start, _end, found in iter_slices(
        client, since, until, service_ids=service_ids, team_ids=team_ids, offset_cap=offset_cap
    ):
        for incident in found:
            seen.setdefault(str(incident.get("id")), incident)
    return list(seen.values())


def scope_key(service_ids: Sequence[str] = (), team_ids: Sequence[str] = ()) -> str:
    """The name a scope's sync state is kept under: 'all', or its sorted service/team ids."""
    if not service_ids and not team_ids:
        return ALL_SCOPE
    return f"services={','.join(sorted(service_ids))};teams={','.join(sorted(team_ids))}"


def _storable(incidents: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Compact incidents that have what the store keys on (id, creation time)."""
    out = []
    for incident in incidents:
        if not incident.get("id") or not isinstance(incident.get("created_at"), str):
            continue
        try:
            epoch(incident["created_at"])
        except ValueError:
            continue
        out.append(compact_incident(incident))
    return out


def _gaps(covered: Sequence[tuple[int, int]], since: int, until: int) -> list[tuple[int, int]]:
    """The parts of [since, until) outside the (merged, sorted) ``covered`` intervals."""
    gaps, cursor = [], since
    for start, end in covered:
        if end <= cursor:
            continue
        if start >= until:
            break
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < until:
        gaps.append((cursor, until))
    return gaps


@dataclass
class SyncReport:
    """What one sync did."""

    scope: str
    requests: int = 0
    slices: int = 0
    fetched: int = 0
    stored: UpsertCount = field(default_factory=UpsertCount)
    refreshed_open: int = 0

    @property
    def up_to_date(self) -> bool:
        """True when the store already held the window (nothing was fetched)."""
        return self.slices == 0 and self.refreshed_open == 0


Progress = Callable[[int, int, int], None]  # (seconds of the window done, total, incidents)


def sync_incidents(
    client: ClientLike,
    store: IncidentStore,
    *,
    since: datetime,
    until: datetime,
    service_ids: Sequence[str] = (),
    team_ids: Sequence[str] = (),
    fresh_for: timedelta = timedelta(0),
    offset_cap: int = OFFSET_CAP,
    progress: Progress | None = None,
) -> SyncReport:
    """Make the store hold the scope's incidents created in [since, until).

    A scope is covered by its own sync state or by the whole account's. When the store is at
    most ``fresh_for`` behind ``until`` and has no gap, nothing is sent. Partitions unused for
    long are pruned first, when due (see :meth:`IncidentStore.prune_if_due`).
    """
    store.prune_if_due()
    partition = store.partition(client)
    scope = scope_key(service_ids, team_ids)
    report = SyncReport(scope=scope)
    lo, hi = epoch(since), epoch(until)
    held = merge_intervals(
        (epoch(a), epoch(b))
        for key in {scope, ALL_SCOPE}
        for a, b in store.coverage(partition, key)
    )
    gaps = _gaps(held, lo, hi)
    with client.count_requests() as tally:
        if gaps and gaps[-1][1] == hi and gaps[-1][0] > lo:  # the delta since the last sync
            start = gaps[-1][0]
            if hi - start <= fresh_for.total_seconds():
                gaps.pop()  # fresh enough: the newest minutes are not worth a request
            else:
                reach, report.refreshed_open = _delta_start(
                    client, store, partition, service_ids, team_ids, lo, start
                )
                gaps[-1] = (reach, hi)
        total = sum(b - a for a, b in gaps)
        done = 0
        for gap_since, gap_until in gaps:
            for first, last, found in iter_slices(
                client,
                from_epoch(gap_since),
                from_epoch(gap_until),
                service_ids=service_ids,
                team_ids=team_ids,
                offset_cap=offset_cap,
            ):
                report.slices += 1
                report.fetched += len(found)
                report.stored += store.put_slice(
                    partition, _storable(found), scope=scope, since=first, until=last
                )
                done += epoch(last) - epoch(first)
                if progress is not None:
                    progress(done, total, report.fetched)
    report.requests = tally.count
    return report


def _delta_start(
    client: ClientLike,
    store: IncidentStore,
    partition: str,
    service_ids: Sequence[str],
    team_ids: Sequence[str],
    lo: int,
    start: int,
) -> tuple[int, int]:
    """(where the delta listing starts, open incidents refreshed apart).

    It starts ``OVERLAP`` before the high-water mark ``start``, or at the oldest stored open
    incident when that is at most ``REFRESH_SPAN`` older (else those are refreshed apart).
    """
    stored_open = store.incidents(
        partition,
        since=from_epoch(lo),
        service_ids=service_ids,
        team_ids=team_ids,
        statuses=OPEN_STATUSES,
    )
    open_created = [created for i in stored_open if (created := epoch(i["created_at"])) < start]
    reach = start - int(OVERLAP.total_seconds())
    refreshed = 0
    if open_created and min(open_created) >= start - REFRESH_SPAN.total_seconds():
        reach = min(reach, min(open_created))
    elif open_created:
        stored_ids = {str(i["id"]) for i in stored_open}
        refreshed = _refresh_open(client, store, partition, service_ids, team_ids, stored_ids)
    return max(lo, reach), refreshed


def _refresh_open(
    client: ClientLike,
    store: IncidentStore,
    partition: str,
    service_ids: Sequence[str],
    team_ids: Sequence[str],
    stored_open: set[str],
) -> int:
    """Refresh stored open incidents (``stored_open``) too old for the delta listing: the open
    set, then one GET per stored-open incident that left it (resolved since); the number
    refreshed."""
    params = {
        **_params(service_ids, team_ids),
        "statuses[]": list(OPEN_STATUSES),
        "date_range": "all",
    }
    still_open = list(client.iter_all("/incidents", params, key="incidents"))
    left = sorted(stored_open - {str(i.get("id")) for i in still_open})

    def one(incident_id: str) -> dict[str, Any] | None:
        try:
            return client.get(f"/incidents/{incident_id}", {"include[]": list(INCLUDE)}).get(
                "incident"
            )
        except PagerDutyNotFoundError:
            return None

    refreshed = [f.result() for f in client.map_concurrently(one, left)]
    changed = _storable([*still_open, *(i for i in refreshed if i)])
    store.put_incidents(partition, changed)
    return len(changed)
