"""The incident history of a scope and window, from the API's store (synced on demand).

:func:`get_history` syncs what the store lacks (the first search backfills its window, later
ones pay only the delta: see :mod:`pd_toolkit.store.sync`), then reads the window from the
store. Each incident is parsed once: its record (normalised title and details included) is
kept in the store beside the incident (its "ranking form", versioned by ``FORM_VERSION`` and
emptied by the store whenever the incident changes), so a new process reads records instead
of re-parsing JSON. The records and their ranking index are kept in the API object
(:class:`HistoryCache`, through ``PagerDutyAPI.memo``) while the store's revision of the
partition is unchanged, so a warm search neither refetches nor reparses.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, overload

from pydantic import ValidationError

from pd_toolkit.api import PagerDutyAPI
from pd_toolkit.history.models import IncidentRecord
from pd_toolkit.history.ranking import CandidateIndex, RankingColumns
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


def _form(incident: dict[str, Any]) -> str:
    """An incident's ranking form: a JSON line of what ranking reads (version, team ids,
    normalised title and details, service, creation time, incident key, id), then its whole
    record as JSON, read only when a result shows it. Parsed leniently: an incident without an
    id or a creation time is kept as one to skip (record null), not fatal."""
    try:
        record: IncidentRecord | None = IncidentRecord.from_api(incident)
    except (KeyError, TypeError, ValidationError):
        record = None
    teams = [str(t["id"]) for t in incident.get("teams") or [] if isinstance(t, dict)]
    if record is None:
        return json.dumps([FORM_VERSION, teams]) + "\nnull"
    head = [FORM_VERSION, teams, *RankingColumns.of([record]).row(0)]
    return json.dumps(head, separators=(",", ":")) + "\n" + json.dumps(record.stored())


class _StoredRecords(Sequence[IncidentRecord]):
    """Records kept as the stored text of their ranking forms (the record's JSON after the
    first line), each parsed when first read: ranking reads their fields only, the results
    a few records."""

    def __init__(self, forms: list[str]) -> None:
        self._forms = forms
        self._parsed: list[IncidentRecord | None] = [None] * len(forms)

    def __len__(self) -> int:
        return len(self._forms)

    @overload
    def __getitem__(self, index: int) -> IncidentRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[IncidentRecord]: ...

    def __getitem__(self, index: int | slice) -> IncidentRecord | list[IncidentRecord]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        record = self._parsed[index]
        if record is None:
            form = self._forms[index]
            record = self._parsed[index] = IncidentRecord.from_stored(
                json.loads(form[form.index("\n") + 1 :])
            )
        return record


def _stored_records(
    store: IncidentStore,
    partition: str,
    *,
    since: datetime,
    until: datetime,
    service_ids: Sequence[str],
    team_ids: Sequence[str],
) -> tuple[_StoredRecords, RankingColumns]:
    """The records (parsed when read) and ranking columns of the stored incidents of a scope
    and window, oldest first: from their ranking forms, deriving (and storing) the forms
    missing or of another version."""
    rows = store.ranking_forms(partition, since=since, until=until, service_ids=service_ids)
    texts = {incident_id: text for incident_id, text in rows if text}
    heads = json.loads("[" + ",".join(t[: t.index("\n")] for t in texts.values()) + "]")
    forms = {
        incident_id: (head, text)
        for (incident_id, text), head in zip(texts.items(), heads, strict=True)
        if head[0] == FORM_VERSION
    }
    missing = [incident_id for incident_id, _ in rows if incident_id not in forms]
    derived = []
    for incident_id, source in store.incident_texts(partition, missing).items():
        text = _form(json.loads(source))
        forms[incident_id] = (json.loads(text[: text.index("\n")]), text)
        derived.append((incident_id, source, text))
    store.put_ranking_forms(partition, derived)
    wanted = set(team_ids)
    heads, texts_kept = [], []
    for incident_id, _ in rows:
        head, text = forms.get(incident_id, ([], ""))
        if len(head) > 2 and (not wanted or wanted.intersection(head[1])):  # parsed, in scope
            heads.append(head)
            texts_kept.append(text)
    columns = RankingColumns(*([head[n] for head in heads] for n in range(2, 8)))
    return _StoredRecords(texts_kept), columns


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
