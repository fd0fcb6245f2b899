"""Generating the seeded sandbox account: organisation, incident history, hidden ground truth.

`generate(seed, now, incidents)` builds a `World`: plain data in PagerDuty's JSON shape (teams,
users, schedules, escalation policies, services, 180 days of incidents with their alerts, log
entries and notes, change events) plus what the API never serves (rotations, escalation levels,
each incident's failure mode). It is deterministic: the organisation depends on the seed only;
the history is the seed's story planned on `REFERENCE_NOW` and moved to `now` (same numbers,
titles, causes and details for any clock; the times move, and with them who was on call).
`new_incident` generates one more incident against a world, for the live account's triggers.

What a world becomes once served (indexes, lookups, forks, triggers, resolutions, notes,
renames) lives in `account.py`; the names and failure modes drawn from, in `catalog.py`.
"""

from __future__ import annotations

import math
import random
import string
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from . import catalog
from .catalog import FailureMode
from .rotation import Layer, user_at

API = "https://api.pagerduty.com"
WEB = "https://sandbox.pagerduty.com"
HISTORY_DAYS = 180
HISTORY_INCIDENTS = 2020  # resolved incidents over HISTORY_DAYS (the open ones come on top)
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
        """A fresh id: `prefix` then random capitals and digits, `length` in all."""
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
        """A value for placeholder `key`: the mode's own choices first, else a plausible one."""
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
            "host_ip": lambda: f"ip-10-{r.randint(0, 63)}-{r.randint(0, 255)}-{r.randint(1, 254)}",
            "trace": lambda: f"{r.getrandbits(128):032x}",
            "request_id": lambda: (
                f"req_{''.join(r.choices(string.ascii_letters + string.digits, k=20))}"
            ),
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
        """`template` with its placeholders filled (the same value each time a key recurs)."""
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


# Context a monitoring tool adds to an alert whatever its cause, each field present on some
# incidents only (a tag set, a label scraped or not): (field, template, share carrying it).
CONTEXT_FIELDS: dict[str, tuple[tuple[str, str, float], ...]] = {
    "Datadog": (
        ("host", "{host_ip}", 0.6),
        ("pod_name", "{pod}", 0.5),
        ("kube_namespace", "{service}", 0.4),
        ("env", "production", 0.7),
        ("trace_id", "{trace}", 0.35),
        ("tags", "env:production, service:{service}, version:{version}", 0.5),
    ),
    "Prometheus Alertmanager": (
        ("instance", "{ip}:9100", 0.6),
        ("pod", "{pod}", 0.5),
        ("namespace", "{service}", 0.5),
        ("job", "{service}", 0.4),
        ("prometheus", "monitoring/k8s", 0.6),
        ("request_id", "{request_id}", 0.3),
    ),
}
OTHER_CONTEXT = (("region", "{region}", 0.5), ("host", "{host_ip}", 0.3))
OPTIONAL_SHARE = 0.6  # the share of incidents carrying each of a mode's optional fields


def _details(rng: random.Random, mode: FailureMode, v: _Vars) -> dict[str, Any]:
    """An incident's custom details: the mode's fields (its optional ones on some incidents
    only) with per-incident values, then the monitoring tool's context fields, each present or
    not (hosts, pods, trace and request ids: noise that says nothing of the cause)."""
    details = {
        key: _typed(v.fill(template))
        for key, template in mode.details.items()
        if key not in mode.optional or rng.random() < OPTIONAL_SHARE
    }
    for key, template, share in CONTEXT_FIELDS.get(mode.client, OTHER_CONTEXT):
        if rng.random() < share and key not in details:
            details[key] = v.fill(template.replace("{service}", v.service))
    return details


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    """A log-normal draw around `median`: durations with a long tail, as real ones have."""
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
    """An incident pinned open at `now` (or one `new_incident` triggers): its cause, place
    and state, so the demo and the tests can rely on it."""

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


