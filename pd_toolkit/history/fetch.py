"""The incident history of a scope and window, from the API's store (synced on demand).

:func:`get_history` syncs what the store lacks (the first search backfills its window, later
ones pay only the delta: see :mod:`pd_toolkit.store.sync`), then reads the window from the
store. The parsed records and their ranking index are kept in the API object
(:class:`HistoryCache`, through ``PagerDutyAPI.memo``) while the store's revision of the
partition is unchanged, so a warm search neither refetches nor reparses.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from pd_toolkit.api import PagerDutyAPI
from pd_toolkit.history.models import IncidentRecord
from pd_toolkit.history.ranking import CandidateIndex
from pd_toolkit.store import scope_key, sync_incidents

HistoryKey = tuple[str, str, int]  # (partition, scope, window days)
MAX_HISTORIES = 16


@dataclass
class History:
    """A fetched history: its records and the lazily built ranking index."""

    since: datetime
    until: datetime
    records: list[IncidentRecord]
    _index: CandidateIndex | None = None

    @property
    def index(self) -> CandidateIndex:
        if self._index is None:
            self._index = CandidateIndex(self.records)
        return self._index


@dataclass
class HistoryCache:
    """What history keeps in memory for one API object (``PagerDutyAPI.memo``): parsed
    histories by scope and window while the store's revision is unchanged (at most
    ``MAX_HISTORIES``), and PagerDuty's past_incidents scores by incident."""

    histories: OrderedDict[HistoryKey, tuple[int, History]] = field(default_factory=OrderedDict)
    past_scores: dict[str, tuple[float, dict[str, float]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def cache_of(api: PagerDutyAPI) -> HistoryCache:
    """The history cache of ``api`` (made on first use, gone with the API)."""
    return api.memo("history", HistoryCache)


def _records(incidents: Sequence[dict[str, Any]]) -> list[IncidentRecord]:
    """Parse leniently: an incident without an id or a creation time is skipped, not fatal."""
    records = []
    for incident in incidents:
        try:
            records.append(IncidentRecord.from_api(incident))
        except (KeyError, TypeError, ValidationError):
            continue
    return records


def get_history(
    api: PagerDutyAPI,
    *,
    since: datetime,
    until: datetime,
    window_days: int,
    service_ids: Sequence[str] = (),
    team_ids: Sequence[str] = (),
    ttl: float,
) -> tuple[History, bool]:
    """The history of a scope from ``api``'s store; (history, True when no request was needed).

    The store is synced first (nothing is sent when it is at most ``ttl`` seconds behind
    ``until``); a scope the account-wide sync covers is served from it, filtered.
    """
    store = api.store
    report = sync_incidents(
        api.client,
        store,
        since=since,
        until=until,
        service_ids=service_ids,
        team_ids=team_ids,
        fresh_for=timedelta(seconds=ttl),
    )
    partition = api.partition()
    key: HistoryKey = (partition, scope_key(service_ids, team_ids), window_days)
    revision = store.revision(partition)
    cache = cache_of(api)
    with cache.lock:
        cached = cache.histories.get(key)
        if cached is not None and cached[0] == revision:
            history = cached[1]
            if abs((history.until - until).total_seconds()) <= ttl:
                cache.histories.move_to_end(key)
                return history, report.requests == 0
    incidents = store.incidents(
        partition, since=since, until=until, service_ids=service_ids, team_ids=team_ids
    )
    history = History(since=since, until=until, records=_records(incidents))
    with cache.lock:
        cache.histories[key] = (revision, history)
        while len(cache.histories) > MAX_HISTORIES:
            cache.histories.popitem(last=False)
    return history, report.requests == 0


__all__ = ["History", "HistoryCache", "cache_of", "get_history"]
