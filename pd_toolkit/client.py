"""PagerDutyClient: a read-only, retrying, rate-budgeted REST client over ``requests``."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar, copy_context
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, NoReturn
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, Field, SecretStr
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
)
from tenacity.wait import wait_exponential_jitter

from pd_toolkit import __version__
from pd_toolkit.errors import (
    PagerDutyAuthError,
    PagerDutyBadRequestError,
    PagerDutyConfigError,
    PagerDutyConnectionError,
    PagerDutyError,
    PagerDutyForbiddenError,
    PagerDutyNotFoundError,
    PagerDutyPaginationLimitError,
    PagerDutyPlanError,
    PagerDutyRateLimitError,
    PagerDutyReadOnlyError,
    PagerDutyServerError,
)

logger = logging.getLogger("pd_toolkit.client")


def _identity(item: Any) -> str:
    """What tells two listed items apart: the id, else the whole item (on-call entries)."""
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        return item["id"]
    return json.dumps(item, sort_keys=True, default=str)


REGION_HOSTS: dict[str, str] = {
    "us": "https://api.pagerduty.com",
    "eu": "https://api.eu.pagerduty.com",
}
PAGE_LIMIT = 100
OFFSET_CAP = 10_000
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
_EVENTS_KEY_SHAPE = re.compile(r"^[0-9a-f]{32}$")


class RequestEvent(BaseModel):
    """One HTTP attempt, as reported to ``on_request`` hooks (benchmarks, logs)."""

    method: str
    path: str
    status: int | None
    elapsed: float
    attempt: int
    error: str | None = None


class RequestTally(BaseModel):
    """GETs sent inside one :meth:`PagerDutyClient.count_requests` block (retries included);
    ``on_count`` (optional) hears each new count, e.g. to report progress."""

    count: int = 0
    on_count: Callable[[int], None] | None = Field(default=None, exclude=True)


class ConnectionCheck(BaseModel):
    """The result of :meth:`PagerDutyClient.verify` ("Test Connection")."""

    ok: bool
    base_url: str
    key_kind: Literal["account", "user", "unknown"]
    credential: Literal["api_key", "oauth_token"] = "api_key"
    reached: bool = Field(
        default=True, description="False when PagerDuty could not be reached: the key is untested"
    )
    user: str | None = None
    abilities: list[str] = []
    read_access: dict[str, bool] = {}
    # OAuth only: each read scope the tools need -> whether the API answered it (not 403).
    scopes: dict[str, bool] = {}
    hints: list[str] = []


class _Transient(Exception):
    """An attempt that may succeed if repeated; ``error`` is raised if it never does."""

    def __init__(self, error: PagerDutyError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class _RateBudget:
    """At most ``per_minute`` requests in any 60 s window, shared by every thread."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                while self._sent and now - self._sent[0] >= 60.0:
                    self._sent.popleft()
                if len(self._sent) < self.per_minute:
                    self._sent.append(now)
                    return
                wait = 60.0 - (now - self._sent[0])
            time.sleep(wait)


def _settled(function: Callable[[Any], Any], item: Any) -> Future[Any]:
    """Run ``function(item)`` now; its result or exception as a completed future."""
    future: Future[Any] = Future()
    try:
        future.set_result(function(item))
    except Exception as exc:
        future.set_exception(exc)
    return future


def _validated_base_url(region: str, base_url: str | None) -> str:
    if base_url is None:
        host = REGION_HOSTS.get(region.strip().lower())
        if host is None:
            raise PagerDutyConfigError(
                f"Unknown PagerDuty region {region!r}",
                hint="Use region 'us' (api.pagerduty.com) or 'eu' (api.eu.pagerduty.com), "
                "or pass base_url for another host.",
            )
        return host
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PagerDutyConfigError(
            f"Malformed base_url {base_url!r}",
            hint="Give a full URL such as https://api.pagerduty.com or http://127.0.0.1:8080.",
        )
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise PagerDutyConfigError(
            f"Malformed base_url {base_url!r}: bad port",
            hint="Give a full URL such as http://127.0.0.1:8080.",
        ) from exc
    return base_url.strip().rstrip("/")


