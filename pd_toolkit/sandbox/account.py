"""The seeded sandbox account: API-shaped objects plus hidden ground truth.

`build_account(seed, now)` is deterministic and cached: the organisation (teams, users,
schedules, policies, services) depends on the seed only; the incident history and change events
are the seed's story placed relative to `now` (same numbers, titles, causes and details for any
clock; the times move, and with them who was on call). Objects are plain dicts in PagerDuty's
JSON shape, shared between sandboxes: treat them as read-only.
"""

from __future__ import annotations

import copy
import functools
import math
import random
import string
import uuid
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from . import catalog
from .catalog import FailureMode
from .rotation import Layer, render, shifts, user_at

API = "https://api.pagerduty.com"
WEB = "https://sandbox.pagerduty.com"
HISTORY_DAYS = 180
HISTORY_INCIDENTS = 2050  # resolved incidents over HISTORY_DAYS (the open ones come on top)
# The clock the history is planned on before it moves to the sandbox's `now`: the same seed
# gives the same incidents (numbers, titles, causes, details) whatever the clock; only their
# times move, and with them who was on call when each one fired.
REFERENCE_NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
NEWEST_NUMBER = 3089  # the newest seeded incident; numbers count down from here
ALNUM = string.ascii_uppercase + string.digits
POD_CHARS = "bcdfghjklmnpqrstvwxz2456789"
REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
HANDLES = ("alice", "bruno", "gabriel", "julia", "nina", "samir", "wen", "beatriz", "dependabot")
Json = dict[str, Any]
# The objects `SandboxAccount.rename` renames, and the containers that hold them or refer to them.
RENAMEABLE = ("team", "user", "schedule", "escalation_policy", "service")
_NAMED = ("teams", "users", "schedules", "escalation_policies", "services")
_REFERRING = (
    *_NAMED,
    "incidents",
    "alerts",
    "log_entries",
    "notes",
    "change_events",
    "team_refs",
    "user_refs",
    "schedule_refs",
    "policy_refs",
    "service_refs",
)

HTML_PATHS = {
    "user": "users",
    "team": "teams",
    "service": "service-directory",
    "schedule": "schedules",
    "escalation_policy": "escalation_policies",
    "incident": "incidents",
}
API_PATHS = {**HTML_PATHS, "service": "services"}

PROGRESS_NOTES = (
    "Looking into it. Dashboards show the problem started around {hhmm} UTC.",
    "Customer impact confirmed; status page updated.",
    "Mitigation in progress, watching the error budget.",
    "Pulled in {helper} for a second pair of eyes.",
)

CHANGE_CONFIGS = (
    ("http.client.timeout_ms", "8000", "2000"),
    ("db.pool.max_size", "50", "20"),
    ("cache.eviction_policy", "allkeys-lru", "volatile-lru"),
    ("rate_limit.per_ip", "100", "20"),
    ("replicas.min", "6", "4"),
)
CHANGE_FLAGS = ("new-tax-engine", "checkout-v2-flow", "async-refunds", "push-batching", "recs-v3")


def iso(t: datetime) -> str:
    """ISO-8601 UTC with a Z suffix, to the second, as PagerDuty writes times."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime:
    """Parse ISO-8601 (Z, offset, or naive meaning UTC); raises ValueError."""
    t = datetime.fromisoformat(value.strip().replace(" ", "+"))
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def ref(kind: str, obj_id: str, summary: str) -> Json:
    """A PagerDuty `<kind>_reference` object."""
    return {
        "id": obj_id,
        "type": f"{kind}_reference",
        "summary": summary,
        "self": f"{API}/{API_PATHS[kind]}/{obj_id}",
        "html_url": f"{WEB}/{HTML_PATHS[kind]}/{obj_id}",
    }


class _Ids:
    """Unique PagerDuty-looking ids from a seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def new(self, prefix: str = "P", length: int = 7) -> str:
        while True:
            value = prefix + "".join(self.rng.choices(ALNUM, k=length - len(prefix)))
            if value not in self.seen:
                self.seen.add(value)
                return value


class _Vars(dict[str, str]):
    """Per-incident template values, generated on first use so every text agrees."""

    def __init__(
        self, rng: random.Random, service: str, when: datetime, mode: FailureMode | None
    ) -> None:
        super().__init__()
        self.rng, self.service, self.when, self.mode = rng, service, when, mode

    def __missing__(self, key: str) -> str:
        self[key] = value = self._generate(key)
        return value

    def _generate(self, key: str) -> str:
        r = self.rng
        if self.mode is not None and key in self.mode.choices:
            return r.choice(self.mode.choices[key])
        region = self["region"] if key != "region" else r.choice(REGIONS)
        generators: dict[str, Any] = {
            "region": lambda: region,
            "db_host": lambda: f"db-prod-{r.randint(1, 6)}.{region}.internal",
            "replica": lambda: f"pg-replica-{r.randint(1, 4)}.{region}.internal",
            "k8s_node": lambda: (
                f"ip-10-{r.randint(0, 63)}-{r.randint(0, 255)}-{r.randint(1, 254)}"
                f".{region}.compute.internal"
            ),
            "broker": lambda: f"b-{r.randint(1, 6)}.kafka-prod.{region}.internal",
            "etcd_node": lambda: f"etcd-{r.randint(0, 2)}.prod-{region}",
            "es_node": lambda: f"es-data-{r.randint(1, 9)}",
            "pod": lambda: (
                f"{self.service}-{''.join(r.choices(POD_CHARS, k=10))}"
                f"-{''.join(r.choices(POD_CHARS, k=5))}"
            ),
            "ip": lambda: f"10.{r.randint(0, 63)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
            "ext_ip": lambda: (
                f"{r.choice((45, 91, 185, 193))}.{r.randint(1, 254)}"
                f".{r.randint(0, 255)}.{r.randint(1, 254)}"
            ),
            "asn": lambda: f"AS{r.randint(9000, 64000)}",
            "uuid": lambda: str(uuid.UUID(int=r.getrandbits(128), version=4)),
            "hex8": lambda: f"{r.getrandbits(32):08x}",
            "pct": lambda: f"{r.uniform(5.2, 38.0):.1f}",
            "pct_hi": lambda: f"{r.uniform(90.5, 99.4):.1f}",
            "pct_low": lambda: f"{r.uniform(18.0, 62.0):.1f}",
            "ms": lambda: str(r.randint(2100, 9800)),
            "ms_low": lambda: str(r.randint(180, 1900)),
            "rps": lambda: str(r.randint(400, 9000)),
            "burn": lambda: f"{r.uniform(6.0, 28.0):.1f}",
            "n": lambda: str(r.randint(3, 48)),
            "n2": lambda: str(r.randint(12, 96)),
            "big_n": lambda: str(r.randint(1200, 98000)),
            "n_conn": lambda: str(r.randint(190, 200)),
            "conn_limit": lambda: r.choice(("400", "600", "800")),
            "lag": lambda: str(r.randint(25_000, 2_400_000)),
            "lag_s": lambda: str(r.randint(310, 2400)),
            "offset": lambda: str(r.randint(10**8, 9 * 10**8)),
            "partition": lambda: str(r.randint(0, 23)),
            "days": lambda: str(r.randint(3, 14)),
            "pop": lambda: r.choice(("FRA", "IAD", "NRT", "GRU", "SYD", "LHR", "SJC")),
            "version": lambda: f"v2.{r.randint(30, 60)}.{r.randint(0, 12)}",
            "pr": lambda: str(r.randint(4000, 9999)),
            "commit": lambda: f"{r.getrandbits(28):07x}",
            "handle": lambda: r.choice(HANDLES),
            "date": lambda: (self.when - timedelta(days=1)).strftime("%Y-%m-%d"),
            "cert_expiry": lambda: iso(self.when - timedelta(minutes=r.randint(5, 600))),
            "hhmm": lambda: (self.when - timedelta(minutes=r.randint(2, 9))).strftime("%H:%M"),
        }
        return str(generators[key]())

    def fill(self, template: str) -> str:
        return template.format_map(self)


