"""The service tool: one service's health and escalation policy, or every service not active."""

from __future__ import annotations

from pydantic import BaseModel, Field

from pd_toolkit.models import OnCall, ServicesOverview, ServiceStatus
from pd_toolkit.render import render_service_status, render_services_overview
from pd_toolkit.tools.base import MAX_ARGUMENT, Args, PagerDutyTool


class ServiceStatusArgs(Args):
    service: str | None = Field(
        default=None,
        max_length=MAX_ARGUMENT,
        description="Service name or id; omit for every service not active.",
    )


class GetServiceStatusTool(PagerDutyTool):
    """One service: 2 requests (open incidents, which embed the service with its policy;
    on-calls, shared with an on-call lookup of the same policy made at the same time), +1 for
    the service with its policy when nothing is open, +1 for the last incident unless it is
    still open, +1 for an uncached name. No service: 1 per 100 services + 1 (open
    incidents)."""

    name: str = "pagerduty_get_service_status"
    description: str = (
        "Health of a service (name or id): status, escalation policy levels with who is on "
        "call at each, open incidents by urgency, last incident. Without a service: every "
        "service that is not active (warning, critical, maintenance, disabled)."
    )
    args_schema: type[BaseModel] = ServiceStatusArgs

    def answer(self, args: ServiceStatusArgs) -> tuple[str, ServiceStatus | ServicesOverview]:
        if not args.service:
            return self._overview()
        service_id = str(self.api.service(args.service).id)
        opened = self.api.open_incidents(service_id)  # first: it may embed the service
        found = self.api.service_detail(service_id)
        policy = found.escalation_policy
        oncalls: list[OnCall] = []
        if policy and policy.id:
            oncalls = self.api.oncalls({"escalation_policy_ids[]": [policy.id]}).items
        last = opened.items[0] if opened.items else None
        if last is None or (
            found.last_incident_timestamp and last.created_at != found.last_incident_timestamp
        ):
            last = self.api.latest_incident(service_id)
        status = ServiceStatus(
            service=found,
            oncalls=oncalls,
            open_incidents=opened.items,
            open_total=opened.total,
            last_incident=last,
            at=self.clock(),
        )
        return render_service_status(status, self.tz), status

    def _overview(self) -> tuple[str, ServicesOverview]:
        services = self.api.services()
        label = self.api.scope_label()
        overview = ServicesOverview(
            services=[s for s in services if s.status != "active"],
            services_total=len(services),
            open_incidents=self.api.open_incidents().items,
            scope=f"the team scope {label}" if label else None,
        )
        return render_services_overview(overview, self.tz), overview
