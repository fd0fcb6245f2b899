"""One wording per fact: the phrase builders that both renderers use.

The tools' compact text (:mod:`pd_toolkit.render`) and the investigation's Markdown brief
(``agents/brief.py``) say the same facts: an alert, a change, an on-call shift, a similar
incident and its fix, a duration, a time to acknowledge. Each fact is phrased here once, apart
from the output format: a renderer passes its :class:`Style`, which says how a named object
cites its id (``Ann (PUSR001)`` for the model, ``Ann [user PUSR001]`` in the brief) and how
untrusted text is set. The phrase of an item never carries the item's own id: each renderer
places that where its format wants it.

Text written by whoever can send an alert (titles, alert bodies, notes, change summaries) is
untrusted: :func:`quote_untrusted` renders it as quoted, length-capped data, so that it reads as
a value and never as an instruction. So are the names of users, services, teams, schedules and
policies (:func:`clean_name`). Both flatten the text to one line, remove every invisible
character (Unicode format characters: bidi controls and isolates, zero-width characters, soft
hyphen, BOM, tag characters; C0/C1 controls; U+2028/2029) and neutralise chat mentions (a Slack
token's ``<``/``>`` become the single angle quotation marks U+2039/U+203A, a mention's ``@`` the
fullwidth U+FF20; emails stay as they are), so that what a reader sees is what was written and a
note mirrored into Slack pings nobody. :func:`inert_text` does the same to multi-line text,
keeping its line breaks. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from pd_toolkit.history.models import Resolution, SimilarIncident
from pd_toolkit.models import (
    Alert,
    ChangeEvent,
    Handover,
    Incident,
    LogEntry,
    Note,
    OnCall,
    Ref,
)

# Every Unicode format character (category Cf) through Unicode 15, and the whole tag block:
# soft hyphen, Arabic number signs and letter mark, Syriac abbreviation mark, Mongolian vowel
# separator, zero-width space/joiners, LRM/RLM, bidi embeddings, overrides and isolates, word
# joiner and invisible operators, deprecated format controls, BOM, interlinear annotation,
# Kaithi number signs, Egyptian hieroglyph and shorthand format controls, musical symbol
# formatting, tag characters. Written out (not derived from unicodedata at import); the test
# suite checks it against unicodedata for every code point.
_INVISIBLE = re.compile(
    r"[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    r"\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    r"\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e007f]+"
)
# C0 and C1 controls (Cc), line and paragraph separators (Zl, Zp).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# inert_text: line breaks of any kind become "\n"; the other controls but the tab go.
_LINE_BREAK = re.compile(r"\r\n?|[\x0b\x0c\x85\u2028\u2029]")
_HIDDEN_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]+")
# A Slack special token (<!channel>, <!here>, <!subteam^ID|@x>, <@U123>, <#C123>) and a
# mention's "@" at a word start (after a letter, digit, ".", "+" or "-" it is an email's).
_SLACK_TOKEN = re.compile(r"<([!@#][^<>\n]*)(>?)")
_MENTION = re.compile(r"(?<![^\W_])(?<![.+\-])@(?=\w)")
# What they become: look-alikes that no chat app reads as a token or a mention.
INERT_LT, INERT_GT, INERT_AT = "\u2039", "\u203a", "\uff20"
_UNSAFE_KEY = re.compile(r"[^\w.-]+")
TITLE_CAP = 120
NOTE_CAP = 300
FIX_CAP = 160
DETAIL_CAP = 80
DETAIL_FIELDS = 6
NOT_YET = "not yet"
# A similar-incident match below the pattern threshold: listed, never offered as a fix.
WEAK_MATCH = "possibly related"
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
# Log entry kinds whose summary says something the kind alone does not.
TOLD_KINDS = frozenset(
    {
        "trigger",
        "resolve",
        "acknowledge",
        "unacknowledge",
        "escalate",
        "assign",
        "reassign",
        "snooze",
        "urgency_change",
        "priority_change",
    }
)


# -- untrusted text and names ---------------------------------------------------------------


def _neutralise_mentions(text: str) -> str:
    """A Slack token's ``<``/``>`` -> U+2039/U+203A and a mention's ``@`` -> U+FF20: still
    readable, no longer a ping or a channel/user link in Slack (or a mention anywhere else)."""
    text = _SLACK_TOKEN.sub(lambda m: f"{INERT_LT}{m[1]}{INERT_GT if m[2] else ''}", text)
    return _MENTION.sub(INERT_AT, text)


def _flatten(text: Any) -> str:
    """One line: invisible characters removed, controls and line breaks made spaces, runs of
    whitespace collapsed, mentions neutralised."""
    visible = _INVISIBLE.sub("", str(text))
    return _neutralise_mentions(" ".join(_CONTROL.sub(" ", visible).split()))


def inert_text(text: str) -> str:
    """Multi-line untrusted text made inert for any reader: line breaks (as ``\\n``) and tabs
    kept, invisible and other control characters removed, mentions neutralised (as in
    :func:`quote_untrusted`). Markdown is left as it is."""
    lines = _LINE_BREAK.sub("\n", _INVISIBLE.sub("", text))
    return _neutralise_mentions(_HIDDEN_CONTROL.sub("", lines))


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
    """A name (service, user, team): one line, capped, unquoted, no backticks."""
    flat = _flatten(text).replace("`", "'") if text is not None else "?"
    return flat if len(flat) <= cap else flat[: cap - 1] + "…"


def detail_key(key: Any, cap: int = 40) -> str:
    """An alert's custom-detail key (sender-chosen): only letters, digits and ``._-`` kept,
    so it cannot carry Markdown, quotes or instructions; capped."""
    safe = _UNSAFE_KEY.sub("_", str(key)).strip("_") or "_"
    return safe if len(safe) <= cap else safe[: cap - 1] + "…"


def ref(item: Ref | None) -> str:
    """'Name (PID)', or '-' for nothing: how the model's text cites a named object."""
    if item is None:
        return "-"
    name = clean_name(item.name or item.summary) if (item.name or item.summary) else None
    return f"{name} ({item.id})" if name and item.id else name or str(item.id or "-")