def _typed(value: str) -> str | int | float:
    """Numbers in alert details as JSON numbers, like monitoring tools send them."""
    if value[:1].isdigit():
        for cast in (int, float):
            try:
                number = cast(value)
            except ValueError:
                continue
            return number if str(number) == value else value
    return value


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


@dataclass(frozen=True)
class ModeInfo:
    """Ground-truth description of a failure mode (never served by the API)."""

    name: str
    services: tuple[str, ...]
    lookalike: str | None
    alert: str | None = None  # the generic alert it shares with other causes, if any

    @property
    def is_lookalike(self) -> bool:
        """True when the mode has a deliberately similar-looking twin with a different fix."""
        return self.lookalike is not None


@dataclass(frozen=True)
class _OpenSpec:
    mode: str
    service: str
    status: str
    urgency: str
    minutes_ago: int
    change_minutes_before: int | None = None
    title: int | None = None  # which of the mode's titles (None: a random one)
    priority: str | None = None  # pinned (None: one of the mode's)
    # Earlier resolved recurrences (days before now), worded with the mode's last title.
    recurred_days_ago: tuple[int, ...] = ()


OPEN_INCIDENTS: tuple[_OpenSpec, ...] = (
    # The demo's incident (the most urgent open one): a generic SLO title, a NullPointerException
    # in its details right after a deploy, and recurrences 3 and 11 days before, worded otherwise.
    _OpenSpec("checkout_deploy_npe", "checkout", "triggered", "high", 14, 6, 0, "P1", (3, 11)),
    _OpenSpec("checkout_latency", "checkout", "acknowledged", "high", 41),
    _OpenSpec("pg_pool_exhausted", "payments-db", "triggered", "high", 26),
    _OpenSpec("pg_replication_lag", "payments-db", "triggered", "low", 95),
    _OpenSpec("search_indexer_lag", "search", "acknowledged", "low", 130),
    _OpenSpec("k8s_disk_pressure", "k8s-cluster", "acknowledged", "low", 185),
    _OpenSpec("login_error_rate", "identity-auth", "triggered", "high", 7, 4),
)


