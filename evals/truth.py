"""The facts of a case, computed from the sandbox account's own data and hidden ground truth
(rotations, escalation levels, each incident's failure mode), never from a tool's answer.

A case names a fact kind and its parameters (``{oncall: {team: Payments, at: saturday
03:00}}``); :data:`FACT_KINDS` turns it into :class:`~evals.scoring.Fact` values, and
:data:`COMPLEMENTS` into the claims a right answer does not make (the other users, incidents,
statuses, counts and fixes), so that precision is scored as well as recall. Time words
resolve against the case's clock (UTC). :data:`REF_KINDS` pick what a question is about (an
open incident by its failure mode, a time) so that cases survive a change of the generator.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from evals.cases import Case, Spec, fill
from evals.scoring import Fact, content_words, found
from pd_toolkit.sandbox import SandboxAccount
from pd_toolkit.sandbox.catalog import MODES

Json = dict[str, Any]
SERVICE_STATUSES = ("active", "warning", "critical", "maintenance", "disabled")
PRIORITY_ORDER = ("P1", "P2", "P3", "P4", "P5")
# What an invented answer to an unanswerable question would give: a figure near these words.
REFUSAL_TOPICS: dict[str, tuple[str, ...]] = {
    "cpu": ("cpu", "processor", "usage", "utili", "load", "percent", "metric"),
    "money": ("revenue", "lost", "lose", "loss", "dollar", "usd", "eur", "cost", "money"),
    "channel": ("slack", "channel", "chat"),
}
CHANNEL_PATTERN = (
    r"(?<![\w#])#[a-z][\w-]{2,}|\b[a-z0-9]+(?:[-_][a-z0-9]+)+\s+(?:slack\s+)?channel\b"
    r"|\bchannel\s*(?:is|:|called|named)?\s*[\"'`]?[a-z0-9]+(?:[-_][a-z0-9]+)+"
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class TruthError(ValueError):
    """A case asks for something the sandbox does not hold (a typo in a name, no such mode)."""


# ------------------------------------------------------------------ time words
def parse_time(value: str) -> datetime:
    """ISO 8601 (``Z``, an offset, or none meaning UTC)."""
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def resolve_when(text: str | None, clock: datetime) -> datetime:
    """A moment: ``now``, an ISO datetime, or ``[today|tomorrow|yesterday|<weekday>] HH:MM``
    (a weekday is its next occurrence: today only if that time is still to come)."""
    words = (text or "now").strip().lower()
    if words == "now":
        return clock
    found = re.fullmatch(r"(today|tomorrow|yesterday|[a-z]+day) (\d{1,2}):(\d{2})", words)
    if found is None:
        try:
            return parse_time(words)
        except ValueError as exc:
            raise TruthError(f"cannot read the time {text!r}") from exc
    day, hour, minute = found[1], int(found[2]), int(found[3])
    midnight = clock.replace(hour=0, minute=0, second=0, microsecond=0)
    moment = midnight.replace(hour=hour, minute=minute)
    if day in ("today", "tomorrow", "yesterday"):
        return moment + timedelta(days={"today": 0, "tomorrow": 1, "yesterday": -1}[day])
    if day not in WEEKDAYS:
        raise TruthError(f"cannot read the day {day!r}")
    ahead = (WEEKDAYS.index(day) - clock.weekday()) % 7
    moment += timedelta(days=ahead)
    return moment if moment > clock else moment + timedelta(days=7)


def resolve_range(text: str, clock: datetime) -> tuple[datetime, datetime]:
    """[since, until) of ``today``, ``yesterday``, ``this week`` (Monday 00:00 on),
    ``last week``, ``last N hours|days``."""
    words = text.strip().lower()
    midnight = clock.replace(hour=0, minute=0, second=0, microsecond=0)
    monday = midnight - timedelta(days=clock.weekday())
    fixed = {
        "today": (midnight, clock),
        "yesterday": (midnight - timedelta(days=1), midnight),
        "this week": (monday, clock),
        "last week": (monday - timedelta(days=7), monday),
    }
    if words in fixed:
        return fixed[words]
    found = re.fullmatch(r"last (\d+) (hour|day)s?", words)
    if found is None:
        raise TruthError(f"cannot read the time range {text!r}")
    span = timedelta(**{f"{found[2]}s": int(found[1])})
    return clock - span, clock


# ------------------------------------------------------------------ lookups by name
def _named(objects: list[Json], name: str, what: str) -> Json:
    for obj in objects:
        if obj["name"] == name:
            return obj
    raise TruthError(f"no {what} named {name!r} in the sandbox")


def _incident(account: SandboxAccount, ident: Any) -> Json:
    found = account.find_incident(str(ident))
    if found is None:
        raise TruthError(f"no incident {ident!r} in the sandbox")
    return found


def _user_name(account: SandboxAccount, user_id: str) -> str:
    user = account.user(user_id)
    if user is None:
        raise TruthError(f"no user {user_id!r}")
    return str(user["name"])


def team_policies(account: SandboxAccount, team_name: str) -> list[str]:
    """A team's escalation policy ids: those it owns, else those of the services it owns."""
    team = _named(account.teams, team_name, "team")
    owned = [
        p["id"]
        for p in account.escalation_policies
        if any(t["id"] == team["id"] for t in p.get("teams") or [])
    ]
    if owned:
        return owned
    return list(
        dict.fromkeys(
            s["escalation_policy"]["id"]
            for s in account.services
            if any(t["id"] == team["id"] for t in s.get("teams") or [])
        )
    )