@dataclass(eq=False, repr=False)
class World:
    """A generated account as plain data: the API objects (dicts in PagerDuty's JSON shape),
    references to them by id, what stands behind them (rotations, escalation levels,
    integrations) and the hidden ground truth. Large: compared by identity, and without repr."""

    seed: int
    now: datetime
    # The organisation (the seed's alone).
    teams: list[Json] = field(default_factory=list)
    users: list[Json] = field(default_factory=list)
    contact_methods: dict[str, list[Json]] = field(default_factory=dict)  # by user id
    schedules: list[Json] = field(default_factory=list)
    layers: dict[str, tuple[Layer, ...]] = field(default_factory=dict)  # by schedule id
    escalation_policies: list[Json] = field(default_factory=list)
    # By policy id: one (delay in minutes, [(target kind, target id)]) per level.
    policy_levels: dict[str, list[tuple[int, list[tuple[str, str]]]]] = field(default_factory=dict)
    services: list[Json] = field(default_factory=list)
    service_spec: dict[str, catalog.ServiceSpec] = field(default_factory=dict)  # by service id
    integrations: dict[str, dict[str, Json]] = field(default_factory=dict)  # service, client
    priorities: list[Json] = field(default_factory=list)
    team_refs: dict[str, Json] = field(default_factory=dict)  # references, by id
    user_refs: dict[str, Json] = field(default_factory=dict)
    schedule_refs: dict[str, Json] = field(default_factory=dict)
    policy_refs: dict[str, Json] = field(default_factory=dict)
    service_refs: dict[str, Json] = field(default_factory=dict)
    user_id_by_name: dict[str, str] = field(default_factory=dict)
    service_id_by_name: dict[str, str] = field(default_factory=dict)
    phone: dict[str, str] = field(default_factory=dict)  # by user id
    user_key_user_id: str = ""  # the user behind the sandbox's user API key
    # The history (planned on REFERENCE_NOW, moved to `now`) and its ground truth.
    incidents: list[Json] = field(default_factory=list)  # oldest first
    alerts: dict[str, list[Json]] = field(default_factory=dict)  # by incident id
    log_entries: dict[str, list[Json]] = field(default_factory=dict)  # by incident id
    notes: dict[str, list[Json]] = field(default_factory=dict)  # by incident id
    change_events: list[Json] = field(default_factory=list)  # oldest first
    modes: tuple[ModeInfo, ...] = ()
    mode_of: dict[str, str] = field(default_factory=dict)  # incident id -> failure mode

    def add(self, story: Story) -> None:
        """Add a generated incident, with its alerts, timeline, notes and change, at the end
        (the caller sorts when it may be out of order)."""
        if story.change is not None:
            self.change_events.append(story.change)
        incident_id = story.incident["id"]
        self.incidents.append(story.incident)
        self.alerts[incident_id] = story.alerts
        self.log_entries[incident_id] = story.log_entries
        self.notes[incident_id] = story.notes
        self.mode_of[incident_id] = story.mode


@dataclass(frozen=True)
class Story:
    """One generated incident and what comes with it (not yet part of any world)."""

    incident: Json
    alerts: list[Json]
    log_entries: list[Json]  # oldest first
    notes: list[Json]
    change: Json | None  # the change event shortly before it, if any
    mode: str  # its failure mode (ground truth)


def generate(seed: int, now: datetime, incidents: int = HISTORY_INCIDENTS) -> World:
    """The world of (seed, now, history size): the seed's organisation and, over the
    HISTORY_DAYS before `now`, about `incidents` resolved incidents plus the open ones."""
    world = World(seed, now)
    ids = _Ids(random.Random(f"pd-sandbox-org:{seed}"))
    steps = (_add_teams, _add_users, _add_schedules, _add_policies, _add_services, _add_priorities)
    for step in steps:  # in this order: each draws the next ids from `ids`
        step(world, ids)
    _add_history(world, random.Random(f"pd-sandbox-history:{seed}"), incidents, set(ids.seen))
    return world


