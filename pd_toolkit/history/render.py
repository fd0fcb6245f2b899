"""Compact text of a SimilarIncidents result for a model: one line per match, ids always."""

from __future__ import annotations

from datetime import datetime

from pd_toolkit.history.models import SimilarIncident, SimilarIncidents

TITLE_CAP = 120
NOTE_CAP = 160


def quote(text: str, cap: int) -> str:
    """Untrusted text as one quoted line: whitespace collapsed, quotes escaped, length capped."""
    flat = " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{flat[: cap - 1]}…"' if len(flat) > cap else f'"{flat}"'


def duration(seconds: float | None) -> str:
    """42m, 3h05m, 2d4h; '?' when unknown."""
    if seconds is None:
        return "?"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h"


def _time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%MZ") if moment else "?"


def _match_line(rank: int, match: SimilarIncident) -> str:
    number = f"#{match.number} " if match.number is not None else ""
    service = match.service_name or "?"
    status = (
        f"resolved in {duration(match.time_to_resolve_seconds)}"
        if match.status == "resolved"
        else match.status
    )
    why = [f"similarity {match.similarity:.2f}"]
    if match.same_service:
        why.append("same service")
    if match.shared_terms:
        why.append("shared: " + ", ".join(match.shared_terms))
    if match.pagerduty_score is not None:
        why.append(f"PagerDuty score {match.pagerduty_score:g}")
    parts = [
        f"{rank}. {number}{match.id} {quote(match.title, TITLE_CAP)}",
        f"service {quote(service, 40)} ({match.service_id or '?'})",
        _time(match.created_at),
        status,
        f"score {match.score:.2f}",
        "why: " + "; ".join(why),
    ]
    if match.resolution is not None:
        by = f" by {quote(match.resolution.by, 40)}" if match.resolution.by else ""
        kind = "note" if match.resolution.source == "note" else "resolve log entry"
        parts.append(f"fix ({kind}{by}): {quote(match.resolution.summary, NOTE_CAP)}")
    return " | ".join(parts)


def render_similar_incidents(result: SimilarIncidents) -> str:
    """The result as compact text: header, one line per match, the pattern, any notices."""
    query = result.query
    if query.kind == "incident":
        number = f"#{query.incident_number} " if query.incident_number is not None else ""
        subject = f"incident {number}{query.incident_id} {quote(query.text, TITLE_CAP)}"
    else:
        subject = f"text {quote(query.text, TITLE_CAP)}"
    lines = [
        f"Similar incidents to {subject}: {len(result.matches)} shown of {result.pattern.count} "
        f"similar among {result.candidates} incidents in {query.scope}, "
        f"{query.since:%Y-%m-%d}..{query.until:%Y-%m-%d} "
        f"({result.requests_used} API requests{', history cached' if result.from_cache else ''})"
    ]
    lines += [_match_line(i, m) for i, m in enumerate(result.matches, start=1)]
    pattern = result.pattern
    if pattern.count:
        summary = [
            f"Pattern: {pattern.recurrence}",
            f"first {_time(pattern.first_seen)}, last {_time(pattern.last_seen)}",
            f"median time to resolve {duration(pattern.median_time_to_resolve_seconds)}",
        ]
        if pattern.resolvers:
            summary.append(
                "usually resolved by "
                + ", ".join(f"{quote(r.name, 40)} ({r.count})" for r in pattern.resolvers)
            )
        lines.append("; ".join(summary))
    lines += [f"Note: {notice}" for notice in result.notices]
    return "\n".join(lines)