def level_user_ids(account: SandboxAccount, policy_id: str, level: int, at: datetime) -> list[str]:
    """Who a policy's level pages at ``at``: a schedule's on-call user, or a user target."""
    levels = account.policy_levels[policy_id]
    if not 1 <= level <= len(levels):
        raise TruthError(f"policy {policy_id} has no level {level}")
    users = []
    for kind, target in levels[level - 1][1]:
        user = account.oncall_user(target, at) if kind == "schedule" else target
        if user and user not in users:
            users.append(user)
    return users


def _policies_for(account: SandboxAccount, params: Json) -> list[str]:
    if "team" in params:
        return team_policies(account, params["team"])
    if "service" in params:
        return [_named(account.services, params["service"], "service")["escalation_policy"]["id"]]
    if "escalation_policy" in params:
        return [_named(account.escalation_policies, params["escalation_policy"], "policy")["id"]]
    raise TruthError("name a team, service or escalation_policy")


# ------------------------------------------------------------------ fact kinds
def oncall(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """Who is on call at ``level`` (default 1) ``at`` a time (default now) for a team,
    service, escalation policy, or a ``schedule``."""
    at = resolve_when(params.get("at"), clock)
    if "schedule" in params:
        schedule = _named(account.schedules, params["schedule"], "schedule")
        user = account.oncall_user(schedule["id"], at)
        users = [user] if user else []
    else:
        level = int(params.get("level", 1))
        users = [
            u for p in _policies_for(account, params) for u in level_user_ids(account, p, level, at)
        ]
    names = dict.fromkeys(_user_name(account, u) for u in users)
    if not names:
        raise TruthError(f"nobody is on call for {params}")
    return [Fact("name", name) for name in names]


def _current_shift(account: SandboxAccount, schedule_id: str, at: datetime) -> tuple[str, datetime]:
    shifts = account.schedule_shifts(schedule_id, at, at + timedelta(days=60))
    user, _, end = next(s for s in shifts if s[1] <= at < s[2])
    return user, end


def handover(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """When the current shift of a ``schedule`` ends, and who takes over then."""
    schedule = _named(account.schedules, params["schedule"], "schedule")
    _, end = _current_shift(account, schedule["id"], clock)
    following = account.oncall_user(schedule["id"], end)
    if following is None:
        raise TruthError(f"nobody takes over {params['schedule']}")
    return [
        Fact("name", _user_name(account, following)),
        Fact("time", f"{end:%Y-%m-%d %H:%MZ}", end),
    ]


def contact(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """Who is on call (as :func:`oncall`) and each one's work e-mail address."""
    names = oncall(account, clock, params)
    facts = list(names)
    for fact in names:
        user_id = account.user_id_by_name[fact.text]
        emails = [
            m["address"]
            for m in account.contact_methods[user_id]
            if m["type"] == "email_contact_method"
        ]
        facts.extend(Fact("text", email) for email in emails[:1])
    return facts


def _number(incident: Json) -> Fact:
    return Fact("incident", f"#{incident['incident_number']}")


def open_incidents(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """The open incidents, optionally only of a ``service``, ``status`` or ``urgency``."""
    chosen = [
        i
        for i in account.open_incidents()
        if params.get("service") in (None, i["service"]["summary"])
        and params.get("status") in (None, i["status"])
        and params.get("urgency") in (None, i["urgency"])
    ]
    if not chosen:
        raise TruthError(f"no open incident matches {params}")
    return [_number(i) for i in chosen]


def open_count(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """How many incidents are open."""
    return [Fact("number", str(len(account.open_incidents())), options=("incident",))]


def incidents_in_range(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """Incidents of a ``service`` created in a time ``range`` (any status)."""
    since, until = resolve_range(params["range"], clock)
    chosen = [
        i
        for i in account.incidents_between(since, until)
        if i["service"]["summary"] == params["service"]
    ]
    if not chosen:
        raise TruthError(f"no incident of {params['service']} in {params['range']}")
    return [_number(i) for i in chosen]


def incident_fields(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """Fields of one ``incident``: any of id, status, urgency, service, assignee, priority."""
    incident = _incident(account, params["incident"])
    facts = []
    for name in params.get("fields", ["id", "status", "service"]):
        if name == "id":
            facts.append(Fact("id", incident["id"]))
        elif name in ("status", "urgency"):
            facts.append(Fact("status", incident[name]))
        elif name == "service":
            facts.append(Fact("name", incident["service"]["summary"]))
        elif name == "assignee":
            facts.extend(Fact("name", a["assignee"]["summary"]) for a in incident["assignments"])
        elif name == "priority":
            facts.append(Fact("name", (incident.get("priority") or {})["summary"]))
        else:
            raise TruthError(f"unknown incident field {name!r}")
    return facts


def _entries(account: SandboxAccount, incident: Json, kind: str) -> list[Json]:
    return [e for e in account.log_entries[incident["id"]] if e["type"] == f"{kind}_log_entry"]


def acknowledged_by(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """Who acknowledged an ``incident``, and when."""
    incident = _incident(account, params["incident"])
    entries = _entries(account, incident, "acknowledge")
    if not entries:
        raise TruthError(f"incident {params['incident']} was not acknowledged")
    at = parse_time(entries[0]["created_at"])
    return [Fact("name", entries[0]["agent"]["summary"]), Fact("time", f"{at:%Y-%m-%d %H:%MZ}", at)]


def first_notified(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """Who was notified first about an ``incident``."""
    incident = _incident(account, params["incident"])
    return [Fact("name", _entries(account, incident, "notify")[0]["user"]["summary"])]


def timeline(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """An ``incident``'s id, when it triggered and who was notified first."""
    incident = _incident(account, params["incident"])
    at = parse_time(incident["created_at"])
    return [
        Fact("id", incident["id"]),
        Fact("time", f"{at:%Y-%m-%d %H:%MZ}", at),
        *first_notified(account, clock, params),
    ]


def alerts(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """An ``incident``'s alert ids; with ``detail``, that field of its first alert's details."""
    incident = _incident(account, params["incident"])
    found = account.alerts[incident["id"]]
    facts = [Fact("id", a["id"]) for a in found]
    if "detail" in params:
        details = found[0]["body"]["details"]
        facts.append(Fact("phrase", str(details[params["detail"]])))
    return facts


def alert_count(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """How many alerts an ``incident`` groups."""
    incident = _incident(account, params["incident"])
    return [Fact("number", str(len(account.alerts[incident["id"]])), options=("alert",))]


def service_status(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """A ``service``'s status word; with ``policy``, its escalation policy's name too."""
    service = _named(account.services, params["service"], "service")
    facts = [Fact("status", service["status"], subject=service["name"])]
    if params.get("policy"):
        facts.append(Fact("name", service["escalation_policy"]["summary"]))
    return facts


def unhealthy_services(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """Every service whose status is not ``active``."""
    return [Fact("name", s["name"]) for s in account.services if s["status"] != "active"]


def last_incident(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """When a ``service``'s newest incident triggered."""
    service = _named(account.services, params["service"], "service")
    newest = [i for i in account.incidents if i["service"]["id"] == service["id"]][-1]
    at = parse_time(newest["created_at"])
    return [Fact("time", f"{at:%Y-%m-%d %H:%MZ}", at)]


def _closest_change(changes: list[Json], what: str) -> list[Fact]:
    if not changes:
        raise TruthError(f"no change event {what}")
    closest = changes[-1]
    return [Fact("id", closest["id"]), Fact("summary", closest["summary"])]


def changes_before(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """The change closest before an ``incident`` on its service, within ``hours`` (24)."""
    incident = _incident(account, params["incident"])
    at = parse_time(incident["created_at"])
    since = at - timedelta(hours=int(params.get("hours", 24)))
    changes = [
        c
        for c in account.changes_between(since, at)
        if any(s["id"] == incident["service"]["id"] for s in c.get("services") or [])
    ]
    return _closest_change(changes, f"before {params['incident']}")


def changes_on_service(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """The newest change on a ``service`` in a time ``range``."""
    service = _named(account.services, params["service"], "service")
    since, until = resolve_range(params["range"], clock)
    changes = [
        c
        for c in account.changes_between(since, until)
        if any(s["id"] == service["id"] for s in c.get("services") or [])
    ]
    return _closest_change(changes, f"on {params['service']} in {params['range']}")


def _resolution_pattern(template: str) -> re.Pattern[str]:
    """A failure mode's resolution template as a pattern (each placeholder: any text)."""
    parts = re.split(r"\{\w+\}", template)
    return re.compile(".+?".join(map(re.escape, parts)), re.DOTALL)


def _fix(account: SandboxAccount, incident: Json) -> str:
    """How a resolved incident was fixed: its note written from its failure mode's
    resolution templates (never a progress note or a root-cause remark)."""
    mode = next(m for m in MODES if m.name == account.failure_mode_of(incident["id"]))
    patterns = [_resolution_pattern(template) for template in mode.resolutions]
    for note in reversed(account.notes.get(incident["id"]) or []):
        if any(p.fullmatch(str(note["content"])) for p in patterns):
            return str(note["content"])
    raise TruthError(f"incident #{incident['incident_number']} has no resolution note")


def _same_mode_before(account: SandboxAccount, incident: Json, mode: str) -> list[Json]:
    """Resolved incidents of failure ``mode`` on the incident's service before it, newest
    first."""
    return [
        i
        for i in reversed(account.incidents)
        if i["created_at"] < incident["created_at"]
        and i["status"] == "resolved"
        and i["service"]["id"] == incident["service"]["id"]
        and account.failure_mode_of(i["id"]) == mode
    ]


def similar_fix(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """The newest earlier incident of the same hidden failure mode on the ``incident``'s
    service, and how it was fixed."""
    incident = _incident(account, params["incident"])
    earlier = _same_mode_before(account, incident, account.failure_mode_of(incident["id"]))
    if not earlier:
        raise TruthError(f"incident {params['incident']} never happened before")
    return [_number(earlier[0]), Fact("phrase", _fix(account, earlier[0]))]


def past_fix(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """One of the ways the ``incident``'s hidden failure mode was fixed before on its service
    (any: a mode with several causes has several fixes, and "how was it fixed before" may
    name any of them)."""
    incident = _incident(account, params["incident"])
    earlier = _same_mode_before(account, incident, account.failure_mode_of(incident["id"]))
    fixes = {frozenset(content_words(fix)): fix for fix in map(partial(_fix, account), earlier)}
    if not fixes:
        raise TruthError(f"incident {params['incident']} never happened before")
    options = tuple(fixes.values())
    return [Fact("phrase", " | ".join(options), options=options)]


def _fixes_of_mode(account: SandboxAccount, incident: Json, mode: str) -> list[str]:
    """The distinct fixes of ``mode``'s earlier resolved incidents on the incident's service."""
    fixes: dict[frozenset[str], str] = {}
    for past in _same_mode_before(account, incident, mode):
        fix = _fix(account, past)
        fixes.setdefault(frozenset(content_words(fix)), fix)
    return list(fixes.values())


def lookalike_fixes(account: SandboxAccount, incident: Json) -> list[str]:
    """How the incident's look-alike failure mode (similar alerts, another cause) was fixed on
    its service (empty when its mode has no look-alike)."""
    mode = next(m for m in account.modes if m.name == account.failure_mode_of(incident["id"]))
    if mode.lookalike is None:
        return []
    return _fixes_of_mode(account, incident, mode.lookalike)


def refusal(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """The answer says the toolkit cannot tell (the question is outside its data); its
    ``topic`` (cpu, money, channel) says what an invented answer would look like."""
    topic = params.get("topic")
    if topic not in REFUSAL_TOPICS:
        raise TruthError(f"a refusal names its topic: one of {', '.join(REFUSAL_TOPICS)}")
    return [Fact("refusal", f"says there is no {topic} data", options=REFUSAL_TOPICS[topic])]


def pattern(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """An invented claim's shape, as a regular expression (``must_not`` only)."""
    return [Fact("pattern", str(params["value"]))]


FactFunction = Callable[[SandboxAccount, datetime, Json], list[Fact]]
FACT_KINDS: dict[str, FactFunction] = {
    function.__name__: function
    for function in (
        oncall,
        handover,
        contact,
        open_incidents,
        open_count,
        incidents_in_range,
        incident_fields,
        acknowledged_by,
        first_notified,
        timeline,
        alerts,
        alert_count,
        service_status,
        unhealthy_services,
        last_incident,
        changes_before,
        changes_on_service,
        similar_fix,
        past_fix,
        refusal,
        pattern,
    )
}


# ------------------------------------------------------------------ complements
# What a case's answer must not claim, generated from the same ground truth: the other users,
# incidents, statuses, counts and fixes that a careless or padded answer would name.
def _names_except(account: SandboxAccount, allowed: set[str], what: str) -> list[Fact]:
    others = tuple(u["name"] for u in account.users if u["name"] not in allowed)
    shown = ", ".join(others[:3]) + (f" (+{len(others) - 3} more)" if len(others) > 3 else "")
    return [Fact("name", f"{what}: {shown}", options=others)] if others else []


def _incidents_except(account: SandboxAccount, allowed: set[int], what: str) -> list[Fact]:
    others = tuple(
        f"#{i['incident_number']}" for i in account.incidents if i["incident_number"] not in allowed
    )
    return [Fact("incident", f"{what} ({len(others)} numbers)", options=others)] if others else []


def _shift_users(account: SandboxAccount, schedule_id: str, at: datetime) -> set[str]:
    """Who is on a schedule at ``at`` and who takes over after that shift."""
    shifts = account.schedule_shifts(schedule_id, at, at + timedelta(days=60))
    current = [s for s in shifts if s[1] <= at < s[2]]
    users = {s[0] for s in current}
    for _, _, end in current:
        following = account.oncall_user(schedule_id, end)
        if following:
            users.add(following)
    return users


def oncall_allowed(account: SandboxAccount, clock: datetime, params: Json) -> set[str]:
    """The names a right on-call answer may give: everyone on call at any level of the
    policies in question at that time (or on the schedule), and who takes over each shift."""
    at = resolve_when(params.get("at"), clock)
    if "schedule" in params:
        return {
            _user_name(account, u)
            for u in _shift_users(
                account, _named(account.schedules, params["schedule"], "schedule")["id"], at
            )
        }
    users: set[str] = set()
    for policy in _policies_for(account, params):
        for _, targets in account.policy_levels[policy]:
            for kind, target in targets:
                users |= _shift_users(account, target, at) if kind == "schedule" else {target}
    return {_user_name(account, u) for u in users}


def _not_oncall(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    allowed = oncall_allowed(account, clock, params)
    return _names_except(account, allowed, "users not on call then")


def _handover_others(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    allowed = oncall_allowed(account, clock, {"schedule": params["schedule"]})
    return _names_except(account, allowed, "users neither on this shift nor the next")


def _other_incidents(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    return _incidents_except(account, set(), "incidents the question is not about")


def _other_open_count(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    (fact,) = open_count(account, clock, params)
    return [Fact("other_number", fact.text, options=fact.options)]


def _other_alert_count(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    (fact,) = alert_count(account, clock, params)
    return [
        Fact("other_number", fact.text, options=fact.options),
        *_other_open(account, clock, params),
    ]


def _other_open(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """The open incidents other than the ``incident`` asked about."""
    incident = _incident(account, params["incident"])
    others = {i["incident_number"] for i in account.incidents} - {
        i["incident_number"] for i in account.open_incidents() if i["id"] != incident["id"]
    }
    return _incidents_except(account, others, "other open incidents")


def _other_changes(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """The ids of every change event but the closest one (the fact)."""
    ids = tuple(c["id"] for c in account.change_events)
    return [Fact("id", f"other change events ({len(ids)} ids)", options=ids)]


def _involved(account: SandboxAccount, incident: Json) -> set[str]:
    """The users an incident's record names (assignees, notified, acknowledgers, notes)."""
    record = str([incident, account.log_entries[incident["id"]], account.notes[incident["id"]]])
    return {u["name"] for u in account.users if u["name"] in record}


def _unnamed_users(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """The users an incident never names, and the other open incidents."""
    incident = _incident(account, params["incident"])
    return [
        *_names_except(account, _involved(account, incident), "users the incident never names"),
        *_other_open(account, clock, params),
    ]


def _incident_others(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    incident = _incident(account, params["incident"])
    return [
        *_names_except(account, _involved(account, incident), "users the incident never names"),
        *_incidents_except(account, {incident["incident_number"]}, "other incidents"),
    ]


def _other_statuses(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """The service's other status words, and the incidents of other services."""
    service = _named(account.services, params["service"], "service")
    own = {i["incident_number"] for i in account.incidents if i["service"]["id"] == service["id"]}
    return [
        *(
            Fact("status", word, subject=service["name"])
            for word in SERVICE_STATUSES
            if word != service["status"]
        ),
        *_incidents_except(account, own, "incidents of other services"),
    ]


def _healthy_services(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    healthy = tuple(s["name"] for s in account.services if s["status"] == "active")
    return [Fact("name", f"active services: {', '.join(healthy[:3])}, ...", options=healthy)]


def _other_fixes(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """Every other failure mode's fixes (their resolution templates without the placeholders,
    those a right fix does not also match) and the look-alike's past incidents."""
    incident = _incident(account, params["incident"])
    mode = account.failure_mode_of(incident["id"])
    own = _fixes_of_mode(account, incident, mode)
    claims = []
    for other in MODES:
        for template in other.resolutions if other.name != mode else ():
            fix = re.sub(r"\{\w+\}", " ", template)
            if not any(found(Fact("phrase", fix), mine, clock) for mine in own):
                claims.append(Fact("phrase", fix))
    twin = next(m.lookalike for m in account.modes if m.name == mode)
    if twin:
        numbers = {i["incident_number"] for i in _same_mode_before(account, incident, twin)}
        everyone = {i["incident_number"] for i in account.incidents}
        claims.extend(_incidents_except(account, everyone - numbers, "the look-alike's incidents"))
    return claims


def _refusal_claims(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    topic = params["topic"]
    if topic == "channel":
        return [Fact("pattern", CHANNEL_PATTERN)]
    return [Fact("figure", f"a figure about {topic}", options=REFUSAL_TOPICS[topic][:-1])]


def _newest_only(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    service = _named(account.services, params["service"], "service")
    newest = [i for i in account.incidents if i["service"]["id"] == service["id"]][-1]
    return _incidents_except(account, {newest["incident_number"]}, "other incidents")


COMPLEMENTS: dict[str, FactFunction] = {
    "oncall": _not_oncall,
    "contact": _not_oncall,
    "handover": _handover_others,
    "open_incidents": _other_incidents,
    "incidents_in_range": _other_incidents,
    "open_count": _other_open_count,
    "alert_count": _other_alert_count,
    "incident_fields": _incident_others,
    "acknowledged_by": _unnamed_users,
    "first_notified": _unnamed_users,
    "timeline": _unnamed_users,
    "alerts": _unnamed_users,
    "service_status": _other_statuses,
    "unhealthy_services": _healthy_services,
    "last_incident": _newest_only,
    "similar_fix": _other_fixes,
    "past_fix": _other_fixes,
    "refusal": _refusal_claims,
    "changes_before": _other_changes,
    "changes_on_service": _other_changes,
}


def complement(facts: list[Fact], claims: list[Fact]) -> list[Fact]:
    """``claims`` without the case's own facts (a name or incident one fact asks for is never
    forbidden by another's complement) and without claims left empty."""
    names = {f.text for f in facts if f.kind == "name"}
    numbers = {f.text for f in facts if f.kind in ("incident", "id")}
    kept = []
    for claim in claims:
        if claim.options and claim.kind in ("name", "incident", "id"):
            options = tuple(o for o in claim.options if o not in names | numbers)
            if not options:
                continue
            claim = Fact(claim.kind, claim.text, options=options)
        kept.append(claim)
    return kept


# ------------------------------------------------------------------ refs
def open_incident(account: SandboxAccount, clock: datetime, params: Json) -> str:
    """The number of the open incident of a failure ``mode`` (optionally on a ``service``)."""
    for incident in account.open_incidents():
        if account.failure_mode_of(incident["id"]) == params["mode"] and params.get("service") in (
            None,
            incident["service"]["summary"],
        ):
            return str(incident["incident_number"])
    raise TruthError(f"no open incident of mode {params['mode']!r}")


def when(account: SandboxAccount, clock: datetime, params: Json) -> str:
    """A time word as an ISO 8601 UTC time."""
    return f"{resolve_when(params['value'], clock):%Y-%m-%dT%H:%M:%SZ}"


def _urgency_rank(incident: Json) -> tuple[int, int, int, str]:
    priority = (incident.get("priority") or {}).get("summary")
    return (
        PRIORITY_ORDER.index(priority) if priority in PRIORITY_ORDER else len(PRIORITY_ORDER),
        incident["urgency"] != "high",
        incident["status"] != "triggered",
        incident["created_at"],
    )


def most_urgent_open(account: SandboxAccount, clock: datetime, params: Json) -> str:
    """The number of the most urgent open incident: highest priority, then high urgency, then
    not yet acknowledged, then open the longest (the rule the question states)."""
    ranked = sorted(account.open_incidents(), key=_urgency_rank)
    if not ranked:
        raise TruthError("no open incident")
    return str(ranked[0]["incident_number"])


def service_of(account: SandboxAccount, clock: datetime, params: Json) -> str:
    """The name of an ``incident``'s service."""
    return str(_incident(account, params["incident"])["service"]["summary"])


def _level_names(account: SandboxAccount, clock: datetime, team: str, at: str) -> set[str]:
    return {f.text for f in oncall(account, clock, {"team": team, "level": 1, "at": at})}


def team_oncall_changes(account: SandboxAccount, clock: datetime, params: Json) -> str:
    """The first team (by name) whose first-level on-call users ``at`` a time word differ from
    now's, and none of now's is on call for it at any level then: a time-word question that
    the current answer gets wrong."""
    for team in sorted(t["name"] for t in account.teams):
        try:
            now = _level_names(account, clock, team, "now")
            later = _level_names(account, clock, team, params["at"])
        except TruthError:
            continue
        allowed = oncall_allowed(account, clock, {"team": team, "at": params["at"]})
        if now != later and not now & allowed:
            return team
    raise TruthError(f"no team's on-call changes by {params['at']!r}")


REF_KINDS: dict[str, Callable[[SandboxAccount, datetime, Json], str]] = {
    "open_incident": open_incident,
    "when": when,
    "most_urgent_open": most_urgent_open,
    "service_of": service_of,
    "team_oncall_changes": team_oncall_changes,
}


def resolve(case: Case, account: SandboxAccount) -> tuple[Case, list[Fact], list[Fact]]:
    """The case with its refs filled in (in order: a ref may use an earlier one), its facts
    and its forbidden claims: those the case lists and those generated from its facts."""
    values: dict[str, str] = {}
    for name, spec in case.refs.items():
        if spec.kind not in REF_KINDS:
            raise TruthError(f"{case.id}: unknown ref kind {spec.kind!r}")
        params = fill(spec.params, values)
        values[name] = REF_KINDS[spec.kind](account, case.clock, params)
    filled = case.filled(values)
    facts = facts_of(filled.facts, account, case)
    generated = [
        claim
        for spec in filled.facts
        if spec.kind in COMPLEMENTS
        for claim in _call(COMPLEMENTS[spec.kind], spec, account, case)
    ]
    stranger = Fact(
        "stranger",
        "a person the account does not have, said to be on call",
        options=tuple(
            obj["name"]
            for objects in (
                account.users,
                account.teams,
                account.schedules,
                account.escalation_policies,
                account.services,
            )
            for obj in objects
        ),
    )
    claims = [*facts_of(filled.must_not, account, case), *generated, stranger]
    return filled, facts, complement(facts, claims)


def _call(function: FactFunction, spec: Spec, account: SandboxAccount, case: Case) -> list[Fact]:
    try:
        return function(account, case.clock, spec.params)
    except (KeyError, StopIteration) as exc:
        raise TruthError(f"{case.id}: {spec.kind} {spec.params}: {exc!r}") from exc


def facts_of(specs: list[Spec], account: SandboxAccount, case: Case) -> list[Fact]:
    """The facts of some specs (TruthError names the case and the kind)."""
    facts = []
    for spec in specs:
        if spec.kind not in FACT_KINDS:
            raise TruthError(f"{case.id}: unknown fact kind {spec.kind!r}")
        facts.extend(_call(FACT_KINDS[spec.kind], spec, account, case))
    return facts
