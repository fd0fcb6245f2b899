"""The account's directory: names -> PagerDuty objects (teams, services, schedules,
escalation policies, users), and the parsing of incident references ("#12345", "12345", an id,
a web URL).

Listings are cached per directory for a short TTL so that a conversation does not re-list the
account on every tool call. Matching is case-insensitive and tolerant ("payments team" finds
"Payments"); an unknown or ambiguous name raises an error listing the closest real names. With a
:class:`Boundary` (the team scope), names are matched among the objects inside it first, and an
object outside it is refused by the boundary.
"""

from __future__ import annotations

import difflib
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pd_toolkit.client import PagerDutyClient
from pd_toolkit.errors import (
    IncidentRefError,
    NameMatchError,
    PagerDutyError,
    PagerDutyNotFoundError,
)

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


class Boundary(Protocol):
    """What a directory asks of a scope: is an object inside, and the error for one outside."""

    def holds(self, obj: Mapping[str, Any], kind: Kind) -> bool: ...

    def refuse_object(self, obj: Mapping[str, Any], kind: Kind) -> PagerDutyError: ...


class Directory:
    """Finds objects by name or id through one client, caching listings for ``ttl`` seconds
    (clock injectable for tests). Thread-safe; share one per conversation."""

    def __init__(
        self,
        client: PagerDutyClient,
        *,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[Kind, tuple[float, list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()

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

    def find(self, kind: Kind, name_or_id: str, boundary: Boundary | None = None) -> dict[str, Any]:
        """The raw object a name or id means. Without a boundary an id costs nothing unless it
        is unknown to a cached listing (then it is returned as a bare reference); with one, an
        id is looked up (1 request when not listed) and names are matched among the objects
        inside first; an object outside is refused by ``boundary``."""
        text = name_or_id.strip()
        if not text:
            raise NameMatchError(f"Empty {KINDS[kind].label} name")
        if OBJECT_ID.match(text):
            cached = self._cache.get(kind)
            listed = cached[1] if cached else self.listing(kind) if boundary else []
            found = next((o for o in listed if o.get("id") == text), None)
            if boundary is None:
                return found or {"id": text, "type": kind}
            found = found or self._fetch(kind, text)
            if not boundary.holds(found, kind):
                raise boundary.refuse_object(found, kind)
            return found
        listing = self.listing(kind)
        if boundary is None:
            return match_name(text, listing, kind)
        try:
            return match_name(text, [o for o in listing if boundary.holds(o, kind)], kind)
        except NameMatchError as inside_error:
            try:
                outside = match_name(text, listing, kind)
            except NameMatchError:
                raise inside_error from None
            raise boundary.refuse_object(outside, kind) from None

    def _fetch(self, kind: Kind, object_id: str) -> dict[str, Any]:
        """One object by id (1 request), to learn its teams."""
        try:
            body = self.client.get(f"{KINDS[kind].path}/{object_id}")
        except PagerDutyNotFoundError:
            raise PagerDutyNotFoundError(
                f"No {KINDS[kind].label} {object_id} in this PagerDuty account"
            ) from None
        found = body.get(kind)
        if not isinstance(found, dict):
            raise PagerDutyError(f"PagerDuty answered GET {KINDS[kind].path}/{object_id} oddly")
        return found
