"""The deterministic Markdown brief of an investigation, built from the graph's JSON state alone.

Every fact carries its evidence id as ``[kind ID]`` (kinds in :data:`EVIDENCE_KINDS`). The facts
the tools also show are worded by :mod:`pd_toolkit.phrases` in the :data:`MARKDOWN` style: text
that anyone who can send an alert controls (titles, alert fields, notes, change summaries) is
quoted, capped and set in a code span, so Markdown inside it (links, headings, fake citations)
renders as inert text. Names (users, services, teams, schedules, policies, resolvers, scopes,
priorities) and lookup errors are untrusted too: one shows as itself only when it is made of
letters, digits, spaces and ``-'&,/()+#?``, which cannot form a link, autolink, emphasis or HTML;
any other is set like a title. What the data suggests (suspects, fixes, who to reach) comes from
:mod:`agents.analysis`; the lookups' titles from :mod:`agents.lookups`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime, tzinfo
from typing import Any, TypeVar

from pydantic import BaseModel

from agents.analysis import SUSPECT_WINDOW, closest_before, first_oncall, fixes_to_try, suspects
from agents.lookups import TITLES
from pd_toolkit.history import SimilarIncident, SimilarIncidents
from pd_toolkit.models import (
    OLDEST,
    Alert,
    ChangeEvent,
    ChangeList,
    Incident,
    IncidentAlerts,
    IncidentTimeline,
    LogEntry,
    Note,
    OnCall,
    OnCallReport,
    Ref,
    ServiceStatus,
)
from pd_toolkit.phrases import (
    FIX_CAP,
    TITLE_CAP,
    TOLD_KINDS,
    WEAK_MATCH,
    Style,
    ago_phrase,
    alert_details_phrase,
    alert_phrase,
    change_phrase,
    clean_name,
    entry_phrase,
    fmt_duration,
    fmt_time,
    lead_time,
    note_phrase,
    notify_phrase,
    quote_untrusted,
    resolution_phrase,
    response_times,
    seconds_duration,
    shift_phrase,
    similar_phrase,
)

EVIDENCE_KINDS = (
    "incident",
    "alert",
    "log",
    "note",
    "change",
    "service",
    "policy",
    "schedule",
    "user",
    "team",
)
EVIDENCE = re.compile(rf"\[({'|'.join(EVIDENCE_KINDS)}) ([A-Za-z0-9_-]+)\]")
MAX_TIMELINE = 12
TIMELINE_HEAD = 4
MAX_ALERTS = 5
MAX_CHANGES = 8
MAX_OTHER_OPEN = 5
HIGHLIGHT_KINDS = TOLD_KINDS | {"notify"}
STATUS_TITLE = "Status and impact"
ASSESSMENT_TITLE = "Assessment (model-written; citations checked)"
NO_GAPS = "- None: every lookup answered."

M = TypeVar("M", bound=BaseModel)
# Letters, digits, spaces and characters that start no Markdown construct (no "." or ":" for
# autolinks, no []!*_~`<>|\ for links, emphasis, HTML, tables or escapes); "…" ends a cut name.
_PLAIN_NAME = re.compile(r"(?:[^\W_]|[ \-'&,/()+#?])+…?")


def cite(kind: str, ident: str | None) -> str:
    """``[kind ID]``, or nothing when the id is unknown."""
    return f"[{kind} {ident}]" if ident else ""


def untrusted(text: Any, cap: int = TITLE_CAP) -> str:
    """Untrusted text as an inert, quoted, capped code span."""
    return f"`{quote_untrusted(text, cap)}`"


def inert_name(text: Any, cap: int = 60) -> str:
    """An untrusted name (or a one-line message) as itself when it is made of letters, digits,
    spaces and ``-'&,/()+#?`` only, else as the inert code span of :func:`untrusted`."""
    name = clean_name(text, cap)
    return name if _PLAIN_NAME.fullmatch(name) else untrusted(text, cap)


def _name(item: Ref | None, kind: str) -> str:
    """'Hana Sato [user P04XEQF]'."""
    if item is None:
        return "-"
    return f"{inert_name(item.label)} {cite(kind, item.id)}".strip()


MARKDOWN = Style(name=_name, text=untrusted, label=inert_name)
"""The brief's style: ``Name [kind ID]``, names by :func:`inert_name`, untrusted text as an inert
code span."""


