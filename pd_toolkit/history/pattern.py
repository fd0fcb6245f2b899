"""The pattern a set of similar incidents forms: how often, when, how long, who fixes it, and
the different ways it was fixed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from statistics import median

from pd_toolkit.history.models import (
    FixGroup,
    IncidentRecord,
    Pattern,
    Resolution,
    ResolverCount,
    SignalCounts,
    SimilarIncident,
)
from pd_toolkit.history.normalize import normalize_title
from pd_toolkit.history.ranking import ScoredCandidate

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MIN_FOR_RECURRENCE = 3
WEEKDAY_SHARE = 0.4  # uniform would be 1/7 ~ 0.14
HOURS_SHARE = 0.5  # uniform would be 2/24 ~ 0.08
HOURS_SPAN = 2
DETAILS_MATCH = 0.5  # trigger-details similarity from which a past trigger "matches" this one
TITLE_MATCH = 0.5  # title similarity from which two titles count as alike


def busiest_weekday(records: Sequence[IncidentRecord]) -> str | None:
    """The weekday (UTC) holding at least 40% of the incidents, if any."""
    if len(records) < MIN_FOR_RECURRENCE:
        return None
    day, count = Counter(r.created_at.weekday() for r in records).most_common(1)[0]
    return WEEKDAYS[day] if count / len(records) >= WEEKDAY_SHARE else None


def busiest_hours(records: Sequence[IncidentRecord]) -> str | None:
    """The 2-hour UTC window (e.g. '02:00-04:00') holding at least half the incidents, if any."""
    if len(records) < MIN_FOR_RECURRENCE:
        return None
    per_hour = Counter(r.created_at.hour for r in records)
    counts = {h: sum(per_hour[(h + k) % 24] for k in range(HOURS_SPAN)) for h in range(24)}
    start = max(range(24), key=lambda h: (counts[h], -h))
    if counts[start] / len(records) < HOURS_SHARE:
        return None
    return f"{start:02d}:00-{(start + HOURS_SPAN) % 24:02d}:00"


def _resolvers(
    records: Sequence[IncidentRecord], resolutions: Sequence[Resolution]
) -> list[ResolverCount]:
    """Who resolved them: last_status_change_by of every resolved one, else the fetched notes."""
    names = [r.resolved_by for r in records if r.resolved_by]
    if not names:
        names = [res.by for res in resolutions if res.by]
    return [ResolverCount(name=n, count=c) for n, c in Counter(names).most_common(3)]


def signal_counts(counted: Sequence[ScoredCandidate]) -> SignalCounts:
    """How many of the ``counted`` candidates matched on each signal (title, details, service,
    incident key)."""
    return SignalCounts(
        title=sum(c.title_similarity >= TITLE_MATCH for c in counted),
        details=sum((c.detail_similarity or 0.0) >= DETAILS_MATCH for c in counted),
        service=sum(c.same_service for c in counted),
        incident_key=sum(c.same_key for c in counted),
    )


def summarize_pattern(
    counted: Sequence[ScoredCandidate],
    *,
    window_days: int,
    resolutions: Sequence[Resolution] = (),
) -> Pattern:
    """Summarise the similar incidents ``counted`` (all above the threshold) of a window."""
    if not counted:
        return Pattern(count=0, window_days=window_days)
    records = [c.record for c in counted]
    created = sorted(r.created_at for r in records)
    durations = [d for r in records if (d := r.time_to_resolve_seconds) is not None]
    weekday, hours = busiest_weekday(records), busiest_hours(records)
    recurrence = f"{len(records)} time{'s' if len(records) != 1 else ''} in {window_days} days"
    when = " ".join(part for part in (f"{weekday}s" if weekday else "", hours or "") if part)
    if when:
        recurrence += f", mostly {when} UTC"
    return Pattern(
        count=len(records),
        window_days=window_days,
        first_seen=created[0],
        last_seen=created[-1],
        median_time_to_resolve_seconds=median(durations) if durations else None,
        resolvers=_resolvers(records, resolutions),
        busiest_weekday=weekday,
        busiest_hours_utc=hours,
        recurrence=recurrence,
        signals=signal_counts(counted),
    )


def earlier_occurrences(
    records: Sequence[IncidentRecord], before: datetime, limit: int
) -> list[IncidentRecord]:
    """The ``limit`` newest of ``records`` created before ``before``, newest first."""
    earlier = (r for r in records if r.created_at < before)
    return sorted(earlier, key=lambda r: r.created_at, reverse=True)[:limit]


def group_fixes(matches: Sequence[SimilarIncident]) -> list[FixGroup]:
    """The ways the strong ``matches`` (best first) were fixed: resolutions grouped by their
    normalised text (hosts, versions and counts blurred); a weak match's fix is never offered.
    Groups whose incidents' trigger details match the query's come first, then the most
    frequent, then the best ranked."""
    groups: dict[str, list[SimilarIncident]] = {}
    for match in matches:
        if match.weak:
            continue
        if match.resolution is not None and match.resolution.summary.strip():
            key = normalize_title(match.resolution.summary) or match.resolution.summary
            groups.setdefault(key, []).append(match)
    fixes = []
    for members in groups.values():
        similarities = [m.detail_similarity for m in members if m.detail_similarity is not None]
        newest = max(members, key=lambda m: m.incident.created_at)
        assert newest.resolution is not None  # grouped by resolution above
        fixes.append(
            FixGroup(
                summary=newest.resolution.summary,
                incident_ids=[m.incident.id for m in members],
                numbers=[m.incident.number for m in members],
                matches_trigger=bool(similarities) and max(similarities) >= DETAILS_MATCH,
                detail_similarity=max(similarities) if similarities else None,
            )
        )
    rank = {match.incident.id: n for n, match in enumerate(matches)}
    return sorted(
        fixes,
        key=lambda f: (not f.matches_trigger, -len(f.incident_ids), rank[f.incident_ids[0]]),
    )
