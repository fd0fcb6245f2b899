"""The on-call tool: who is on call for a team, service, schedule or escalation policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field, model_validator

from pd_toolkit.errors import PagerDutyNotFoundError
from pd_toolkit.models import OnCallReport, Ref, Service
from pd_toolkit.render import ref, render_oncall
from pd_toolkit.timewindow import iso_utc, parse_instant
from pd_toolkit.tools.base import MAX_ARGUMENT, Args, PagerDutyTool


class OnCallArgs(Args):
    team: str | None = Field(default=None, max_length=MAX_ARGUMENT, description="Team name or id.")
    service: str | None = Field(
        default=None, max_length=MAX_ARGUMENT, description="Service name or id."
    )
    schedule: str | None = Field(
        default=None, max_length=MAX_ARGUMENT, description="Schedule name or id."
    )
    escalation_policy: str | None = Field(
        default=None, max_length=MAX_ARGUMENT, description="Policy name or id."
    )
    at: str | None = Field(
        default=None, max_length=MAX_ARGUMENT, description="ISO datetime; default now."
    )

    @model_validator(mode="after")
    def _one_target(self) -> OnCallArgs:
        given = [
            k for k in ("team", "service", "schedule", "escalation_policy") if getattr(self, k)
        ]
        if len(given) > 1:
            raise ValueError(
                f"give only one of team, service, schedule, escalation_policy (got {given})"
            )
        return self


class GetOnCallTool(PagerDutyTool):
    """1 request once names are cached; cold: team 3 (teams, policies, on-calls),
    service/schedule/escalation_policy 2."""

    name: str = "pagerduty_get_oncall"
    description: str = (
        "Who is on call (now or at a time) for a team, service, schedule or escalation "
        "policy (name or id), per escalation level, with the schedule and shift end. "
        "With no target: everyone on call."
    )
    args_schema: type[BaseModel] = OnCallArgs

    def answer(self, args: OnCallArgs) -> tuple[str, OnCallReport]:
        params: dict[str, Any] = {}
        policies: list[Ref] = []
        target = "the whole account"
        if args.team:
            found = self.api.team(args.team)
            policies = self._team_policies(found)
            target = f"team {ref(found)}"
        elif args.service:
            found_service = self._service_with_policy(args.service)
            target = f"service {ref(found_service)}"
            policies = [found_service.escalation_policy] if found_service.escalation_policy else []
            if not policies:
                raise PagerDutyNotFoundError(
                    f"Service {ref(found_service)} has no escalation policy, so nobody is "
                    "on call for it",
                    hint="Ask by team or schedule instead.",
                )
        elif args.escalation_policy:
            found_policy = self.api.policy(args.escalation_policy)
            policies = [found_policy]
            target = f"escalation policy {ref(found_policy)}"
        elif args.schedule:
            found_schedule = self.api.schedule(args.schedule)
            params["schedule_ids[]"] = [found_schedule.id]
            target = f"schedule {ref(found_schedule)}"
        elif label := self.api.scope_label():
            policies = self._scope_policies(label)
            target = f"the team scope {label}"
        if policies:
            params["escalation_policy_ids[]"] = [p.id for p in policies]
        moment = parse_instant(args.at, now=self.clock(), tz=self.tz) if args.at else None
        if moment:
            params |= {"since": iso_utc(moment), "until": iso_utc(moment + timedelta(minutes=1))}
        page = self.api.oncalls(params)
        report = OnCallReport(
            target=target,
            at=moment,
            escalation_policies=policies,
            oncalls=page.items,
            total=page.total,
        )
        return render_oncall(report, self.tz), report

    def _team_policies(self, team: Ref) -> list[Ref]:
        """A team's escalation policies, else those of the services it owns (cached)."""
        policies = [
            Ref.model_validate(p)
            for p in self.api.directory.listing("escalation_policy")
            if any(t.get("id") == team.id for t in p.get("teams") or [])
        ]
        if not policies:
            owned = [
                Service.model_validate(s)
                for s in self.api.directory.listing("service")
                if any(t.get("id") == team.id for t in s.get("teams") or [])
            ]
            unique = {
                s.escalation_policy.id: s.escalation_policy for s in owned if s.escalation_policy
            }
            policies = list(unique.values())
        if not policies:
            raise PagerDutyNotFoundError(
                f"Team {ref(team)} has no escalation policy and owns no service with one",
                hint="Ask by service, schedule or escalation_policy instead.",
            )
        return policies

    def _scope_policies(self, label: str) -> list[Ref]:
        """The escalation policies of every team in scope (teams without one are skipped)."""
        unique: dict[str | None, Ref] = {}
        for team in self.api.scope_teams():
            try:
                unique |= {p.id: p for p in self._team_policies(team)}
            except PagerDutyNotFoundError:
                continue
        if not unique:
            raise PagerDutyNotFoundError(
                f"No team in the team scope ({label}) has an escalation policy",
                hint="Ask by schedule instead.",
            )
        return list(unique.values())

    def _service_with_policy(self, service: str) -> Service:
        found = self.api.service(service)
        if found.escalation_policy is None:  # an id not in the cache: one GET
            found = self.api.service_detail(str(found.id), with_policy=False)
        return found
