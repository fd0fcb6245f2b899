"""find_similar_incidents: "has this happened before, and how was it fixed?" on any plan.

``prefetch_resolutions`` (run by ``pd-toolkit sync``) fetches ahead what the next searches
would otherwise ask PagerDuty for: the resolutions of the strong matches of each open or recent
incident (the ones people investigate) and whether the plan has past_incidents.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pd_toolkit.api import OPEN_STATUSES, PagerDutyAPI
from pd_toolkit.errors import PagerDutyError, PagerDutyPlanError
from pd_toolkit.history.fetch import History, cache_of, get_history
from pd_toolkit.history.models import (
    HistoryQuery,
    IncidentRecord,
    Resolution,
    SimilarIncident,
    SimilarIncidents,
)
from pd_toolkit.history.normalize import normalize_title, shared_terms
from pd_toolkit.history.pattern import earlier_occurrences, group_fixes, summarize_pattern
from pd_toolkit.history.ranking import (
    PATTERN_THRESHOLD,
    SHOW_FLOOR,
    CandidateIndex,
    EmbeddingsLike,
    ScoredCandidate,
)
from pd_toolkit.models import OLDEST, Incident

DEFAULT_WINDOW_DAYS = 180
DEFAULT_LIMIT = 5
RECENT_LIMIT = 5
MAX_LIMIT = 50
CACHE_TTL_SECONDS = 600.0
PAST_INCIDENTS_LIMIT = 100
PLAN_FACT = "past_incidents"
PLAN_RECHECK = timedelta(days=1)
PREFETCH_QUERIES = 100  # likely queries whose matches' resolutions a sync fetches ahead
PREFETCH_RECENT = timedelta(days=1)  # incidents this recent are likely queries, open or not
PLAN_NOTICE = (
    "PagerDuty's past_incidents needs the Event Intelligence or Digital Operations plan "
    "(HTTP 402); ranked locally instead."
)


def _past_incident_scores(
    api: PagerDutyAPI, incident_id: str, ttl: float, notices: list[str]
) -> dict[str, float]:
    """PagerDuty's own past_incidents scores for ``incident_id``; {} on 402 (with a notice).

    A 402 is remembered in the store for the account (this key's partition) for
    ``PLAN_RECHECK``, so later searches, in any process, do not ask again.
    """
    store, partition = api.store, api.partition()
    refused = store.fact(partition, PLAN_FACT)
    if refused is not None and datetime.now(UTC) - refused[1] < PLAN_RECHECK:
        notices.append(PLAN_NOTICE)
        return {}
    cache = cache_of(api)
    now = time.monotonic()
    cached = cache.past_scores.get(incident_id)
    if cached is not None and now - cached[0] < ttl:
        return cached[1]
    try:
        scores = api.past_incident_scores(incident_id, PAST_INCIDENTS_LIMIT)
    except PagerDutyPlanError:
        store.set_fact(partition, PLAN_FACT, "402", datetime.now(UTC))
        notices.append(PLAN_NOTICE)
        return {}
    except PagerDutyError as exc:
        notices.append(f"PagerDuty's past_incidents failed ({exc.message}); ranked locally.")
        return {}
    cache.past_scores[incident_id] = (now, scores)
    return scores


def fetch_resolution(api: PagerDutyAPI, record: IncidentRecord) -> Resolution | None:
    """How ``record`` was resolved: its last note, else its resolve log entry (1-2 requests)."""
    notes = [note for note in api.notes(record.id) if note.content]
    if notes:
        note = max(notes, key=lambda n: n.created_at or OLDEST)
        return Resolution(
            source="note",
            summary=str(note.content),
            by=note.user.summary if note.user else None,
            at=note.created_at,
        )
    if record.status != "resolved":
        return None
    resolves = [e for e in api.log_entries(record.id, overview=True) if e.kind == "resolve"]
    if not resolves:
        return None
    entry = max(resolves, key=lambda e: e.created_at or OLDEST)
    return Resolution(
        source="log_entry",
        summary=entry.summary or "Resolved",
        by=entry.agent.summary if entry.agent else None,
        at=entry.created_at,
    )


def _resolutions(
    api: PagerDutyAPI, records: Sequence[IncidentRecord], notices: list[str]
) -> dict[str, Resolution | None]:
    """Resolutions of the top matches: a resolved incident's is fetched once, then kept in the
    store; an open incident's is fetched each time (it may still change)."""
    store, partition = api.store, api.partition()
    kept = store.resolutions(partition, [r.id for r in records if r.status == "resolved"])
    found: dict[str, Resolution | None] = {
        key: Resolution.model_validate(value) if value is not None else None
        for key, value in kept.items()
    }
    missing = [record for record in records if record.id not in found]
    if not missing:
        return found
    failures: list[str] = []
    lookups = api.client.map_concurrently(lambda record: fetch_resolution(api, record), missing)
    to_keep: dict[str, dict[str, Any] | None] = {}
    for record, lookup in zip(missing, lookups, strict=True):
        try:
            resolution = lookup.result()
        except PagerDutyError as exc:  # not kept: the next search tries again
            failures.append(exc.message)
            found[record.id] = None
            continue
        found[record.id] = resolution
        if record.status == "resolved":
            to_keep[record.id] = resolution.model_dump(mode="json") if resolution else None
    store.put_resolutions(partition, to_keep)
    if failures:
        notices.append(f"How {len(failures)} match(es) were resolved is unknown: {failures[0]}.")
    return found


def as_similar_incident(
    candidate: ScoredCandidate,
    normalized_query: str,
    resolution: Resolution | None,
    pattern_threshold: float = PATTERN_THRESHOLD,
) -> SimilarIncident:
    """A ranked candidate as the answer shows it, with how it was resolved (if known); weak
    when its relevance is below ``pattern_threshold``."""
    return SimilarIncident(
        incident=candidate.record,
        score=candidate.score,
        similarity=candidate.similarity,
        pagerduty_score=candidate.pagerduty_score,
        shared_terms=shared_terms(normalized_query, candidate.record.normalized),
        same_service=candidate.same_service,
        detail_similarity=candidate.detail_similarity,
        weak=candidate.relevance < pattern_threshold,
        resolution=resolution,
    )


def _with_trigger(record: IncidentRecord | None, history: History) -> IncidentRecord | None:
    """The query incident with its trigger: as given, else as the history listed it (the
    listing embeds triggers), else without (title-only ranking). Costs no request."""
    if record is None or record.trigger is not None:
        return record
    listed = history.index.get(record.id)
    if listed is None or listed.trigger is None:
        return record
    return record.model_copy(
        update={
            "trigger": listed.trigger,
            "incident_key": record.incident_key or listed.incident_key,
            "normalized_details": listed.normalized_details,
        }
    )


def _weak_notice(ranks: list[int], threshold: float) -> str:
    """The notice marking shown matches below the pattern threshold, e.g. 'Matches 4-5 ...'."""
    if len(ranks) == 1:
        which = f"Match {ranks[0]} is"
    elif ranks == list(range(ranks[0], ranks[-1] + 1)):
        which = f"Matches {ranks[0]}-{ranks[-1]} are"
    else:
        which = f"Matches {', '.join(map(str, ranks))} are"
    return (
        f"{which} weak (similarity below {threshold:.2f}): possibly related, "
        "not counted in the pattern, their fixes not offered."
    )


def rank_candidates(
    index: CandidateIndex,
    query: IncidentRecord | None,
    normalized: str,
    *,
    now: datetime,
    pagerduty_scores: Mapping[str, float] | None = None,
    embeddings: EmbeddingsLike | None = None,
    min_similarity: float = SHOW_FLOOR,
    top: int | None = None,
    strong_above: float = PATTERN_THRESHOLD,
) -> list[ScoredCandidate]:
    """The ranking :func:`find_similar_incidents` shows, of ``index`` against an incident
    (``query``, with its trigger when known; never ranked against itself) or, with no query,
    against text (``normalized``); best first (with ``top``: the ``top`` best and the others
    at or above ``strong_above``). Benchmarks call this same entry point."""
    return index.rank(
        normalized,
        now=now,
        normalized_details=query.normalized_details if query else "",
        incident_key=query.incident_key if query else None,
        service_id=query.service_id if query else None,
        exclude_ids=frozenset({query.id}) if query else frozenset(),
        pagerduty_scores=pagerduty_scores,
        embeddings=embeddings,
        min_similarity=min_similarity,
        top=top,
        strong_above=strong_above,
    )


def find_similar_incidents(
    api: PagerDutyAPI,
    incident: Incident | None = None,
    *,
    text: str | None = None,
    service_ids: Sequence[str] = (),
    team_ids: Sequence[str] = (),
    all_services: bool = False,
    window_days: int = DEFAULT_WINDOW_DAYS,
    limit: int = DEFAULT_LIMIT,
    now: datetime | None = None,
    embeddings: EmbeddingsLike | None = None,
    min_similarity: float = SHOW_FLOOR,
    pattern_threshold: float = PATTERN_THRESHOLD,
) -> SimilarIncidents:
    """Rank the incidents of the last ``window_days`` by similarity to ``incident`` or ``text``.

    ``incident`` is the typed :class:`~pd_toolkit.models.Incident` (e.g. of GET
    /incidents/{id}); ``text`` is free text. Scope: ``service_ids``/``team_ids`` when given,
    else every service when ``all_services`` or for free text, else the incident's service.
    The top ``limit`` matches at or above ``min_similarity`` are shown (a notice marks the weak
    ones); the pattern counts only those at or above ``pattern_threshold`` (never the query
    itself), and ``recent`` lists the newest of them created before the query, however worded.
    Only those strong matches are similar: how a weak (possibly related) match was resolved is
    not looked up, and ``fixes`` groups how the shown strong matches were fixed, the fix of
    matches whose trigger details match the query's first (none when none is strong). The
    query incident's trigger details come from the history's listing of it; when it is not
    listed the ranking reads titles only. The history comes from ``api``'s store, synced first
    unless it is at most ``CACHE_TTL_SECONDS`` behind. ``requests_used`` is the client's
    request count delta (other threads using the same client at the same time inflate it).
    """
    if (incident is None) == (text is None):
        raise ValueError("Give exactly one of incident (an incident object) or text")
    if text is not None and not text.strip():
        raise ValueError("text is empty: describe the problem, e.g. 'postgres pool exhausted'")
    if not 1 <= window_days <= 3650:
        raise ValueError("window_days must be between 1 and 3650")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    until = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    since = until - timedelta(days=window_days)
    record = IncidentRecord.from_incident(incident) if incident is not None else None
    query_text = record.title if record is not None else str(text).strip()
    normalized = normalize_title(query_text)
    if service_ids or team_ids:
        services, teams = tuple(service_ids), tuple(team_ids)
    elif all_services or record is None or record.service_id is None:
        services, teams = (), ()
    else:
        services, teams = (record.service_id,), ()
    scope = (
        " + ".join(
            part
            for part in (
                f"services {', '.join(services)}" if services else "",
                f"teams {', '.join(teams)}" if teams else "",
            )
            if part
        )
        or "all services"
    )

    client = api.client
    notices: list[str] = []

    def fetch(part: str) -> Any:
        """The history, or PagerDuty's own scores: fetched side by side."""
        if part == "history":
            return get_history(
                api,
                since=since,
                until=until,
                window_days=window_days,
                service_ids=services,
                team_ids=teams,
                ttl=CACHE_TTL_SECONDS,
            )
        if record is None:
            return {}
        return _past_incident_scores(api, record.id, CACHE_TTL_SECONDS, notices)

    with client.count_requests() as requests_used:
        history_lookup, scores_lookup = client.map_concurrently(fetch, ["history", "scores"])
        history, from_cache = history_lookup.result()
        pd_scores = scores_lookup.result()
        query_record = _with_trigger(record, history)
        ranked = rank_candidates(
            history.index,
            query_record,
            normalized,
            now=until,
            pagerduty_scores=pd_scores,
            embeddings=embeddings,
            min_similarity=min_similarity,
            top=limit,
            strong_above=pattern_threshold,
        )
        top = ranked[:limit]
        strong = [c.record for c in top if c.relevance >= pattern_threshold]
        resolutions = _resolutions(api, strong, notices)
    candidates = len(history.records) - (
        record is not None and history.index.get(record.id) is not None
    )
    if candidates == 0:
        notices.append(f"No incidents in {scope} in the last {window_days} days.")
    elif not ranked:
        notices.append(
            f"None of the {candidates} incidents in the window is similar enough "
            f"(similarity below {min_similarity:.2f})."
        )
    weak = [rank for rank, c in enumerate(top, start=1) if c.relevance < pattern_threshold]
    if weak:
        notices.append(_weak_notice(weak, pattern_threshold))
    counted = [c for c in ranked if c.relevance >= pattern_threshold]
    matches = [
        as_similar_incident(c, normalized, resolutions.get(c.record.id), pattern_threshold)
        for c in top
    ]
    before = query_record.created_at if query_record is not None else until
    by_id = {c.record.id: c for c in counted}
    earlier = earlier_occurrences([c.record for c in counted], before, RECENT_LIMIT)
    return SimilarIncidents(
        query=HistoryQuery(
            kind="incident" if record is not None else "text",
            text=query_text,
            normalized=normalized,
            incident_id=record.id if record is not None else None,
            incident_number=record.number if record is not None else None,
            service_id=record.service_id if record is not None else None,
            scope=scope,
            since=since,
            until=until,
        ),
        candidates=candidates,
        matches=matches,
        recent=[
            as_similar_incident(by_id[r.id], normalized, resolutions.get(r.id), pattern_threshold)
            for r in earlier
        ],
        fixes=group_fixes(matches),
        pattern=summarize_pattern(
            counted,
            window_days=window_days,
            resolutions=[r for c in counted if (r := resolutions.get(c.record.id)) is not None],
        ),
        notices=notices,
        requests_used=requests_used.count,
        from_cache=from_cache,
    )


def prefetch_resolutions(
    api: PagerDutyAPI,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    limit: int = DEFAULT_LIMIT,
    now: datetime | None = None,
    max_queries: int = PREFETCH_QUERIES,
) -> tuple[int, int]:
    """Run the search that each likely query would get, so the resolutions of its strong
    matches, and the plan's answer to past_incidents, are in the store before anyone asks.
    Likely queries: the stored incidents still open or created in the last ``PREFETCH_RECENT``
    (the ones being investigated or written up), newest first, at most ``max_queries``. A
    later search of such an incident (or of one worded like it) sends no resolution lookups.
    Needs the window synced (else the first search fills it). (incidents searched, requests)."""
    until = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    partition, since = api.partition(), until - timedelta(days=window_days)
    stored_open = api.store.incidents(partition, since=since, until=until, statuses=OPEN_STATUSES)
    recent = api.store.incidents(partition, since=until - PREFETCH_RECENT, until=until)
    likely = {str(i["id"]): i for i in [*stored_open, *recent]}.values()
    newest = sorted(likely, key=lambda i: str(i.get("created_at")), reverse=True)
    queries = [Incident.model_validate(i) for i in newest[:max_queries]]
    with api.client.count_requests() as sent:
        for incident in queries:
            find_similar_incidents(api, incident, window_days=window_days, limit=limit, now=until)
    return len(queries), sent.count