class SandboxAccount:
    """Everything the sandbox serves, plus the hidden ground truth behind the incidents."""

    def __init__(self, seed: int, now: datetime, incidents: int = HISTORY_INCIDENTS) -> None:
        self.seed = seed
        self.now = now
        self._build_org(random.Random(f"pd-sandbox-org:{seed}"))
        self._build_history(random.Random(f"pd-sandbox-history:{seed}"), incidents)

    # ------------------------------------------------------------------ organisation
    def _build_org(self, rng: random.Random) -> None:
        ids = _Ids(rng)
        self._ids = ids
        self._by_id: dict[str, Json] = {}
        self.teams: list[Json] = []
        team_id: dict[str, str] = {}
        for name, description in catalog.TEAMS:
            tid = ids.new()
            team_id[name] = tid
            self.teams.append(
                {
                    **ref("team", tid, name),
                    "type": "team",
                    "name": name,
                    "description": description,
                    "default_role": "manager",
                }
            )
        self._register(self.teams)
        self.team_refs = {t["id"]: ref("team", t["id"], t["name"]) for t in self.teams}

        self.users: list[Json] = []
        self.contact_methods: dict[str, list[Json]] = {}
        self.user_id_by_name: dict[str, str] = {}
        colors = ("green", "purple", "teal", "orange", "red", "blue", "brown", "cayenne")
        for n, spec in enumerate(catalog.USERS):
            uid = ids.new()
            self.user_id_by_name[spec.name] = uid
            first, _, last = spec.name.partition(" ")
            email = f"{first}.{last.replace(' ', '').replace(chr(39), '')}@example.com".lower()
            phone = f"+1555555{n:04d}"
            methods = [
                ("email", "Work email", email),
                ("phone", "Mobile", phone),
                ("sms", "Mobile", phone),
                ("push_notification", "iPhone", "iPhone 15"),
            ]
            self.contact_methods[uid] = [
                {
                    "id": ids.new(),
                    "type": f"{kind}_contact_method",
                    "summary": label,
                    "self": f"{API}/users/{uid}/contact_methods/{uid}{kind[:1].upper()}",
                    "html_url": None,
                    "label": label,
                    "address": address,
                }
                for kind, label, address in methods
            ]
            self.users.append(
                {
                    **ref("user", uid, spec.name),
                    "type": "user",
                    "name": spec.name,
                    "email": email,
                    "time_zone": spec.time_zone,
                    "color": colors[n % len(colors)],
                    "role": spec.role,
                    "avatar_url": f"https://secure.gravatar.com/avatar/{uid.lower()}.png?d=mm",
                    "description": None,
                    "invitation_sent": False,
                    "job_title": spec.job_title,
                    "created_via_sso": False,
                    "teams": [self.team_refs[team_id[t]] for t in spec.teams],
                    "contact_methods": [
                        {k: m[k] for k in ("id", "type", "summary", "self", "html_url")}
                        | {"type": f"{m['type']}_reference"}
                        for m in self.contact_methods[uid]
                    ],
                    "notification_rules": [],
                }
            )
        self._register(self.users)
        self.user_refs = {u["id"]: ref("user", u["id"], u["name"]) for u in self.users}
        self.phone = {u["id"]: f"+1555555{n:04d}" for n, u in enumerate(self.users)}

        self.schedules: list[Json] = []
        self.layers: dict[str, tuple[Layer, ...]] = {}
        schedule_id: dict[str, str] = {}
        for spec in catalog.SCHEDULES:
            sid = ids.new()
            schedule_id[spec.name] = sid
            layers: list[Layer] = []
            layer_objs: list[Json] = []
            for lspec in spec.layers:
                vstart = parse_time(lspec.virtual_start)
                restriction = None
                if lspec.restriction is not None:
                    hh, mm, ss = (int(x) for x in lspec.restriction[0].split(":"))
                    restriction = (hh * 3600 + mm * 60 + ss, lspec.restriction[1])
                user_ids = tuple(self.user_id_by_name[u] for u in lspec.users)
                layers.append(Layer(user_ids, lspec.turn_hours * 3600, vstart, restriction))
                layer_objs.append(
                    {
                        "id": ids.new(),
                        "name": lspec.name,
                        "start": iso(vstart),
                        "rotation_virtual_start": iso(vstart),
                        "rotation_turn_length_seconds": lspec.turn_hours * 3600,
                        "users": [{"user": self.user_refs[u]} for u in user_ids],
                        "restrictions": (
                            []
                            if lspec.restriction is None
                            else [
                                {
                                    "type": "daily_restriction",
                                    "start_time_of_day": lspec.restriction[0],
                                    "duration_seconds": lspec.restriction[1],
                                }
                            ]
                        ),
                    }
                )
            self.layers[sid] = tuple(layers)
            members = list(dict.fromkeys(u for layer in layers for u in layer.users))
            self.schedules.append(
                {
                    **ref("schedule", sid, spec.name),
                    "type": "schedule",
                    "name": spec.name,
                    "time_zone": spec.time_zone,
                    "description": spec.description,
                    "users": [self.user_refs[u] for u in members],
                    "teams": [self.team_refs[team_id[spec.team]]],
                    "escalation_policies": [],
                    "schedule_layers": layer_objs,
                }
            )
        self._register(self.schedules)
        self.schedule_refs = {s["id"]: ref("schedule", s["id"], s["name"]) for s in self.schedules}

        self.escalation_policies: list[Json] = []
        self.policy_levels: dict[str, list[tuple[int, list[tuple[str, str]]]]] = {}
        policy_id: dict[str, str] = {}
        for pspec in catalog.POLICIES:
            pid = ids.new()
            policy_id[pspec.name] = pid
            rules: list[Json] = []
            levels: list[tuple[int, list[tuple[str, str]]]] = []
            for delay, targets in pspec.levels:
                resolved = [
                    (kind, schedule_id[name] if kind == "schedule" else self.user_id_by_name[name])
                    for kind, name in targets
                ]
                levels.append((delay, resolved))
                rules.append(
                    {
                        "id": ids.new(),
                        "escalation_delay_in_minutes": delay,
                        "targets": [
                            self.schedule_refs[tid] if kind == "schedule" else self.user_refs[tid]
                            for kind, tid in resolved
                        ],
                    }
                )
            self.policy_levels[pid] = levels
            self.escalation_policies.append(
                {
                    **ref("escalation_policy", pid, pspec.name),
                    "type": "escalation_policy",
                    "name": pspec.name,
                    "description": pspec.description,
                    "num_loops": 1,
                    "on_call_handoff_notifications": "if_has_services",
                    "escalation_rules": rules,
                    "services": [],
                    "teams": [self.team_refs[team_id[pspec.team]]],
                }
            )
        self._register(self.escalation_policies)
        self.policy_refs = {
            p["id"]: ref("escalation_policy", p["id"], p["name"]) for p in self.escalation_policies
        }
        for policy in self.escalation_policies:
            for rule in policy["escalation_rules"]:
                for target in rule["targets"]:
                    if target["type"] == "schedule_reference":
                        schedule = self.schedule(target["id"])
                        if schedule is not None and policy["id"] not in {
                            p["id"] for p in schedule["escalation_policies"]
                        }:
                            schedule["escalation_policies"].append(self.policy_refs[policy["id"]])

        self.services: list[Json] = []
        self.integrations: dict[str, dict[str, Json]] = {}
        self.service_id_by_name: dict[str, str] = {}
        self.service_spec: dict[str, catalog.ServiceSpec] = {}
        clients_by_service: dict[str, set[str]] = defaultdict(set)
        for mode in catalog.MODES:
            for name in mode.services:
                clients_by_service[name].add("Email" if mode.channel == "email" else mode.client)
        created = datetime(2023, 3, 1, tzinfo=UTC)
        for n, spec in enumerate(catalog.SERVICES):
            sid = ids.new()
            self.service_id_by_name[spec.name] = sid
            self.service_spec[sid] = spec
            integ: dict[str, Json] = {}
            for client in [*sorted(clients_by_service[spec.name]), "GitHub Actions", "Change"]:
                kind = {
                    "Nagios": "nagios_inbound_integration_reference",
                    "Email": "generic_email_inbound_integration_reference",
                    "AWS CloudWatch": "aws_cloudwatch_inbound_integration_reference",
                    "GitHub Actions": "inbound_integration_reference",
                    "Change": "inbound_integration_reference",
                }.get(client, "events_api_v2_inbound_integration_reference")
                iid = ids.new()
                integ[client] = {
                    "id": iid,
                    "type": kind,
                    "summary": client if client != "Change" else "Config & feature flags",
                    "self": f"{API}/services/{sid}/integrations/{iid}",
                    "html_url": f"{WEB}/services/{sid}/integrations/{iid}",
                }
            self.integrations[sid] = integ
            pid = policy_id[spec.policy]
            self.services.append(
                {
                    **ref("service", sid, spec.name),
                    "type": "service",
                    "name": spec.name,
                    "description": spec.description,
                    "auto_resolve_timeout": 14400,
                    "acknowledgement_timeout": 1800,
                    "created_at": iso(created + timedelta(days=11 * n)),
                    "status": "active",
                    "escalation_policy": self.policy_refs[pid],
                    "teams": [self.team_refs[team_id[spec.team]]],
                    "integrations": list(integ.values()),
                    "incident_urgency_rule": {"type": "constant", "urgency": "high"},
                    "scheduled_actions": [],
                    "addons": [],
                    "alert_creation": "create_alerts_and_incidents",
                }
            )
            self._by_id[pid]["services"].append(ref("service", sid, spec.name))
        self._register(self.services)
        self.service_refs = {s["id"]: ref("service", s["id"], s["name"]) for s in self.services}
        self.priorities = [
            {
                "id": ids.new(),
                "type": "priority",
                "summary": name,
                "self": None,
                "html_url": None,
                "name": name,
                "description": description,
            }
            for name, description in catalog.PRIORITIES
        ]
        for p in self.priorities:
            p["self"] = f"{API}/priorities/{p['id']}"
        self.user_key_user_id = self.user_id_by_name["Alice Nguyen"]

    # ------------------------------------------------------------------ history
    def _build_history(self, rng: random.Random, incidents: int) -> None:
        """The incidents and change events of the last HISTORY_DAYS, the same story whatever
        the clock: they are planned on the fixed REFERENCE_NOW (recurrence patterns included)
        and moved to `now`; each incident draws from its own generators, so that what depends
        on the real time (who was on call then) cannot change the incidents after it."""
        now = self.now
        shift = now - REFERENCE_NOW
        start = now - timedelta(days=HISTORY_DAYS)
        modes = {m.name: m for m in catalog.MODES}
        self.modes = tuple(
            ModeInfo(m.name, m.services, m.lookalike, m.alert) for m in catalog.MODES
        )

        planned: list[tuple[datetime, FailureMode, str, _OpenSpec | None, int | None]] = []
        total_weight = sum(m.weight for m in catalog.MODES)
        extra = max(0, incidents - 15 * len(catalog.MODES))
        for mode in catalog.MODES:
            count = 15 + round(extra * mode.weight / total_weight * rng.uniform(0.9, 1.1))
            lo, hi = start, now - timedelta(hours=4)
            if all(self._state(n) == "maintenance" for n in mode.services):
                hi = now - timedelta(days=3)  # nothing triggers during maintenance
            if mode.max_age_days is not None:
                lo = now - timedelta(days=mode.max_age_days[1])
                hi = now - timedelta(days=mode.max_age_days[0])
            for planned_at in _sample_times(rng, mode, count, lo - shift, hi - shift):
                t = planned_at + shift
                planned.append((t, mode, self._pick_service(rng, mode, t), None, None))
        for spec in OPEN_INCIDENTS:
            mode = modes[spec.mode]
            t = now - timedelta(minutes=spec.minutes_ago, seconds=rng.randint(0, 59))
            planned.append((t, mode, spec.service, spec, spec.title))
            for days in spec.recurred_days_ago:
                t = now - timedelta(days=days, hours=rng.uniform(0, 6))
                planned.append((t, mode, spec.service, None, len(mode.titles) - 1))
        planned.sort(key=lambda p: p[0])

        self.incidents: list[Json] = []
        self.alerts: dict[str, list[Json]] = {}
        self.log_entries: dict[str, list[Json]] = {}
        self.notes: dict[str, list[Json]] = {}
        self.change_events: list[Json] = []
        self._mode_of: dict[str, str] = {}
        seen_ids = set(self._ids.seen)
        first_number = max(1000, NEWEST_NUMBER - len(planned) + 1)
        for index, (t, mode, service, spec, title) in enumerate(planned):
            ids = _Ids(random.Random(f"pd-sandbox-ids:{self.seed}:{index}"))
            ids.seen = seen_ids
            story = random.Random(f"pd-sandbox-incident:{self.seed}:{index}")
            self._add_incident(story, ids, first_number + index, t, mode, service, spec, title)
        self._add_background_changes(random.Random(f"pd-sandbox-changes:{self.seed}"), start)
        self.change_events.sort(key=lambda c: c["timestamp"])
        self._index()

    def _pick_service(self, rng: random.Random, mode: FailureMode, t: datetime) -> str:
        """A mode spanning services fires mostly on its first service."""
        names = [
            n
            for n in mode.services
            if self._state(n) != "maintenance" or t < self.now - timedelta(days=3)
        ] or list(mode.services)
        return names[0] if len(names) == 1 or rng.random() < 0.7 else rng.choice(names[1:])

    def _state(self, service_name: str) -> str | None:
        """A service's pinned state ("maintenance", "disabled") or None."""
        return self.service_spec[self.service_id_by_name[service_name]].state

    def _level_users(self, policy_id: str, level: int, t: datetime) -> list[str]:
        """Users a policy level pages at `t` (schedule targets resolved through rotations)."""
        users: list[str] = []
        for kind, target in self.policy_levels[policy_id][level][1]:
            user = user_at(self.layers[target], t) if kind == "schedule" else target
            if user is not None and user not in users:
                users.append(user)
        return users

    def _add_incident(
        self,
        rng: random.Random,
        ids: _Ids,
        number: int,
        t0: datetime,
        mode: FailureMode,
        service_name: str,
        spec: _OpenSpec | None,
        title_index: int | None = None,
    ) -> None:
        sid = self.service_id_by_name[service_name]
        service = self.service(sid)
        assert service is not None
        pid = service["escalation_policy"]["id"]
        team_refs = service["teams"]
        v = _Vars(rng, service_name, t0, mode)
        template = rng.choice(mode.titles) if title_index is None else mode.titles[title_index]
        title = v.fill(template)
        iid = ids.new("Q", 14)
        key = mode.alert or uuid.UUID(int=rng.getrandbits(128), version=4).hex
        inc_ref = ref("incident", iid, f"[#{number}] {title}")
        service_ref = self.service_refs[sid]
        urgency = spec.urgency if spec else mode.urgency
        priority_name = rng.choice(mode.priorities)
        if spec is not None and spec.priority is not None:
            priority_name = spec.priority
        priority = next((p for p in self.priorities if p["name"] == priority_name), None)
        status = spec.status if spec else "resolved"
        details = {k: _typed(v.fill(tpl)) for k, tpl in mode.details.items()}
        integration = self.integrations[sid]["Email" if mode.channel == "email" else mode.client]

        change_before = spec.change_minutes_before if spec else None
        if spec is None and rng.random() < mode.change_prob:
            change_before = rng.randint(3, 25)
        if change_before is not None:
            self._add_change(rng, t0 - timedelta(minutes=change_before), sid, mode.change_kind, v)

        entries: list[Json] = []
        # Notifications depend on who was on call, which moves with the clock: they draw from
        # their own generators so that the rest of the incident cannot change with it.
        paging = random.Random(rng.getrandbits(64))
        paging_ids = _Ids(random.Random(rng.getrandbits(64)))
        paging_ids.seen = ids.seen

        def log(
            kind: str,
            at: datetime,
            summary: str,
            agent: Json | None,
            channel: Json,
            id_source: _Ids = ids,
            **kw: Any,
        ) -> Json:
            lid = id_source.new("R", 14)
            entry = {
                "id": lid,
                "type": f"{kind}_log_entry",
                "summary": summary,
                "self": f"{API}/log_entries/{lid}",
                "html_url": f"{WEB}/incidents/{iid}/log_entries/{lid}",
                "created_at": iso(at),
                "agent": agent,
                "channel": channel,
                "service": service_ref,
                "incident": inc_ref,
                "teams": team_refs,
                "contexts": [],
                **kw,
            }
            if agent is None:
                del entry["agent"]
            entries.append(entry)
            return entry

        trigger_channel: Json
        if mode.channel == "nagios":
            host = str(
                details.get("node") or details.get("broker") or details.get("host") or mode.source
            )
            trigger_channel = {
                "type": "nagios",
                "summary": host,
                "host": host,
                "service": mode.event_class,
                "state": "CRITICAL",
                "details": details,
            }
            via = "Nagios"
        elif mode.channel == "email":
            trigger_channel = {
                "type": "email",
                "summary": title,
                "to": f"{service_name}@sandbox.pagerduty.com",
                "from": f"{mode.source}@example.com",
                "subject": title,
                "body": "\n".join(f"{k}: {val}" for k, val in details.items()),
                "body_content_type": "text/plain",
            }
            via = "email"
        else:
            trigger_channel = {
                "type": "api",
                "summary": title,
                "description": title,
                "incident_key": key,
                "details": details,
            }
            via = "the API"
        trigger = log(
            "trigger",
            t0,
            f"Triggered through {via}.",
            service_ref,
            trigger_channel,
            event_details={"description": title},
        )

        ttr = max(4.0, _lognormal(rng, mode.ttr_minutes, 0.6))
        ack_median = 4.0 if urgency == "high" else 7.0
        ack_after = min(_lognormal(rng, ack_median, 0.8), ttr * 0.8)
        if spec is not None:
            ttr = math.inf
            ack_after = (
                min(spec.minutes_ago * 0.4, 6) if spec.status == "acknowledged" else math.inf
            )
        elif t0 + timedelta(minutes=ttr) > self.now - timedelta(minutes=5):
            ttr = max(1.0, (self.now - t0).total_seconds() / 60 - 10)
            ack_after = min(ack_after, ttr * 0.8)
        ack_at = t0 + timedelta(minutes=ack_after) if math.isfinite(ack_after) else None
        resolved_at = t0 + timedelta(minutes=ttr) if math.isfinite(ttr) else None
        levels = self.policy_levels[pid]

        def notify(users: list[str], at: datetime) -> None:
            for user in users:
                for delay, method in ((0, "push"), (1, "sms"), (5, "phone")):
                    when = at + timedelta(minutes=delay, seconds=paging.randint(2, 40))
                    if (ack_at and when >= ack_at) or when > self.now:
                        break
                    notification: Json = {
                        "type": f"{method}_notification",
                        "status": "success",
                        "started_at": iso(when),
                        "user": self.user_refs[user],
                    }
                    if method != "push":
                        notification["address"] = self.phone[user]
                    label = {"push": "push notification", "sms": "SMS", "phone": "phone"}[method]
                    log(
                        "notify",
                        when,
                        f"Notified {self.user_refs[user]['summary']} by {label}.",
                        None,
                        {"type": "auto", "notification": notification},
                        paging_ids,
                        user=self.user_refs[user],
                    )

        assignees = self._level_users(pid, 0, t0)
        notify(assignees, t0)
        level_at = t0
        for level in range(1, len(levels)):
            level_at = level_at + timedelta(minutes=levels[level - 1][0])
            if (
                (ack_at and level_at >= ack_at)
                or level_at > self.now
                or (resolved_at and level_at >= resolved_at)
            ):
                break
            log(
                "escalate",
                level_at,
                f"Escalated to level {level + 1} by timeout.",
                service_ref,
                {"type": "timeout"},
            )
            assignees = self._level_users(pid, level, level_at)
            log(
                "assign",
                level_at,
                "Assigned to " + ", ".join(self.user_refs[u]["summary"] for u in assignees) + ".",
                service_ref,
                {"type": "auto"},
                assignees=[self.user_refs[u] for u in assignees],
            )
            notify(assignees, level_at)

        responder = assignees[0]
        notes: list[Json] = []

        def note(at: datetime, content: str) -> None:
            nid = ids.new()
            notes.append(
                {
                    "id": nid,
                    "user": self.user_refs[responder],
                    "channel": {"summary": "The PagerDuty website or APIs"},
                    "content": content,
                    "created_at": iso(at),
                }
            )
            log(
                "annotate",
                at,
                "Note added",
                self.user_refs[responder],
                {"type": "note", "summary": content},
            )

        if ack_at is not None:
            log(
                "acknowledge",
                ack_at,
                f"Acknowledged by {self.user_refs[responder]['summary']}.",
                self.user_refs[responder],
                {"type": rng.choice(("website", "website", "sms", "mobile"))},
            )
            if rng.random() < 0.5 or spec is not None:
                team_id = team_refs[0]["id"]
                mates = [u["name"] for u in self.users if team_id in {t["id"] for t in u["teams"]}]
                v["helper"] = rng.choice(mates)
                note(
                    ack_at + timedelta(minutes=rng.randint(1, 6)),
                    v.fill(rng.choice(PROGRESS_NOTES)),
                )
        resolver: Json | None = None
        if resolved_at is not None:
            auto = rng.random() < 0.3
            if mode.hidden and rng.random() < 0.35:
                note(
                    resolved_at - timedelta(minutes=rng.randint(1, 3), seconds=rng.randint(0, 59)),
                    v.fill(rng.choice(mode.hidden)),
                )
            if auto:
                resolver = service_ref
                log(
                    "resolve",
                    resolved_at,
                    f"Resolved through {via}.",
                    service_ref,
                    {"type": mode.channel},
                )
                note(
                    resolved_at + timedelta(minutes=rng.randint(2, 20)),
                    v.fill(rng.choice(mode.resolutions)),
                )
            else:
                resolver = self.user_refs[responder]
                note(
                    resolved_at - timedelta(seconds=rng.randint(20, 90)),
                    v.fill(rng.choice(mode.resolutions)),
                )
                log(
                    "resolve",
                    resolved_at,
                    f"Resolved by {resolver['summary']}.",
                    resolver,
                    {"type": "website"},
                )
        entries.sort(key=lambda e: e["created_at"])
        notes.sort(key=lambda n: n["created_at"])
        if resolver is None:
            last_change, last_by = (
                (ack_at, self.user_refs[responder]) if ack_at else (t0, service_ref)
            )
        else:
            last_change, last_by = resolved_at, resolver
        assert last_change is not None

        n_alerts = rng.choices((1, 2, 3), weights=(70, 20, 10))[0]
        alerts: list[Json] = []
        for n in range(n_alerts):
            aid = ids.new("Q", 14)
            created = t0 + timedelta(seconds=n * rng.randint(20, 240))
            alert_key = key if n == 0 else uuid.UUID(int=rng.getrandbits(128), version=4).hex
            summary = title if n == 0 else v.fill(rng.choice(mode.titles))
            alerts.append(
                {
                    "id": aid,
                    "type": "alert",
                    "summary": summary,
                    "self": f"{API}/incidents/{iid}/alerts/{aid}",
                    "html_url": f"{WEB}/alerts/{aid}",
                    "created_at": iso(created),
                    "status": "resolved" if resolved_at else "triggered",
                    "alert_key": alert_key,
                    "service": service_ref,
                    "first_trigger_log_entry": {
                        k: trigger[k] for k in ("id", "summary", "self", "html_url")
                    }
                    | {"type": "trigger_log_entry_reference"},
                    "incident": inc_ref,
                    "suppressed": False,
                    "severity": mode.severity,
                    "integration": integration,
                    "body": {
                        "type": "alert_body",
                        "contexts": [
                            {
                                "type": "link",
                                "href": f"https://grafana.example.com/d/{service_name}"
                                f"?from={int(t0.timestamp()) - 3600}",
                                "text": f"{service_name} dashboard",
                            }
                        ],
                        "details": details,
                        "cef_details": {
                            "client": mode.client,
                            "client_url": f"https://monitoring.example.com/{mode.source}",
                            "creation_time": iso(created),
                            "dedup_key": alert_key,
                            "description": summary,
                            "details": details,
                            "event_class": mode.event_class,
                            "message": summary,
                            "reporter_component": mode.source,
                            "service_group": service_name,
                            "severity": mode.severity,
                            "source_component": mode.source,
                            "source_origin": str(
                                details.get("node")
                                or details.get("db_instance")
                                or details.get("broker")
                                or f"{service_name}.prod"
                            ),
                            "version": "1.0",
                        },
                    },
                }
            )
        ack_list = (
            [{"at": iso(ack_at), "acknowledger": self.user_refs[responder]}]
            if status == "acknowledged" and ack_at
            else []
        )
        incident: Json = {
            **inc_ref,
            "type": "incident",
            "incident_number": number,
            "title": title,
            "description": title,
            "created_at": iso(t0),
            "updated_at": iso(last_change),
            "status": status,
            "incident_key": key,
            "service": service_ref,
            "assignments": []
            if resolved_at
            else [{"at": iso(t0), "assignee": self.user_refs[u]} for u in assignees],
            "assigned_via": "escalation_policy",
            "acknowledgements": ack_list,
            "last_status_change_at": iso(last_change),
            "last_status_change_by": last_by,
            "resolved_at": iso(resolved_at) if resolved_at else None,
            "first_trigger_log_entry": alerts[0]["first_trigger_log_entry"],
            "alert_counts": {
                "all": n_alerts,
                "triggered": 0 if resolved_at else n_alerts,
                "resolved": n_alerts if resolved_at else 0,
            },
            "is_mergeable": True,
            "incident_type": {"name": "incident_default"},
            "escalation_policy": self.policy_refs[pid],
            "teams": team_refs,
            "pending_actions": [],
            "urgency": urgency,
            "priority": priority,
        }
        self.incidents.append(incident)
        self.alerts[iid] = alerts
        self.log_entries[iid] = entries
        self.notes[iid] = notes
        self._mode_of[iid] = mode.name

    def _add_change(
        self,
        rng: random.Random,
        at: datetime,
        sid: str,
        kind: str,
        v: _Vars | None = None,
    ) -> None:
        """A change event on a service: a deploy, a config change or a feature flag."""
        name = self.service_refs[sid]["summary"]
        values = v if v is not None else _Vars(rng, name, at, None)
        cid = "01" + "".join(rng.choices(ALNUM, k=24))
        handle = values["handle"]
        if kind == "deploy":
            version, pr = values["version"], values["pr"]
            summary = f"Deploy {name} {version} (#{pr}) by {handle}"
            integration = self.integrations[sid]["GitHub Actions"]
            source = "github-actions"
            links = [
                {"href": f"https://github.com/example/{name}/pull/{pr}", "text": f"PR #{pr}"},
                {
                    "href": f"https://github.com/example/{name}/actions/runs/"
                    f"{rng.randint(10**9, 9 * 10**9)}",
                    "text": "Workflow run",
                },
            ]
            custom = {
                "version": version,
                "commit": values["commit"],
                "environment": "production",
                "author": handle,
                "build_state": "passed",
            }
        elif kind == "config":
            key, old, new = rng.choice(CHANGE_CONFIGS)
            summary = f"Config change on {name}: {key} {old} -> {new}"
            integration = self.integrations[sid]["Change"]
            source = "consul"
            links = [
                {
                    "href": f"https://github.com/example/infra-config/commit/{values['commit']}",
                    "text": "Config commit",
                }
            ]
            custom = {"key": key, "old_value": old, "new_value": new, "author": handle}
        else:
            flag, pct = rng.choice(CHANGE_FLAGS), rng.choice((5, 10, 25, 50, 100))
            summary = f"Feature flag {flag} enabled for {pct}% of traffic on {name}"
            integration = self.integrations[sid]["Change"]
            source = "launchdarkly"
            links = [
                {
                    "href": f"https://app.launchdarkly.com/default/production/features/{flag}",
                    "text": flag,
                }
            ]
            custom = {"flag": flag, "rollout_percentage": pct, "author": handle}
        self.change_events.append(
            {
                "id": cid,
                "type": "change_event",
                "summary": summary,
                "self": f"{API}/change_events/{cid}",
                "html_url": None,
                "timestamp": iso(at),
                "source": source,
                "services": [self.service_refs[sid]],
                "integration": integration,
                "links": links,
                "images": [],
                "custom_details": custom,
            }
        )

    def _add_background_changes(self, rng: random.Random, start: datetime) -> None:
        """Routine deploys and config changes not tied to any incident (planned on
        REFERENCE_NOW, like the incidents, then moved to `now`)."""
        shift = self.now - REFERENCE_NOW
        for service in self.services:
            if self.service_spec[service["id"]].state == "disabled":
                continue
            per_week = rng.uniform(0.4, 1.4)
            for _ in range(round(per_week * HISTORY_DAYS / 7)):
                day = start - shift + timedelta(days=rng.randrange(HISTORY_DAYS))
                at = shift + day.replace(
                    hour=rng.randint(13, 22), minute=rng.randint(0, 59), second=rng.randint(0, 59)
                )
                if at < self.now - timedelta(hours=2):
                    kind = rng.choices(("deploy", "config", "flag"), weights=(6, 2, 1))[0]
                    self._add_change(rng, at, service["id"], kind)

    # ------------------------------------------------------------------ changes after the build
    def fork(self) -> SandboxAccount:
        """A private copy that can change (new incidents, resolutions, notes) while this one,
        shared through `build_account`'s cache, stays untouched. Changes replace objects in the
        copy's own containers; they never edit an object the two share."""
        twin = copy.copy(self)
        twin.incidents = list(self.incidents)
        twin.alerts = dict(self.alerts)
        twin.log_entries = dict(self.log_entries)
        twin.notes = dict(self.notes)
        twin.change_events = list(self.change_events)
        twin._mode_of = dict(self._mode_of)
        twin.services = [dict(service) for service in self.services]
        twin._by_id = dict(self._by_id)
        twin._register(twin.services)
        twin._index()
        return twin

    def rename(self, names: Mapping[str, str]) -> None:
        """Rename teams, users, schedules, escalation policies or services of a `fork` (``{id:
        new name}``), as PagerDuty shows a renamed object: its `name` and `summary`, and the
        `summary` of every reference to it (incidents, alerts, log entries, notes, change
        events, other objects, on-calls). Free text that mentions an old name stays as written,
        and `trigger_incident` still takes the catalog's name."""
        for obj_id in names:
            found = self._by_id.get(obj_id)
            if found is None or found["type"] not in RENAMEABLE:
                raise KeyError(f"no team, user, schedule, escalation policy or service {obj_id!r}")
        for attr in _REFERRING:
            setattr(self, attr, _renamed(getattr(self, attr), names))
        for attr in _NAMED:
            self._register(getattr(self, attr))
        self._index()

    def trigger_incident(self, mode_name: str, service_name: str, at: datetime) -> Json:
        """Trigger a new incident of failure mode `mode_name` on `service_name` at `at` (only on
        a `fork`); it is numbered after the newest incident and stays triggered."""
        modes = {m.name: m for m in catalog.MODES}
        if mode_name not in modes:
            raise ValueError(f"unknown failure mode {mode_name!r}; known: {', '.join(modes)}")
        if service_name not in self.service_id_by_name:
            raise ValueError(f"unknown service {service_name!r}")
        number = max(self._incident_by_number, default=999) + 1
        rng = random.Random(f"pd-sandbox-trigger:{self.seed}:{number}:{iso(at)}")
        ids = _Ids(rng)
        ids.seen = set(self._by_id) | set(self._incident_by_id)
        mode = modes[mode_name]
        spec = _OpenSpec(mode_name, service_name, "triggered", mode.urgency, 0)
        self._add_incident(rng, ids, number, at, mode, service_name, spec)
        self.incidents.sort(key=lambda incident: incident["created_at"])
        self.change_events.sort(key=lambda change: change["timestamp"])
        self._index()
        return self._incident_by_number[number]

    def add_note(self, ident: str | int, content: str, at: datetime, user_id: str) -> Json:
        """Add a note (and its annotate log entry) to an incident of a `fork`."""
        incident = self.find_incident(ident)
        if incident is None:
            raise KeyError(f"no incident {ident!r}")
        user = self.user_refs[user_id]
        note_id = f"PN{len(self.notes.get(incident['id'], [])):02d}{incident['id'][-3:]}"
        note = {
            "id": note_id,
            "user": user,
            "channel": {"summary": "The PagerDuty website or APIs"},
            "content": content,
            "created_at": iso(at),
        }
        self.notes[incident["id"]] = [*self.notes.get(incident["id"], []), note]
        self._log(
            incident, "annotate", at, "Note added", user, {"type": "note", "summary": content}
        )
        return note

    def resolve_incident(self, ident: str | int, at: datetime, user_id: str) -> Json:
        """Resolve an open incident of a `fork` at `at`, by the user `user_id`."""
        incident = self.find_incident(ident)
        if incident is None:
            raise KeyError(f"no incident {ident!r}")
        if incident["status"] == "resolved":
            return incident
        user = self.user_refs[user_id]
        alerts = [alert | {"status": "resolved"} for alert in self.alerts[incident["id"]]]
        self.alerts[incident["id"]] = alerts
        resolved = incident | {
            "status": "resolved",
            "resolved_at": iso(at),
            "updated_at": iso(at),
            "last_status_change_at": iso(at),
            "last_status_change_by": user,
            "assignments": [],
            "acknowledgements": [],
            "alert_counts": {"all": len(alerts), "triggered": 0, "resolved": len(alerts)},
        }
        self.incidents[self.incidents.index(incident)] = resolved
        self._log(
            resolved, "resolve", at, f"Resolved by {user['summary']}.", user, {"type": "website"}
        )
        self._index()
        return resolved

    def _log(
        self, incident: Json, kind: str, at: datetime, summary: str, agent: Json, channel: Json
    ) -> None:
        """Append a log entry to an incident's timeline (the list is replaced, not edited)."""
        entries = self.log_entries[incident["id"]]
        entry_id = f"RL{len(entries):04d}{incident['id'][-8:]}"
        entry = {
            "id": entry_id,
            "type": f"{kind}_log_entry",
            "summary": summary,
            "self": f"{API}/log_entries/{entry_id}",
            "html_url": f"{WEB}/incidents/{incident['id']}/log_entries/{entry_id}",
            "created_at": iso(at),
            "agent": agent,
            "channel": channel,
            "service": incident["service"],
            "incident": ref("incident", incident["id"], incident["summary"]),
            "teams": incident["teams"],
            "contexts": [],
        }
        self.log_entries[incident["id"]] = [*entries, entry]

    # ------------------------------------------------------------------ indexes and lookups
    def _index(self) -> None:
        self._incident_by_id = {i["id"]: i for i in self.incidents}
        self._incident_by_number = {i["incident_number"]: i for i in self.incidents}
        self._created = [i["created_at"] for i in self.incidents]
        self._change_times = [c["timestamp"] for c in self.change_events]
        last: dict[str, str] = {}
        open_by_service: dict[str, list[Json]] = defaultdict(list)
        for inc in self.incidents:
            last[inc["service"]["id"]] = inc["created_at"]
            if inc["status"] != "resolved":
                open_by_service[inc["service"]["id"]].append(inc)
        for service in self.services:
            if service["id"] in last:
                service["last_incident_timestamp"] = last[service["id"]]
            state = self.service_spec[service["id"]].state
            open_incidents = open_by_service.get(service["id"], [])
            if state is not None:
                service["status"] = state
            elif any(i["status"] == "triggered" and i["urgency"] == "high" for i in open_incidents):
                service["status"] = "critical"
            elif open_incidents:
                service["status"] = "warning"
            else:
                service["status"] = "active"

    def _register(self, objs: list[Json]) -> None:
        self._by_id.update((o["id"], o) for o in objs)

    def _lookup(self, obj_id: str, kind: str) -> Json | None:
        obj = self._by_id.get(obj_id)
        return obj if obj is not None and obj["type"] == kind else None

    def full(self, reference: Json) -> Json:
        """The full object behind a reference to a team, user, schedule, policy or service."""
        return self._by_id[reference["id"]]

    def team(self, obj_id: str) -> Json | None:
        """The team with this id, or None."""
        return self._lookup(obj_id, "team")

    def user(self, obj_id: str) -> Json | None:
        """The user with this id, or None."""
        return self._lookup(obj_id, "user")

    def service(self, obj_id: str) -> Json | None:
        """The service with this id, or None."""
        return self._lookup(obj_id, "service")

    def schedule(self, obj_id: str) -> Json | None:
        """The schedule (without rendered entries) with this id, or None."""
        return self._lookup(obj_id, "schedule")

    def escalation_policy(self, obj_id: str) -> Json | None:
        """The escalation policy with this id, or None."""
        return self._lookup(obj_id, "escalation_policy")

    def find_incident(self, ident: str | int) -> Json | None:
        """An incident by id or by number ("1234", 1234 or "#1234")."""
        if isinstance(ident, str) and ident in self._incident_by_id:
            return self._incident_by_id[ident]
        text = str(ident).lstrip("#")
        return self._incident_by_number.get(int(text)) if text.isdigit() else None

    def change_event(self, obj_id: str) -> Json | None:
        """The change event with this id, or None."""
        return next((c for c in self.change_events if c["id"] == obj_id), None)

    def incidents_between(self, since: datetime | None, until: datetime | None) -> list[Json]:
        """Incidents created in [since, until) (either bound may be None), oldest first."""
        lo = 0 if since is None else bisect_left(self._created, iso(since))
        hi = len(self.incidents) if until is None else bisect_left(self._created, iso(until))
        return self.incidents[lo:hi]

    def changes_between(self, since: datetime | None, until: datetime | None) -> list[Json]:
        """Change events with timestamp in [since, until], oldest first."""
        lo = 0 if since is None else bisect_left(self._change_times, iso(since))
        hi = (
            len(self.change_events)
            if until is None
            else bisect_right(self._change_times, iso(until))
        )
        return self.change_events[lo:hi]

    def open_incidents(self) -> list[Json]:
        """Incidents not resolved at `now`."""
        return [i for i in self.incidents if i["status"] != "resolved"]

    def oncall_user(self, schedule_id: str, at: datetime) -> str | None:
        """The user id on call for a schedule at `at`."""
        return user_at(self.layers[schedule_id], at)

    def render_schedule(
        self, schedule_id: str, since: datetime, until: datetime
    ) -> list[tuple[str, datetime, datetime]]:
        """Final-schedule entries (user id, start, end) clipped to [since, until)."""
        return render(self.layers[schedule_id], since, until)

    def schedule_shifts(
        self, schedule_id: str, since: datetime, until: datetime
    ) -> list[tuple[str, datetime, datetime]]:
        """Whole shifts (user id, start, end) overlapping [since, until]."""
        return shifts(self.layers[schedule_id], since, until)

    # ------------------------------------------------------------------ ground truth
    def failure_mode_of(self, incident_id: str) -> str:
        """The hidden failure mode behind an incident (KeyError for an unknown id)."""
        return self._mode_of[incident_id]

    def incident_ids_by_mode(self) -> dict[str, list[str]]:
        """Incident ids grouped by hidden failure mode, oldest first."""
        grouped: dict[str, list[str]] = {m.name: [] for m in self.modes}
        for inc in self.incidents:
            grouped[self._mode_of[inc["id"]]].append(inc["id"])
        return grouped