def _artifact(state: Mapping[str, Any], name: str, model: type[M]) -> M | None:
    """The artifact of a successful lookup, parsed back into its model (None when the lookup
    failed or found nothing)."""
    record = (state.get("lookups") or {}).get(name)
    if not record or not record.get("ok") or record.get("artifact") is None:
        return None
    return model.model_validate(record["artifact"])  # a shape bug raises, never reads as a gap


def _failure(state: Mapping[str, Any], name: str) -> str:
    """Why lookup ``name`` has nothing to show."""
    record = (state.get("lookups") or {}).get(name)
    if record is None:
        return "_Unavailable: this lookup did not run._"
    return f"_Unavailable: {inert_name(record.get('error') or 'no data returned', 300)}_"


# -- sections -------------------------------------------------------------------------------


def _status_section(
    incident: Incident, status: ServiceStatus | None, now: datetime, tz: tzinfo
) -> list[str]:
    ev = cite("incident", incident.id)
    created = incident.created_at
    age = f" ({fmt_duration(now - created)} ago)" if created else ""
    acked = (
        f"{fmt_time(incident.acknowledged_at, tz)} by "
        + ", ".join(_name(a, "user") for a in incident.acknowledgers)
        if incident.acknowledged_at
        else "not yet"
    )
    resolved = fmt_time(incident.resolved_time, tz) if incident.resolved_time else "not yet"
    counts = incident.alert_counts
    alerts = (
        f"{counts.all} ({counts.triggered} triggered, {counts.resolved} resolved)"
        if counts and counts.all is not None
        else "unknown"
    )
    priority = inert_name(incident.priority.label, 20) if incident.priority else "none"
    lines = [
        f"- Status **{incident.status or '?'}**, urgency **{incident.urgency or '?'}**, "
        f"priority **{priority}** {ev}",
        f"- Triggered {fmt_time(created, tz)}{age}; acknowledged {acked}; resolved {resolved} {ev}",
        f"- Alerts: {alerts} {ev}",
        f"- Assigned to {', '.join(_name(a, 'user') for a in incident.assignees) or 'nobody'}; "
        f"teams: {', '.join(_name(t, 'team') for t in incident.teams) or 'none'}",
    ]
    if status is not None:
        service = status.service
        opened = status.open_total if status.open_total is not None else len(status.open_incidents)
        high = sum(1 for i in status.open_incidents if i.urgency == "high")
        lines.append(
            f"- Service {_name(service, 'service')} is **{service.status or '?'}** with "
            f"{opened} open incident(s) ({high} high urgency)"
        )
    elif incident.service:
        lines.append(f"- Service {_name(incident.service, 'service')}")
    if incident.html_url:
        lines.append(f"- PagerDuty: <{incident.html_url}>")
    return lines


def _timeline_rows(timeline: IncidentTimeline) -> Iterator[tuple[datetime | None, str]]:
    """(time, line) per highlight: notify runs collapsed, notes interleaved."""
    events: list[LogEntry | Note] = [e for e in timeline.entries if e.kind in HIGHLIGHT_KINDS]
    events += timeline.notes
    events.sort(key=lambda e: e.created_at or OLDEST)
    run: list[LogEntry] = []
    for event in [*events, None]:
        if isinstance(event, LogEntry) and event.kind == "notify":
            run.append(event)
            continue
        if run:
            yield run[0].created_at, f"{notify_phrase(run, MARKDOWN)} {cite('log', run[0].id)}"
            run = []
        if isinstance(event, Note):
            yield event.created_at, f"{note_phrase(event, MARKDOWN)} {cite('note', event.id)}"
        elif isinstance(event, LogEntry):
            yield event.created_at, f"{entry_phrase(event, MARKDOWN)} {cite('log', event.id)}"


def _timeline_section(timeline: IncidentTimeline, tz: tzinfo) -> list[str]:
    rows = list(_timeline_rows(timeline))
    incident = timeline.incident
    lines = [f"- {response_times(incident)} {cite('incident', incident.id)}"]
    shown = [f"- {fmt_time(moment, tz)} {text}" for moment, text in rows]
    if len(shown) > MAX_TIMELINE:  # how it started, and the latest
        hidden = len(shown) - MAX_TIMELINE
        shown[TIMELINE_HEAD : -(MAX_TIMELINE - TIMELINE_HEAD)] = [f"- … {hidden} more entries"]
    lines += shown
    if not rows:
        lines.append("- No log entries yet.")
    return lines


