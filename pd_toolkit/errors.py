"""PagerDuty errors: each says what happened and what to do about it.

The message is safe to show to a model or a person: it never holds the API key.
"""

from __future__ import annotations

from typing import Any


class PagerDutyError(Exception):
    """Base class. ``hint`` tells the reader what to do next."""

    default_hint = "Check the request and try again."

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        code: int | None = None,
        errors: list[str] | None = None,
    ) -> None:
        self.message = message
        self.hint = hint or self.default_hint
        self.status = status
        self.code = code
        self.errors = list(errors or [])
        super().__init__(str(self))

    def __str__(self) -> str:
        details = f" ({'; '.join(self.errors)})" if self.errors else ""
        return f"{self.message}{details}. {self.hint}"


class PagerDutyConfigError(PagerDutyError):
    """The client is set up wrongly (missing key, unknown region, bad URL)."""

    default_hint = "Fix the client settings; see the README's 'Real account' section."


class PagerDutyAuthError(PagerDutyError):
    """401: the key was refused."""

    default_hint = (
        "Verify the API key is correct and has not been revoked, and that it is a REST API key "
        "(General Access or User Token), not an Events API integration key."
    )


class PagerDutyForbiddenError(PagerDutyError):
    """403: the key works but may not read this resource."""

    default_hint = (
        "The key lacks read access to this resource: use a General Access key, or a User Token "
        "key of a user whose role can see it."
    )


class PagerDutyNotFoundError(PagerDutyError):
    """404: no such object (or the key cannot see it)."""

    default_hint = "Check the id or number; list the objects to find the right one."


class PagerDutyRateLimitError(PagerDutyError):
    """429 that outlasted the retries."""

    default_hint = (
        "PagerDuty's rate limit was hit and retries ran out: reduce how often you query, or "
        "narrow the query (shorter time range, fewer items)."
    )


class PagerDutyReadOnlyError(PagerDutyError):
    """A write was attempted that the client's write allow-list does not hold (by default it
    holds none); nothing was sent."""

    default_hint = "pd_toolkit is read-only: it sends GET requests only. Nothing was sent."


class PagerDutyBadRequestError(PagerDutyError):
    """400: PagerDuty refused the parameters."""

    default_hint = "Fix the parameters named above (for example a narrower or valid time range)."


class PagerDutyPlanError(PagerDutyError):
    """402: the account's plan lacks this feature."""

    default_hint = (
        "The account's PagerDuty plan lacks this feature; a fallback is used where one exists."
    )


class PagerDutyPaginationLimitError(PagerDutyBadRequestError):
    """The listing goes past offset 10,000, which PagerDuty refuses; ``total`` when the first
    page told it."""

    default_hint = (
        "PagerDuty cannot page past 10,000 results: narrow the time window or add filters "
        "(service, team, status)."
    )

    def __init__(self, message: str, *, total: int | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.total = total


class PagerDutyServerError(PagerDutyError):
    """5xx that outlasted the retries."""

    default_hint = "PagerDuty is having trouble; retries ran out. Try again in a minute."


class PagerDutyConnectionError(PagerDutyError):
    """The host could not be reached, timed out, or answered garbage."""

    default_hint = (
        "Check the network, the region (us/eu) or base URL, and any proxy; then try again."
    )


class PagerDutyStoreError(PagerDutyError):
    """The incident store cannot be used: ``problem`` says how ("unreachable", "corrupt",
    "locked", "not writable", ...). The message names the store without its password and
    holds no SQL."""

    default_hint = "Fix the store, or set PD_TOOLKIT_STORE=memory to keep history in memory."

    def __init__(self, message: str, *, problem: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.problem = problem


class PagerDutyScopeError(PagerDutyError):
    """The question is about a team, service, incident or other object outside the toolkit's
    team scope (``PagerDutyToolkit(teams=...)`` / ``PAGERDUTY_TEAMS``)."""

    default_hint = (
        "Ask about the teams in scope (their incidents, services, schedules and escalation "
        "policies); the scope is set with teams= or PAGERDUTY_TEAMS."
    )


class NameMatchError(PagerDutyNotFoundError):
    """An unknown or ambiguous team, service, schedule, policy or user name; the message lists
    the closest real names."""

    default_hint = "Retry with one of the names or ids listed."


class IncidentRefError(PagerDutyBadRequestError):
    """Text that cannot be an incident reference."""

    default_hint = (
        "Give an incident number (12345 or #12345), an incident id (e.g. Q2K0YS1M3L1J3B) "
        "or its web URL (https://<subdomain>.pagerduty.com/incidents/<id>)."
    )


class TimeRangeError(PagerDutyBadRequestError):
    """A time range that cannot be used (unreadable, inverted, in the future, too long)."""

    default_hint = "Fix time_range (or since/until) and try again."


__all__ = [
    "IncidentRefError",
    "NameMatchError",
    "PagerDutyAuthError",
    "PagerDutyBadRequestError",
    "PagerDutyConfigError",
    "PagerDutyConnectionError",
    "PagerDutyError",
    "PagerDutyForbiddenError",
    "PagerDutyNotFoundError",
    "PagerDutyPaginationLimitError",
    "PagerDutyPlanError",
    "PagerDutyRateLimitError",
    "PagerDutyReadOnlyError",
    "PagerDutyScopeError",
    "PagerDutyServerError",
    "PagerDutyStoreError",
    "TimeRangeError",
]
