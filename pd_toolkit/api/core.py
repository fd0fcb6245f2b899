"""PagerDutyAPI: every read the project makes, typed, with the team scope applied once.

One object per (client, team scope, store, clock) sits between the client and everything that
reads PagerDuty (the tools, history, the agents):

- **Endpoints.** One method per read, returning the typed models of :mod:`pd_toolkit.models`.
  Listings page only through the client's one page loop (``iter_all``).
- **Scope, once.** With a team scope, listings get PagerDuty's team filter (or are filtered
  here where an endpoint has none), single objects are checked, and names resolve inside the
  scope first (:class:`~pd_toolkit.directory.Directory` with the scope as its boundary). Callers
  never check the scope themselves.
- **Sharing.** Identical reads in flight or a few seconds apart are sent once, and incidents
  are kept briefly (:class:`~pd_toolkit.api.shared.SharedReads`).
- **State with a lifetime.** The incident store is opened on first use and closed with the API
  (``close()`` or ``with``) when the API opened it; upper layers keep per-API state (history,
  PagerDuty's similarity scores) through :meth:`PagerDutyAPI.memo`, never in module globals,
  so two APIs on two stores in one process share nothing by accident.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from pd_toolkit.api.shared import SharedReads
from pd_toolkit.client import PagerDutyClient
from pd_toolkit.directory import Directory, Kind, parse_incident_ref
from pd_toolkit.errors import PagerDutyError, PagerDutyNotFoundError
from pd_toolkit.models import (
    OLDEST,
    Alert,
    ChangeEvent,
    ContactMethod,
    EscalationPolicy,
    Incident,
    LogEntry,
    Note,
    OnCall,
    Ref,
    Schedule,
    Service,
    Team,
)
from pd_toolkit.scope import TeamScope
from pd_toolkit.store import IncidentStore, open_store

OPEN_STATUSES = ("triggered", "acknowledged")
SERVICE_EMBEDS = ("services", "escalation_policies")  # include[] of a service's open listing
T = TypeVar("T")
ItemT = TypeVar("ItemT")


@dataclass
class Page(Generic[ItemT]):
    """Some items of a listing and PagerDuty's ``total`` (when it was asked for)."""

    items: list[ItemT]
    total: int | None