def _alert_line(alert: Alert, tz: tzinfo) -> str:
    line = f"- {alert_phrase(alert, MARKDOWN, tz)} {cite('alert', alert.id)}"
    details = alert_details_phrase(alert, MARKDOWN)
    return line + (f"\n  - {details}" if details else "")


def _alerts_section(result: IncidentAlerts, tz: tzinfo) -> list[str]:
    total = result.total if result.total is not None else len(result.alerts)
    lines = [_alert_line(a, tz) for a in result.alerts[:MAX_ALERTS]]
    if total > len(lines):
        lines.append(f"- showing {len(lines)} of {total} alerts")
    return lines or ["- No alerts on this incident."]


def _oncall_section(
    report: OnCallReport, status: ServiceStatus | None, incident: Incident, tz: tzinfo
) -> list[str]:
    delays: dict[int, int | None] = {}
    if status and status.service.escalation_policy:
        rules = status.service.escalation_policy.escalation_rules
        delays = {n: r.escalation_delay_in_minutes for n, r in enumerate(rules, start=1)}
    lines: list[str] = []
    policies: dict[str | None, list[OnCall]] = {}
    for oncall in sorted(report.oncalls, key=lambda o: o.escalation_level or 99):
        key = oncall.escalation_policy.id if oncall.escalation_policy else None
        policies.setdefault(key, []).append(oncall)
    for shifts in policies.values():
        lines.append(f"- Escalation policy {_name(shifts[0].escalation_policy, 'policy')}:")
        for shift in shifts:
            level = shift.escalation_level
            delay = delays.get(level or 0)
            after = f" (escalates after {delay}m)" if delay is not None else ""
            lines.append(
                f"  - L{level if level is not None else '?'}{after}: "
                f"{shift_phrase(shift, MARKDOWN, tz)}"
            )
    if not report.oncalls:
        lines.append(f"- Nobody is on call for {inert_name(report.target)}.")
    assignees = ", ".join(_name(a, "user") for a in incident.assignees)
    lines.append(f"- Currently assigned: {assignees or 'nobody'} {cite('incident', incident.id)}")
    return lines


def _service_section(status: ServiceStatus, incident: Incident, tz: tzinfo) -> list[str]:
    service = status.service
    lines = [
        f"- {_name(service, 'service')}: status **{service.status or '?'}**; teams: "
        f"{', '.join(_name(t, 'team') for t in service.teams) or 'none'}"
    ]
    others = [i for i in status.open_incidents if i.id != incident.id]
    total = status.open_total if status.open_total is not None else len(status.open_incidents)
    lines.append(f"- Open incidents on the service: {total}")
    for other in others[:MAX_OTHER_OPEN]:
        lines.append(
            f"  - #{other.incident_number} {other.status}/{other.urgency}, since "
            f"{fmt_time(other.created_at, tz)}: {untrusted(other.headline)} "
            f"{cite('incident', other.id)}"
        )
    if len(others) > MAX_OTHER_OPEN:
        lines.append(f"  - … {len(others) - MAX_OTHER_OPEN} more")
    last = status.last_incident
    if last and last.id != incident.id:
        lines.append(
            f"- Last incident before this one: #{last.incident_number} "
            f"{fmt_time(last.created_at, tz)} {cite('incident', last.id)}"
        )
    return lines


def _change_line(
    change: ChangeEvent, changes: ChangeList, trigger: datetime | None, tz: tzinfo
) -> str:
    related = change.id is not None and change.id in {c.id for c in changes.related}
    phrase = change_phrase(
        change, MARKDOWN, tz, trigger=trigger, scope=changes.service, related=related
    )
    return f"{phrase} {cite('change', change.id)}"


def _changes_section(changes: ChangeList, trigger: datetime | None, tz: tzinfo) -> list[str]:
    ordered = suspects(changes, trigger)
    scope = inert_name(changes.scope, 120)
    lines = [
        f"Window: {changes.window.label} ({fmt_time(changes.window.since, tz)}.."
        f"{fmt_time(changes.window.until, tz)}), {scope}; closest to the trigger first.",
        "",
    ]
    lines += [
        f"{n}. {_change_line(c, changes, trigger, tz)}"
        for n, c in enumerate(ordered[:MAX_CHANGES], start=1)
    ]
    if len(ordered) > MAX_CHANGES:
        lines.append(f"\n… {len(ordered) - MAX_CHANGES} more change events")
    if not ordered:
        lines.append("No change events in the window.")
    return lines