def new_incident(
    world: World, mode_name: str, service_name: str, at: datetime, number: int, taken: set[str]
) -> Story:
    """A new incident `number` of failure mode `mode_name` on the service named `service_name`,
    triggered at `at` and still triggered, with ids not in `taken` (ValueError for an unknown
    mode or service). The same arguments give the same incident."""
    modes = {m.name: m for m in catalog.MODES}
    if mode_name not in modes:
        raise ValueError(f"unknown failure mode {mode_name!r}; known: {', '.join(modes)}")
    if service_name not in world.service_id_by_name:
        raise ValueError(f"unknown service {service_name!r}")
    rng = random.Random(f"pd-sandbox-trigger:{world.seed}:{number}:{iso(at)}")
    ids = _Ids(rng)
    ids.seen = taken
    mode = modes[mode_name]
    spec = _OpenSpec(mode_name, service_name, "triggered", mode.urgency, 0)
    return _incident(world, rng, ids, number, at, mode, service_name, spec)


def _ids_by_name(objs: list[Json]) -> dict[str, str]:
    """Name -> id of named API objects."""
    return {obj["name"]: obj["id"] for obj in objs}


def _add_teams(world: World, ids: _Ids) -> None:
    """The teams of the catalog."""
    for name, description in catalog.TEAMS:
        tid = ids.new()
        world.teams.append(
            {
                **ref("team", tid, name),
                "type": "team",
                "name": name,
                "description": description,
                "default_role": "manager",
            }
        )
    world.team_refs = {t["id"]: ref("team", t["id"], t["name"]) for t in world.teams}


def _add_users(world: World, ids: _Ids) -> None:
    """The people, their contact methods and phone numbers; the user-key's user."""
    team_id = _ids_by_name(world.teams)
    colors = ("green", "purple", "teal", "orange", "red", "blue", "brown", "cayenne")
    for n, spec in enumerate(catalog.USERS):
        uid = ids.new()
        world.user_id_by_name[spec.name] = uid
        first, _, last = spec.name.partition(" ")
        email = f"{first}.{last.replace(' ', '').replace(chr(39), '')}@example.com".lower()
        phone = f"555555{n:04d}"  # as PagerDuty keeps a number: national, + country_code
        methods: list[tuple[str, str, str, Json]] = [
            ("email", "Work email", email, {}),
            ("phone", "Mobile", phone, {"country_code": 1}),
            ("sms", "Mobile", phone, {"country_code": 1}),
            ("push_notification", "iPhone", "iPhone 15", {"device_type": "ios"}),
        ]
        world.contact_methods[uid] = [
            {
                "id": ids.new(),
                "type": f"{kind}_contact_method",
                "summary": label,
                "self": f"{API}/users/{uid}/contact_methods/{uid}{kind[:1].upper()}",
                "html_url": None,
                "label": label,
                "address": address,
                **extra,
            }
            for kind, label, address, extra in methods
        ]
        world.users.append(
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
                "teams": [world.team_refs[team_id[t]] for t in spec.teams],
                "contact_methods": [
                    {k: m[k] for k in ("id", "type", "summary", "self", "html_url")}
                    | {"type": f"{m['type']}_reference"}
                    for m in world.contact_methods[uid]
                ],
                "notification_rules": [],
            }
        )
    world.user_refs = {u["id"]: ref("user", u["id"], u["name"]) for u in world.users}
    world.phone = {u["id"]: f"+1555555{n:04d}" for n, u in enumerate(world.users)}
    world.user_key_user_id = world.user_id_by_name["Alice Nguyen"]


