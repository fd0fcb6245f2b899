"""The facts of a case, computed from the sandbox account's own data and hidden ground truth
(rotations, escalation levels, each incident's failure mode), never from a tool's answer.

A case names a fact kind and its parameters (``{oncall: {team: Payments, at: saturday
03:00}}``); :data:`FACT_KINDS` turns it into :class:`~evals.scoring.Fact` values. Time words
resolve against the case's clock (UTC). :data:`REF_KINDS` pick what a question is about (an
open incident by its failure mode, a time) so that cases survive a change of the generator.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from evals.cases import Case, Spec
from evals.scoring import Fact, content_words
from pd_toolkit.sandbox import SandboxAccount

Json = dict[str, Any]
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
            facts.append(Fact("name", incident[name]))
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
    facts = [Fact("name", service["status"])]
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
    return [Fact("id", closest["id"]), Fact("phrase", closest["summary"])]


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


def _fix(account: SandboxAccount, incident: Json) -> str:
    """How a resolved incident was fixed: its last note."""
    notes = account.notes.get(incident["id"]) or []
    if not notes:
        raise TruthError(f"incident #{incident['incident_number']} has no resolution note")
    return str(notes[-1]["content"])


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


def lookalike_fixes(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """How the ``incident``'s look-alike failure mode (similar alerts, another cause) was
    fixed on its service: the claims an answer about its fix must not make."""
    incident = _incident(account, params["incident"])
    mode = next(m for m in account.modes if m.name == account.failure_mode_of(incident["id"]))
    if mode.lookalike is None:
        raise TruthError(f"the failure mode of {params['incident']} has no look-alike")
    fixes: dict[frozenset[str], str] = {}
    own = {frozenset(content_words(f.text)) for f in _own_fixes(account, incident, mode.name)}
    for past in _same_mode_before(account, incident, mode.lookalike):
        fix = _fix(account, past)
        words = frozenset(content_words(fix))
        if words not in own:
            fixes.setdefault(words, fix)
    if not fixes:
        raise TruthError(f"the look-alike of {params['incident']} never fired on its service")
    return [Fact("phrase", fix) for fix in fixes.values()]


def _own_fixes(account: SandboxAccount, incident: Json, mode: str) -> list[Fact]:
    return [Fact("phrase", _fix(account, i)) for i in _same_mode_before(account, incident, mode)]


def refusal(account: SandboxAccount, clock: datetime, params: Json) -> list[Fact]:
    """The answer says the toolkit cannot tell (the question is outside its data)."""
    return [Fact("refusal", "says the data is not available")]


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
        lookalike_fixes,
        refusal,
        pattern,
    )
}


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


REF_KINDS: dict[str, Callable[[SandboxAccount, datetime, Json], str]] = {
    "open_incident": open_incident,
    "when": when,
}


def resolve(case: Case, account: SandboxAccount) -> tuple[Case, list[Fact], list[Fact]]:
    """The case with its refs filled in, its facts and its forbidden claims."""
    values = {}
    for name, spec in case.refs.items():
        if spec.kind not in REF_KINDS:
            raise TruthError(f"{case.id}: unknown ref kind {spec.kind!r}")
        values[name] = REF_KINDS[spec.kind](account, case.clock, spec.params)
    filled = case.filled(values)
    return filled, facts_of(filled.facts, account, case), facts_of(filled.must_not, account, case)


def facts_of(specs: list[Spec], account: SandboxAccount, case: Case) -> list[Fact]:
    """The facts of some specs (TruthError names the case and the kind)."""
    facts = []
    for spec in specs:
        if spec.kind not in FACT_KINDS:
            raise TruthError(f"{case.id}: unknown fact kind {spec.kind!r}")
        try:
            facts.extend(FACT_KINDS[spec.kind](account, case.clock, spec.params))
        except (KeyError, StopIteration) as exc:
            raise TruthError(f"{case.id}: {spec.kind} {spec.params}: {exc!r}") from exc
    return facts
