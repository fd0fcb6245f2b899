"""The on-call tool: who is on call for a team, service, schedule or escalation policy."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, model_validator

from pd_toolkit.errors import PagerDutyError, PagerDutyNotFoundError
from pd_toolkit.models import (
    OLDEST,
    Handover,
    OnCall,
    OnCallReport,
    Ref,
    Service,
    Slot,
    UserContacts,
)
from pd_toolkit.render import ref, render_oncall
from pd_toolkit.timewindow import iso_utc, parse_instant
from pd_toolkit.tools.base import MAX_ARGUMENT, Args, PagerDutyTool

MAX_ONCALL_WINDOW = timedelta(days=90)  # PagerDuty's longest /oncalls range
MAX_CONTACT_USERS = 10  # on-call users whose contact methods one call fetches


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
    include_contact: bool = Field(
        default=False, description="Also how to reach them (email, phone, SMS)."
    )
    include_next: bool = Field(default=True, description="Also who takes over at each end.")

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
    """Requests: 2 once names are cached (1 when no shift has a schedule and an end, or
    without ``include_next``): the on-calls, and one more GET /oncalls on their schedules from
    the earliest shift end to the latest, for who takes over at each end. Names not yet cached
    add 1 (service, schedule, escalation_policy) or 2 (team: teams, policies).
    ``include_contact`` adds 1 request per on-call user (at most 10, MAX_CONTACT_USERS, side
    by side): GET /users/{id} with ``include[]=contact_methods``, as /oncalls embeds contact
    methods only as references, without addresses."""

    name: str = "pagerduty_get_oncall"
    description: str = (
        "Who is on call (now or at a time) for a team, service, schedule or escalation "
        "policy (name or id), per escalation level, with the schedule, shift end and who "
        "takes over then. With no target: everyone on call."
    )
    args_schema: type[BaseModel] = OnCallArgs

    def answer(self, args: OnCallArgs) -> tuple[str, OnCallReport]:
        filters: dict[str, Any] = {}
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
            filters["schedule_ids[]"] = [found_schedule.id]
            target = f"schedule {ref(found_schedule)}"
        elif label := self.api.scope_label():
            policies = self._scope_policies(label)
            target = f"the team scope {label}"
        if policies:
            filters["escalation_policy_ids[]"] = [p.id for p in policies]
        moment = parse_instant(args.at, now=self.clock(), tz=self.tz) if args.at else None
        params = dict(filters)
        if moment:
            params |= {"since": iso_utc(moment), "until": iso_utc(moment + timedelta(minutes=1))}
        page = self.api.oncalls(params)
        report = OnCallReport(
            target=target,
            at=moment,
            escalation_policies=policies,
            oncalls=page.items,
            total=page.total,
            handovers=self._handovers(filters, page.items) if args.include_next else [],
        )
        if args.include_contact:
            self._add_contacts(report)
        return render_oncall(report, self.tz), report

    def _handovers(self, filters: dict[str, Any], shifts: list[OnCall]) -> list[Handover]:
        """Who takes over each scheduled shift when it ends: one GET /oncalls on those
        schedules from the earliest end to a minute past the latest (at most PagerDuty's 90
        days), keeping per shift the entry of its slot on call at its end. "Nobody" only when
        that answer is complete; a shift ending past the window gets no handover."""
        ending: dict[tuple[Slot, datetime], OnCall] = {
            (s.slot, s.end): s for s in shifts if s.schedule and s.schedule.id and s.end
        }
        if not ending:
            return []
        first = min(end for _, end in ending)
        last = max(end for _, end in ending)
        until = first + min(last - first + timedelta(minutes=1), MAX_ONCALL_WINDOW)
        schedules = sorted({slot[2] for slot, _ in ending if slot[2]})
        page = self.api.oncalls(
            filters
            | {"schedule_ids[]": schedules, "since": iso_utc(first), "until": iso_utc(until)}
        )
        complete = page.total is not None and page.total <= len(page.items)
        handovers = []
        for (_, end), shift in ending.items():
            taking_over = [o for o in page.items if shift.hands_over_to(o)]
            if end < until and (taking_over or complete):
                handovers.append(
                    Handover(
                        escalation_policy=shift.escalation_policy,
                        escalation_level=shift.escalation_level,
                        schedule=shift.schedule,
                        at=end,
                        user=min(taking_over, key=lambda o: o.start or OLDEST).user
                        if taking_over
                        else None,
                    )
                )
        return handovers

    def _add_contacts(self, report: OnCallReport) -> None:
        """The on-call users' contact methods, level 1 first, one GET each (side by side) for
        at most MAX_CONTACT_USERS users; a user whose read fails gets the error instead."""
        users: dict[str, Ref] = {}
        for oncall in sorted(report.oncalls, key=lambda o: o.escalation_level or 99):
            if oncall.user and oncall.user.id:
                users.setdefault(oncall.user.id, oncall.user)
        asked = list(users.values())[:MAX_CONTACT_USERS]
        futures = self.api.client.map_concurrently(
            lambda user: self.api.contact_methods(str(user.id)), asked
        )
        report.contacts = []
        for user, future in zip(asked, futures, strict=True):
            failure = future.exception()
            if failure is not None and not isinstance(failure, PagerDutyError):
                raise failure
            report.contacts.append(
                UserContacts(user=user, error=str(failure))
                if failure
                else UserContacts(user=user, methods=future.result())
            )
        report.contacts_left_out = len(users) - len(asked)

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