def _similar_line(match: SimilarIncident, tz: tzinfo) -> str:
    """One match; a weak one is marked possibly related, and its fix is not offered."""
    record = match.incident
    mark = f"{WEAK_MATCH} (weak): " if match.weak else ""
    line = f"{mark}#{record.number} {similar_phrase(match, MARKDOWN, tz)} "
    line += cite("incident", record.id)
    if match.resolution and not match.weak:
        line += f"\n   - {resolution_phrase(match.resolution, MARKDOWN)}"
    return line


def _similar_section(similar: SimilarIncidents, tz: tzinfo) -> list[str]:
    query = similar.query
    pattern = similar.pattern
    lines = [
        f"Searched {similar.candidates} incidents in {inert_name(query.scope)}, "
        f"{fmt_time(query.since, tz)[:10]}..{fmt_time(query.until, tz)[:10]}.",
        "",
    ]
    if not any(not m.weak for m in similar.matches):
        lines += [
            "No similar past incident found (none reached the match threshold)"
            + (f"; the {len(similar.matches)} nearest, {WEAK_MATCH}:" if similar.matches else ".")
        ]
    lines += [f"{n}. {_similar_line(m, tz)}" for n, m in enumerate(similar.matches, start=1)]
    if similar.recent:
        shown = {m.incident.id: n for n, m in enumerate(similar.matches, start=1)}
        lines += ["", "Most recent earlier occurrences (however worded):"]
        lines += [
            f"- #{r.number} {ago_phrase(r.created_at, query.until, tz)} "
            + (f"= match {shown[r.id]}" if r.id in shown else untrusted(r.title, 80))
            + f" {cite('incident', r.id)}"
            for r in (m.incident for m in similar.recent)
        ]
    if pattern.count:
        resolvers = ", ".join(f"{inert_name(r.name)} ({r.count})" for r in pattern.resolvers)
        lines += [  # the recurrence is worded from times alone: no untrusted text
            "",
            f"Pattern: {clean_name(pattern.recurrence or f'{pattern.count} times', 200)}; "
            f"median time to resolve {seconds_duration(pattern.median_time_to_resolve_seconds)}"
            + (f"; usually resolved by {resolvers}" if resolvers else ""),
        ]
    return lines


def _next_steps(
    incident: Incident,
    similar: SimilarIncidents | None,
    changes: ChangeList | None,
    oncall: OnCallReport | None,
) -> list[str]:
    steps: list[str] = []
    if similar:
        ways = len(similar.fixes)
        for n, fix in enumerate(fixes_to_try(similar)):
            numbers = ", ".join(f"#{number}" for number in fix.numbers)
            evidence = " ".join(cite("incident", i) for i in fix.incident_ids)
            why = (
                "their trigger details match this one's"
                if fix.matches_trigger
                else f"{len(fix.incident_ids)} of the {len(similar.matches)} most similar"
            )
            lead = "Try" if n == 0 else "Else try"
            of_ways = f" (way {n + 1} of {ways} this was fixed before)" if ways > 1 else ""
            steps.append(
                f"{lead} the fix that resolved {numbers}{of_ways}; {why}: "
                f"{untrusted(fix.summary, FIX_CAP)} {evidence}"
            )
        if similar.pattern.resolvers:
            usual = similar.pattern.resolvers[0]
            steps.append(
                f"Ask {inert_name(usual.name)}, who resolved {usual.count} similar incident(s) "
                f"in the last {similar.pattern.window_days} days."
            )
    trigger = incident.created_at
    closest = closest_before(changes, trigger, SUSPECT_WINDOW)
    if closest is not None:
        steps.append(
            f"Rule out the change {lead_time(closest.timestamp, trigger)} (roll it back if the "
            f"errors started with it): {untrusted(closest.summary)} {cite('change', closest.id)}"
        )
    if incident.status == "triggered":
        first = first_oncall(oncall)
        if first and first.user:
            steps.append(
                f"Nobody has acknowledged yet: reach the level {first.escalation_level} on-call "
                f"{_name(first.user, 'user')}."
            )
    if not steps:
        steps.append(
            "No similar incident with a recorded fix and no recent change: start from the "
            "alert details above."
        )
    return [f"{n}. {step}" for n, step in enumerate(steps, start=1)]