@dataclass(frozen=True)
class Style:
    """How one output format sets a named object (with its id), a bare name and untrusted
    text."""

    name: Callable[[Ref | None, str], str]
    """(object, kind) -> the object's name with its id; kind: user, schedule, policy, ..."""
    text: Callable[[Any, int], str]
    """(untrusted text, cap) -> the text as inert data."""
    label: Callable[[Any, int], str]
    """(untrusted name without an id, cap) -> the name as inert text."""

    def names(self, items: Iterable[Ref], kind: str) -> str:
        return ", ".join(self.name(item, kind) for item in items) or "-"


PLAIN = Style(name=lambda item, _kind: ref(item), text=quote_untrusted, label=clean_name)
"""The tools' style: ``Name (PID)`` and ``"quoted"``."""


# -- times ----------------------------------------------------------------------------------


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


def seconds_duration(seconds: float | None) -> str:
    """:func:`fmt_duration` of a number of seconds ('?' for none)."""
    return fmt_duration(None if seconds is None else timedelta(seconds=seconds))


def response_times(incident: Incident) -> str:
    """'time to acknowledge: 4m; time to resolve: not yet'."""
    ack = (
        fmt_duration(incident.time_to_acknowledge)
        if incident.acknowledged_at and incident.time_to_acknowledge is not None
        else NOT_YET
    )
    resolve = fmt_duration(incident.time_to_resolve) if incident.resolved_time else NOT_YET
    return f"time to acknowledge: {ack}; time to resolve: {resolve}"


def lead_time(moment: datetime | None, trigger: datetime | None) -> str:
    """'12m before the trigger' / '3m after the trigger', or '' when either time is unknown."""
    if moment is None or trigger is None:
        return ""
    gap = trigger - moment
    if gap >= timedelta(0):
        return f"{fmt_duration(gap)} before the trigger"
    return f"{fmt_duration(-gap)} after the trigger"


# -- alerts ---------------------------------------------------------------------------------


def telling_details(
    details: dict[str, Any], limit: int = DETAIL_FIELDS, style: Style = PLAIN
) -> tuple[str, int]:
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
    pairs = " ".join(f"{detail_key(k)}={style.text(flat[k], DETAIL_CAP)}" for k in shown)
    return pairs, len(ranked) - len(shown)


def alert_phrase(alert: Alert, style: Style = PLAIN, tz: tzinfo = UTC) -> str:
    """'triggered severity=critical created=… key="…" source="…" summary="…"'."""
    cef = alert.cef_details
    source = {
        "source": cef.get("source_location") or cef.get("source_origin"),
        "component": cef.get("source_component"),
        "class": cef.get("event_class"),
    }
    where = "".join(f" {k}={style.text(v, 60)}" for k, v in source.items() if v)
    suppressed = " suppressed" if alert.suppressed else ""
    return (
        f"{alert.status or '?'}{suppressed} severity={alert.severity or '?'} "
        f"created={fmt_time(alert.created_at, tz)} key={style.text(alert.alert_key, 60)}"
        f"{where} summary={style.text(alert.summary, TITLE_CAP)}"
    )


def alert_details_phrase(alert: Alert, style: Style = PLAIN) -> str | None:
    """'details: error="…" host="…" (+3 more detail fields not shown)', None without any."""
    details, hidden = telling_details(alert.details, style=style)
    if not details:
        return None
    more = f" (+{hidden} more detail fields not shown)" if hidden else ""
    return f"details: {details}{more}"


# -- change events --------------------------------------------------------------------------


