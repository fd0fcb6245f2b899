"""Sandbox responses validate against PagerDuty's official OpenAPI description."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from openapi_schema_validator import OAS30ReadValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from pd_toolkit.sandbox import Sandbox

pytestmark = pytest.mark.sandbox

SPEC_PATH = Path(__file__).resolve().parents[2] / "shared/pagerduty-openapi/openapiv3.json"
NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


def _patched_spec() -> dict[str, Any]:
    """The spec with the deliberate, documented deviations applied."""
    spec = json.loads(SPEC_PATH.read_text())
    schemas = spec["components"]["schemas"]
    incident = schemas["Incident"]["allOf"][1]["properties"]
    # Real payloads carry `"priority": null` when no priority is set; the schema lacks nullable.
    incident["priority"] = {"anyOf": [incident["priority"], {"enum": [None]}]}
    # The spec's own text says resolved_at is null until resolved; its schema lacks nullable.
    incident["resolved_at"] = incident["resolved_at"] | {"nullable": True}
    oncall = schemas["Oncall"]["properties"]
    # A direct user target's on-call has null schedule/start/end (the spec's text says so).
    oncall["schedule"] = {"anyOf": [oncall["schedule"], {"enum": [None]}]}
    for key in ("start", "end"):
        oncall[key] = oncall[key] | {"nullable": True}
    # Channel variants declare no required keys, so any channel matches several `oneOf` arms.
    del schemas["Channel"]["oneOf"]
    # AcknowledgeLogEntry says "acknowledgement_log_entry", which its base LogEntry enum forbids;
    # real payloads (and LogEntry) say "acknowledge_log_entry".
    schemas["AcknowledgeLogEntry"]["allOf"][1]["properties"]["type"]["enum"] = [
        "acknowledge_log_entry"
    ]
    return spec


@pytest.fixture(scope="module")
def registry() -> Registry:
    if not SPEC_PATH.exists():
        pytest.skip(f"PagerDuty OpenAPI spec not found at {SPEC_PATH}")
    spec = _patched_spec()
    return Registry().with_resource("urn:pd", Resource.from_contents(spec, DRAFT4))


@pytest.fixture(scope="module")
def plan_sandbox() -> Iterator[Sandbox]:
    with Sandbox(now=NOW, past_incidents_enabled=True) as sb:
        yield sb


ERROR_SCHEMA = "/components/responses/Conflict/content/application~1json/schema"


def _response_schema(path: str) -> str:
    """JSON pointer to the 200 response schema of GET `path` (a spec path template)."""
    escaped = path.replace("~", "~0").replace("/", "~1")
    return f"/paths/{escaped}/get/responses/200/content/application~1json/schema"


def _validator(registry: Registry, pointer: str) -> OAS30ReadValidator:
    return OAS30ReadValidator(
        {"$ref": "urn:pd#" + quote(pointer)},
        registry=registry,
        format_checker=OAS30ReadValidator.FORMAT_CHECKER,
    )


def _cases(sb: Sandbox) -> list[tuple[str, str, dict[str, Any]]]:
    """(spec path, concrete path, params) for every endpoint the sandbox serves."""
    account = sb.account
    open_checkout = next(
        i for i in account.open_incidents() if i["service"]["summary"] == "checkout"
    )
    resolved = account.incidents[len(account.incidents) // 2]
    incident_includes = [
        "services",
        "escalation_policies",
        "teams",
        "assignees",
        "acknowledgers",
        "priorities",
        "first_trigger_log_entries",
    ]
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("/incidents", "/incidents", {"limit": 100}),
        ("/incidents", "/incidents", {"statuses[]": ["triggered", "acknowledged"]}),
        ("/incidents", "/incidents", {"include[]": incident_includes, "date_range": "all"}),
        # Not validated with include[]: on-calls, services, policies and users then embed full
        # objects where the spec declares references only (as real PagerDuty does).
        ("/oncalls", "/oncalls", {"limit": 100}),
        ("/schedules", "/schedules", {}),
        ("/services", "/services", {"limit": 100}),
        ("/escalation_policies", "/escalation_policies", {}),
        ("/users", "/users", {"limit": 100}),
        ("/users/me", "/users/me", {}),
        ("/teams", "/teams", {}),
        ("/change_events", "/change_events", {"limit": 100}),
        ("/abilities", "/abilities", {}),
    ]
    for inc in (open_checkout, resolved):
        iid = inc["id"]
        cases += [
            ("/incidents/{id}", f"/incidents/{iid}", {}),
            ("/incidents/{id}", f"/incidents/{iid}", {"include[]": incident_includes}),
            ("/incidents/{id}/log_entries", f"/incidents/{iid}/log_entries", {"limit": 100}),
            ("/incidents/{id}/alerts", f"/incidents/{iid}/alerts", {}),
            ("/incidents/{id}/notes", f"/incidents/{iid}/notes", {}),
            ("/incidents/{id}/past_incidents", f"/incidents/{iid}/past_incidents", {}),
            (
                "/incidents/{id}/related_change_events",
                f"/incidents/{iid}/related_change_events",
                {},
            ),
        ]
    for schedule in account.schedules:
        cases.append(("/schedules/{id}", f"/schedules/{schedule['id']}", {}))
        cases.append(("/schedules/{id}/users", f"/schedules/{schedule['id']}/users", {}))
    for service in account.services[:4]:
        cases.append(("/services/{id}", f"/services/{service['id']}", {}))
        cases.append(
            ("/services/{id}/change_events", f"/services/{service['id']}/change_events", {})
        )
    for policy in account.escalation_policies:
        cases.append(("/escalation_policies/{id}", f"/escalation_policies/{policy['id']}", {}))
    cases.append(("/change_events/{id}", f"/change_events/{account.change_events[-1]['id']}", {}))
    cases.append(("/users/{id}", f"/users/{account.users[0]['id']}", {}))
    cases.append(("/teams/{id}", f"/teams/{account.teams[0]['id']}", {}))
    return cases


def test_every_endpoint_matches_the_official_schema(
    plan_sandbox: Sandbox, registry: Registry
) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Token token={plan_sandbox.user_api_key}"
    failures: list[str] = []
    validators: dict[str, OAS30ReadValidator] = {}
    for spec_path, path, params in _cases(plan_sandbox):
        response = session.get(plan_sandbox.base_url + path, params=params, timeout=10)
        assert response.status_code == 200, (path, response.text)
        validator = validators.setdefault(
            spec_path, _validator(registry, _response_schema(spec_path))
        )
        for error in list(validator.iter_errors(response.json()))[:3]:
            where = "/".join(str(p) for p in error.absolute_path)
            failures.append(f"{path} {params}: {where}: {error.message[:200]}")
    assert not failures, "\n".join(failures[:30])


def test_users_contact_methods_match_the_official_schema(
    plan_sandbox: Sandbox, registry: Registry
) -> None:
    """The contact methods GET /users/{id}?include[]=contact_methods embeds (what the on-call
    tool reads) have the shape of PagerDuty's /users/{id}/contact_methods answer."""
    validator = _validator(registry, _response_schema("/users/{id}/contact_methods"))
    failures: list[str] = []
    for user in plan_sandbox.account.users:
        response = requests.get(
            f"{plan_sandbox.base_url}/users/{user['id']}",
            params={"include[]": "contact_methods"},
            headers={"Authorization": f"Token token={plan_sandbox.api_key}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        methods = {"contact_methods": response.json()["user"]["contact_methods"]}
        assert methods["contact_methods"] and all(
            "address" in m for m in methods["contact_methods"]
        )
        failures += [f"{user['id']}: {e.message[:200]}" for e in validator.iter_errors(methods)]
    assert not failures, "\n".join(failures[:10])


@pytest.mark.parametrize(
    ("path", "status", "key"),
    [
        ("/incidents/NOPE", "404", "api"),
        ("/incidents", "401", "bad"),
        ("/incidents?since=yesterday", "400", "api"),
        ("/schedules", "403", "restricted"),
    ],
)
def test_error_bodies_match_the_official_schema(
    plan_sandbox: Sandbox, registry: Registry, path: str, status: str, key: str
) -> None:
    keys = {
        "api": plan_sandbox.api_key,
        "restricted": plan_sandbox.restricted_api_key,
        "bad": "x" * 20,
    }
    response = requests.get(
        plan_sandbox.base_url + path,
        headers={"Authorization": f"Token token={keys[key]}"},
        timeout=10,
    )
    assert str(response.status_code) == status
    # Every error response in the spec refers to this one generic error body.
    errors = list(_validator(registry, ERROR_SCHEMA).iter_errors(response.json()))
    assert not errors, [e.message for e in errors]
    assert set(response.json()["error"]) == {"code", "message", "errors"}


def test_patched_spec_keeps_the_original_untouched(registry: Registry) -> None:
    """The deviations are applied to a copy, and only where documented."""
    original = json.loads(SPEC_PATH.read_text())
    patched = _patched_spec()
    assert "oneOf" in original["components"]["schemas"]["Channel"]
    assert copy.deepcopy(original["paths"]) == patched["paths"]
