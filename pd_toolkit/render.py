"""Compact text for LLMs: one line per item, ids always present, no JSON.

Text written by whoever can send an alert (titles, alert bodies, notes, change summaries) is
untrusted: it is rendered as quoted, length-capped data by :func:`quote_untrusted`, so that it
reads as a value and never as an instruction. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import groupby
from typing import Any

from pd_toolkit.history.models import FixGroup, SimilarIncident, SimilarIncidents
from pd_toolkit.models import (
    OLDEST,
    Alert,
    ChangeEvent,
    ChangeList,
    Incident,
    IncidentAlerts,
    IncidentList,
    IncidentTimeline,
    LogEntry,
    Note,
    OnCall,
    OnCallReport,
    Ref,
    ServicesOverview,
    ServiceStatus,
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]+")
_UNSAFE_KEY = re.compile(r"[^\w.-]+")
TITLE_CAP = 120
NOTHING_FOUND = (
    "Widen the time range or drop a filter to see more (a User Token key sees only what its "
    "user may see)."
)
NOTE_CAP = 300
DETAIL_CAP = 80
DETAIL_FIELDS = 6
# Keys that usually carry the "what broke" of an alert, in order of interest.
_TELLING = (
    "error",
    "message",
    "msg",
    "description",
    "reason",
    "summary",
    "exception",
    "metric",
    "value",
    "threshold",
    "condition",
    "query",
    "host",
    "hostname",
    "instance",
    "region",
    "env",
    "environment",
    "status",
    "runbook",
)


def _flatten(text: Any) -> str:
    return " ".join(_CONTROL.sub(" ", str(text)).split())


def quote_untrusted(text: Any, cap: int = TITLE_CAP) -> str:
    """``"data"``: control characters and newlines flattened, backticks and double quotes
    neutralised, at most ``cap`` characters, with "…(+N chars)" when cut."""
    if text is None:
        return '""'
    flat = _flatten(text).replace("`", "'").replace('"', "'")
    if len(flat) > cap:
        flat = f"{flat[:cap].rstrip()}…(+{len(flat) - cap} chars)"
    return f'"{flat}"'


def clean_name(text: Any, cap: int = 60) -> str:
    """A name (service, user, team): one line, capped, unquoted."""
    flat = _flatten(text) if text is not None else "?"
    return flat if len(flat) <= cap else flat[: cap - 1] + "…"


def ref(item: Ref | None) -> str:
    """'Name (PID)', or '-' for nothing."""
    if item is None:
        return "-"
    name = clean_name(item.name or item.summary) if (item.name or item.summary) else None
    return f"{name} ({item.id})" if name and item.id else name or str(item.id or "-")


def fmt_time(moment: datetime | None, tz: tzinfo = UTC, *, date: bool = True) -> str:
    """'2026-11-18 09:12Z' in UTC, else the local time with its UTC offset."""
    if moment is None:
        return "?"
    local = moment.astimezone(tz)
    offset = local.utcoffset() or timedelta(0)
    raw = local.strftime("%z")
    zone = "Z" if offset == timedelta(0) else f"{raw[:3]}:{raw[3:5]}"
    return local.strftime("%Y-%m-%d %H:%M" if date else "%H:%M:%S") + zone


def fmt_duration(span: timedelta | None) -> str:
    """'45s', '12m', '1h05m', '2d03h'."""
    if span is None:
        return "?"
    seconds = int(span.total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d{hours:02d}h"
    if hours:
        return f"{sign}{hours}h{minutes:02d}m"
    return f"{sign}{minutes}m" if minutes else f"{sign}{secs}s"


def _names(items: Iterable[Ref]) -> str:
    return ", ".join(ref(item) for item in items) or "-"


def _number(incident: Incident) -> str:
    return f"#{incident.incident_number}" if incident.incident_number else "#?"


# -- incidents ------------------------------------------------------------------------------


def incident_line(incident: Incident, tz: tzinfo = UTC) -> str:
    """One incident: number, id, status, urgency, priority, service, created, assignee, title."""
    priority = f" {clean_name(incident.priority.label, 20)}" if incident.priority else ""
    return (
        f"{_number(incident)} {incident.id} {incident.status or '?'}/{incident.urgency or '?'}"
        f"{priority} svc={ref(incident.service)} created={fmt_time(incident.created_at, tz)}"
        f" assignee={_names(incident.assignees)} title={quote_untrusted(incident.headline)}"
    )


def render_incident_list(result: IncidentList, tz: tzinfo = UTC) -> str:
    scope = ", ".join(f"{k}={v}" for k, v in result.filters.items())
    window = (
        f"; {result.window.label}: {fmt_time(result.window.since, tz)}"
        f"..{fmt_time(result.window.until, tz)}"
        if result.window
        else ""
    )
    total = result.total if result.total is not None else len(result.items)
    header = f"Incidents ({scope}{window}): {total} found"
    if not result.items:
        return f"{header}. {NOTHING_FOUND}"
    lines = [header, *(incident_line(i, tz) for i in result.items)]
    if total > len(result.items):
        lines.append(
            f"showing {len(result.items)} of {total}; narrow with service=, team=, urgency=, "
            "statuses= or a shorter time_range, or raise limit (max 100)"
        )
    return "\n".join(lines)


def render_incident(incident: Incident, tz: tzinfo = UTC) -> str:
    """Every detail of one incident in a few lines."""
    counts = incident.alert_counts
    alerts = (
        f"{counts.all} ({counts.triggered} triggered, {counts.resolved} resolved)"
        if counts and counts.all is not None
        else "?"
    )
    acks = ", ".join(
        f"{ref(a.acknowledger)} at {fmt_time(a.at, tz)}" for a in incident.acknowledgements
    )
    priority = clean_name(incident.priority.label, 20) if incident.priority else "none"
    return "\n".join(
        [
            f"Incident {_number(incident)} {incident.id}: {quote_untrusted(incident.headline)}",
            f"status={incident.status or '?'} urgency={incident.urgency or '?'} "
            f"priority={priority}; service {ref(incident.service)}; "
            f"escalation policy {ref(incident.escalation_policy)}; teams {_names(incident.teams)}",
            f"assignees: {_names(incident.assignees)}"
            + (f"; acknowledged by {acks}" if acks else ""),
            f"created {fmt_time(incident.created_at, tz)}; acknowledged "
            f"{_after(incident.acknowledged_at, incident.time_to_acknowledge, tz)}; resolved "
            f"{_after(incident.resolved_time, incident.time_to_resolve, tz)}; alerts {alerts}",
            f"url: {incident.html_url or '?'}",
        ]
    )


def _after(moment: datetime | None, span: timedelta | None, tz: tzinfo) -> str:
    return f"{fmt_time(moment, tz)} (+{fmt_duration(span)})" if moment else "not yet"


# -- timeline -------------------------------------------------------------------------------


def _entry_text(entry: LogEntry) -> str:
    who = entry.agent.label if entry.agent else None
    via = entry.channel_type
    parts = [entry.kind]
    if who:
        parts.append(f"by {clean_name(who)}")
    if via and via not in {"auto", "notification"}:
        parts.append(f"via {via}")
    if entry.kind in {"trigger", "resolve", "acknowledge", "escalate", "assign", "snooze"}:
        parts.append(quote_untrusted(entry.summary, TITLE_CAP))
    return " ".join(parts)


def _notify_line(entries: Sequence[LogEntry]) -> str:
    """A run of notify entries -> 'notified Ann (sms, phone), Bob (email)'."""
    methods: dict[str, list[str]] = {}
    for entry in entries:
        person = entry.user or entry.agent
        methods.setdefault(ref(person), [])
        how = entry.notification_type
        if how and how not in methods[ref(person)]:
            methods[ref(person)].append(how)
    people = ", ".join(f"{p} ({'/'.join(m) or '?'})" if m else p for p, m in methods.items())
    return f"notified {people}"


def render_timeline(timeline: IncidentTimeline, tz: tzinfo = UTC) -> str:
    """Log entries oldest first, notify runs collapsed, notes interleaved; ack/resolve times."""
    incident = timeline.incident
    events: list[tuple[datetime, int, LogEntry | Note]] = [
        (e.created_at or OLDEST, 0, e)
        for e in timeline.entries
        if e.kind != "annotate" or not timeline.notes
    ]
    events += [(n.created_at or OLDEST, 1, n) for n in timeline.notes]
    events.sort(key=lambda item: (item[0], item[1]))
    lines = [
        f"Timeline of {_number(incident)} {incident.id} {incident.status or '?'}/"
        f"{incident.urgency or '?'} svc={ref(incident.service)}: "
        f"{quote_untrusted(incident.headline)}",
        f"time to acknowledge: {fmt_duration(incident.time_to_acknowledge)}; time to resolve: "
        f"{fmt_duration(incident.time_to_resolve) if incident.resolved_time else 'unresolved'}",
    ]
    last_day = ""
    keyed = groupby(events, key=lambda ev: isinstance(ev[2], LogEntry) and ev[2].kind == "notify")
    for is_notify, group in keyed:
        items = list(group)
        runs = [items] if is_notify else [[item] for item in items]
        for run in runs:
            moment, _, first = run[0]
            day = fmt_time(moment, tz)[:10]
            stamp = fmt_time(moment, tz) if day != last_day else fmt_time(moment, tz, date=False)
            last_day = day
            if is_notify:
                text = _notify_line([item[2] for item in run])  # type: ignore[misc]
            elif isinstance(first, Note):
                text = f"note by {ref(first.user)}: {quote_untrusted(first.content, NOTE_CAP)}"
            else:
                text = _entry_text(first)
            lines.append(f"{stamp} {text}")
    if timeline.entries_capped_at is not None:
        lines.append(
            f"showing the first {timeline.entries_capped_at} log entries only; the rest are "
            f"in PagerDuty: {incident.html_url or incident.id}"
        )
    return "\n".join(lines)


# -- alerts ---------------------------------------------------------------------------------


def detail_key(key: Any, cap: int = 40) -> str:
    """An alert's custom-detail key (sender-chosen): only letters, digits and ``._-`` kept,
    so it cannot carry Markdown, quotes or instructions; capped."""
    safe = _UNSAFE_KEY.sub("_", str(key)).strip("_") or "_"
    return safe if len(safe) <= cap else safe[: cap - 1] + "…"


def telling_details(details: dict[str, Any], limit: int = DETAIL_FIELDS) -> tuple[str, int]:
    """The most telling custom-detail fields as 'k="v"' pairs, and how many were left out."""
    flat: dict[str, Any] = {}
    for key, value in details.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    ranked = sorted(
        flat,
        key=lambda k: next(
            (i for i, word in enumerate(_TELLING) if word in k.lower()), len(_TELLING)
        ),
    )
    shown = ranked[:limit]
    pairs = " ".join(f"{detail_key(k)}={quote_untrusted(flat[k], DETAIL_CAP)}" for k in shown)
    return pairs, len(ranked) - len(shown)


def alert_line(alert: Alert, tz: tzinfo = UTC) -> str:
    cef = alert.cef_details
    source = {
        "source": cef.get("source_location") or cef.get("source_origin"),
        "component": cef.get("source_component"),
        "class": cef.get("event_class"),
    }
    where = " ".join(f"{k}={quote_untrusted(v, 60)}" for k, v in source.items() if v)
    details, hidden = telling_details(alert.details)
    more = f" (+{hidden} more detail fields not shown)" if hidden else ""
    suppressed = " suppressed" if alert.suppressed else ""
    return (
        f"{alert.id} {alert.status or '?'}{suppressed} severity={alert.severity or '?'} "
        f"created={fmt_time(alert.created_at, tz)} key={quote_untrusted(alert.alert_key, 60)}"
        f"{' ' + where if where else ''}\n  summary={quote_untrusted(alert.summary)}"
        f"{chr(10) + '  details: ' + details if details else ''}{more}"
    )


def render_alerts(result: IncidentAlerts, tz: tzinfo = UTC) -> str:
    incident = result.incident
    total = result.total if result.total is not None else len(result.alerts)
    lines = [
        f"Alerts of {_number(incident)} {incident.id}: {total}"
        + (
            f" (showing {len(result.alerts)}; raise limit to see more)"
            if total > len(result.alerts)
            else ""
        )
    ]
    lines += [alert_line(alert, tz) for alert in result.alerts]
    return "\n".join(lines)


# -- on-call --------------------------------------------------------------------------------


def _shift(oncall: OnCall, tz: tzinfo) -> str:
    via = f"via schedule {ref(oncall.schedule)}" if oncall.schedule else "direct target"
    until = f"until {fmt_time(oncall.end, tz)}" if oncall.end else "always on call"
    return f"{ref(oncall.user)} {via}, {until}"


def _policy_key(oncall: OnCall) -> str:
    return (oncall.escalation_policy.id if oncall.escalation_policy else None) or ""


def render_oncall(report: OnCallReport, tz: tzinfo = UTC) -> str:
    """Per escalation policy, per level: who, via which schedule, until when."""
    at = f" at {fmt_time(report.at, tz)}" if report.at else " now"
    lines = [f"On call for {report.target}{at}:"]
    if not report.oncalls:
        lines.append("nobody is on call (no escalation policy or empty schedules)")
    ordered = sorted(report.oncalls, key=lambda o: (_policy_key(o), o.escalation_level or 99))
    for _, group in groupby(ordered, key=_policy_key):
        shifts = list(group)
        lines.append(f"policy {ref(shifts[0].escalation_policy)}:")
        for level, level_shifts in groupby(shifts, key=lambda o: o.escalation_level):
            lines.append(
                f"  L{level if level is not None else '?'}: "
                + "; ".join(_shift(o, tz) for o in level_shifts)
            )
    if report.total is not None and report.total > len(report.oncalls):
        lines.append(
            f"showing {len(report.oncalls)} of {report.total} on-call entries; "
            "narrow with team=, service=, schedule= or escalation_policy="
        )
    return "\n".join(lines)


# -- services -------------------------------------------------------------------------------


def _open_counts(incidents: Sequence[Incident]) -> str:
    high = sum(1 for i in incidents if i.urgency == "high")
    return f"{len(incidents)} open ({high} high, {len(incidents) - high} low)"


def render_service_status(status: ServiceStatus, tz: tzinfo = UTC) -> str:
    service = status.service
    policy = service.escalation_policy
    lines = [
        f"Service {ref(service)}: status={service.status or '?'}; teams: {_names(service.teams)}",
        f"description: {quote_untrusted(service.description or '', TITLE_CAP)}",
        f"escalation policy: {ref(policy)}",
    ]
    if policy:
        by_level: dict[int, list[OnCall]] = {}
        for oncall in status.oncalls:
            by_level.setdefault(oncall.escalation_level or 0, []).append(oncall)
        for number, rule in enumerate(policy.escalation_rules, start=1):
            who = "; ".join(_shift(o, tz) for o in by_level.get(number, [])) or "nobody"
            lines.append(
                f"  L{number} (escalates after {rule.escalation_delay_in_minutes or '?'}m) "
                f"targets {_names(rule.targets)}; on call: {who}"
            )
    counts = _open_counts(status.open_incidents)
    if status.open_total is not None and status.open_total > len(status.open_incidents):
        counts += f" of the newest {len(status.open_incidents)}; {status.open_total} open in all"
    lines.append(f"incidents: {counts}")
    lines += [f"  {incident_line(i, tz)}" for i in status.open_incidents[:5]]
    if len(status.open_incidents) > 5:
        lines.append(f"  … {len(status.open_incidents) - 5} more: use pagerduty_list_incidents")
    last = status.last_incident
    lines.append(f"last incident: {incident_line(last, tz) if last else 'none on record'}")
    return "\n".join(lines)


def render_services_overview(overview: ServicesOverview, tz: tzinfo = UTC) -> str:
    within = f" in {overview.scope}" if overview.scope else ""
    if not overview.services:
        return (
            f"All {overview.services_total} services{within} are active (no warning/critical/off)."
        )
    lines = [
        f"{len(overview.services)} of {overview.services_total} services{within} are not active:",
    ]
    for service in overview.services:
        mine = [i for i in overview.open_incidents if i.service and i.service.id == service.id]
        lines.append(
            f"{ref(service)} status={service.status or '?'} {_open_counts(mine)} "
            f"policy={ref(service.escalation_policy)} "
            f"last incident {fmt_time(service.last_incident_timestamp, tz)}"
        )
    return "\n".join(lines)


# -- change events --------------------------------------------------------------------------


def change_line(
    change: ChangeEvent,
    tz: tzinfo = UTC,
    *,
    before: datetime | None = None,
    service: Ref | None = None,
) -> str:
    """One change event; ``service`` (the scope) is not repeated, nor are detail values that
    the summary already shows."""
    lead = (
        f" ({fmt_duration(before - change.timestamp)} before trigger)"
        if before and change.timestamp
        else ""
    )
    services = (
        ""
        if service and [s.id for s in change.services] == [service.id]
        else f" svc={_names(change.services)}"
    )
    link = next((link.href for link in change.links if link.href), None)
    summary = change.summary or ""
    fresh = {k: v for k, v in change.custom_details.items() if str(v) not in summary}
    details, hidden = telling_details(fresh, limit=3)
    return (
        f"{fmt_time(change.timestamp, tz)}{lead} {change.id}{services} "
        f"source={quote_untrusted(change.source or '', 40)} {quote_untrusted(summary)}"
        + (f" link={quote_untrusted(link, 100)}" if link else "")
        + (f" {details}" if details else "")
        + (f" (+{hidden} fields)" if hidden else "")
    )


def render_changes(result: ChangeList, tz: tzinfo = UTC) -> str:
    """Newest first; PagerDuty's related change events flagged, listed only if not shown."""
    window = result.window
    trigger = result.incident.created_at if result.incident else None
    total = result.total if result.total is not None else len(result.changes)
    lines = [
        f"Change events for {result.scope}, {window.label} "
        f"({fmt_time(window.since, tz)}..{fmt_time(window.until, tz)}): {total}"
    ]
    related = {c.id for c in result.related}
    lines += [
        change_line(c, tz, before=trigger, service=result.service)
        + (" (PagerDuty-related)" if c.id in related else "")
        for c in result.changes
    ]
    if total > len(result.changes):
        lines.append(f"showing {len(result.changes)} of {total}; narrow with a shorter time_range")
    if total == 0:
        lines.append(
            "Widen the time range; change events exist only for services with a change "
            "integration (deploys, config changes sent to PagerDuty)."
        )
    shown = {c.id for c in result.changes}
    unseen = [c for c in result.related if c.id not in shown]
    if unseen:
        lines.append("PagerDuty also relates these to the incident:")
        lines += [change_line(c, tz, before=trigger) for c in unseen]
    if result.related_note:
        lines.append(result.related_note)
    return "\n".join(lines)