class PagerDutyAPI:
    """The typed, scoped API over one client (see the module docstring).

    ``teams``: a team scope (names or ids), or None. ``store``: where history is kept (None:
    ``PD_TOOLKIT_STORE`` or the default file; ``"memory"``; a path; a SQLAlchemy URL; or an
    :class:`IncidentStore`, which the API then uses without closing it). ``now``: a clock.
    ``cache_ttl``: how long name listings are reused; ``incident_cache_ttl``: how long an
    incident or an identical read is reused (seconds).
    """

    def __init__(
        self,
        client: PagerDutyClient,
        *,
        teams: list[str] | None = None,
        store: str | IncidentStore | None = None,
        now: Callable[[], datetime] | None = None,
        cache_ttl: float = 300.0,
        incident_cache_ttl: float = 30.0,
    ) -> None:
        self.client = client
        self.now = now
        self.directory = Directory(client, ttl=cache_ttl)
        self.shared = SharedReads(client, ttl=incident_cache_ttl)
        self.scope = TeamScope(self.directory, teams) if teams else None
        self._store_spec = store
        self._store: IncidentStore | None = store if isinstance(store, IncidentStore) else None
        self._owns_store = False
        self._memo: dict[str, Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, **kwargs: Any) -> PagerDutyAPI:
        """On ``PagerDutyClient.from_env()`` (PAGERDUTY_API_KEY, ...)."""
        return cls(PagerDutyClient.from_env(), **kwargs)

    def __repr__(self) -> str:
        scope = f", teams={self.scope.names}" if self.scope else ""
        return f"PagerDutyAPI({self.client!r}{scope})"

    # -- lifetime and per-API state ------------------------------------------------------

    @property
    def store(self) -> IncidentStore:
        """The incident store, opened on first use."""
        with self._lock:
            if self._store is None:
                self._store = open_store(self._store_spec)
                self._owns_store = True
            return self._store

    def partition(self) -> str:
        """This client's partition of the store (a deliberately slow KDF, derived once)."""
        return self.store.partition(self.client)

    def memo(self, name: str, factory: Callable[[], T]) -> T:
        """Per-API state of an upper layer (made by ``factory`` on first use), living as long
        as this API: history keeps its parsed histories here."""
        with self._lock:
            if name not in self._memo:
                self._memo[name] = factory()
            return self._memo[name]

    def close(self) -> None:
        """Close the store if this API opened it, and forget per-API state."""
        with self._lock:
            if self._owns_store and self._store is not None:
                self._store.close()
                self._store, self._owns_store = None, False
            self._memo.clear()

    def __enter__(self) -> PagerDutyAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def clock(self) -> datetime:
        return self.now() if self.now else datetime.now(UTC)

    # -- names, inside the scope ---------------------------------------------------------

    def find(self, kind: Kind, name_or_id: str) -> dict[str, Any]:
        """The object a name or id means, inside the team scope."""
        return self.directory.find(kind, name_or_id, self.scope)

    def team(self, name_or_id: str) -> Ref:
        return Ref.model_validate(self.find("team", name_or_id))

    def service(self, name_or_id: str) -> Service:
        return Service.model_validate(self.find("service", name_or_id))

    def schedule(self, name_or_id: str) -> Schedule:
        return Schedule.model_validate(self.find("schedule", name_or_id))

    def policy(self, name_or_id: str) -> EscalationPolicy:
        return EscalationPolicy.model_validate(self.find("escalation_policy", name_or_id))

    def listing(self, kind: Kind) -> list[dict[str, Any]]:
        """Every object of a kind, inside the team scope (cached)."""
        every = self.directory.listing(kind)
        return every if self.scope is None else [o for o in every if self.scope.holds(o, kind)]

    def scope_label(self) -> str | None:
        """'Payments (PQGDQ18), ...' with a scope, else None."""
        return self.scope.label if self.scope else None

    def scope_teams(self) -> list[Team]:
        """The teams of the scope, in the order given (none without a scope)."""
        return self.scope.teams if self.scope else []

    def _team_filter(self) -> dict[str, Any]:
        return {"team_ids[]": self.scope.ids} if self.scope else {}

    # -- incidents -----------------------------------------------------------------------

    def incident(self, ref: str | int) -> Incident:
        """GET /incidents/{id or number} (1 request, or none when kept), inside the scope."""
        key = parse_incident_ref(ref)
        incident = self.shared.incident(key)
        if incident is None:
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
            self.shared.remember([incident])
        return self.scope.check_incident(incident) if self.scope else incident

    def settled_incident(self, ref: str | int) -> Incident:
        """An incident that may be read from the store: when ``ref`` is an id the store holds
        as resolved, that copy (no request). PagerDuty never reopens a resolved incident, so
        what a search reads of it (title, service, creation, trigger) is final, and it is the
        very copy the history ranks it by. Otherwise (a number, an unknown or open incident):
        GET /incidents/{id} as :meth:`incident` does."""
        key = parse_incident_ref(ref)
        if not key.isdigit():
            stored = self.store.incident(self.partition(), key)
            if stored is not None and stored.get("status") == "resolved":
                found = Incident.model_validate(stored)
                return self.scope.check_incident(found) if self.scope else found
        return self.incident(key)

    def incident_id(self, ref: str | int) -> tuple[str, Incident | None]:
        """An incident's id: free for an id or URL without a scope; a number, or any reference
        with a scope (its teams decide), costs the incident's GET (returned too)."""
        key = parse_incident_ref(ref)
        if key.isdigit() or self.scope:
            found = self.incident(key)
            return str(found.id), found
        return key, None

    def incidents(self, params: dict[str, Any]) -> Page[Incident]:
        """GET /incidents (one page, shared): without a service or team filter, only the
        scope's teams. The incidents are kept for follow-up lookups. A listing of one service's
        open incidents asks PagerDuty to embed the service and escalation policy in full
        (``SERVICE_EMBEDS``), which are kept too: the service's status right after (the
        service-status tool lists exactly this) then needs no GET /services/{id}."""
        if not ({"service_ids[]", "team_ids[]"} & params.keys()):
            params = {**params, **self._team_filter()}
        if _open_of_one_service(params):
            params = {**params, "include[]": list(SERVICE_EMBEDS)}
        body = self.shared.get("/incidents", params)
        listed = [i for i in body.get("incidents") or [] if isinstance(i, dict)]
        found = [Incident.model_validate(i) for i in listed]
        self.shared.remember(found)
        self.shared.remember_services(
            [service for i in listed if (service := _embedded_service(i)) is not None]
        )
        return Page(found, body.get("total"))

    def open_incidents(self, service_id: str | None = None, limit: int = 100) -> Page[Incident]:
        """Open incidents, newest first: of a service, else of the scope (or account)."""
        params: dict[str, Any] = {
            "statuses[]": list(OPEN_STATUSES),
            "date_range": "all",
            "sort_by": "created_at:desc",
            "limit": limit,
            "total": "true",
        }
        if service_id:
            params["service_ids[]"] = [service_id]
        return self.incidents(params)

    def latest_incident(self, service_id: str) -> Incident | None:
        """The newest incident of a service, open or not (1 request)."""
        body = self.client.get(
            "/incidents",
            {
                "service_ids[]": [service_id],
                "date_range": "all",
                "sort_by": "created_at:desc",
                "limit": 1,
            },
        )
        newest = body.get("incidents") or []
        return Incident.model_validate(newest[0]) if newest else None

    def log_entries(
        self, incident_id: str, *, max_items: int | None = None, overview: bool = False
    ) -> list[LogEntry]:
        """An incident's log entries (with their channels), oldest PagerDuty order kept;
        ``overview``: only the major ones, one page (what a resolution needs)."""
        if overview:
            body = self.client.get(
                f"/incidents/{incident_id}/log_entries", {"is_overview": "true", "limit": 100}
            )
            return [LogEntry.model_validate(e) for e in body.get("log_entries") or []]
        entries = self.client.iter_all(
            f"/incidents/{incident_id}/log_entries",
            {"include[]": ["channels"]},
            max_items=max_items,
            key="log_entries",
        )
        return [LogEntry.model_validate(e) for e in entries]

    def notes(self, incident_id: str) -> list[Note]:
        """An incident's notes (1 request)."""
        body = self.client.get(f"/incidents/{incident_id}/notes")
        return [Note.model_validate(n) for n in body.get("notes") or [] if isinstance(n, dict)]

    def alerts(self, incident_id: str, limit: int) -> Page[Alert]:
        """An incident's alerts (1 request)."""
        body = self.client.get(
            f"/incidents/{incident_id}/alerts", {"limit": limit, "total": "true"}
        )
        return Page([Alert.model_validate(a) for a in body.get("alerts") or []], body.get("total"))

    def past_incident_scores(self, incident_id: str, limit: int) -> dict[str, float]:
        """PagerDuty's own similarity scores for an incident, by past incident id (1 request;
        PagerDutyPlanError on plans without the feature)."""
        body = self.client.get(f"/incidents/{incident_id}/past_incidents", {"limit": limit})
        scores: dict[str, float] = {}
        for item in body.get("past_incidents") or []:
            ref, score = item.get("incident") or {}, item.get("score")
            if isinstance(ref, dict) and ref.get("id") and isinstance(score, int | float):
                scores[str(ref["id"])] = float(score)
        return scores

    # -- on-call and services ------------------------------------------------------------

    def oncalls(self, filters: dict[str, Any]) -> Page[OnCall]:
        """GET /oncalls with ``filters`` (shared: the on-call and service-status lookups of one
        investigation ask for the same policy once)."""
        body = self.shared.get("/oncalls", {"limit": 100, "total": "true", **filters})
        return Page(
            [OnCall.model_validate(o) for o in body.get("oncalls") or []], body.get("total")
        )

    def contact_methods(self, user_id: str) -> list[ContactMethod]:
        """A user's contact methods with their addresses: GET /users/{id} with
        ``include[]=contact_methods`` (1 request, shared; /oncalls embeds users' contact methods
        only as references, without addresses)."""
        path = f"/users/{quote(user_id, safe='')}"  # the id is PagerDuty data: one path segment
        body = self.shared.get(path, {"include[]": ["contact_methods"]})
        methods = (body.get("user") or {}).get("contact_methods") or []
        return [ContactMethod.model_validate(m) for m in methods if isinstance(m, dict)]

    def service_detail(self, service_id: str, *, with_policy: bool = True) -> Service:
        """GET /services/{id}, with its escalation policy's levels when ``with_policy``; none
        when a listing of its open incidents embedded it in full moments ago (kept for
        ``incident_cache_ttl`` seconds, like an incident)."""
        if with_policy and (kept := self.shared.service(service_id)) is not None:
            return kept
        params = {"include[]": ["escalation_policies"]} if with_policy else None
        body = self.client.get(f"/services/{service_id}", params)
        return Service.model_validate(body.get("service") or {})

    def services(self) -> list[Service]:
        """Every service of the scope (or account), 1 request per 100."""
        listed = self.client.iter_all("/services", self._team_filter())
        return [Service.model_validate(s) for s in listed]

    def service_ids_inside(self) -> set[str] | None:
        """The ids of the scope's services (from the cached listing); None without a scope."""
        return self.scope.service_ids_inside() if self.scope else None

    # -- change events -------------------------------------------------------------------

    def change_events(self, service_id: str | None, params: dict[str, Any]) -> Page[ChangeEvent]:
        """Change events of a service, else of the scope (or account), newest first."""
        if service_id:
            body = self.client.get(f"/services/{service_id}/change_events", params)
        else:
            body = self.client.get("/change_events", {**params, **self._team_filter()})
        return Page(_newest_first(body), body.get("total"))

    def related_change_events(self, incident_id: str) -> tuple[list[ChangeEvent], int]:
        """PagerDuty's change events related to an incident, inside the scope; (events, how
        many were left out as outside it)."""
        related = _newest_first(self.client.get(f"/incidents/{incident_id}/related_change_events"))
        inside = self.service_ids_inside()
        if inside is None:
            return related, 0
        kept = [c for c in related if any(s.id in inside for s in c.services)]
        return kept, len(related) - len(kept)