def _renamed(value: Any, names: Mapping[str, str]) -> Any:
    """``value`` with each object or reference whose id is in ``names`` named so. Only what
    changes is copied: a fork never edits what it shares with the cached account."""
    if isinstance(value, dict):
        items = {key: _renamed(item, names) for key, item in value.items()}
        obj_id = value.get("id")
        name = names.get(obj_id) if isinstance(obj_id, str) else None
        if name is not None:
            items |= {field: name for field in ("summary", "name") if field in value}
        return items if any(items[key] is not value[key] for key in value) else value
    if isinstance(value, list):
        copied = [_renamed(item, names) for item in value]
        changed = any(new is not old for new, old in zip(copied, value, strict=True))
        return copied if changed else value
    return value


def _sample_times(
    rng: random.Random, mode: FailureMode, count: int, lo: datetime, hi: datetime
) -> list[datetime]:
    """`count` trigger times in [lo, hi) following the mode's recurrence pattern."""
    span = (hi - lo).total_seconds()
    out: list[datetime] = []

    def uniform() -> datetime:
        return lo + timedelta(seconds=rng.uniform(0, span))

    if mode.pattern == "bursty":
        centers = [uniform() for _ in range(max(3, count // 5))]
        while len(out) < count:
            t = rng.choice(centers) + timedelta(hours=abs(rng.gauss(0, 4)))
            if lo <= t < hi:
                out.append(t)
        return out
    while len(out) < count:
        t = uniform()
        if mode.pattern in ("weekly", "daily") and rng.random() < 0.85:
            assert mode.hours is not None
            day = t.replace(hour=0, minute=0, second=0, microsecond=0)
            if mode.pattern == "weekly":
                day -= timedelta(days=(day.weekday() - (mode.weekday or 0)) % 7)
            t = day + timedelta(hours=rng.uniform(*mode.hours))
            if not lo <= t < hi:
                continue
        elif mode.pattern == "business":
            weekday = t.weekday() < 5
            busy = weekday and 13 <= t.hour < 23
            if rng.random() > (1.0 if busy else 0.3 if weekday else 0.2):
                continue
        out.append(t)
    return out


@functools.lru_cache(maxsize=8)
def build_account(seed: int, now: datetime, incidents: int = HISTORY_INCIDENTS) -> SandboxAccount:
    """The account for (seed, now, history size), built once per process, shared read-only."""
    return SandboxAccount(seed, now, incidents)