# -- similar incidents -------------------------------------------------------------------------


def _seconds(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)


def similar_line(rank: int, match: SimilarIncident, tz: tzinfo = UTC) -> str:
    """One match: who, what, when, how long, why it matched and how it was fixed."""
    number = f"#{match.number} " if match.number is not None else ""
    status = (
        f"resolved in {fmt_duration(_seconds(match.time_to_resolve_seconds))}"
        if match.status == "resolved"
        else match.status
    )
    why = [f"similarity {match.similarity:.2f}"]
    if match.detail_similarity is not None:
        why.append(f"trigger details {match.detail_similarity:.2f}")
    if match.same_service:
        why.append("same service")
    if match.shared_terms:
        why.append("shared: " + ", ".join(match.shared_terms))
    if match.pagerduty_score is not None:
        why.append(f"PagerDuty score {match.pagerduty_score:g}")
    parts = [
        f"{rank}. {number}{match.id} {quote_untrusted(match.title)}",
        f"service {clean_name(match.service_name or '?', 40)} ({match.service_id or '?'})",
        fmt_time(match.created_at, tz),
        status,
        f"score {match.score:.2f}",
        "why: " + "; ".join(why),
    ]
    if match.resolution is not None:
        by = f" by {clean_name(match.resolution.by, 40)}" if match.resolution.by else ""
        kind = "note" if match.resolution.source == "note" else "resolve log entry"
        parts.append(f"fix ({kind}{by}): {quote_untrusted(match.resolution.summary, 160)}")
    return " | ".join(parts)


