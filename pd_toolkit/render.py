"""Compact text for LLMs: one line per item, ids always present, no JSON.

Each shared fact (an alert, a change, a shift, a similar match, a duration, a time to
acknowledge) is worded by :mod:`pd_toolkit.phrases` in its ``PLAIN`` style (``Name (PID)``,
untrusted text as ``"quoted"`` capped data); this module lays them out. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import groupby

from pd_toolkit.history.models import FixGroup, SimilarIncident, SimilarIncidents
from pd_toolkit.models import (
    OLDEST,
    Alert,
    ChangeEvent,
    ChangeList,
    ContactMethod,
    EscalationRule,
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
    UserContacts,
)
from pd_toolkit.phrases import (
    FIX_CAP,
    NOT_YET,
    TITLE_CAP,
    WEAK_MATCH,
    ago_phrase,
    alert_details_phrase,
    alert_phrase,
    change_phrase,
    clean_name,
    entry_phrase,
    fmt_duration,
    fmt_time,
    note_phrase,
    notify_phrase,
    quote_untrusted,
    ref,
    resolution_phrase,
    response_times,
    seconds_duration,
    shift_phrase,
    similar_phrase,
)

NOTHING_FOUND = (
    "Widen the time range or drop a filter to see more (a User Token key sees only what its "
    "user may see)."
)


def _names(items: Iterable[Ref]) -> str:
    return ", ".join(ref(item) for item in items) or "-"


def _number(incident: Incident) -> str:
    return f"#{incident.incident_number}" if incident.incident_number else "#?"


# -- incidents ------------------------------------------------------------------------------


def incident_line(
    incident: Incident,
    tz: tzinfo = UTC,
    *,
    now: datetime | None = None,
    service: str | None = "ref",
) -> str:
    """One incident: number, id, status/urgency, priority, service, age (created time without
    ``now``), assignees, quoted title. ``service``: "ref" names it with its id, "name" by
    name only (the listing gives its id once), None leaves it out (the answer is about it)."""
    priority = f" {clean_name(incident.priority.label, 20)}" if incident.priority else ""
    where = ""
    if service == "ref":
        where = f" {ref(incident.service)}"
    elif service == "name":
        where = f" {incident.service.label if incident.service else '?'}"
    when = (
        f"{fmt_duration(now - incident.created_at)} ago"
        if now is not None and incident.created_at is not None
        else fmt_time(incident.created_at, tz)
    )
    assignees = f"@{_names(incident.assignees)}" if incident.assignees else "unassigned"
    return (
        f"{_number(incident)} {incident.id} {incident.status or '?'}/{incident.urgency or '?'}"
        f"{priority}{where} {when} {assignees} {quote_untrusted(incident.headline)}"
    )


def _service_legend(incidents: Sequence[Incident]) -> str:
    """'services: checkout (PLDGBP0), search (PHQLM0U)': each listed service's id, once."""
    seen = {i.service.id: i.service for i in incidents if i.service and i.service.id}
    return "services: " + ", ".join(ref(s) for s in seen.values())


def render_incident_list(result: IncidentList, tz: tzinfo = UTC) -> str:
    """A header (filters, window, count), then one line per incident; the services are named
    by name in the lines and with their ids once (none when the filter names the service)."""
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
    one_service = "service" in result.filters
    lines = [header] if one_service else [header, _service_legend(result.items)]
    lines += [
        incident_line(i, tz, now=result.at, service=None if one_service else "name")
        for i in result.items
    ]
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
    return f"{fmt_time(moment, tz)} (+{fmt_duration(span)})" if moment else NOT_YET


# -- timeline -------------------------------------------------------------------------------


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
        response_times(incident),
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
                text = notify_phrase([item[2] for item in run])  # type: ignore[misc]
            elif isinstance(first, Note):
                text = note_phrase(first)
            else:
                text = entry_phrase(first)
            lines.append(f"{stamp} {text}")
    if timeline.entries_capped_at is not None:
        lines.append(
            f"showing the first {timeline.entries_capped_at} log entries only; the rest are "
            f"in PagerDuty: {incident.html_url or incident.id}"
        )
    return "\n".join(lines)


# -- alerts ---------------------------------------------------------------------------------


def alert_line(alert: Alert, tz: tzinfo = UTC) -> str:
    """One alert: its id and :func:`~pd_toolkit.phrases.alert_phrase`, its telling details
    on a second line."""
    details = alert_details_phrase(alert)
    return f"{alert.id} {alert_phrase(alert, tz=tz)}" + (f"\n  {details}" if details else "")


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