def _gaps(state: Mapping[str, Any]) -> list[str]:
    lines = []
    for name, record in (state.get("lookups") or {}).items():
        title = TITLES.get(name, name)
        if not record.get("ok"):
            error = inert_name(record.get("error") or "?", 300)
            lines.append(f"- **{title}**: unavailable: {error}")
    similar = _artifact(state, "similar_history", SimilarIncidents)
    for notice in similar.notices if similar else []:
        lines.append(f"- **Similar incidents**: {inert_name(notice, 300)}")
    changes = _artifact(state, "recent_changes", ChangeList)
    if changes and changes.related_note:
        lines.append(f"- **Recent changes**: {inert_name(changes.related_note, 300)}")
    return lines or [NO_GAPS]


def _summary(
    incident: Incident,
    now: datetime,
    tz: tzinfo,
    oncall: OnCallReport | None,
    changes: ChangeList | None,
    similar: SimilarIncidents | None,
) -> list[str]:
    ev = cite("incident", incident.id)
    since = (
        f" since {fmt_time(incident.created_at, tz)} ({fmt_duration(now - incident.created_at)})"
        if incident.created_at
        else ""
    )
    priority = f" {inert_name(incident.priority.label, 20)}" if incident.priority else ""
    lines = [
        f"- **#{incident.incident_number}** {untrusted(incident.headline)} is "
        f"**{incident.status or '?'}** ({incident.urgency or '?'} urgency{priority}) on "
        f"{_name(incident.service, 'service')}{since} {ev}"
    ]
    who = ", ".join(_name(a, "user") for a in incident.assignees) or "nobody"
    acked = "acknowledged" if incident.acknowledged_at else "not acknowledged"
    lines.append(f"- Assigned to {who}; {acked} {ev}")
    first = first_oncall(oncall)
    if first is not None:
        lines.append(
            f"- On call first: {_name(first.user, 'user')} (L{first.escalation_level}) for "
            f"{_name(first.escalation_policy, 'policy')}"
        )
    trigger = incident.created_at
    closest = closest_before(changes, trigger)
    if closest is not None:
        lines.append(
            f"- Closest change: {untrusted(closest.summary)}, "
            f"{lead_time(closest.timestamp, trigger)} {cite('change', closest.id)}"
        )
    strong = [m for m in similar.matches if not m.weak] if similar else []
    if similar and similar.matches and not strong:
        lines.append(
            f"- Not seen before: no similar incident in {similar.pattern.window_days} days "
            f"({len(similar.matches)} {WEAK_MATCH}, weak: no past fix to suggest)"
        )
    elif similar and strong:
        top = strong[0].incident
        latest = similar.recent[0].incident if similar.recent else None
        last = f", last on {fmt_time(latest.created_at, tz)} (#{latest.number})" if latest else ""
        fix = (
            f"; fixed before by: {untrusted(similar.fixes[0].summary, FIX_CAP)} "
            + " ".join(cite("incident", i) for i in similar.fixes[0].incident_ids[:3])
            if similar.fixes
            else f"; most similar #{top.number} {cite('incident', top.id)}"
        )
        lines.append(
            f"- Seen before: {similar.pattern.count} similar incident(s) in "
            f"{similar.pattern.window_days} days{last}{fix}"
        )
    return lines


def with_assessment(brief: str, text: str | None, error: str | None) -> str:
    """``brief`` (composed once, by :func:`compose_brief`) with the model's assessment
    (``text``: citations checked and made inert by :mod:`agents.synthesis`) placed after the
    Summary, or, when the model failed, why among the data gaps."""
    if text:
        head, mark, rest = brief.partition(f"## {STATUS_TITLE}")
        if mark:
            brief = f"{head}## {ASSESSMENT_TITLE}\n\n{text}\n\n{mark}{rest}"
    if error:
        gap = f"- **Assessment**: model unavailable: {inert_name(error, 300)}"
        brief = brief.replace(NO_GAPS, gap) if NO_GAPS in brief else f"{brief.rstrip()}\n{gap}\n"
    return brief