def _validated_key(api_key: str | SecretStr | None, what: str = "API key") -> SecretStr:
    raw = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
    key = (raw or "").strip()
    if not key:
        raise PagerDutyConfigError(
            f"The PagerDuty {what} is empty",
            hint="Pass api_key= or set PAGERDUTY_API_KEY to a REST API key "
            "(Integrations > API Access Keys in PagerDuty), or pass oauth_token= / set "
            "PAGERDUTY_OAUTH_TOKEN to an OAuth access token.",
        )
    if any(ch.isspace() or not ch.isprintable() for ch in key):
        raise PagerDutyConfigError(
            f"The PagerDuty {what} contains spaces or control characters",
            hint="Copy it again without surrounding text or line breaks.",
        )
    return SecretStr(key)


def _credential(
    api_key: str | SecretStr | None, oauth_token: str | SecretStr | None
) -> tuple[SecretStr, bool]:
    """(the secret, whether it is an OAuth token); exactly one of the two must be given."""
    if api_key is not None and oauth_token is not None:
        raise PagerDutyConfigError(
            "Both an API key and an OAuth token were given",
            hint="Pass exactly one: api_key= (REST API key) or oauth_token= (OAuth access token).",
        )
    if oauth_token is not None:
        return _validated_key(oauth_token, "OAuth token"), True
    return _validated_key(api_key), False


# OAuth read scopes the tools use, probed by verify() with the path that needs each.
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


def _resource_of(path: str) -> str:
    """'/incidents/Q1/alerts' -> 'incidents/Q1/alerts' (for messages)."""
    return path.strip("/").split("?")[0] or "/"


def _retry_after_seconds(response: requests.Response) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date) or ``ratelimit-reset``."""
    for header in ("Retry-After", "ratelimit-reset"):
        value = (response.headers.get(header) or "").strip()
        if not value:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return None


def error_body(response: requests.Response) -> tuple[str | None, int | None, list[str]]:
    """(message, code, errors) of a PagerDuty error body, tolerating any other shape."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return None, None, []
    if not isinstance(error, dict):
        return str(error), None, []
    errors = error.get("errors") or []
    return (
        error.get("message"),
        error.get("code"),
        [str(item) for item in errors] if isinstance(errors, list) else [str(errors)],
    )