def _open_of_one_service(params: dict[str, Any]) -> bool:
    """Whether ``params`` list one service's open incidents (and nothing else embedded)."""
    statuses = params.get("statuses[]") or []
    return (
        len(params.get("service_ids[]") or []) == 1
        and bool(statuses)
        and set(statuses) <= set(OPEN_STATUSES)
        and "include[]" not in params
    )


def _embedded_service(incident: dict[str, Any]) -> Service | None:
    """The service a listed incident embeds in full, with its escalation policy's levels;
    None unless both were embedded and the policy is the service's own (an incident can be
    reassigned to another policy)."""
    service, policy = incident.get("service"), incident.get("escalation_policy")
    if not (isinstance(service, dict) and isinstance(policy, dict)):
        return None
    own = service.get("escalation_policy")
    if (
        service.get("type") != "service"
        or policy.get("type") != "escalation_policy"
        or "escalation_rules" not in policy
        or not isinstance(own, dict)
        or own.get("id") != policy.get("id")
    ):
        return None
    return Service.model_validate({**service, "escalation_policy": policy})


def _newest_first(body: dict[str, Any]) -> list[ChangeEvent]:
    changes = [ChangeEvent.model_validate(c) for c in body.get("change_events") or []]
    return sorted(changes, key=lambda c: c.timestamp or OLDEST, reverse=True)