def _policy_key(oncall: OnCall) -> str:
    return (oncall.escalation_policy.id if oncall.escalation_policy else None) or ""


def render_oncall(report: OnCallReport, tz: tzinfo = UTC) -> str:
    """Per escalation policy, per level: who, via which schedule, until when, who then takes
    over; with contacts asked for, how to reach each user."""
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
                + "; ".join(
                    shift_phrase(o, tz=tz, handover=report.handover(o)) for o in level_shifts
                )
            )
    if report.total is not None and report.total > len(report.oncalls):
        lines.append(
            f"showing {len(report.oncalls)} of {report.total} on-call entries; "
            "narrow with team=, service=, schedule= or escalation_policy="
        )
    if report.contacts or report.contacts_left_out:
        lines.append("contacts:")
        lines += [f"  {_contacts_line(contacts)}" for contacts in report.contacts]
        if report.contacts_left_out:
            lines.append(
                f"  contacts of {report.contacts_left_out} more user"
                f"{'s' if report.contacts_left_out != 1 else ''} not fetched; "
                "narrow with team=, service=, schedule= or escalation_policy="
            )
    return "\n".join(lines)


_REACHABLE = ("email", "phone", "sms", "whatsapp")  # contact kinds a person can use


def _address(method: ContactMethod) -> str:
    """The address as written (a number with its country code), one line, quotes neutralised."""
    address = clean_name(method.address, 80).replace('"', "'")
    return f"+{method.country_code} {address}" if method.country_code else address


def _contacts_line(contacts: UserContacts) -> str:
    """'Ann (PUSR001): email "Work" ann@example.com; phone/sms "Mobile" +1 5555550100':
    methods with the same label and address merged, labels quoted (both are user-written)."""
    if contacts.error:
        return (
            f"{ref(contacts.user)}: contact methods unavailable ({clean_name(contacts.error, 160)})"
        )
    merged: dict[tuple[str, str], list[str]] = {}
    for method in contacts.methods:
        if method.kind in _REACHABLE and method.address:
            key = (quote_untrusted(method.label, 60), _address(method))
            merged.setdefault(key, []).append(method.kind)
    shown = "; ".join(
        f"{'/'.join(kinds)} {label} {address}" for (label, address), kinds in merged.items()
    )
    return f"{ref(contacts.user)}: {shown or 'no email, phone or SMS address'}"


# -- services -------------------------------------------------------------------------------


def _open_counts(incidents: Sequence[Incident]) -> str:
    high = sum(1 for i in incidents if i.urgency == "high")
    return f"{len(incidents)} open ({high} high, {len(incidents) - high} low)"


def _level_line(number: int, rule: EscalationRule, oncalls: Sequence[OnCall], tz: tzinfo) -> str:
    """'L1 (escalates after 10m): schedule Primary (PS4WEAM), on call Hana Sato (P04XEQF)
    until ...': each target once, with who is on call through it (a user target is on call
    itself), then anyone on call at this level through something the rule does not name."""
    parts = []
    for target in rule.targets:
        through = [o for o in oncalls if o.schedule and o.schedule.id == target.id]
        if through:
            who = "; ".join(
                f"{ref(o.user)} until {fmt_time(o.end, tz)}" if o.end else ref(o.user)
                for o in through
            )
            parts.append(f"schedule {ref(target)}, on call {who}")
        elif any(o.user and o.user.id == target.id for o in oncalls):
            parts.append(f"{ref(target)}, always on call")
        else:
            kind = "schedule " if target.type and target.type.startswith("schedule") else ""
            parts.append(f"{kind}{ref(target)}, nobody on call")
    named = {t.id for t in rule.targets}
    parts += [
        shift_phrase(o, tz=tz)
        for o in oncalls
        if (o.schedule.id if o.schedule else o.user.id if o.user else None) not in named
    ]
    delay = rule.escalation_delay_in_minutes
    return f"  L{number} (escalates after {delay if delay is not None else '?'}m): " + "; ".join(
        parts
    )