def compose_brief(state: Mapping[str, Any], tz: tzinfo) -> str:
    """The Markdown brief of ``state`` (the model's assessment is added by
    :func:`with_assessment`, so the brief is composed once)."""
    now = datetime.fromisoformat(state["investigated_at"])
    if not state.get("target"):
        record = (state.get("lookups") or {}).get("incident") or {}
        return _nothing_open_brief(state, tz) if record.get("ok") else _failed_brief(state)
    incident = Incident.model_validate(state["target"])
    timeline = _artifact(state, "timeline", IncidentTimeline)
    alerts = _artifact(state, "alerts", IncidentAlerts)
    oncall = _artifact(state, "oncall", OnCallReport)
    status = _artifact(state, "service_status", ServiceStatus)
    similar = _artifact(state, "similar_history", SimilarIncidents)
    changes = _artifact(state, "recent_changes", ChangeList)
    trigger = incident.created_at
    sections: list[tuple[str, list[str]]] = [
        ("Summary", _summary(incident, now, tz, oncall, changes, similar)),
        (STATUS_TITLE, _status_section(incident, status, now, tz)),
        (
            "Timeline highlights",
            _timeline_section(timeline, tz) if timeline else [_failure(state, "timeline")],
        ),
        (
            "Alerts and trigger data",
            _alerts_section(alerts, tz) if alerts else [_failure(state, "alerts")],
        ),
        (
            "On call and escalation",
            _oncall_section(oncall, status, incident, tz)
            if oncall
            else [_failure(state, "oncall")],
        ),
        (
            "Service health",
            _service_section(status, incident, tz)
            if status
            else [_failure(state, "service_status")],
        ),
        (
            "Recent changes",
            _changes_section(changes, trigger, tz)
            if changes
            else [_failure(state, "recent_changes")],
        ),
        (
            "Similar past incidents and how they were resolved",
            _similar_section(similar, tz) if similar else [_failure(state, "similar_history")],
        ),
        ("Suggested next steps", _next_steps(incident, similar, changes, oncall)),
        ("Data gaps", _gaps(state)),
    ]
    title = (
        f"# Incident #{incident.incident_number}: {untrusted(incident.headline)} "
        f"{cite('incident', incident.id)}"
    )
    stamp = f"_Investigated {fmt_time(now, tz)}._"
    body = "\n\n".join(f"## {name}\n\n" + "\n".join(lines) for name, lines in sections)
    return f"{title}\n\n{stamp}\n\n{body}\n"


def _nothing_open_brief(state: Mapping[str, Any], tz: tzinfo) -> str:
    """No open incident where the investigation looked: an answer, not a failure."""
    record = (state.get("lookups") or {}).get("incident") or {}
    filters = (record.get("artifact") or {}).get("filters") or {}
    now = datetime.fromisoformat(state["investigated_at"])
    steps = [
        "Run again with an incident number (`python -m agents.investigate 1234`), an incident "
        "id or URL: resolved incidents can be investigated too."
    ]
    if filters.get("service"):
        where = f"on service {inert_name(filters['service'], 120)}"
        steps.append("Run without `--service` for the most urgent open incident anywhere.")
    elif filters.get("team scope"):
        where = f"in the team scope {inert_name(filters['team scope'], 200)}"
        steps.append(
            "Other teams' incidents are outside the team scope (`PAGERDUTY_TEAMS`): unset it "
            "to look at the whole account."
        )
    else:
        where = "on the account"
    return (
        "# Nothing open to investigate\n\n"
        f"## Summary\n\nNo open incident {where} at {fmt_time(now, tz)}.\n\n"
        "## Suggested next steps\n\n"
        + "\n".join(f"{n}. {step}" for n, step in enumerate(steps, start=1))
        + "\n"
    )


def _failed_brief(state: Mapping[str, Any]) -> str:
    record = (state.get("lookups") or {}).get("incident") or {}
    error = inert_name(record.get("error") or "no incident was found", 500)
    return (
        "# Investigation could not start\n\n"
        f"## Summary\n\nNo incident to investigate: {error}\n\n"
        "## Suggested next steps\n\n"
        "1. Fix what the message above says (key, region, or the incident reference).\n"
        "2. Run again with an incident number (`python -m agents.investigate 1234`), an "
        "incident id or URL, or `--service NAME` for that service's newest open incident.\n\n"
        "## Data gaps\n\n" + "\n".join(_gaps(state)) + "\n"
    )