def recent_line(match: SimilarIncident, shown: dict[str, int], until: datetime, tz: tzinfo) -> str:
    """One recent earlier occurrence: when, how long before, and which match it is (if any)."""
    number = f"#{match.number} " if match.number is not None else ""
    ago = fmt_duration(until - match.created_at)
    where = f"= match {shown[match.id]}" if match.id in shown else quote_untrusted(match.title, 80)
    return f"- {number}{match.id} {fmt_time(match.created_at, tz)} ({ago} ago) {where}"


def fix_line(rank: int, fix: FixGroup) -> str:
    """One way the matches were fixed, with the incidents it fixed."""
    numbers = ", ".join(
        f"#{n}" if n is not None else i for n, i in zip(fix.numbers, fix.incident_ids, strict=True)
    )
    evidence = "their trigger details match this one's" if fix.matches_trigger else "by title"
    return (
        f"Fix {rank} ({len(fix.incident_ids)}x: {numbers}; {evidence}): "
        f"{quote_untrusted(fix.summary, 160)}"
    )


def render_similar_incidents(result: SimilarIncidents, tz: tzinfo = UTC) -> str:
    """Header, one line per match, the most recent earlier occurrences, the fixes grouped, the
    pattern, and any notices (e.g. the 402 fallback)."""
    query = result.query
    if query.kind == "incident":
        number = f"#{query.incident_number} " if query.incident_number is not None else ""
        subject = f"incident {number}{query.incident_id} {quote_untrusted(query.text)}"
    else:
        subject = f"text {quote_untrusted(query.text)}"
    lines = [
        f"Similar incidents to {subject}: this failure happened {result.pattern.count} "
        f"time{'s' if result.pattern.count != 1 else ''} (this one not counted); "
        f"{len(result.matches)} shown, ranked among {result.candidates} incidents in "
        f"{query.scope}, "
        f"{query.since:%Y-%m-%d}..{query.until:%Y-%m-%d} "
        f"({result.requests_used} API requests{', history cached' if result.from_cache else ''})"
    ]
    lines += [similar_line(i, m, tz) for i, m in enumerate(result.matches, start=1)]
    if result.recent:
        shown = {m.id: rank for rank, m in enumerate(result.matches, start=1)}
        lines.append(f"Most recent earlier occurrences ({len(result.recent)}, newest first):")
        lines += [recent_line(m, shown, query.until, tz) for m in result.recent]
    if len(result.fixes) > 1:
        first = (
            " (the first one's incidents had this trigger's details)"
            if result.fixes[0].matches_trigger
            else ""
        )
        lines.append(f"{len(result.fixes)} ways the shown matches were fixed before{first}:")
    lines += [fix_line(i, fix) for i, fix in enumerate(result.fixes, start=1)]
    pattern = result.pattern
    if pattern.count:
        summary = [
            f"Pattern: {pattern.recurrence}",
            f"first {fmt_time(pattern.first_seen, tz)}, last {fmt_time(pattern.last_seen, tz)}",
            "median time to resolve "
            + fmt_duration(_seconds(pattern.median_time_to_resolve_seconds)),
        ]
        if pattern.resolvers:
            summary.append(
                "usually resolved by "
                + ", ".join(f"{clean_name(r.name, 40)} ({r.count})" for r in pattern.resolvers)
            )
        lines.append("; ".join(summary))
    lines += [f"Note: {notice}" for notice in result.notices]
    return "\n".join(lines)