def render_service_status(status: ServiceStatus, tz: tzinfo = UTC) -> str:
    """The service, its policy's levels (each target once, with who is on call through it),
    its open incidents (without the service, which the header names) and its last one."""
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
        lines += [
            _level_line(number, rule, by_level.get(number, []), tz)
            for number, rule in enumerate(policy.escalation_rules, start=1)
        ]
    counts = _open_counts(status.open_incidents)
    if status.open_total is not None and status.open_total > len(status.open_incidents):
        counts += f" of the newest {len(status.open_incidents)}; {status.open_total} open in all"
    lines.append(f"incidents: {counts}")
    shown = status.open_incidents[:5]
    lines += [f"  {incident_line(i, tz, now=status.at, service=None)}" for i in shown]
    if len(status.open_incidents) > 5:
        lines.append(f"  … {len(status.open_incidents) - 5} more: use pagerduty_list_incidents")
    last = status.last_incident
    if last is None:
        lines.append("last incident: none on record")
    elif any(last.id == i.id for i in shown):
        lines.append(f"last incident: {_number(last)}, the newest open one above")
    else:
        lines.append(f"last incident: {incident_line(last, tz, now=status.at, service=None)}")
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
    trigger: datetime | None = None,
    service: Ref | None = None,
    related: bool = False,
) -> str:
    """One change event: its id and :func:`~pd_toolkit.phrases.change_phrase`."""
    phrase = change_phrase(change, tz=tz, trigger=trigger, scope=service, related=related)
    return f"{change.id} {phrase}"


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
        change_line(c, tz, trigger=trigger, service=result.service, related=c.id in related)
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
        lines += [
            change_line(c, tz, trigger=trigger, service=result.service, related=True)
            for c in unseen
        ]
    if result.related_note:
        lines.append(result.related_note)
    return "\n".join(lines)


# -- similar incidents -------------------------------------------------------------------------


def similar_line(rank: int, match: SimilarIncident, tz: tzinfo = UTC) -> str:
    """One match: rank, number, id, :func:`~pd_toolkit.phrases.similar_phrase`, and its fix;
    a weak match is marked possibly related, with no fix."""
    record = match.incident
    number = f"#{record.number} " if record.number is not None else ""
    mark = f"{WEAK_MATCH}: " if match.weak else ""
    parts = [f"{rank}. {mark}{number}{record.id} {similar_phrase(match, tz=tz)}"]
    if match.resolution is not None and not match.weak:
        parts.append(resolution_phrase(match.resolution))
    return " | ".join(parts)


def recent_line(match: SimilarIncident, shown: dict[str, int], until: datetime, tz: tzinfo) -> str:
    """One recent earlier occurrence: when, how long before, and which match it is (if any)."""
    record = match.incident
    number = f"#{record.number} " if record.number is not None else ""
    where = (
        f"= match {shown[record.id]}" if record.id in shown else quote_untrusted(record.title, 80)
    )
    return f"- {number}{record.id} {ago_phrase(record.created_at, until, tz)} {where}"


def fix_line(rank: int, fix: FixGroup) -> str:
    """One way the matches were fixed, with the incidents it fixed."""
    numbers = ", ".join(
        f"#{n}" if n is not None else i for n, i in zip(fix.numbers, fix.incident_ids, strict=True)
    )
    evidence = "their trigger details match this one's" if fix.matches_trigger else "by title"
    return (
        f"Fix {rank} ({len(fix.incident_ids)}x: {numbers}; {evidence}): "
        f"{quote_untrusted(fix.summary, FIX_CAP)}"
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
    searched = (
        f"{result.candidates} incidents in {query.scope}, "
        f"{query.since:%Y-%m-%d}..{query.until:%Y-%m-%d} "
        f"({result.requests_used} API requests{', history cached' if result.from_cache else ''})"
    )
    count = result.pattern.count
    if count:
        head = (
            f"Similar incidents to {subject}: this failure happened {count} "
            f"time{'s' if count != 1 else ''} (this one not counted); "
            f"{len(result.matches)} shown, ranked among {searched}"
        )
    else:
        weak = len(result.matches)
        head = f"No similar incident found for {subject} among {searched}" + (
            f"; {weak} {WEAK_MATCH} (weak) shown, no fix offered" if weak else ""
        )
    lines = [head]
    lines += [similar_line(i, m, tz) for i, m in enumerate(result.matches, start=1)]
    if result.recent:
        shown = {m.incident.id: rank for rank, m in enumerate(result.matches, start=1)}
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
            "median time to resolve " + seconds_duration(pattern.median_time_to_resolve_seconds),
        ]
        if pattern.resolvers:
            summary.append(
                "usually resolved by "
                + ", ".join(f"{clean_name(r.name, 40)} ({r.count})" for r in pattern.resolvers)
            )
        lines.append("; ".join(summary))
        if pattern.signals is not None:
            signals = pattern.signals
            lines.append(
                f"Counted because alike (of {pattern.count}): title {signals.title}, trigger "
                f"details {signals.details}, same service {signals.service}, same incident_key "
                f"{signals.incident_key}"
            )
    lines += [f"Note: {notice}" for notice in result.notices]
    return "\n".join(lines)
