"""The incident history of a scope and window, from the persistent store (synced on demand).

:func:`get_history` syncs what the store lacks (the first search backfills its window, later
ones pay only the delta: see :mod:`pd_toolkit.store.sync`), then reads the window from the
store. The parsed records and their ranking index are kept in this process while the store's
revision of the partition is unchanged, so a warm search neither refetches nor reparses.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from pd_toolkit.client import PagerDutyClient
from pd_toolkit.history.models import IncidentRecord
from pd_toolkit.history.ranking import CandidateIndex
from pd_toolkit.store import IncidentStore, open_store, scope_key, sync_incidents
from pd_toolkit.store.sync import ClientLike


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
class ClientCache:
    """What one client keeps in memory: PagerDuty's past_incidents scores by incident."""

    past_scores: dict[str, tuple[float, dict[str, float]]] = field(default_factory=dict)


_CACHES: weakref.WeakKeyDictionary[PagerDutyClient, ClientCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()
HistoryKey = tuple[int, str, str, int]
_HISTORIES: OrderedDict[HistoryKey, tuple[int, History]] = OrderedDict()
MAX_HISTORIES = 16


def cache_for(client: PagerDutyClient) -> ClientCache:
    """The cache of ``client`` (created on first use; dropped with the client)."""
    with _CACHES_LOCK:
        cache = _CACHES.get(client)
        if cache is None:
            cache = _CACHES[client] = ClientCache()
        return cache


def clear_history_cache(client: PagerDutyClient | None = None) -> None:
    """Forget in-memory histories and scores (of one client, or of all); the store stays."""
    with _CACHES_LOCK:
        if client is None:
            _CACHES.clear()
        else:
            _CACHES.pop(client, None)
        _HISTORIES.clear()


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
    client: ClientLike,
    *,
    since: datetime,
    until: datetime,
    window_days: int,
    service_ids: Sequence[str] = (),
    team_ids: Sequence[str] = (),
    ttl: float,
    store: IncidentStore | str | None = None,
) -> tuple[History, bool]:
    """The history of a scope; (history, True when no request was needed).

    The store is synced first (nothing is sent when it is at most ``ttl`` seconds behind
    ``until``); a scope the account-wide sync covers is served from it, filtered.
    """
    opened = open_store(store)
    report = sync_incidents(
        client,
        opened,
        since=since,
        until=until,
        service_ids=service_ids,
        team_ids=team_ids,
        fresh_for=timedelta(seconds=ttl),
    )
    partition = opened.partition(client)
    key: HistoryKey = (id(opened), partition, scope_key(service_ids, team_ids), window_days)
    revision = opened.revision(partition)
    with _CACHES_LOCK:
        cached = _HISTORIES.get(key)
        if cached is not None and cached[0] == revision:
            history = cached[1]
            if abs((history.until - until).total_seconds()) <= ttl:
                _HISTORIES.move_to_end(key)
                return history, report.requests == 0
    incidents = opened.incidents(
        partition, since=since, until=until, service_ids=service_ids, team_ids=team_ids
    )
    history = History(since=since, until=until, records=_records(incidents))
    with _CACHES_LOCK:
        _HISTORIES[key] = (revision, history)
        while len(_HISTORIES) > MAX_HISTORIES:
            _HISTORIES.popitem(last=False)
    return history, report.requests == 0


__all__ = ["History", "cache_for", "clear_history_cache", "get_history"]
