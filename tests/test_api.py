"""The API layer's team scope, on a tiny account served by a fake client (no HTTP): the local
filters that PagerDuty cannot apply for us.

- Related change events: PagerDuty relates changes on other teams' services too; inside a
  scope only the scope's services' changes are kept, and the others are counted.
- An incident with no teams: its service decides whether it is inside the scope.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from pd_toolkit.api import PagerDutyAPI
from pd_toolkit.client import PagerDutyClient
from pd_toolkit.errors import PagerDutyScopeError

PAYMENTS, SEARCH = "PTEAM01", "PTEAM02"
LEDGER, CATALOG = "PSVC001", "PSVC002"
ACCOUNT: dict[str, dict[str, Any]] = {
    "/teams": {
        "teams": [
            {"id": PAYMENTS, "type": "team", "name": "Payments"},
            {"id": SEARCH, "type": "team", "name": "Search"},
        ]
    },
    "/services": {
        "services": [
            {"id": LEDGER, "type": "service", "name": "ledger", "teams": [{"id": PAYMENTS}]},
            {"id": CATALOG, "type": "service", "name": "catalog", "teams": [{"id": SEARCH}]},
        ]
    },
}


def change(change_id: str, service_id: str) -> dict[str, Any]:
    return {
        "id": change_id,
        "summary": f"deploy {change_id}",
        "timestamp": "2026-11-18T09:00:00Z",
        "services": [{"id": service_id, "type": "service_reference"}],
    }


def incident(incident_id: str, service_id: str, teams: list[str]) -> dict[str, Any]:
    return {
        "id": incident_id,
        "incident_number": int(incident_id[-3:]),
        "title": "Something broke",
        "created_at": "2026-11-18T09:10:00Z",
        "service": {"id": service_id, "type": "service_reference"},
        "teams": [{"id": t, "type": "team_reference"} for t in teams],
    }


class FakeClient(PagerDutyClient):
    """Answers GETs from ACCOUNT and a few incidents (no HTTP); records the paths."""

    def __init__(self) -> None:
        super().__init__(api_key="fake-client-key-0000", base_url="http://127.0.0.1:9")
        self.paths: list[str] = []
        self.answers: dict[str, dict[str, Any]] = {
            **ACCOUNT,
            "/incidents/Q1NOTEAMLEDG001": {"incident": incident("Q1NOTEAMLEDG001", LEDGER, [])},
            "/incidents/Q1NOTEAMCATA002": {"incident": incident("Q1NOTEAMCATA002", CATALOG, [])},
            "/incidents/Q1PAYMENTSLED003/related_change_events": {
                "change_events": [change("C-IN", LEDGER), change("C-OUT", CATALOG)]
            },
        }

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        self.paths.append(path)
        return self.answers[path]


@pytest.fixture
def scoped() -> Iterator[PagerDutyAPI]:
    with PagerDutyAPI(FakeClient(), teams=["Payments"], store="memory") as api:
        yield api


def test_related_changes_on_other_teams_services_are_left_out_and_counted(
    scoped: PagerDutyAPI,
) -> None:
    kept, dropped = scoped.related_change_events("Q1PAYMENTSLED003")
    assert [c.id for c in kept] == ["C-IN"] and dropped == 1
    unscoped = PagerDutyAPI(FakeClient(), store="memory")
    every, none_dropped = unscoped.related_change_events("Q1PAYMENTSLED003")
    assert {c.id for c in every} == {"C-IN", "C-OUT"} and none_dropped == 0


def test_an_incident_without_teams_is_judged_by_its_service(scoped: PagerDutyAPI) -> None:
    assert scoped.incident("Q1NOTEAMLEDG001").service.id == LEDGER  # type: ignore[union-attr]
    with pytest.raises(PagerDutyScopeError, match="no team"):
        scoped.incident("Q1NOTEAMCATA002")
    assert scoped.incident_id("Q1NOTEAMLEDG001")[0] == "Q1NOTEAMLEDG001"
    with pytest.raises(PagerDutyScopeError):
        scoped.incident_id("Q1NOTEAMCATA002")  # an id is checked too, not passed through


POLICY = {
    "id": "PPOL001",
    "type": "escalation_policy",
    "name": "Ledger on call",
    "escalation_rules": [
        {"escalation_delay_in_minutes": 30, "targets": [{"id": "PSCH001", "type": "schedule"}]}
    ],
}
LEDGER_FULL = {
    "id": LEDGER,
    "type": "service",
    "name": "ledger",
    "status": "critical",
    "escalation_policy": {"id": "PPOL001", "type": "escalation_policy_reference"},
}


def open_listing(policy: dict[str, Any]) -> dict[str, Any]:
    """One open ledger incident as GET /incidents answers with the service and policy
    embedded (``include[]=services,escalation_policies``)."""
    listed = incident("Q1OPENLEDGER004", LEDGER, [PAYMENTS])
    return {"incidents": [{**listed, "service": LEDGER_FULL, "escalation_policy": policy}]}


def test_a_services_open_listing_embeds_the_service_so_its_detail_needs_no_get() -> None:
    client = FakeClient()
    client.answers["/incidents"] = open_listing(POLICY)
    api = PagerDutyAPI(client, store="memory")
    api.open_incidents(LEDGER)
    found = api.service_detail(LEDGER)
    assert client.paths == ["/incidents"]  # no GET /services/{id}
    assert found.status == "critical" and found.escalation_policy is not None
    assert found.escalation_policy.escalation_rules[0].escalation_delay_in_minutes == 30


def test_an_incident_on_another_policy_or_an_old_listing_does_not_stand_for_the_service() -> None:
    client = FakeClient()
    other = {**POLICY, "id": "PPOL999"}  # the incident was reassigned to another policy
    client.answers["/incidents"] = open_listing(other)
    client.answers[f"/services/{LEDGER}"] = {
        "service": {**LEDGER_FULL, "escalation_policy": POLICY}
    }
    api = PagerDutyAPI(client, store="memory")
    api.open_incidents(LEDGER)
    assert api.service_detail(LEDGER).escalation_policy.id == "PPOL001"  # type: ignore[union-attr]
    assert client.paths == ["/incidents", f"/services/{LEDGER}"]

    client.paths.clear()
    client.answers["/incidents"] = open_listing(POLICY)
    stale = PagerDutyAPI(client, store="memory", incident_cache_ttl=0)
    stale.open_incidents(LEDGER)
    stale.service_detail(LEDGER)  # kept for 0 s: asked again
    assert client.paths == ["/incidents", f"/services/{LEDGER}"]
