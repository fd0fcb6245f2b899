"""The history tool: has this happened before, and how was it fixed?"""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from pd_toolkit.history import SimilarIncidents, find_similar_incidents
from pd_toolkit.render import render_similar_incidents
from pd_toolkit.tools.base import MAX_ARGUMENT, Args, IncidentRef, PagerDutyTool


class SimilarIncidentsArgs(Args):
    incident: IncidentRef | None = Field(
        default=None, description="Incident number, id or URL to find look-alikes of."
    )
    text: str | None = Field(
        default=None,
        max_length=500,
        description="Or free text describing the problem, e.g. 'postgres pool exhausted'.",
    )
    service: str | None = Field(
        default=None,
        max_length=MAX_ARGUMENT,
        description="Search this service (name or id); default: the incident's.",
    )
    team: str | None = Field(
        default=None, max_length=MAX_ARGUMENT, description="Search this team's services instead."
    )
    all_services: bool = Field(default=False, description="Search every service.")
    window_days: int = Field(default=180, ge=1, le=365, description="How far back (days).")
    limit: int = Field(default=5, ge=1, le=20, description="Matches to show (1-20).")

    @model_validator(mode="after")
    def _incident_or_text(self) -> SimilarIncidentsArgs:
        if bool(self.incident) == bool(self.text and self.text.strip()):
            raise ValueError("give exactly one of incident or text")
        return self


class FindSimilarIncidentsTool(PagerDutyTool):
    """Empty store: 1 request for the incident, 1 per 100 incidents of history, 1 for
    PagerDuty's past_incidents (once per account when the plan lacks it) and up to ``limit``
    resolution lookups. Warm store: the incident (none for the id of an incident the store
    holds resolved), the delta since the last sync (none within the cache TTL) and the
    resolutions of open or never-seen matches (``pd-toolkit sync`` fetches those of the open
    incidents' matches ahead)."""

    name: str = "pagerduty_find_similar_incidents"
    description: str = (
        "Has this happened before? Past incidents similar to an incident (number, id, URL) "
        "or to free text, ranked with the reason they match and how each was resolved, plus "
        "the pattern (how often, when, typical time to resolve, who fixes it). Any plan."
    )
    args_schema: type[BaseModel] = SimilarIncidentsArgs

    def answer(self, args: SimilarIncidentsArgs) -> tuple[str, SimilarIncidents]:
        found = self.api.settled_incident(args.incident) if args.incident else None
        service_ids = [str(self.api.service(args.service).id)] if args.service else []
        team_ids = [str(self.api.team(args.team).id)] if args.team else []
        scoped = [str(team.id) for team in self.api.scope_teams()]
        if scoped and not team_ids:  # searched only within the scope's teams
            team_ids = scoped
            if found and found.service and not (service_ids or args.all_services):
                service_ids = [str(found.service.id)]  # still the incident's own service
        result = find_similar_incidents(
            self.api,
            found,
            text=None if found else args.text,
            service_ids=service_ids,
            team_ids=team_ids,
            all_services=args.all_services,
            window_days=args.window_days,
            limit=args.limit,
            now=self.clock(),
        )
        return render_similar_incidents(result, self.tz), result