def change_phrase(
    change: ChangeEvent,
    style: Style = PLAIN,
    tz: tzinfo = UTC,
    *,
    trigger: datetime | None = None,
    scope: Ref | None = None,
    related: bool = False,
) -> str:
    """One change event: when (and how long before the trigger), source, summary, link, the
    details the summary does not already show. The services are left out when they are just
    ``scope``."""
    lead = lead_time(change.timestamp, trigger)
    services = (
        ""
        if scope and [s.id for s in change.services] == [scope.id]
        else f" svc={style.names(change.services, 'service')}"
    )
    link = next((link.href for link in change.links if link.href), None)
    summary = change.summary or ""
    fresh = {k: v for k, v in change.custom_details.items() if str(v) not in summary}
    details, hidden = telling_details(fresh, limit=3, style=style)
    return (
        f"{fmt_time(change.timestamp, tz)}{f' ({lead})' if lead else ''}{services} "
        f"source={style.text(change.source or '', 40)} summary={style.text(summary, TITLE_CAP)}"
        + (f" link={style.text(link, 100)}" if link else "")
        + (f" {details}" if details else "")
        + (f" (+{hidden} fields)" if hidden else "")
        + (" (PagerDuty relates it to the incident)" if related else "")
    )


# -- on-call --------------------------------------------------------------------------------


def shift_phrase(
    oncall: OnCall, style: Style = PLAIN, tz: tzinfo = UTC, handover: Handover | None = None
) -> str:
    """'Ann (PUSR001) via schedule Primary (PSCH001), until 2026-11-19 09:00Z', and with the
    shift's ``handover``: ', then Bob (PUSR002)' (or ', then nobody')."""
    via = (
        f"via schedule {style.name(oncall.schedule, 'schedule')}"
        if oncall.schedule
        else "direct target"
    )
    until = f"until {fmt_time(oncall.end, tz)}" if oncall.end else "always on call"
    then = ""
    if handover is not None:
        then = f", then {style.name(handover.user, 'user') if handover.user else 'nobody'}"
    return f"{style.name(oncall.user, 'user')} {via}, {until}{then}"


# -- timeline -------------------------------------------------------------------------------


def entry_phrase(entry: LogEntry, style: Style = PLAIN) -> str:
    """'acknowledge by Ann via website "…"': the kind, who, through what, and the summary
    when it says more than the kind."""
    parts = [entry.kind]
    if entry.agent:
        parts.append(f"by {style.label(entry.agent.label, 60)}")
    via = entry.channel_type
    if via and via not in {"auto", "notification"}:
        parts.append(f"via {via}")
    if entry.kind in TOLD_KINDS:
        parts.append(style.text(entry.summary, TITLE_CAP))
    return " ".join(parts)


def notify_phrase(entries: Sequence[LogEntry], style: Style = PLAIN) -> str:
    """A run of notify entries -> 'notified Ann (PUSR001) (sms/phone), Bob (PUSR002)'."""
    methods: dict[str, list[str]] = {}
    for entry in entries:
        how = methods.setdefault(style.name(entry.user or entry.agent, "user"), [])
        if entry.notification_type and entry.notification_type not in how:
            how.append(entry.notification_type)
    return "notified " + ", ".join(f"{p} ({'/'.join(m)})" if m else p for p, m in methods.items())


def note_phrase(note: Note, style: Style = PLAIN) -> str:
    """'note by Ann (PUSR001): "Rolled back"'."""
    return f"note by {style.name(note.user, 'user')}: {style.text(note.content, NOTE_CAP)}"


# -- similar incidents ----------------------------------------------------------------------


def outcome_phrase(match: SimilarIncident) -> str:
    """'resolved in 1h05m', else the match's status."""
    record = match.incident
    if record.status == "resolved":
        return f"resolved in {seconds_duration(record.time_to_resolve_seconds)}"
    return record.status or "?"


def why_phrase(match: SimilarIncident, style: Style = PLAIN) -> str:
    """Why it matched: 'similarity 0.91; trigger details 0.80; same service; shared: …'."""
    why = [f"similarity {match.similarity:.2f}"]
    if match.detail_similarity is not None:
        why.append(f"trigger details {match.detail_similarity:.2f}")
    if match.same_service:
        why.append("same service")
    if match.shared_terms:
        why.append("shared: " + ", ".join(style.label(t, 40) for t in match.shared_terms))
    if match.pagerduty_score is not None:
        why.append(f"PagerDuty score {match.pagerduty_score:g}")
    return "; ".join(why)


def similar_phrase(match: SimilarIncident, style: Style = PLAIN, tz: tzinfo = UTC) -> str:
    """One match (its own id left to the renderer): title, service, when, outcome, score, why."""
    record = match.incident
    service = Ref(id=record.service_id, name=record.service_name)
    return " | ".join(
        [
            style.text(record.title, TITLE_CAP),
            f"service {style.name(service, 'service')}",
            fmt_time(record.created_at, tz),
            outcome_phrase(match),
            f"score {match.score:.2f}",
            f"why: {why_phrase(match, style)}",
        ]
    )


def resolution_phrase(resolution: Resolution, style: Style = PLAIN) -> str:
    """'fix (note by Ann): "Restarted the pool"'."""
    by = f" by {style.label(resolution.by, 40)}" if resolution.by else ""
    kind = "note" if resolution.source == "note" else "resolve log entry"
    return f"fix ({kind}{by}): {style.text(resolution.summary, FIX_CAP)}"


def ago_phrase(moment: datetime, until: datetime, tz: tzinfo = UTC) -> str:
    """'2026-11-18 09:12Z (3d02h ago)'."""
    return f"{fmt_time(moment, tz)} ({fmt_duration(until - moment)} ago)"
