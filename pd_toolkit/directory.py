"""The account's directory: names -> PagerDuty objects (teams, services, schedules,
escalation policies, users), and incident references ("#12345", "12345", an id, a web URL) ->
incidents.

Listings are cached per directory for a short TTL so that a conversation does not re-list the
account on every tool call. Matching is case-insensitive and tolerant ("payments team" finds
"Payments"); an unknown or ambiguous name raises an error listing the closest real names.
"""

from __future__ import annotations

import difflib
import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Literal

from pd_toolkit.client import PagerDutyClient
from pd_toolkit.errors import (
    IncidentRefError,
    NameMatchError,
    PagerDutyError,
    PagerDutyNotFoundError,
)
from pd_toolkit.models import Incident

Kind = Literal["team", "service", "schedule", "escalation_policy", "user"]
OBJECT_ID = re.compile(r"^P[A-Z0-9]{6}$")
INCIDENT_NUMBER = re.compile(r"[0-9]{1,18}")
INCIDENT_ID = re.compile(r"^[A-Z0-9]{7,20}$")
INCIDENT_URL = re.compile(
    r"^https?://[\w.-]+\.pagerduty\.com/incidents/([A-Za-z0-9]+)(?:[/?#].*)?$", re.IGNORECASE
)
LISTING_CAP = 2_000


@dataclass(frozen=True)
class _KindSpec:
    path: str
    label: str
    noise: frozenset[str]


_GENERIC = {"the", "a", "an", "pagerduty", "pd"}
KINDS: dict[Kind, _KindSpec] = {
    "team": _KindSpec("/teams", "team", frozenset({"team", "squad", "group"})),
    "service": _KindSpec(
        "/services", "service", frozenset({"service", "svc", "app", "application"})
    ),
    "schedule": _KindSpec(
        "/schedules",
        "schedule",
        frozenset({"schedule", "rotation", "on", "call", "oncall", "primary"}),
    ),
    "escalation_policy": _KindSpec(
        "/escalation_policies",
        "escalation policy",
        frozenset({"escalation", "policy", "ep"}),
    ),
    "user": _KindSpec("/users", "user", frozenset({"user"})),
}


def normalize(name: str) -> str:
    """Case-folded words: 'Payments-API ' -> 'payments api'."""
    return " ".join(re.sub(r"[^\w]+|_", " ", name.casefold()).split())


def _core(name: str, noise: frozenset[str]) -> str:
    """A normalized name without generic words: 'the payments team' -> 'payments'."""
    words = [w for w in normalize(name).split() if w not in noise and w not in _GENERIC]
    return " ".join(words) or normalize(name)


def _describe(obj: dict[str, Any]) -> str:
    return f'"{obj.get("name") or obj.get("summary")}" ({obj.get("id")})'


def match_name(name: str, candidates: Sequence[dict[str, Any]], kind: Kind) -> dict[str, Any]:
    """The one candidate ``name`` means; raises NameMatchError when none or several do."""
    spec = KINDS[kind]
    wanted, wanted_core = normalize(name), _core(name, spec.noise)
    named = [(c, str(c.get("name") or c.get("summary") or "")) for c in candidates]
    tests: list[Callable[[str], bool]] = [
        lambda n: normalize(n) == wanted,
        lambda n: _core(n, spec.noise) == wanted_core,
        lambda n: f" {wanted_core} " in f" {normalize(n)} ",
        lambda n: normalize(n).startswith(wanted_core),
    ]
    for test in tests:
        hits = [c for c, n in named if n and test(n)]
        if len(hits) == 1:
            return hits[0]
        if hits:
            shown = ", ".join(_describe(c) for c in hits[:8])
            more = f" and {len(hits) - 8} more" if len(hits) > 8 else ""
            raise NameMatchError(
                f"{name!r} matches {len(hits)} {spec.label} names: {shown}{more}",
                hint=f"Retry with the exact {spec.label} name or its id.",
            )
    by_label = {normalize(n): c for c, n in named if n}
    close = difflib.get_close_matches(wanted_core, list(by_label), n=5, cutoff=0.5)
    close += [
        n
        for n in difflib.get_close_matches(wanted, list(by_label), n=5, cutoff=0.5)
        if n not in close
    ]
    if close:
        listed = "closest: " + ", ".join(_describe(by_label[n]) for n in close[:5])
    elif by_label:
        some = sorted(by_label)[:10]
        listed = "known: " + ", ".join(_describe(by_label[n]) for n in some)
    else:
        listed = f"the account has no {spec.label} this key can see"
    raise NameMatchError(
        f"No {spec.label} named {name!r} ({listed})",
        hint=f"Retry with one of these {spec.label} names or ids.",
    )


def parse_incident_ref(ref: str | int) -> str:
    """'#12345' / '12345' / an id / a web URL -> what GET /incidents/{x} accepts."""
    text = str(ref).strip()
    if url := INCIDENT_URL.match(text):
        return url.group(1).upper()
    bare = re.sub(r"^(?:incident\s*)?", "", text, flags=re.IGNORECASE).strip()
    if bare.startswith("#"):
        number = bare[1:].strip()
        if INCIDENT_NUMBER.fullmatch(number) and int(number) > 0:
            return str(int(number))
        raise IncidentRefError(
            f"{text!r} is not an incident number: after '#' give digits only, e.g. #12345"
        )
    if INCIDENT_NUMBER.fullmatch(bare) and int(bare) > 0:
        return str(int(bare))
    if INCIDENT_ID.match(bare.upper()) and any(ch.isalpha() for ch in bare):
        return bare.upper()
    if "://" in text:
        raise IncidentRefError(f"{text!r} is not a PagerDuty incident URL")
    raise IncidentRefError(f"{text!r} is not an incident number, id or URL")


