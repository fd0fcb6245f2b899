"""Team scope: limit every answer to some teams (``PagerDutyToolkit(teams=...)`` /
``PAGERDUTY_TEAMS``).

An object is inside the scope when one of its teams is (a team: when it is one of them). The
scope is the directory's :class:`~pd_toolkit.directory.Boundary`: names are matched among the
objects inside first, and a name or id that means an object outside is a
:class:`PagerDutyScopeError` naming the scope, never an empty answer. The API layer
(:mod:`pd_toolkit.api`) applies it once: listings send PagerDuty's team filter (``team_ids[]``)
where the endpoint has one and are filtered locally elsewhere, single objects are checked.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pd_toolkit.directory import KINDS, Directory, Kind
from pd_toolkit.errors import (
    NameMatchError,
    PagerDutyConfigError,
    PagerDutyScopeError,
)
from pd_toolkit.models import Incident, Ref, Team

TEAMS_ENV = "PAGERDUTY_TEAMS"


def teams_from_env(environ: Mapping[str, str] | None = None) -> list[str] | None:
    """PAGERDUTY_TEAMS ("Payments, Storefront" or ids) as a list; None when unset or empty."""
    raw = (os.environ if environ is None else environ).get(TEAMS_ENV, "")
    teams = [name.strip() for name in raw.split(",") if name.strip()]
    return teams or None


def _team_ids(obj: Mapping[str, Any], kind: Kind) -> set[str]:
    if kind == "team":
        return {str(obj.get("id"))}
    return {str(t.get("id")) for t in obj.get("teams") or [] if isinstance(t, Mapping)}


def _describe(obj: Mapping[str, Any], kind: Kind) -> str:
    name = obj.get("name") or obj.get("summary") or obj.get("id")
    teams = ", ".join(
        str(t.get("summary") or t.get("name") or t.get("id"))
        for t in obj.get("teams") or []
        if isinstance(t, Mapping)
    )
    owner = f" (team {teams})" if teams else " (no team)" if kind != "team" else ""
    return f'{KINDS[kind].label.capitalize()} "{name}" ({obj.get("id")}){owner}'


class TeamScope:
    """The teams a toolkit may answer about, looked up as ids on first use (names through the
    shared directory, so its cached listings serve both)."""

    def __init__(self, directory: Directory, teams: Sequence[str]) -> None:
        if not teams:
            raise PagerDutyConfigError(
                "A team scope needs at least one team name or id",
                hint="Give teams= / PAGERDUTY_TEAMS some team names or ids, or no scope at all.",
            )
        self.directory = directory
        self.names = list(teams)
        self._teams: list[Team] | None = None
        self._lock = threading.Lock()

    @property
    def teams(self) -> list[Team]:
        """The scope's teams (1 request on first use when names are given)."""
        with self._lock:
            if self._teams is None:
                try:
                    self._teams = [
                        Team.model_validate(self.directory.find("team", name))
                        for name in self.names
                    ]
                except NameMatchError as exc:
                    raise NameMatchError(
                        f"The team scope names a team PagerDuty does not know: {exc.message}",
                        hint="Fix teams= / PAGERDUTY_TEAMS.",
                    ) from None
            return self._teams

    @property
    def ids(self) -> list[str]:
        return [str(team.id) for team in self.teams]

    @property
    def label(self) -> str:
        """'Payments (PQGDQ18), Storefront (P8X2K1A)'."""
        return ", ".join(
            f"{team.name or team.summary} ({team.id})"
            if team.name or team.summary
            else str(team.id)
            for team in self.teams
        )

    def contains(self, teams: Iterable[Ref | Mapping[str, Any]]) -> bool:
        """True when one of ``teams`` is in the scope."""
        wanted = set(self.ids)
        return any((t.id if isinstance(t, Ref) else t.get("id")) in wanted for t in teams)

    def refuse(self, what: str) -> PagerDutyScopeError:
        """The error for a question about ``what``, outside the scope."""
        return PagerDutyScopeError(f"{what} is outside this toolkit's team scope ({self.label})")

    def holds(self, obj: Mapping[str, Any], kind: Kind) -> bool:
        """Whether an object (a raw listing entry) is inside: it is, or belongs to, a team in
        scope. The directory asks this (see :class:`~pd_toolkit.directory.Boundary`)."""
        return bool(_team_ids(obj, kind) & set(self.ids))

    def refuse_object(self, obj: Mapping[str, Any], kind: Kind) -> PagerDutyScopeError:
        """The error for an object outside the scope, naming it and its teams."""
        return self.refuse(_describe(obj, kind))

    def service_ids_inside(self) -> set[str]:
        """The ids of the services (from the cached listing) that belong to a team in scope."""
        wanted = set(self.ids)
        return {
            str(s.get("id"))
            for s in self.directory.listing("service")
            if _team_ids(s, "service") & wanted
        }

    def service_inside(self, service_id: str | None) -> bool:
        """Whether a service (by id, from the cached listing) belongs to a team in scope."""
        return service_id is not None and service_id in self.service_ids_inside()

    def check_incident(self, incident: Incident) -> Incident:
        """``incident`` if its teams (or, without teams, its service) are in scope."""
        inside = (
            self.contains(incident.teams)
            if incident.teams
            else self.service_inside(incident.service.id if incident.service else None)
        )
        if not inside:
            number = f"#{incident.incident_number} " if incident.incident_number else ""
            owner = ", ".join(t.label for t in incident.teams) or "no team"
            raise self.refuse(f"Incident {number}{incident.id} (team {owner})")
        return incident