class PagerDutyClient:
    """Sync PagerDuty REST API v2 client. Sends GET only; retries 429/5xx; never logs the key.

    Credentials: ``api_key`` (a REST API key, sent as ``Token token=``) or ``oauth_token`` (an
    OAuth access token, sent as ``Bearer``); exactly one, kept as a ``SecretStr``.

    ``timeout`` is ``(connect, read)`` seconds. ``max_retries`` bounds retries per call (so a
    call makes at most ``max_retries + 1`` attempts); a 429's Retry-After is honoured up to
    ``max_retry_wait`` seconds; no retry starts whose wait would end more than
    ``retry_deadline`` seconds after the call began. ``rate_limit_per_minute`` keeps this
    client (all threads) under PagerDuty's 960 requests/minute; ``None`` disables it.
    ``max_concurrency`` bounds the lookups :meth:`map_concurrently` runs at once (1 = one
    after another).
    """

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        *,
        oauth_token: str | SecretStr | None = None,
        region: str = "us",
        base_url: str | None = None,
        timeout: float | tuple[float, float] = (5.0, 15.0),
        max_retries: int = 3,
        max_retry_wait: float = 30.0,
        retry_deadline: float = 60.0,
        rate_limit_per_minute: int | None = 960,
        on_request: Callable[[RequestEvent], None] | None = None,
        max_concurrency: int = 5,
    ) -> None:
        self._api_key, self.is_oauth = _credential(api_key, oauth_token)
        self.base_url = _validated_base_url(region, base_url)
        self.timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        if max_retries < 0:
            raise PagerDutyConfigError("max_retries must be 0 or more")
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.retry_deadline = retry_deadline
        if max_concurrency < 1:
            raise PagerDutyConfigError("max_concurrency must be 1 or more")
        self.max_concurrency = max_concurrency
        self.rate_budget = _RateBudget(rate_limit_per_minute) if rate_limit_per_minute else None
        self.on_request = on_request
        self.request_count = 0
        self._count_lock = threading.Lock()
        self._tallies: ContextVar[tuple[RequestTally, ...]] = ContextVar(
            f"pd_toolkit_tallies_{id(self)}", default=()
        )
        self._backoff = wait_exponential_jitter(multiplier=0.5, max=8.0, jitter=0.5)
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Accept": "application/vnd.pagerduty+json;version=2",
                "Content-Type": "application/json",
                "User-Agent": f"pd_toolkit/{__version__}",
            }
        )
        self.session.auth = self._authorize
        self._fingerprints: dict[bytes, str] = {}
        self._fingerprint_lock = threading.Lock()

    def _authorize(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        secret = self._api_key.get_secret_value()
        request.headers["Authorization"] = (
            f"Bearer {secret}" if self.is_oauth else f"Token token={secret}"
        )
        return request

    def credential_fingerprint(self, salt: bytes) -> str:
        """A one-way id of (key, API host) for partitioning stored data: scrypt, salted.

        scrypt (n=2**14, r=8) makes each guess cost ~16 MiB and tens of milliseconds, so the
        id reveals nothing usable about the key; the same key on the same host with the same
        salt always gives the same id, so every process sharing a store finds its data.
        """
        with self._fingerprint_lock:  # threads asking at once derive it once
            found = self._fingerprints.get(salt)
            if found is None:
                secret = f"{self._api_key.get_secret_value()}\n{self.base_url}".encode()
                found = hashlib.scrypt(secret, salt=salt, n=2**14, r=8, p=1, dklen=32).hex()
                self._fingerprints[salt] = found
            return found

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> PagerDutyClient:
        """Build from PAGERDUTY_API_KEY (or PAGERDUTY_USER_API_KEY) or PAGERDUTY_OAUTH_TOKEN,
        PAGERDUTY_REGION, PAGERDUTY_API_HOST."""
        env = os.environ if environ is None else environ
        key = env.get("PAGERDUTY_API_KEY") or env.get("PAGERDUTY_USER_API_KEY")
        token = env.get("PAGERDUTY_OAUTH_TOKEN")
        if not key and not token:
            raise PagerDutyConfigError(
                "PAGERDUTY_API_KEY is not set",
                hint="Set PAGERDUTY_API_KEY (or PAGERDUTY_USER_API_KEY) to a read-only REST API "
                "key, or PAGERDUTY_OAUTH_TOKEN to an OAuth access token; see the README's "
                "'Using a real account' section.",
            )
        if key and token:
            raise PagerDutyConfigError(
                "Both PAGERDUTY_API_KEY and PAGERDUTY_OAUTH_TOKEN are set",
                hint="Unset one of them: the client uses exactly one credential.",
            )
        kwargs.setdefault("region", env.get("PAGERDUTY_REGION") or "us")
        if env.get("PAGERDUTY_API_HOST"):
            kwargs.setdefault("base_url", env["PAGERDUTY_API_HOST"])
        return cls(api_key=key or None, oauth_token=token or None, **kwargs)

    def __repr__(self) -> str:
        which = "oauth_token" if self.is_oauth else "api_key"
        return f"PagerDutyClient(base_url={self.base_url!r}, {which}=SecretStr('**********'))"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> PagerDutyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def count_requests(
        self, on_count: Callable[[int], None] | None = None
    ) -> Iterator[RequestTally]:
        """Count the GETs sent by this context (this thread, or this LangGraph node) inside
        the block; unlike ``request_count``, other threads' requests are not included.
        ``on_count(n)`` is called (from the sending thread) after each new request."""
        tally = RequestTally(on_count=on_count)
        token = self._tallies.set((*self._tallies.get(), tally))
        try:
            yield tally
        finally:
            self._tallies.reset(token)

    def map_concurrently(
        self, function: Callable[[Any], Any], items: Sequence[Any]
    ) -> list[Future[Any]]:
        """``function(item)`` for each item, at most ``max_concurrency`` at once, each in a
        copy of the caller's context (so :meth:`count_requests` counts them); futures in
        order. With ``max_concurrency=1`` they run here, one after another."""
        if self.max_concurrency == 1 or len(items) <= 1:
            return [_settled(function, item) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(items))) as pool:
            return [pool.submit(copy_context().run, function, item) for item in items]

    # -- read-only guard -------------------------------------------------------------------

    def _refuse_write(self, method: str, path: str) -> NoReturn:
        raise PagerDutyReadOnlyError(f"Refused to send {method} {_resource_of(path)}")

    def post(self, path: str, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse_write("POST", path)

    def put(self, path: str, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse_write("PUT", path)

    def patch(self, path: str, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse_write("PATCH", path)

    def delete(self, path: str, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse_write("DELETE", path)

    # -- GET -------------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One GET (with retries); the parsed JSON body."""
        if not path.startswith("/") or "://" in path:
            raise PagerDutyConfigError(
                f"Path {path!r} must be relative to the API host, e.g. '/incidents'"
            )
        retrying = Retrying(
            stop=stop_after_attempt(self.max_retries + 1) | stop_before_delay(self.retry_deadline),
            retry=retry_if_exception_type(_Transient),
            wait=self._wait,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(path, params, attempt.retry_state.attempt_number)
        except _Transient as transient:
            raise transient.error from None
        raise AssertionError("unreachable")  # pragma: no cover - Retrying always yields

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, _Transient) and failure.retry_after is not None:
            return min(failure.retry_after, self.max_retry_wait)
        return self._backoff(state)

    def _attempt(self, path: str, params: Mapping[str, Any] | None, attempt: int) -> dict:
        if self.rate_budget:
            self.rate_budget.acquire()
        tallies = self._tallies.get()
        with self._count_lock:
            self.request_count += 1
            counts = []
            for tally in tallies:
                tally.count += 1
                counts.append(tally.count)
        for tally, count in zip(tallies, counts, strict=True):
            if tally.on_count is not None:
                tally.on_count(count)
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            response = self.session.get(
                self.base_url + path, params=params, timeout=self.timeout, allow_redirects=False
            )
            status = response.status_code
            return self._parse(response, path)
        except requests.Timeout as exc:
            error = "timeout"
            raise _Transient(
                PagerDutyConnectionError(
                    f"PagerDuty did not answer GET {_resource_of(path)} within "
                    f"{self.timeout[1]:g} s (after {attempt} attempts)"
                )
            ) from exc
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            error = type(exc).__name__
            raise _Transient(
                PagerDutyConnectionError(
                    f"PagerDuty's answer to GET {_resource_of(path)} was cut off or garbled "
                    f"({type(exc).__name__}, after {attempt} attempts)",
                    hint="A proxy or a network problem may be in the way; try again shortly.",
                )
            ) from exc
        except requests.RequestException as exc:
            error = type(exc).__name__
            raise _Transient(
                PagerDutyConnectionError(
                    f"Could not reach PagerDuty at {self.base_url} for GET "
                    f"{_resource_of(path)} ({type(exc).__name__}, after {attempt} attempts)"
                )
            ) from exc
        except (_Transient, PagerDutyError) as exc:
            error = type(exc.error if isinstance(exc, _Transient) else exc).__name__
            raise
        finally:
            elapsed = time.monotonic() - started
            logger.debug(
                "GET %s params=%s -> %s in %.3fs (attempt %d)",
                path,
                dict(params or {}),
                status if status is not None else error,
                elapsed,
                attempt,
            )
            if self.on_request:
                self.on_request(
                    RequestEvent(
                        method="GET",
                        path=path,
                        status=status,
                        elapsed=elapsed,
                        attempt=attempt,
                        error=error,
                    )
                )

    def _parse(self, response: requests.Response, path: str) -> dict[str, Any]:
        if response.status_code >= 400:
            self._raise_for(response, path)
        try:
            body = response.json()
        except ValueError as exc:
            raise _Transient(
                PagerDutyConnectionError(
                    f"PagerDuty answered GET {_resource_of(path)} with a body that is not JSON "
                    f"(HTTP {response.status_code}, "
                    f"{response.headers.get('Content-Type', 'no content type')})",
                    hint="A proxy or an outage may be in the way; try again shortly, and check "
                    "the base URL.",
                )
            ) from exc
        if not isinstance(body, dict):
            raise PagerDutyConnectionError(
                f"PagerDuty answered GET {_resource_of(path)} with unexpected JSON "
                f"({type(body).__name__} instead of an object)"
            )
        return body

    def _raise_for(self, response: requests.Response, path: str) -> NoReturn:
        status = response.status_code
        message, code, errors = error_body(response)
        resource = _resource_of(path)
        details = {"status": status, "code": code, "errors": errors}
        if status == 401:
            hint = None
            if self.is_oauth:
                raise PagerDutyAuthError(
                    "PagerDuty refused the OAuth access token (HTTP 401)",
                    hint="The token may have expired or been revoked: obtain a fresh access "
                    "token through your app's OAuth flow (or use a REST API key).",
                    **details,
                )
            if _EVENTS_KEY_SHAPE.match(self._api_key.get_secret_value()):
                hint = (
                    PagerDutyAuthError.default_hint
                    + " This key has the shape of an Events API integration key (32 hex "
                    "characters); create a REST API key instead."
                )
            raise PagerDutyAuthError(
                "PagerDuty refused the API key (HTTP 401)", hint=hint, **details
            )
        if status == 403:
            area = resource.split("/")[0]
            raise PagerDutyForbiddenError(
                f"The {'OAuth token' if self.is_oauth else 'API key'} lacks read access to "
                f"{resource} (HTTP 403)",
                hint=(
                    "The OAuth token's scopes do not allow this read: install the app with "
                    f"the read scope for {area} (e.g. {area}.read)."
                    if self.is_oauth
                    else None
                ),
                **details,
            )
        if status == 404:
            raise PagerDutyNotFoundError(f"No such PagerDuty resource: {resource}", **details)
        if status == 402:
            raise PagerDutyPlanError(
                f"The account's plan lacks the feature behind {resource} (HTTP 402)", **details
            )
        if status == 429:
            raise _Transient(
                PagerDutyRateLimitError(
                    f"PagerDuty rate-limited GET {resource} (HTTP 429) and retries ran out",
                    **details,
                ),
                retry_after=_retry_after_seconds(response),
            )
        if status in RETRYABLE_STATUSES:
            raise _Transient(
                PagerDutyServerError(
                    f"PagerDuty answered GET {resource} with HTTP {status} and retries ran out",
                    **details,
                )
            )
        if status == 400:
            raise PagerDutyBadRequestError(
                f"PagerDuty rejected GET {resource}: {message or 'invalid input'}", **details
            )
        raise PagerDutyError(
            f"PagerDuty answered GET {resource} with HTTP {status}: {message or 'no message'}",
            **details,
        )

    # -- pagination ------------------------------------------------------------------------

    def iter_all(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        max_items: int | None = None,
        *,
        key: str | None = None,
        offset_cap: int = OFFSET_CAP,
        concurrent: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a classic-paginated list, 100 per page, following ``more``: the one
        page loop of the project.

        Raises PagerDutyPaginationLimitError (with ``total`` when known) instead of asking past
        ``offset_cap`` (PagerDuty refuses offsets past 10,000). A page that brings nothing new
        (a server repeating itself while saying ``more``, as PagerDuty's own documented
        examples do) ends the listing with a warning instead of paging to the cap. With
        ``concurrent``, the first page asks for the ``total`` and the other pages are fetched
        side by side (:meth:`map_concurrently`); without a total they follow one by one.
        """
        list_key = key or path.rstrip("/").rsplit("/", 1)[-1]
        resource = _resource_of(path)
        seen: set[str] = set()
        room = max_items if max_items is not None else None

        def page(offset: int, limit: int, **extra: str) -> dict[str, Any]:
            if offset + limit > offset_cap:
                raise PagerDutyPaginationLimitError(
                    f"GET {resource} has more than {offset_cap:,} results"
                )
            return self.get(path, {**(params or {}), "limit": limit, "offset": offset, **extra})

        def fresh(items: list[Any]) -> list[dict[str, Any]]:
            new = [item for item in items if _identity(item) not in seen]
            seen.update(_identity(item) for item in new)
            return new

        first = page(
            0,
            PAGE_LIMIT if room is None else min(PAGE_LIMIT, room),
            **({"total": "true"} if concurrent else {}),
        )
        items = first.get(list_key) or []
        total = first.get("total") if concurrent else None
        if isinstance(total, int) and total > offset_cap:
            raise PagerDutyPaginationLimitError(
                f"GET {resource} has {total:,} results, more than {offset_cap:,}", total=total
            )
        yielded = 0
        for item in fresh(items):
            if room is not None and yielded >= room:
                return
            yield item
            yielded += 1
        if isinstance(total, int) and first.get("more") and items:
            end = total if room is None else min(total, room)
            offsets = range(len(items), end, PAGE_LIMIT)
            for later in self.map_concurrently(lambda at: page(at, PAGE_LIMIT), offsets):
                for item in fresh(later.result().get(list_key) or []):
                    if room is not None and yielded >= room:
                        return
                    yield item
                    yielded += 1
            return
        offset, latest = 0, first
        while latest.get("more") and (room is None or yielded < room):
            got = latest.get(list_key) or []
            if not got:
                return
            offset += len(got)
            latest = page(offset, PAGE_LIMIT if room is None else min(PAGE_LIMIT, room - yielded))
            new = fresh(latest.get(list_key) or [])
            if not new and latest.get(list_key):
                logger.warning(
                    "GET %s said more=true at offset %d but repeated earlier items; stopped there",
                    resource,
                    offset,
                )
                return
            for item in new:
                if room is not None and yielded >= room:
                    return
                yield item
                yielded += 1

    # -- "Test Connection" -----------------------------------------------------------------

    def verify(self) -> ConnectionCheck:
        """Check the key like PagerDuty's "Test Connection": who it is and what it can read.
        For an OAuth token, also which read scopes the API accepts (``scopes``)."""
        check = ConnectionCheck(
            ok=False,
            base_url=self.base_url,
            key_kind="unknown",
            credential="oauth_token" if self.is_oauth else "api_key",
        )
        try:
            check.abilities = list(self.get("/abilities").get("abilities") or [])
        except PagerDutyConnectionError as exc:
            check.reached = False
            check.hints.append(str(exc))
            return check
        except PagerDutyError as exc:
            check.hints.append(str(exc))
            return check
        try:
            me = self.get("/users/me").get("user") or {}
            check.key_kind = "user"
            check.user = f"{me.get('name')} <{me.get('email')}> ({me.get('id')})"
        except (PagerDutyBadRequestError, PagerDutyForbiddenError, PagerDutyNotFoundError):
            check.key_kind = "account"
        for area in ("incidents", "services", "schedules", "users"):
            try:
                self.get(f"/{area}", {"limit": 1})
                check.read_access[area] = True
            except PagerDutyError as exc:
                check.read_access[area] = False
                check.hints.append(f"{area}: {exc}")
        check.ok = check.read_access["incidents"] and check.read_access["services"]
        if self.is_oauth:
            self._probe_scopes(check)
        elif check.key_kind == "account":
            check.hints.append(
                "General Access (account) key: sees the whole account; /users/me is not "
                "available to it, which is expected."
            )
        return check

    def _probe_scopes(self, check: ConnectionCheck) -> None:
        """Which read scopes an OAuth token has, as far as the API tells (403 = not granted)."""
        for scope, path in OAUTH_READ_SCOPES.items():
            area = path.strip("/")
            if area in check.read_access:
                check.scopes[scope] = check.read_access[area]
                continue
            try:
                self.get(path, {"limit": 1})
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
