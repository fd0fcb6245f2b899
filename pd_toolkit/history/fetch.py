"""The incident history of a scope and window, from the API's store (synced on demand).

:func:`get_history` syncs what the store lacks (the first search backfills its window, later
ones pay only the delta: see :mod:`pd_toolkit.store.sync`), then reads the window from the
store. Each incident is parsed once: what ranking reads of it (its "head": normalised title
and details, service, time, key) and its record are kept in the store (its "ranking form",
versioned by ``FORM_VERSION`` and dropped by the store whenever the incident changes), so a
new process reads the window's compact heads in one query and one JSON load, and only the
records its results show, instead of re-parsing every incident. The records and their
ranking index are kept in the API object (:class:`HistoryCache`, through
``PagerDutyAPI.memo``) while the store's revision of the partition is unchanged, so a warm
search neither refetches nor reparses.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError

from pd_toolkit.api import PagerDutyAPI
from pd_toolkit.history.models import IncidentRecord
from pd_toolkit.history.ranking import CandidateIndex, LazyRecords, RankingColumns
from pd_toolkit.store import IncidentStore, scope_key, sync_incidents

HistoryKey = tuple[str, str, int]  # (partition, scope, window days)
MAX_HISTORIES = 16
# The format of the records kept in the store: bump it whenever IncidentRecord, its parsing or
# the normalisation changes, so that records parsed by an older version are parsed again.
FORM_VERSION = 1


@dataclass
class History:
    """A fetched history: its records, what ranking reads of them (``columns``, when kept
    apart from records parsed on demand), and the lazily built ranking index."""

    since: datetime
    until: datetime
    records: Sequence[IncidentRecord]
    columns: RankingColumns | None = None
    _index: CandidateIndex | None = None

    @property
    def index(self) -> CandidateIndex:
        if self._index is None:
            self._index = CandidateIndex(self.records, self.columns)
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


def _form(incident: dict[str, Any]) -> tuple[str, str]:
    """An incident's ranking form: its head, a JSON array of what ranking reads (version, team
    ids, then the :class:`RankingColumns` fields), and its whole record as JSON (with the
    version), read only when a result shows it. Parsed leniently: an incident without an id or
    a creation time is kept as one to skip (a head of version and teams only), not fatal."""
    try:
        record: IncidentRecord | None = IncidentRecord.from_api(incident)
    except (KeyError, TypeError, ValidationError):
        record = None
    teams = [str(t["id"]) for t in incident.get("teams") or [] if isinstance(t, dict)]
    if record is None:
        return json.dumps([FORM_VERSION, teams]), json.dumps([FORM_VERSION, None])
    head = [FORM_VERSION, teams, *RankingColumns.of([record]).row(0)]
    compact = {"separators": (",", ":")}
    return json.dumps(head, **compact), json.dumps([FORM_VERSION, record.stored()], **compact)


class _StoredRecords(LazyRecords):
    """The records of a history kept in the store, read (in batches) and rebuilt when first
    needed: ranking reads the columns only, the results a few records. An incident changed
    since is parsed from its stored JSON; one gone from the store meanwhile (its partition
    forgotten) is rebuilt from its ranking columns."""

    def __init__(self, store: IncidentStore, partition: str, columns: RankingColumns) -> None:
        self._store, self._partition, self._columns = store, partition, columns
        self._loaded: list[IncidentRecord | None] = [None] * len(columns.ids)

    def __len__(self) -> int:
        return len(self._loaded)

    def take(self, indices: Sequence[int]) -> list[IncidentRecord]:
        missing = sorted({i for i in indices if self._loaded[i] is None})
        if missing:
            ids = [self._columns.ids[i] for i in missing]
            found = self._store.ranking_records(self._partition, ids)
            for index, incident_id in zip(missing, ids, strict=True):
                self._loaded[index] = self._record(index, found.get(incident_id))
        return [self._loaded[i] for i in indices]  # type: ignore[misc]  # all loaded above

    def _record(self, index: int, stored: tuple[str | None, str] | None) -> IncidentRecord:
        if stored is not None:
            record, source = stored
            version, data = json.loads(record) if record else (None, None)
            if version == FORM_VERSION and data is not None:
                return IncidentRecord.from_stored(data)
            with suppress(KeyError, TypeError, ValidationError):
                return IncidentRecord.from_api(json.loads(source))
        columns = self._columns
        return IncidentRecord(
            id=columns.ids[index],
            title=columns.normalized[index],
            normalized=columns.normalized[index],
            service_id=columns.service_ids[index],
            created_at=datetime.fromtimestamp(columns.created_ts[index], UTC),
            incident_key=columns.incident_keys[index],
            normalized_details=columns.normalized_details[index],
        )


def _stored_records(
    store: IncidentStore,
    partition: str,
    *,
    since: datetime,
    until: datetime,
    service_ids: Sequence[str],
    team_ids: Sequence[str],
) -> tuple[_StoredRecords, RankingColumns]:
    """The records (read when needed) and ranking columns of the stored incidents of a scope
    and window, oldest first: from their ranking heads (decoded in one JSON load), deriving
    (and storing) the forms missing or of another version."""
    rows = store.ranking_heads(partition, since=since, until=until, service_ids=service_ids)
    kept = [(incident_id, head) for incident_id, head in rows if head]
    decoded = orjson.loads("[" + ",".join(head for _, head in kept) + "]")
    heads = {
        incident_id: head
        for (incident_id, _), head in zip(kept, decoded, strict=True)
        if head[0] == FORM_VERSION
    }
    missing = [incident_id for incident_id, _ in rows if incident_id not in heads]
    derived = []
    sources = store.incident_texts(partition, missing) if missing else {}
    for incident_id, source in sources.items():
        head, record = _form(json.loads(source))
        heads[incident_id] = json.loads(head)
        derived.append((incident_id, source, head, record))
    store.put_ranking_forms(partition, derived)
    wanted = set(team_ids)
    in_scope = [
        head
        for incident_id, _ in rows
        if len(head := heads.get(incident_id, ())) > 2  # parsed
        and (not wanted or wanted.intersection(head[1]))
    ]
    columns = RankingColumns(*([head[n] for head in in_scope] for n in range(2, 8)))
    return _StoredRecords(store, partition, columns), columns


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
    records, columns = _stored_records(
        store, partition, since=since, until=until, service_ids=service_ids, team_ids=team_ids
    )
    history = History(since=since, until=until, records=records, columns=columns)
    with cache.lock:
        cache.histories[key] = (revision, history)
        while len(cache.histories) > MAX_HISTORIES:
            cache.histories.popitem(last=False)
    return history, report.requests == 0


__all__ = ["History", "HistoryCache", "cache_of", "get_history"]
