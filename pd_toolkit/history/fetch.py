"""Fetch an incident history of any length, and keep it per client for a while.

PagerDuty lists at most 6 months per /incidents request and refuses offsets past 10,000, so a
window is cut into slices of at most 180 days, and a slice holding more than the offset cap is
bisected in time until each half fits. The first page asks for ``total`` so an oversized slice
costs one request, not a hundred.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from pd_toolkit.client import OFFSET_CAP, PAGE_LIMIT, PagerDutyClient
from pd_toolkit.errors import PagerDutyPaginationLimitError
from pd_toolkit.history.models import IncidentRecord, Resolution
from pd_toolkit.history.ranking import CandidateIndex
from pd_toolkit.timewindow import iso_utc

MAX_RANGE = timedelta(days=180)
MIN_SLICE = timedelta(minutes=1)


def _slice_pages(
    client: PagerDutyClient, params: dict[str, Any], offset_cap: int
) -> list[dict[str, Any]]:
    """The incidents of one slice; PagerDutyPaginationLimitError when they cannot fit.

    The first page tells the total, so the other pages are fetched side by side
    (``client.map_concurrently``); without a total, pages follow ``more`` one by one.
    """

    def page(offset: int) -> dict[str, Any]:
        if offset + PAGE_LIMIT > offset_cap:
            raise PagerDutyPaginationLimitError(f"More than {offset_cap:,} incidents in one slice")
        return client.get(
            "/incidents", {**params, "limit": PAGE_LIMIT, "offset": offset, "total": "true"}
        )

    first = page(0)
    total = first.get("total")
    items: list[dict[str, Any]] = list(first.get("incidents") or [])
    if isinstance(total, int):
        if total > offset_cap:
            raise PagerDutyPaginationLimitError(f"{total:,} incidents in one slice")
        if first.get("more") and items:
            offsets = range(len(items), total, PAGE_LIMIT)
            for later in client.map_concurrently(page, offsets):
                items.extend(later.result().get("incidents") or [])
        return items
    latest = first
    while latest.get("more") and latest.get("incidents"):
        latest = page(len(items))
        items.extend(latest.get("incidents") or [])
    return items


def fetch_incidents(
    client: PagerDutyClient,
    since: datetime,
    until: datetime,
    *,
    service_ids: Sequence[str] = (),
    team_ids: Sequence[str] = (),
    offset_cap: int = OFFSET_CAP,
) -> list[dict[str, Any]]:
    """Every incident created in [since, until), oldest slice first, without duplicates."""
    # Each incident's trigger (custom details, incident_key) comes with the listing, for free.
    params: dict[str, Any] = {"time_zone": "UTC", "include[]": ["first_trigger_log_entries"]}
    if service_ids:
        params["service_ids[]"] = list(service_ids)
    if team_ids:
        params["team_ids[]"] = list(team_ids)
    seen: dict[str, dict[str, Any]] = {}

    def fetch(start: datetime, end: datetime) -> None:
        try:
            found = _slice_pages(
                client, {**params, "since": iso_utc(start), "until": iso_utc(end)}, offset_cap
            )
        except PagerDutyPaginationLimitError:
            if end - start <= MIN_SLICE:
                raise
            middle = start + (end - start) / 2
            middle = middle.replace(microsecond=0)
            fetch(start, middle)
            fetch(middle, end)
            return
        for incident in found:
            seen.setdefault(str(incident.get("id")), incident)

    start = since
    while start < until:
        end = min(start + MAX_RANGE, until)
        fetch(start, end)
        start = end
    return list(seen.values())


@dataclass
class History:
    """A fetched history: its records and the lazily built ranking index."""

    since: datetime
    until: datetime
    records: list[IncidentRecord]
    fetched_at: float = field(default_factory=time.monotonic)
    _index: CandidateIndex | None = None

    @property
    def index(self) -> CandidateIndex:
        if self._index is None:
            self._index = CandidateIndex(self.records)
        return self._index


ScopeKey = tuple[tuple[str, ...], tuple[str, ...], int]


@dataclass
class ClientCache:
    """What one client has fetched: histories by scope, resolutions, past_incidents answers."""

    histories: dict[ScopeKey, History] = field(default_factory=dict)
    resolutions: dict[str, tuple[float, Resolution | None]] = field(default_factory=dict)
    past_scores: dict[str, tuple[float, dict[str, float]]] = field(default_factory=dict)
    past_incidents_refused_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


_CACHES: weakref.WeakKeyDictionary[PagerDutyClient, ClientCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_for(client: PagerDutyClient) -> ClientCache:
    """The cache of ``client`` (created on first use; dropped with the client)."""
    with _CACHES_LOCK:
        cache = _CACHES.get(client)
        if cache is None:
            cache = _CACHES[client] = ClientCache()
        return cache


def clear_history_cache(client: PagerDutyClient | None = None) -> None:
    """Forget cached histories and resolutions (of one client, or of all)."""
    with _CACHES_LOCK:
        if client is None:
            _CACHES.clear()
        else:
            _CACHES.pop(client, None)


def _records(incidents: Sequence[dict[str, Any]]) -> list[IncidentRecord]:
    """Parse leniently: an incident without an id or a creation time is skipped, not fatal."""
    records = []
    for incident in incidents:
        try:
            records.append(IncidentRecord.from_api(incident))
        except (KeyError, TypeError, ValidationError):
            continue
    return records


def _fresh(history: History | None, until: datetime, ttl: float) -> History | None:
    """``history`` if it is younger than ``ttl`` seconds and ends near ``until``."""
    if history is None or time.monotonic() - history.fetched_at >= ttl:
        return None
    return history if abs((history.until - until).total_seconds()) <= ttl else None


def get_history(
    client: PagerDutyClient,
    *,
    since: datetime,
    until: datetime,
    window_days: int,
    service_ids: Sequence[str] = (),
    team_ids: Sequence[str] = (),
    ttl: float,
    fetch: Callable[..., list[dict[str, Any]]] = fetch_incidents,
) -> tuple[History, bool]:
    """The history of a scope, from the client's cache when fresh; (history, from_cache).

    A service-scoped search is served from a fresh all-services history by filtering it.
    """
    cache = cache_for(client)
    key: ScopeKey = (tuple(sorted(service_ids)), tuple(sorted(team_ids)), window_days)
    with cache.lock:
        cached = _fresh(cache.histories.get(key), until, ttl)
        if cached is not None:
            return cached, True
        everything = _fresh(cache.histories.get(((), (), window_days)), until, ttl)
        if everything is not None and service_ids and not team_ids:
            wanted = set(service_ids)
            cached = History(
                since=everything.since,
                until=everything.until,
                records=[r for r in everything.records if r.service_id in wanted],
                fetched_at=everything.fetched_at,
            )
            cache.histories[key] = cached
            return cached, True
    incidents = fetch(client, since, until, service_ids=service_ids, team_ids=team_ids)
    history = History(since=since, until=until, records=_records(incidents))
    with cache.lock:
        cache.histories[key] = history
    return history, False