def _add_schedules(world: World, ids: _Ids) -> None:
    """The schedules and the rotations (layers) behind them."""
    team_id = _ids_by_name(world.teams)
    for spec in catalog.SCHEDULES:
        sid = ids.new()
        layers: list[Layer] = []
        layer_objs: list[Json] = []
        for lspec in spec.layers:
            vstart = parse_time(lspec.virtual_start)
            restriction = None
            if lspec.restriction is not None:
                hh, mm, ss = (int(x) for x in lspec.restriction[0].split(":"))
                restriction = (hh * 3600 + mm * 60 + ss, lspec.restriction[1])
            user_ids = tuple(world.user_id_by_name[u] for u in lspec.users)
            layers.append(Layer(user_ids, lspec.turn_hours * 3600, vstart, restriction))
            layer_objs.append(
                {
                    "id": ids.new(),
                    "name": lspec.name,
                    "start": iso(vstart),
                    "rotation_virtual_start": iso(vstart),
                    "rotation_turn_length_seconds": lspec.turn_hours * 3600,
                    "users": [{"user": world.user_refs[u]} for u in user_ids],
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
        world.layers[sid] = tuple(layers)
        members = list(dict.fromkeys(u for layer in layers for u in layer.users))
        world.schedules.append(
            {
                **ref("schedule", sid, spec.name),
                "type": "schedule",
                "name": spec.name,
                "time_zone": spec.time_zone,
                "description": spec.description,
                "users": [world.user_refs[u] for u in members],
                "teams": [world.team_refs[team_id[spec.team]]],
                "escalation_policies": [],
                "schedule_layers": layer_objs,
            }
        )
    world.schedule_refs = {s["id"]: ref("schedule", s["id"], s["name"]) for s in world.schedules}


def _add_policies(world: World, ids: _Ids) -> None:
    """The escalation policies, their levels, and each schedule's list of policies."""
    team_id = _ids_by_name(world.teams)
    schedule_id = _ids_by_name(world.schedules)
    for pspec in catalog.POLICIES:
        pid = ids.new()
        rules: list[Json] = []
        levels: list[tuple[int, list[tuple[str, str]]]] = []
        for delay, targets in pspec.levels:
            resolved = [
                (kind, schedule_id[name] if kind == "schedule" else world.user_id_by_name[name])
                for kind, name in targets
            ]
            levels.append((delay, resolved))
            rules.append(
                {
                    "id": ids.new(),
                    "escalation_delay_in_minutes": delay,
                    "targets": [
                        world.schedule_refs[tid] if kind == "schedule" else world.user_refs[tid]
                        for kind, tid in resolved
                    ],
                }
            )
        world.policy_levels[pid] = levels
        world.escalation_policies.append(
            {
                **ref("escalation_policy", pid, pspec.name),
                "type": "escalation_policy",
                "name": pspec.name,
                "description": pspec.description,
                "num_loops": 1,
                "on_call_handoff_notifications": "if_has_services",
                "escalation_rules": rules,
                "services": [],
                "teams": [world.team_refs[team_id[pspec.team]]],
            }
        )
    world.policy_refs = {
        p["id"]: ref("escalation_policy", p["id"], p["name"]) for p in world.escalation_policies
    }
    schedules = {s["id"]: s for s in world.schedules}
    for policy in world.escalation_policies:
        for rule in policy["escalation_rules"]:
            for target in rule["targets"]:
                if target["type"] == "schedule_reference":
                    schedule = schedules.get(target["id"])
                    if schedule is not None and policy["id"] not in {
                        p["id"] for p in schedule["escalation_policies"]
                    }:
                        schedule["escalation_policies"].append(world.policy_refs[policy["id"]])


def _add_services(world: World, ids: _Ids) -> None:
    """The services, their integrations (one per monitoring client that alerts on them), and
    each policy's list of services."""
    team_id = _ids_by_name(world.teams)
    policies = {p["id"]: p for p in world.escalation_policies}
    policy_id = _ids_by_name(world.escalation_policies)
    clients_by_service: dict[str, set[str]] = defaultdict(set)
    for mode in catalog.MODES:
        for name in mode.services:
            clients_by_service[name].add("Email" if mode.channel == "email" else mode.client)
    created = datetime(2023, 3, 1, tzinfo=UTC)
    for n, spec in enumerate(catalog.SERVICES):
        sid = ids.new()
        world.service_id_by_name[spec.name] = sid
        world.service_spec[sid] = spec
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
        world.integrations[sid] = integ
        pid = policy_id[spec.policy]
        world.services.append(
            {
                **ref("service", sid, spec.name),
                "type": "service",
                "name": spec.name,
                "description": spec.description,
                "auto_resolve_timeout": 14400,
                "acknowledgement_timeout": 1800,
                "created_at": iso(created + timedelta(days=11 * n)),
                "status": "active",
                "escalation_policy": world.policy_refs[pid],
                "teams": [world.team_refs[team_id[spec.team]]],
                "integrations": list(integ.values()),
                "incident_urgency_rule": {"type": "constant", "urgency": "high"},
                "scheduled_actions": [],
                "addons": [],
                "alert_creation": "create_alerts_and_incidents",
            }
        )
        policies[pid]["services"].append(ref("service", sid, spec.name))
    world.service_refs = {s["id"]: ref("service", s["id"], s["name"]) for s in world.services}


def _add_priorities(world: World, ids: _Ids) -> None:
    """The incident priorities (P1 to P5)."""
    world.priorities = [
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
    for p in world.priorities:
        p["self"] = f"{API}/priorities/{p['id']}"


def _add_history(world: World, rng: random.Random, incidents: int, seen_ids: set[str]) -> None:
    """The incidents and change events of the last HISTORY_DAYS (ids unlike `seen_ids`), the
    same story whatever the clock: they are planned on the fixed REFERENCE_NOW (recurrence
    patterns included) and moved to `now`; each incident draws from its own generators, so
    that what depends on the real time (who was on call then) cannot change the incidents
    after it."""
    now = world.now
    shift = now - REFERENCE_NOW
    start = now - timedelta(days=HISTORY_DAYS)
    modes = {m.name: m for m in catalog.MODES}
    world.modes = tuple(ModeInfo(m.name, m.services, m.lookalike, m.alert) for m in catalog.MODES)

    planned: list[tuple[datetime, FailureMode, str, _OpenSpec | None, int | None]] = []
    total_weight = sum(m.weight for m in catalog.MODES)
    extra = max(0, incidents - 15 * len(catalog.MODES))
    for mode in catalog.MODES:
        count = 15 + round(extra * mode.weight / total_weight * rng.uniform(0.9, 1.1))
        lo, hi = start, now - timedelta(hours=4)
        if all(_state(world, n) == "maintenance" for n in mode.services):
            hi = now - timedelta(days=3)  # nothing triggers during maintenance
        if mode.max_age_days is not None:
            lo = now - timedelta(days=mode.max_age_days[1])
            hi = now - timedelta(days=mode.max_age_days[0])
        for planned_at in _sample_times(rng, mode, count, lo - shift, hi - shift):
            t = planned_at + shift
            planned.append((t, mode, _pick_service(world, rng, mode, t), None, None))
    for spec in OPEN_INCIDENTS:
        mode = modes[spec.mode]
        t = now - timedelta(minutes=spec.minutes_ago, seconds=rng.randint(0, 59))
        planned.append((t, mode, spec.service, spec, spec.title))
        for days in spec.recurred_days_ago:
            t = now - timedelta(days=days, hours=rng.uniform(0, 6))
            planned.append((t, mode, spec.service, None, len(mode.titles) - 1))
    planned.sort(key=lambda p: p[0])

    first_number = max(1000, NEWEST_NUMBER - len(planned) + 1)
    for index, (t, mode, service, spec, title) in enumerate(planned):
        ids = _Ids(random.Random(f"pd-sandbox-ids:{world.seed}:{index}"))
        ids.seen = seen_ids
        rng_incident = random.Random(f"pd-sandbox-incident:{world.seed}:{index}")
        world.add(
            _incident(world, rng_incident, ids, first_number + index, t, mode, service, spec, title)
        )
    changes = random.Random(f"pd-sandbox-changes:{world.seed}")
    world.change_events.extend(_background_changes(world, changes, start))
    world.change_events.sort(key=lambda c: c["timestamp"])


def _pick_service(world: World, rng: random.Random, mode: FailureMode, t: datetime) -> str:
    """A mode spanning services fires mostly on its first service."""
    names = [
        n
        for n in mode.services
        if _state(world, n) != "maintenance" or t < world.now - timedelta(days=3)
    ] or list(mode.services)
    return names[0] if len(names) == 1 or rng.random() < 0.7 else rng.choice(names[1:])


def _state(world: World, service_name: str) -> str | None:
    """A service's pinned state ("maintenance", "disabled") or None."""
    return world.service_spec[world.service_id_by_name[service_name]].state


def _level_users(world: World, policy_id: str, level: int, t: datetime) -> list[str]:
    """Users a policy level pages at `t` (schedule targets resolved through rotations)."""
    users: list[str] = []
    for kind, target in world.policy_levels[policy_id][level][1]:
        user = user_at(world.layers[target], t) if kind == "schedule" else target
        if user is not None and user not in users:
            users.append(user)
    return users


def _incident(
    world: World,
    rng: random.Random,
    ids: _Ids,
    number: int,
    t0: datetime,
    mode: FailureMode,
    service_name: str,
    spec: _OpenSpec | None,
    title_index: int | None = None,
) -> Story:
    """Incident `number` of failure `mode` on `service_name`, triggered at `t0`: its alerts,
    timeline (trigger, notifications, escalations, acknowledgement, notes, resolution) and
    notes, and the change that preceded it, if any; `spec` pins an open one's state."""
    sid = world.service_id_by_name[service_name]
    service = next(s for s in world.services if s["id"] == sid)
    pid = service["escalation_policy"]["id"]
    team_refs = service["teams"]
    v = _Vars(rng, service_name, t0, mode)
    titles = mode.titles_at((world.now - t0).total_seconds() / 86_400)
    template = (
        rng.choice(titles) if title_index is None else titles[min(title_index, len(titles) - 1)]
    )
    title = v.fill(template)
    iid = ids.new("Q", 14)
    key = mode.alert or uuid.UUID(int=rng.getrandbits(128), version=4).hex
    inc_ref = ref("incident", iid, f"[#{number}] {title}")
    service_ref = world.service_refs[sid]
    urgency = spec.urgency if spec else mode.urgency
    priority_name = rng.choice(mode.priorities)
    if spec is not None and spec.priority is not None:
        priority_name = spec.priority
    priority = next((p for p in world.priorities if p["name"] == priority_name), None)
    status = spec.status if spec else "resolved"
    details = _details(rng, mode, v)
    integration = world.integrations[sid]["Email" if mode.channel == "email" else mode.client]

    change_before = spec.change_minutes_before if spec else None
    if spec is None and rng.random() < mode.change_prob:
        change_before = rng.randint(3, 25)
    change = None
    if change_before is not None:
        change = _change(
            world, rng, t0 - timedelta(minutes=change_before), sid, mode.change_kind, v
        )

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
        ack_after = min(spec.minutes_ago * 0.4, 6) if spec.status == "acknowledged" else math.inf
    elif t0 + timedelta(minutes=ttr) > world.now - timedelta(minutes=5):
        ttr = max(1.0, (world.now - t0).total_seconds() / 60 - 10)
        ack_after = min(ack_after, ttr * 0.8)
    ack_at = t0 + timedelta(minutes=ack_after) if math.isfinite(ack_after) else None
    resolved_at = t0 + timedelta(minutes=ttr) if math.isfinite(ttr) else None
    levels = world.policy_levels[pid]

    def notify(users: list[str], at: datetime) -> None:
        for user in users:
            for delay, method in ((0, "push"), (1, "sms"), (5, "phone")):
                when = at + timedelta(minutes=delay, seconds=paging.randint(2, 40))
                if (ack_at and when >= ack_at) or when > world.now:
                    break
                notification: Json = {
                    "type": f"{method}_notification",
                    "status": "success",
                    "started_at": iso(when),
                    "user": world.user_refs[user],
                }
                if method != "push":
                    notification["address"] = world.phone[user]
                label = {"push": "push notification", "sms": "SMS", "phone": "phone"}[method]
                log(
                    "notify",
                    when,
                    f"Notified {world.user_refs[user]['summary']} by {label}.",
                    None,
                    {"type": "auto", "notification": notification},
                    paging_ids,
                    user=world.user_refs[user],
                )

    assignees = _level_users(world, pid, 0, t0)
    notify(assignees, t0)
    level_at = t0
    for level in range(1, len(levels)):
        level_at = level_at + timedelta(minutes=levels[level - 1][0])
        if (
            (ack_at and level_at >= ack_at)
            or level_at > world.now
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
        assignees = _level_users(world, pid, level, level_at)
        log(
            "assign",
            level_at,
            "Assigned to " + ", ".join(world.user_refs[u]["summary"] for u in assignees) + ".",
            service_ref,
            {"type": "auto"},
            assignees=[world.user_refs[u] for u in assignees],
        )
        notify(assignees, level_at)

    responder = assignees[0]
    notes: list[Json] = []

    def note(at: datetime, content: str) -> None:
        nid = ids.new()
        notes.append(
            {
                "id": nid,
                "user": world.user_refs[responder],
                "channel": {"summary": "The PagerDuty website or APIs"},
                "content": content,
                "created_at": iso(at),
            }
        )
        log(
            "annotate",
            at,
            "Note added",
            world.user_refs[responder],
            {"type": "note", "summary": content},
        )

    if ack_at is not None:
        log(
            "acknowledge",
            ack_at,
            f"Acknowledged by {world.user_refs[responder]['summary']}.",
            world.user_refs[responder],
            {"type": rng.choice(("website", "website", "sms", "mobile"))},
        )
        if rng.random() < 0.5 or spec is not None:
            team_id = team_refs[0]["id"]
            mates = [u["name"] for u in world.users if team_id in {t["id"] for t in u["teams"]}]
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
            resolver = world.user_refs[responder]
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
        last_change, last_by = (ack_at, world.user_refs[responder]) if ack_at else (t0, service_ref)
    else:
        last_change, last_by = resolved_at, resolver
    assert last_change is not None

    n_alerts = rng.choices((1, 2, 3), weights=(70, 20, 10))[0]
    alerts: list[Json] = []
    for n in range(n_alerts):
        aid = ids.new("Q", 14)
        created = t0 + timedelta(seconds=n * rng.randint(20, 240))
        alert_key = key if n == 0 else uuid.UUID(int=rng.getrandbits(128), version=4).hex
        summary = title if n == 0 else v.fill(rng.choice(titles))
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
        [{"at": iso(ack_at), "acknowledger": world.user_refs[responder]}]
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
        else [{"at": iso(t0), "assignee": world.user_refs[u]} for u in assignees],
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
        "escalation_policy": world.policy_refs[pid],
        "teams": team_refs,
        "pending_actions": [],
        "urgency": urgency,
        "priority": priority,
    }
    return Story(incident, alerts, entries, notes, change, mode.name)


def _change(
    world: World,
    rng: random.Random,
    at: datetime,
    sid: str,
    kind: str,
    v: _Vars | None = None,
) -> Json:
    """A change event on a service: a deploy, a config change or a feature flag (worded with
    the incident's values `v` when it comes before one)."""
    name = world.service_refs[sid]["summary"]
    values = v if v is not None else _Vars(rng, name, at, None)
    cid = "01" + "".join(rng.choices(ALNUM, k=24))
    handle = values["handle"]
    if kind == "deploy":
        version, pr = values["version"], values["pr"]
        summary = f"Deploy {name} {version} (#{pr}) by {handle}"
        integration = world.integrations[sid]["GitHub Actions"]
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
        integration = world.integrations[sid]["Change"]
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
        integration = world.integrations[sid]["Change"]
        source = "launchdarkly"
        links = [
            {
                "href": f"https://app.launchdarkly.com/default/production/features/{flag}",
                "text": flag,
            }
        ]
        custom = {"flag": flag, "rollout_percentage": pct, "author": handle}
    return {
        "id": cid,
        "type": "change_event",
        "summary": summary,
        "self": f"{API}/change_events/{cid}",
        "html_url": None,
        "timestamp": iso(at),
        "source": source,
        "services": [world.service_refs[sid]],
        "integration": integration,
        "links": links,
        "images": [],
        "custom_details": custom,
    }


def _background_changes(world: World, rng: random.Random, start: datetime) -> list[Json]:
    """Routine deploys and config changes not tied to any incident (planned on
    REFERENCE_NOW, like the incidents, then moved to `now`)."""
    shift = world.now - REFERENCE_NOW
    changes: list[Json] = []
    for service in world.services:
        if world.service_spec[service["id"]].state == "disabled":
            continue
        per_week = rng.uniform(0.4, 1.4)
        for _ in range(round(per_week * HISTORY_DAYS / 7)):
            day = start - shift + timedelta(days=rng.randrange(HISTORY_DAYS))
            at = shift + day.replace(
                hour=rng.randint(13, 22), minute=rng.randint(0, 59), second=rng.randint(0, 59)
            )
            if at < world.now - timedelta(hours=2):
                kind = rng.choices(("deploy", "config", "flag"), weights=(6, 2, 1))[0]
                changes.append(_change(world, rng, at, service["id"], kind))
    return changes


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
