"""The "Test Connection" check: what a credential is and what it can read, from a few GETs.

Kept apart from the transport (:mod:`pd_toolkit.client`): it is a user of the client, like the
tools. ``PagerDutyClient.verify()`` calls :func:`check_connection`; ``pd-toolkit check`` prints
its result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from pd_toolkit.errors import (
    PagerDutyBadRequestError,
    PagerDutyConnectionError,
    PagerDutyError,
    PagerDutyForbiddenError,
    PagerDutyNotFoundError,
)


class Checkable(Protocol):
    """What the check needs of a client (PagerDutyClient has it; the client imports this
    module, so this module names no client class)."""

    base_url: str
    is_oauth: bool

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]: ...


# OAuth read scopes the tools use, each probed with the path that needs it.
OAUTH_READ_SCOPES: dict[str, str] = {
    "incidents.read": "/incidents",
    "services.read": "/services",
    "schedules.read": "/schedules",
    "users.read": "/users",
    "escalation_policies.read": "/escalation_policies",
    "teams.read": "/teams",
    "oncalls.read": "/oncalls",
    "change_events.read": "/change_events",
}


_URL_PASSWORD = re.compile(r"(?P<before>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/@:]*:)[^\s/@]*@")


def shown_url(text: str) -> str:
    """``text`` (a URL, or a message quoting URLs) with every URL's password masked
    (``https://user:***@host``): a proxy's password never reaches a terminal or a log."""
    return _URL_PASSWORD.sub(r"\g<before>***@", text)


def _not_pagerduty(error: PagerDutyError) -> bool:
    """True when ``error`` (GET /abilities) shows the host is not the PagerDuty REST API: a
    404 (PagerDuty answers /abilities to any key, 401 to a bad one), or another client error
    whose body is not PagerDuty's error JSON (which always carries a code)."""
    status = error.status or 0
    return status == 404 or (400 <= status < 500 and status != 429 and error.code is None)


class ConnectionCheck(BaseModel):
    """The result of :func:`check_connection` ("Test Connection")."""

    ok: bool
    base_url: str = Field(description="The API's URL, without any password it carries")
    key_kind: Literal["account", "user", "unknown"]
    credential: Literal["api_key", "oauth_token"] = "api_key"
    reached: bool = Field(
        default=True, description="False when PagerDuty could not be reached: the key is untested"
    )
    is_pagerduty: bool = Field(
        default=True,
        description="False when the host answered, but not as the PagerDuty REST API "
        "(e.g. a web server's 404 page): the key is untested",
    )
    user: str | None = None
    abilities: list[str] = []
    read_access: dict[str, bool] = {}
    # OAuth only: each read scope the tools need -> whether the API answered it (not 403).
    scopes: dict[str, bool] = {}
    hints: list[str] = []


def check_connection(client: Checkable) -> ConnectionCheck:
    """Check the client's credential like PagerDuty's "Test Connection": who it is and what it
    can read. For an OAuth token, also which read scopes the API accepts (``scopes``)."""
    check = ConnectionCheck(
        ok=False,
        base_url=shown_url(client.base_url),
        key_kind="unknown",
        credential="oauth_token" if client.is_oauth else "api_key",
    )
    _run_checks(client, check)
    check.hints = [shown_url(hint) for hint in check.hints]
    return check


def _run_checks(client: Checkable, check: ConnectionCheck) -> None:
    """Fill ``check`` from the GETs (the steps of :func:`check_connection`)."""
    try:
        check.abilities = list(client.get("/abilities").get("abilities") or [])
    except PagerDutyConnectionError as exc:
        check.reached = False
        check.hints.append(str(exc))
        return
    except PagerDutyError as exc:
        if _not_pagerduty(exc):
            check.is_pagerduty = False
            check.hints.append(
                f"{check.base_url} does not look like the PagerDuty REST API: GET /abilities "
                f"answered HTTP {exc.status}"
                + ("" if exc.code is not None else " without PagerDuty's error JSON")
                + ". Check PAGERDUTY_API_HOST (or base_url): https://api.pagerduty.com, "
                "https://api.eu.pagerduty.com for the EU region, or a compatible host, "
                "without a path."
            )
        else:
            check.hints.append(str(exc))
        return
    try:
        me = client.get("/users/me").get("user") or {}
        check.key_kind = "user"
        check.user = f"{me.get('name')} <{me.get('email')}> ({me.get('id')})"
    except (PagerDutyBadRequestError, PagerDutyForbiddenError, PagerDutyNotFoundError):
        check.key_kind = "account"
    for area in ("incidents", "services", "schedules", "users"):
        try:
            client.get(f"/{area}", {"limit": 1})
            check.read_access[area] = True
        except PagerDutyError as exc:
            check.read_access[area] = False
            check.hints.append(f"{area}: {exc}")
    check.ok = check.read_access["incidents"] and check.read_access["services"]
    if client.is_oauth:
        _probe_scopes(client, check)
    elif check.key_kind == "account":
        check.hints.append(
            "General Access (account) key: sees the whole account; /users/me is not "
            "available to it, which is expected."
        )


def _probe_scopes(client: Checkable, check: ConnectionCheck) -> None:
    """Which read scopes an OAuth token has, as far as the API tells (403 = not granted)."""
    for scope, path in OAUTH_READ_SCOPES.items():
        area = path.strip("/")
        if area in check.read_access:
            check.scopes[scope] = check.read_access[area]
            continue
        try:
            client.get(path, {"limit": 1})
            check.scopes[scope] = True
        except PagerDutyForbiddenError:
            check.scopes[scope] = False
        except PagerDutyError as exc:
            check.hints.append(f"{scope}: could not tell ({exc.message})")
    granted = [scope for scope, ok in check.scopes.items() if ok]
    refused = [scope for scope, ok in check.scopes.items() if not ok]
    kind = f"user-level (acts as {check.user})" if check.user else "app-level (scoped)"
    check.hints.append(
        f"OAuth access token, {kind}: the API accepts {', '.join(granted) or 'no read scope'}"
        + (f"; refuses {', '.join(refused)} (HTTP 403)" if refused else "")
        + ". Scopes are fixed when the app is authorized; re-authorize to change them."
    )