class Directory:
    """Finds objects by name or id and incidents by reference through one client, caching
    listings for ``ttl`` seconds (clock injectable for tests). Thread-safe; share one per
    conversation."""

    def __init__(
        self,
        client: PagerDutyClient,
        *,
        ttl: float = 300.0,
        incident_ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.incident_ttl = incident_ttl
        self.clock = clock
        self._cache: dict[Kind, tuple[float, list[dict[str, Any]]]] = {}
        self._incidents: dict[str, tuple[float, Incident]] = {}
        self._shared: dict[tuple[str, str], tuple[float, Future[dict[str, Any]]]] = {}
        self._lock = threading.Lock()

    def shared_get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """GET ``path`` once for identical calls in flight or within ``incident_ttl`` seconds:
        two lookups of one investigation asking the same thing (e.g. a policy's on-calls for
        both the on-call and the service-status tools, or a service's open incidents for both
        picking the incident and its service status) send one request. List parameters match
        in any order. Failures are not kept."""
        canonical = {k: sorted(v) if isinstance(v, list) else v for k, v in params.items()}
        key = (path, json.dumps(canonical, sort_keys=True, default=str))
        future: Future[dict[str, Any]]
        with self._lock:
            entry = self._shared.get(key)
            shared = entry is not None and (
                not entry[1].done() or self.clock() - entry[0] < self.incident_ttl
            )
            if entry is not None and shared:
                future = entry[1]
            else:
                now = self.clock()
                stale = [
                    old
                    for old, (at, pending) in self._shared.items()
                    if pending.done() and now - at >= self.incident_ttl
                ]
                for old in stale:  # answers past their reuse time: a long-lived process keeps none
                    del self._shared[old]
                future = Future()  # this call sends it
                self._shared[key] = (now, future)
        if shared:
            return future.result()  # waited for outside the lock
        try:
            future.set_result(self.client.get(path, params))
        except BaseException as exc:
            with self._lock:
                self._shared.pop(key, None)
            future.set_exception(exc)
        return future.result()

    def listing(self, kind: Kind) -> list[dict[str, Any]]:
        """Every object of a kind (1 request per 100, then cached for ``ttl`` seconds)."""
        with self._lock:
            cached = self._cache.get(kind)
            if cached and self.clock() - cached[0] < self.ttl:
                return cached[1]
        items = list(self.client.iter_all(KINDS[kind].path, max_items=LISTING_CAP))
        with self._lock:
            self._cache[kind] = (self.clock(), items)
        return items

    def find(self, kind: Kind, name_or_id: str) -> dict[str, Any]:
        """The raw object a name or id means. An id costs nothing unless it is unknown to a
        cached listing, where it is returned as a bare reference."""
        text = name_or_id.strip()
        if not text:
            raise NameMatchError(f"Empty {KINDS[kind].label} name")
        cached = self._cache.get(kind)
        if OBJECT_ID.match(text):
            if cached:
                known = next((o for o in cached[1] if o.get("id") == text), None)
                if known:
                    return known
            return {"id": text, "type": kind}
        return match_name(text, self.listing(kind), kind)

    def incident(self, ref: str | int) -> Incident:
        """GET /incidents/{id or number} (1 request). The answer is reused for
        ``incident_ttl`` seconds, so the lookups of one investigation fetch it once."""
        key = parse_incident_ref(ref)
        with self._lock:
            cached = self._incidents.get(key)
        if cached and self.clock() - cached[0] < self.incident_ttl:
            return cached[1]
        try:
            body = self.client.get(f"/incidents/{key}")
        except PagerDutyNotFoundError:
            shown = f"#{key}" if key.isdigit() else key
            raise PagerDutyNotFoundError(
                f"No incident {shown} in this PagerDuty account",
                hint="Check the number or id; pagerduty_list_incidents lists recent ones.",
                status=404,
            ) from None
        incident = Incident.model_validate(body.get("incident") or {})
        if not incident.id:
            raise PagerDutyError(f"PagerDuty answered GET /incidents/{key} without an incident")
        self.remember_incidents([incident])
        return incident

    def remember_incidents(self, incidents: Sequence[Incident]) -> None:
        """Keep freshly fetched incidents (e.g. from a listing) for ``incident_ttl`` seconds,
        under their id and number, so a follow-up lookup needs no request."""
        fetched_at = self.clock()
        with self._lock:
            for incident in incidents:
                aliases = [incident.id, incident.incident_number]
                for alias in (str(a) for a in aliases if a is not None):
                    self._incidents[alias] = (fetched_at, incident)

    def incident_id(self, ref: str | int) -> tuple[str, Incident | None]:
        """An incident's id: free for an id or URL, 1 request for a number (the incident
        fetched is returned too)."""
        key = parse_incident_ref(ref)
        if key.isdigit():
            incident = self.incident(key)
            return str(incident.id), incident
        return key, None
