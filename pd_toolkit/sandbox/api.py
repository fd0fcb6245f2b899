"""PagerDuty REST API v2 read endpoints over a `SandboxAccount`.

Pure request -> (status, body) logic with werkzeug routing; transport concerns (auth headers,
faults, latency, the HTTP server) live in `server.py`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule

from .account import SandboxAccount
from .generate import Json, iso, parse_time
from .rotation import render

MAX_OFFSET = 10_000
ABILITIES = (
    "sso",
    "advanced_reports",
    "teams",
    "read_only_users",
    "team_responders",
    "service_support_hours",
    "urgencies",
    "manage_schedules",
    "manage_api_keys",
    "coordinated_responding",
    "event_rules",
    "status_dashboards",
    "change_events",
)


class ApiError(Exception):
    """An error answered with PagerDuty's error body."""

    def __init__(self, status: int, code: int, message: str, errors: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, list(errors)

    def body(self) -> Json:
        return {"error": {"message": self.message, "code": self.code, "errors": self.errors}}


def invalid(*errors: str) -> ApiError:
    """400 code 2001, as PagerDuty answers bad parameters."""
    return ApiError(400, 2001, "Invalid Input Provided", errors)


def not_found(what: str) -> ApiError:
    return ApiError(404, 2100, "Not Found", [f"{what} not found"])


@dataclass(frozen=True)
class Context:
    """One request as the endpoint logic sees it."""

    account: SandboxAccount
    now: datetime
    args: MultiDict[str, str]
    user_id: str | None  # the user of a User Token key, None for account keys
    past_incidents_enabled: bool


Handler = Callable[..., Json]
URLS = Map(
    [
        Rule("/incidents", endpoint="incidents"),
        Rule("/incidents/<ident>", endpoint="incident"),
        Rule("/incidents/<ident>/log_entries", endpoint="incident_log_entries"),
        Rule("/incidents/<ident>/alerts", endpoint="incident_alerts"),
        Rule("/incidents/<ident>/notes", endpoint="incident_notes"),
        Rule("/incidents/<ident>/past_incidents", endpoint="past_incidents"),
        Rule("/incidents/<ident>/related_change_events", endpoint="related_change_events"),
        Rule("/oncalls", endpoint="oncalls"),
        Rule("/schedules", endpoint="schedules"),
        Rule("/schedules/<ident>", endpoint="schedule"),
        Rule("/schedules/<ident>/users", endpoint="schedule_users"),
        Rule("/services", endpoint="services"),
        Rule("/services/<ident>", endpoint="service"),
        Rule("/services/<ident>/change_events", endpoint="service_change_events"),
        Rule("/escalation_policies", endpoint="escalation_policies"),
        Rule("/escalation_policies/<ident>", endpoint="escalation_policy"),
        Rule("/users", endpoint="users"),
        Rule("/users/me", endpoint="users_me"),
        Rule("/users/<ident>", endpoint="user"),
        Rule("/teams", endpoint="teams"),
        Rule("/teams/<ident>", endpoint="team"),
        Rule("/change_events", endpoint="change_events"),
        Rule("/change_events/<ident>", endpoint="change_event"),
        Rule("/priorities", endpoint="priorities"),
        Rule("/abilities", endpoint="abilities"),
    ],
    strict_slashes=False,
)


def dispatch(path: str, ctx: Context) -> Json:
    """Route a GET path to its endpoint; raises ApiError."""
    try:
        endpoint, values = URLS.bind("sandbox").match(path, method="GET")
    except NotFound:
        raise ApiError(404, 2100, "Not Found", [f"No route for {path}"]) from None
    return ENDPOINTS[endpoint](ctx, **values)


# ---------------------------------------------------------------------- parameters
def _list(args: MultiDict[str, str], name: str) -> list[str]:
    """An array parameter, sent as `name[]=a&name[]=b` (plain `name` and commas also accepted)."""
    values = args.getlist(f"{name}[]") + args.getlist(name)
    return [v for value in values for v in value.split(",") if v]


def _enum(args: MultiDict[str, str], name: str, allowed: set[str]) -> set[str]:
    values = set(_list(args, name))
    bad = sorted(values - allowed)
    if bad:
        raise invalid(f"{name} must be some of {sorted(allowed)}; got {bad}")
    return values


def _time(args: MultiDict[str, str], name: str) -> datetime | None:
    value = args.get(name)
    if not value:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise invalid(f"{name} is not a valid ISO-8601 time: {value!r}") from None


def _int(args: MultiDict[str, str], name: str, default: int) -> int:
    value = args.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise invalid(f"{name} must be an integer") from None


def _bool(args: MultiDict[str, str], name: str) -> bool:
    return args.get(name, "").lower() == "true"


def _query_match(obj: Json, args: MultiDict[str, str], *fields: str) -> bool:
    query = args.get("query", "").lower()
    return not query or any(query in str(obj.get(f, "")).lower() for f in fields)


def _paginate(ctx: Context, key: str, items: list[Json], **extra: Any) -> Json:
    """Classic offset pagination: limit (default 25, clamped to 100), offset, more, total."""
    limit = min(_int(ctx.args, "limit", 25), 100)
    offset = _int(ctx.args, "offset", 0)
    if limit < 1 or offset < 0:
        raise invalid("limit must be positive and offset must not be negative")
    if offset + limit > MAX_OFFSET:
        raise invalid(f"Offset + limit must be at most {MAX_OFFSET}; narrow the query instead")
    page = items[offset : offset + limit]
    total = len(items) if _bool(ctx.args, "total") else None
    return {
        key: page,
        "limit": limit,
        "offset": offset,
        "more": offset + limit < len(items),
        "total": total,
        **extra,
    }


def _window(
    ctx: Context, default_days: int, max_days: int | None = None
) -> tuple[datetime, datetime]:
    """(since, until) from the request, defaulting to the last `default_days`."""
    since, until = _time(ctx.args, "since"), _time(ctx.args, "until")
    until = until or (ctx.now if since is None or since < ctx.now else since)
    since = since or until - timedelta(days=default_days)
    if since > until:
        raise invalid("since must be before until")
    if max_days is not None and until - since > timedelta(days=max_days):
        raise invalid(f"The time range between since and until must be at most {max_days} days")
    return since, until


# ---------------------------------------------------------------------- incidents
INCIDENT_SORT_FIELDS = {"incident_number", "created_at", "resolved_at", "urgency"}


def _sort_incidents(items: list[Json], sort_by: list[str]) -> list[Json]:
    keys: list[tuple[str, bool]] = []
    for part in sort_by[:2]:
        field, _, direction = part.partition(":")
        if field not in INCIDENT_SORT_FIELDS or direction not in ("", "asc", "desc"):
            raise invalid(f"sort_by {part!r} is not valid")
        keys.append((field, direction == "desc"))
    for field, desc in reversed(keys):
        items = sorted(items, key=lambda i, f=field: i[f] or "", reverse=desc)
    return items


def _embed_incident(ctx: Context, inc: Json, includes: set[str]) -> Json:
    """An incident with references replaced by full objects as `include[]` asks."""
    account = ctx.account
    out = dict(inc)
    if "services" in includes:
        out["service"] = account.service(inc["service"]["id"])
    if "escalation_policies" in includes:
        out["escalation_policy"] = account.escalation_policy(inc["escalation_policy"]["id"])
    if "teams" in includes:
        out["teams"] = [account.team(t["id"]) for t in inc["teams"]]
    if includes & {"assignees", "users"}:
        out["assignments"] = [
            {"at": a["at"], "assignee": account.user(a["assignee"]["id"])}
            for a in inc["assignments"]
        ]
    if includes & {"acknowledgers", "users"}:
        out["acknowledgements"] = [
            {"at": a["at"], "acknowledger": account.user(a["acknowledger"]["id"])}
            for a in inc["acknowledgements"]
        ]
    if "first_trigger_log_entries" in includes:
        out["first_trigger_log_entry"] = account.log_entries[inc["id"]][0]
    return out


def _incident(ctx: Context, ident: str) -> Json:
    inc = ctx.account.find_incident(ident)
    if inc is None:
        raise not_found(f"Incident {ident}")
    return inc


def incidents(ctx: Context) -> Json:
    args = ctx.args
    statuses = _enum(args, "statuses", {"triggered", "acknowledged", "resolved"})
    urgencies = _enum(args, "urgencies", {"high", "low"})
    service_ids = set(_list(args, "service_ids"))
    team_ids = set(_list(args, "team_ids"))
    user_ids = set(_list(args, "user_ids"))
    includes = set(_list(args, "include"))
    key = args.get("incident_key")
    date_range = args.get("date_range")
    if date_range not in (None, "", "all"):
        raise invalid("date_range must be 'all'")
    if date_range == "all":
        items = ctx.account.incidents
    else:
        items = ctx.account.incidents_between(*_window(ctx, default_days=30, max_days=183))
    found = [
        inc
        for inc in items
        if (not statuses or inc["status"] in statuses)
        and (not urgencies or inc["urgency"] in urgencies)
        and (not service_ids or inc["service"]["id"] in service_ids)
        and (not team_ids or any(t["id"] in team_ids for t in inc["teams"]))
        and (not user_ids or any(a["assignee"]["id"] in user_ids for a in inc["assignments"]))
        and (key is None or inc["incident_key"] == key)
    ]
    found = _sort_incidents(found, _list(args, "sort_by"))
    body = _paginate(ctx, "incidents", found)
    body["incidents"] = [_embed_incident(ctx, i, includes) for i in body["incidents"]]
    return body


def incident(ctx: Context, ident: str) -> Json:
    includes = set(_list(ctx.args, "include"))
    return {"incident": _embed_incident(ctx, _incident(ctx, ident), includes)}


OVERVIEW_TYPES = {
    "trigger_log_entry",
    "acknowledge_log_entry",
    "escalate_log_entry",
    "resolve_log_entry",
    "annotate_log_entry",
}


def incident_log_entries(ctx: Context, ident: str) -> Json:
    """Log entries newest first, as PagerDuty lists them."""
    inc = _incident(ctx, ident)
    includes = set(_list(ctx.args, "include"))
    since, until = _time(ctx.args, "since"), _time(ctx.args, "until")
    entries = [
        e
        for e in reversed(ctx.account.log_entries[inc["id"]])
        if (not _bool(ctx.args, "is_overview") or e["type"] in OVERVIEW_TYPES)
        and (since is None or e["created_at"] >= iso(since))
        and (until is None or e["created_at"] < iso(until))
    ]
    body = _paginate(ctx, "log_entries", entries)
    if includes & {"incidents", "services", "teams"}:
        account = ctx.account
        body["log_entries"] = [
            e
            | ({"incident": inc} if "incidents" in includes else {})
            | ({"service": account.service(e["service"]["id"])} if "services" in includes else {})
            | (
                {"teams": [account.team(t["id"]) for t in e["teams"]]}
                if "teams" in includes
                else {}
            )
            for e in body["log_entries"]
        ]
    return body


def incident_alerts(ctx: Context, ident: str) -> Json:
    inc = _incident(ctx, ident)
    statuses = _enum(ctx.args, "statuses", {"triggered", "resolved"})
    alert_key = ctx.args.get("alert_key")
    alerts = [
        a
        for a in ctx.account.alerts[inc["id"]]
        if (not statuses or a["status"] in statuses)
        and (alert_key is None or a["alert_key"] == alert_key)
    ]
    return _paginate(ctx, "alerts", alerts)


def incident_notes(ctx: Context, ident: str) -> Json:
    return {"notes": ctx.account.notes[_incident(ctx, ident)["id"]]}


def past_incidents(ctx: Context, ident: str) -> Json:
    """Same-service incidents of the last 6 months scored by (hidden) similarity."""
    if not ctx.past_incidents_enabled:
        raise ApiError(
            402,
            2014,
            "Account does not have the abilities to perform the action",
            ["Past Incidents requires the Event Intelligence package or Digital Operations plan"],
        )
    inc = _incident(ctx, ident)
    limit = _int(ctx.args, "limit", 5)
    if not 1 <= limit <= 999:
        raise invalid("limit must be between 1 and 999")
    account = ctx.account
    created = datetime.fromisoformat(inc["created_at"])
    mode = account.failure_mode_of(inc["id"])
    twin = next(m.lookalike for m in account.modes if m.name == mode)
    scored: list[tuple[float, Json]] = []
    for other in account.incidents_between(created - timedelta(days=183), created):
        if other["service"]["id"] != inc["service"]["id"] or other["id"] == inc["id"]:
            continue
        other_mode = account.failure_mode_of(other["id"])
        noise = random.Random(f"{inc['id']}:{other['id']}").random()
        if other_mode == mode:
            score = 55 + 35 * noise
        elif other_mode == twin:
            score = 30 + 35 * noise
        else:
            score = 30 * noise
        scored.append((round(score, 4), other))
    scored.sort(key=lambda s: (-s[0], s[1]["created_at"]))
    return {
        "past_incidents": [
            {
                "incident": {
                    "id": other["id"],
                    "created_at": other["created_at"],
                    "self": other["self"],
                    "title": other["title"],
                },
                "score": score,
            }
            for score, other in scored[:limit]
        ],
        "total": len(scored),
        "limit": limit,
    }


def related_change_events(ctx: Context, ident: str) -> Json:
    """Changes before the incident: same service in 24h, other team services in 4h."""
    inc = _incident(ctx, ident)
    account = ctx.account
    created = datetime.fromisoformat(inc["created_at"])
    service_id = inc["service"]["id"]
    team_ids = {t["id"] for t in inc["teams"]}
    related: list[Json] = []
    for change in reversed(account.changes_between(created - timedelta(hours=24), created)):
        change_service = account.service(change["services"][0]["id"])
        assert change_service is not None
        if change_service["id"] == service_id:
            reason = "most_recent"
        elif change["timestamp"] >= iso(created - timedelta(hours=4)) and team_ids & {
            t["id"] for t in change_service["teams"]
        }:
            reason = "related_service"
        else:
            continue
        related.append(change | {"correlation_reason": {"reason": reason}})
    return {"change_events": related[: min(_int(ctx.args, "limit", 25), 100)]}


# ---------------------------------------------------------------------- on-call & schedules
def _policy_targets(policy: Json) -> list[tuple[int, Json]]:
    return [
        (level, target)
        for level, rule in enumerate(policy["escalation_rules"], start=1)
        for target in rule["targets"]
    ]


def oncalls(ctx: Context) -> Json:
    """One entry per (policy, level, target, shift) overlapping [since, until] (default: now)."""
    args, account = ctx.args, ctx.account
    since, until = _time(args, "since"), _time(args, "until")
    since = since or (until if until and until < ctx.now else ctx.now)
    until = until or since
    if until < since:
        raise invalid("since must be before until")
    if until - since > timedelta(days=90):
        raise invalid("The on-call range may span at most 90 days")
    schedule_ids = set(_list(args, "schedule_ids"))
    policy_ids = set(_list(args, "escalation_policy_ids"))
    user_ids = set(_list(args, "user_ids"))
    includes = set(_list(args, "include"))
    out: list[Json] = []
    for policy in account.escalation_policies:
        if policy_ids and policy["id"] not in policy_ids:
            continue
        for level, target in _policy_targets(policy):
            if target["type"] == "schedule_reference":
                if schedule_ids and target["id"] not in schedule_ids:
                    continue
                spans = [
                    (user, iso(start), iso(end))
                    for user, start, end in account.schedule_shifts(target["id"], since, until)
                ]
                schedule: Json | None = target
            elif schedule_ids:
                continue
            else:
                spans, schedule = [(target["id"], None, None)], None
            for user_id, start, end in spans:
                if user_ids and user_id not in user_ids:
                    continue
                out.append(
                    {
                        "escalation_policy": (
                            policy
                            if "escalation_policies" in includes
                            else account.policy_refs[policy["id"]]
                        ),
                        "escalation_level": level,
                        "schedule": (
                            account.schedule(schedule["id"])
                            if schedule and "schedules" in includes
                            else schedule
                        ),
                        "user": (
                            account.user(user_id)
                            if "users" in includes
                            else account.user_refs[user_id]
                        ),
                        "start": start,
                        "end": end,
                    }
                )
    if _bool(args, "earliest"):
        seen: set[tuple[str, int, str]] = set()
        earliest: list[Json] = []
        for entry in out:
            key = (entry["escalation_policy"]["id"], entry["escalation_level"], entry["user"]["id"])
            if key not in seen:
                seen.add(key)
                earliest.append(entry)
        out = earliest
    return _paginate(ctx, "oncalls", out)


def _schedule_summary(schedule: Json) -> Json:
    return {k: v for k, v in schedule.items() if k != "schedule_layers"}


def schedules(ctx: Context) -> Json:
    team_ids = set(_list(ctx.args, "team_ids"))
    found = [
        _schedule_summary(s)
        for s in ctx.account.schedules
        if _query_match(s, ctx.args, "name")
        and (not team_ids or any(t["id"] in team_ids for t in s["teams"]))
    ]
    return _paginate(ctx, "schedules", found)


def _rendered(
    ctx: Context, entries: list[tuple[str, datetime, datetime]], since: datetime, until: datetime
) -> Json:
    covered = sum((end - start).total_seconds() for _, start, end in entries)
    return {
        "rendered_schedule_entries": [
            {"user": ctx.account.user_refs[user], "start": iso(start), "end": iso(end)}
            for user, start, end in entries
        ],
        "rendered_coverage_percentage": round(100 * covered / (until - since).total_seconds(), 2),
    }


def schedule(ctx: Context, ident: str) -> Json:
    """A schedule with layers and the final schedule rendered (default: the next 2 weeks)."""
    base = ctx.account.schedule(ident)
    if base is None:
        raise not_found(f"Schedule {ident}")
    since, until = _time(ctx.args, "since"), _time(ctx.args, "until")
    if since is None:
        since = until - timedelta(days=14) if until else ctx.now
    until = until or since + timedelta(days=14)
    if until <= since or until - since > timedelta(days=90):
        raise invalid("until must be after since, at most 90 days later")
    layers = [
        layer | _rendered(ctx, render((rotation,), since, until), since, until)
        for layer, rotation in zip(base["schedule_layers"], ctx.account.layers[ident], strict=True)
    ]
    final = _rendered(ctx, ctx.account.render_schedule(ident, since, until), since, until)
    overrides = {"rendered_schedule_entries": [], "rendered_coverage_percentage": 0.0}
    return {
        "schedule": base
        | {
            "schedule_layers": layers,
            "final_schedule": {"name": "Final Schedule", **final},
            "overrides_subschedule": {"name": "Overrides", **overrides},
        }
    }


def schedule_users(ctx: Context, ident: str) -> Json:
    base = ctx.account.schedule(ident)
    if base is None:
        raise not_found(f"Schedule {ident}")
    return {"users": [ctx.account.user(u["id"]) for u in base["users"]]}


# ---------------------------------------------------------------------- directory objects
def _embed(ctx: Context, obj: Json, includes: set[str], fields: dict[str, str]) -> Json:
    """Replace reference fields (single or list) by full objects for the included kinds."""
    out = dict(obj)
    for include, field in fields.items():
        if include not in includes or field not in obj:
            continue
        value = obj[field]
        lookup = ctx.account.full
        out[field] = [lookup(v) for v in value] if isinstance(value, list) else lookup(value)
    return out


SERVICE_INCLUDES = {"escalation_policies": "escalation_policy", "teams": "teams"}
POLICY_INCLUDES = {"services": "services", "teams": "teams"}


def services(ctx: Context) -> Json:
    team_ids = set(_list(ctx.args, "team_ids"))
    includes = set(_list(ctx.args, "include"))
    name = ctx.args.get("name")
    found = [
        _embed(ctx, s, includes, SERVICE_INCLUDES)
        for s in sorted(ctx.account.services, key=lambda s: s["name"])
        if _query_match(s, ctx.args, "name")
        and (name is None or s["name"] == name)
        and (not team_ids or any(t["id"] in team_ids for t in s["teams"]))
    ]
    return _paginate(ctx, "services", found)


def service(ctx: Context, ident: str) -> Json:
    found = ctx.account.service(ident)
    if found is None:
        raise not_found(f"Service {ident}")
    includes = set(_list(ctx.args, "include"))
    return {"service": _embed(ctx, found, includes, SERVICE_INCLUDES)}


def _embed_policy(ctx: Context, policy: Json, includes: set[str]) -> Json:
    out = _embed(ctx, policy, includes, POLICY_INCLUDES)
    if "targets" in includes:
        out["escalation_rules"] = [
            rule | {"targets": [ctx.account.full(t) for t in rule["targets"]]}
            for rule in policy["escalation_rules"]
        ]
    return out


def escalation_policies(ctx: Context) -> Json:
    team_ids = set(_list(ctx.args, "team_ids"))
    user_ids = set(_list(ctx.args, "user_ids"))
    includes = set(_list(ctx.args, "include"))
    found = []
    for policy in sorted(ctx.account.escalation_policies, key=lambda p: p["name"]):
        members = {
            u["id"]
            for _, target in _policy_targets(policy)
            for u in (
                [target]
                if target["type"] == "user_reference"
                else ctx.account.full(target)["users"]
            )
        }
        if (
            _query_match(policy, ctx.args, "name")
            and (not team_ids or any(t["id"] in team_ids for t in policy["teams"]))
            and (not user_ids or members & user_ids)
        ):
            found.append(_embed_policy(ctx, policy, includes))
    return _paginate(ctx, "escalation_policies", found)


def escalation_policy(ctx: Context, ident: str) -> Json:
    found = ctx.account.escalation_policy(ident)
    if found is None:
        raise not_found(f"Escalation policy {ident}")
    return {"escalation_policy": _embed_policy(ctx, found, set(_list(ctx.args, "include")))}


def _embed_user(ctx: Context, user: Json, includes: set[str]) -> Json:
    out = _embed(ctx, user, includes, {"teams": "teams"})
    if "contact_methods" in includes:
        out["contact_methods"] = ctx.account.contact_methods[user["id"]]
    return out


def users(ctx: Context) -> Json:
    team_ids = set(_list(ctx.args, "team_ids"))
    includes = set(_list(ctx.args, "include"))
    found = [
        _embed_user(ctx, u, includes)
        for u in sorted(ctx.account.users, key=lambda u: u["name"])
        if _query_match(u, ctx.args, "name", "email")
        and (not team_ids or any(t["id"] in team_ids for t in u["teams"]))
    ]
    return _paginate(ctx, "users", found)


def user(ctx: Context, ident: str) -> Json:
    found = ctx.account.user(ident)
    if found is None:
        raise not_found(f"User {ident}")
    return {"user": _embed_user(ctx, found, set(_list(ctx.args, "include")))}


def users_me(ctx: Context) -> Json:
    if ctx.user_id is None:
        raise invalid("This endpoint requires a user-level API key (User Token REST API key)")
    return user(ctx, ctx.user_id)


def teams(ctx: Context) -> Json:
    found = [
        t
        for t in sorted(ctx.account.teams, key=lambda t: t["name"])
        if _query_match(t, ctx.args, "name")
    ]
    return _paginate(ctx, "teams", found)


def team(ctx: Context, ident: str) -> Json:
    found = ctx.account.team(ident)
    if found is None:
        raise not_found(f"Team {ident}")
    return {"team": found}


def _changes(ctx: Context, service_id: str | None) -> Json:
    """Change events newest first, filtered by time, team, integration and service."""
    since, until = _time(ctx.args, "since"), _time(ctx.args, "until")
    if since and until and since > until:
        raise invalid("since must be before until")
    team_ids = set(_list(ctx.args, "team_ids"))
    integration_ids = set(_list(ctx.args, "integration_ids"))
    account = ctx.account
    found = []
    for change in reversed(account.changes_between(since, until)):
        svc = account.service(change["services"][0]["id"])
        assert svc is not None
        if (
            (service_id is None or svc["id"] == service_id)
            and (not team_ids or any(t["id"] in team_ids for t in svc["teams"]))
            and (not integration_ids or change["integration"]["id"] in integration_ids)
        ):
            found.append(change)
    return _paginate(ctx, "change_events", found)


def change_events(ctx: Context) -> Json:
    return _changes(ctx, None)


def change_event(ctx: Context, ident: str) -> Json:
    found = ctx.account.change_event(ident)
    if found is None:
        raise not_found(f"Change event {ident}")
    return {"change_event": found}


def service_change_events(ctx: Context, ident: str) -> Json:
    if ctx.account.service(ident) is None:
        raise not_found(f"Service {ident}")
    return _changes(ctx, ident)


def priorities(ctx: Context) -> Json:
    return _paginate(ctx, "priorities", ctx.account.priorities)


def abilities(ctx: Context) -> Json:
    extra = ("past_incidents",) if ctx.past_incidents_enabled else ()
    return {"abilities": [*ABILITIES, *extra]}


ENDPOINTS: dict[str, Handler] = {
    "incidents": incidents,
    "incident": incident,
    "incident_log_entries": incident_log_entries,
    "incident_alerts": incident_alerts,
    "incident_notes": incident_notes,
    "past_incidents": past_incidents,
    "related_change_events": related_change_events,
    "oncalls": oncalls,
    "schedules": schedules,
    "schedule": schedule,
    "schedule_users": schedule_users,
    "services": services,
    "service": service,
    "service_change_events": service_change_events,
    "escalation_policies": escalation_policies,
    "escalation_policy": escalation_policy,
    "users": users,
    "users_me": users_me,
    "user": user,
    "teams": teams,
    "team": team,
    "change_events": change_events,
    "change_event": change_event,
    "priorities": priorities,
    "abilities": abilities,
}
