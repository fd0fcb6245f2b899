"""PagerDutyClient: a read-only, retrying, rate-budgeted REST client over ``requests`` (the
one transport and the one status->error map), with an opt-in write allow-list of one entry."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar, copy_context
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, NoReturn
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, Field, SecretStr
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
)
from tenacity.wait import wait_exponential_jitter

from pd_toolkit.connection import ConnectionCheck, check_connection, shown_url
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
from pd_toolkit.version import __version__

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


@dataclass(frozen=True)
class AllowedWrite:
    """One request a client may send besides GET, when built to allow it, and what its
    errors tell the reader."""

    method: str
    path: str  # "{id}" stands for one object id (letters and digits); the rest is literal
    action: str  # for messages, with the same "{id}": "post notes on incident {id}"
    hints: Mapping[int, str]  # what to do after a 400, a 403 or a 5xx

    def object_id(self, method: str, path: str) -> str | None:
        """The id in ``path`` when ``method path`` is this write, else None."""
        pattern = re.escape(self.path).replace(re.escape("{id}"), "([A-Za-z0-9]+)")
        found = re.fullmatch(pattern, path) if method == self.method else None
        return found.group(1) if found else None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


WriteName = Literal["incident_note"]
# The write allow-list: every write the project may send. A client sends one only when built
# with ``allow_writes`` naming it; anything else but GET is refused before it is sent.
WRITES: dict[str, AllowedWrite] = {
    "incident_note": AllowedWrite(
        method="POST",
        path="/incidents/{id}/notes",
        action="post notes on incident {id}",
        hints={
            400: "An account-level key must send From: the email of a PagerDuty user (the "
            "responder's --from-email or PAGERDUTY_FROM_EMAIL); a note holds at most 25,000 "
            "characters, an incident at most 2,000 notes.",
            403: "Nothing was posted and the brief stays available; to post it, use a key "
            "allowed to write incident notes (a full-access REST key, or an OAuth token with "
            "incidents.write).",
            500: "PagerDuty is having trouble: look for the note before posting it again.",
        },
    ),
}


def _write_of(method: str, path: str, names: Collection[str] = WRITES) -> AllowedWrite | None:
    """The write of the allow-list (among ``names``) that ``method path`` is, or None."""
    return next((WRITES[n] for n in names if WRITES[n].object_id(method, path) is not None), None)


class RequestEvent(BaseModel):
    """One HTTP attempt, as reported to ``on_request`` hooks (benchmarks, logs)."""

    method: str
    path: str
    status: int | None
    elapsed: float
    attempt: int
    error: str | None = None


class RequestTally(BaseModel):
    """Requests sent inside one :meth:`PagerDutyClient.count_requests` block (retries
    included; GETs, plus the allowed writes of a client that may write: a refused write is
    never sent, so never counted); ``on_count`` (optional) hears each new count."""

    count: int = 0
    on_count: Callable[[int], None] | None = Field(default=None, exclude=True)


class _Transient(Exception):
    """An attempt that may succeed if repeated; ``error`` is raised if it never does.
    ``unprocessed``: PagerDuty said it did nothing (429), so even a write may be repeated."""

    def __init__(
        self, error: PagerDutyError, retry_after: float | None = None, *, unprocessed: bool = False
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after
        self.unprocessed = unprocessed


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
    """Sync PagerDuty REST API v2 client. Sends GET only (but see Writes); retries 429/5xx;
    never logs the key.

    Writes: ``allow_writes`` names entries of the allow-list :data:`WRITES` (today only
    ``"incident_note"``: ``POST /incidents/{id}/notes``) that this client may send through
    :meth:`post`; by default none. Every other write (PUT, PATCH, DELETE, any other POST) is
    refused with PagerDutyReadOnlyError before anything is sent, on every client.

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
        allow_writes: Collection[WriteName] = (),
    ) -> None:
        self._api_key, self.is_oauth = _credential(api_key, oauth_token)
        unknown = sorted(set(allow_writes) - set(WRITES))
        if unknown:
            raise PagerDutyConfigError(
                f"Unknown writes in allow_writes: {', '.join(map(repr, unknown))}",
                hint=f"The writes a client may allow are: {', '.join(map(repr, WRITES))}.",
            )
        self.allowed_writes: frozenset[WriteName] = frozenset(allow_writes)
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
        self.request_count = 0  # requests sent, retries included (see RequestTally)
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
        writes = f", allow_writes={sorted(self.allowed_writes)!r}" if self.allowed_writes else ""
        return (
            f"PagerDutyClient(base_url={shown_url(self.base_url)!r}, "
            f"{which}=SecretStr('**********'){writes})"
        )

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
        """Count the requests sent by this context (this thread, or this LangGraph node) inside
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

    # -- writes: the allow-list ------------------------------------------------------------

    def with_writes(self, *writes: WriteName) -> PagerDutyClient:
        """A client like this one (the same credential, host, timeouts, retry policy and
        ``on_request`` hook, and this client's rate budget itself: one per-minute budget for
        both) that may also send ``writes``. This client stays as it was; the new one has a
        session of its own: close it when done."""
        api_key, oauth_token = (None, self._api_key) if self.is_oauth else (self._api_key, None)
        other = type(self)(
            api_key,
            oauth_token=oauth_token,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            max_retry_wait=self.max_retry_wait,
            retry_deadline=self.retry_deadline,
            rate_limit_per_minute=None,
            on_request=self.on_request,
            max_concurrency=self.max_concurrency,
            allow_writes=[*self.allowed_writes, *writes],
        )
        other.rate_budget = self.rate_budget
        return other

    def _refuse_write(self, method: str, path: str) -> NoReturn:
        allowed = ", ".join(sorted(str(WRITES[name]) for name in self.allowed_writes))
        raise PagerDutyReadOnlyError(
            f"Refused to send {method} {_resource_of(path)}",
            hint=f"This client sends GET and only these writes: {allowed}. Nothing was sent."
            if allowed
            else None,
        )

    def post(
        self, path: str, json: Any = None, *, headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Send one write of this client's allow-list (``allow_writes``); the JSON answer.
        Anything else raises PagerDutyReadOnlyError, and nothing is sent.

        A 429 is waited out and repeated (PagerDuty did nothing); a 5xx, a timeout or a lost
        answer is not (the write may have happened): the caller decides, e.g. by looking for
        what it wrote before writing again.
        """
        if _write_of("POST", path, self.allowed_writes) is None:
            self._refuse_write("POST", path)
        return self._send("POST", path, json=json, headers=headers)

    def put(self, path: str, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse_write("PUT", path)

    def patch(self, path: str, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse_write("PATCH", path)

    def delete(self, path: str, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse_write("DELETE", path)

    # -- the transport ---------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One GET (with retries); the parsed JSON body."""
        return self._send("GET", path, params=params)

    def _send(
        self,
        method: Literal["GET", "POST"],
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """One request, retried: a GET on any transient failure, a write only on 429."""
        if not path.startswith("/") or "://" in path:
            raise PagerDutyConfigError(
                f"Path {path!r} must be relative to the API host, e.g. '/incidents'"
            )
        repeatable = method == "GET"
        retrying = Retrying(
            stop=stop_after_attempt(self.max_retries + 1) | stop_before_delay(self.retry_deadline),
            retry=retry_if_exception(
                lambda exc: isinstance(exc, _Transient) and (repeatable or exc.unprocessed)
            ),
            wait=self._wait,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(
                        method,
                        path,
                        params=params,
                        json=json,
                        headers=headers,
                        attempt=attempt.retry_state.attempt_number,
                    )
        except _Transient as transient:
            raise transient.error from None
        raise AssertionError("unreachable")  # pragma: no cover - Retrying always yields

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, _Transient) and failure.retry_after is not None:
            return min(failure.retry_after, self.max_retry_wait)
        return self._backoff(state)

    def _attempt(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str] | None,
        attempt: int,
    ) -> dict:
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
        asked = f"{method} {_resource_of(path)}"
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=params,
                json=json,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
            status = response.status_code
            return self._parse(response, method, path)
        except requests.Timeout as exc:
            error = "timeout"
            raise _Transient(
                PagerDutyConnectionError(
                    f"PagerDuty did not answer {asked} within "
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
                    f"PagerDuty's answer to {asked} was cut off or garbled "
                    f"({type(exc).__name__}, after {attempt} attempts)",
                    hint="A proxy or a network problem may be in the way; try again shortly.",
                )
            ) from exc
        except requests.RequestException as exc:
            error = type(exc).__name__
            raise _Transient(
                PagerDutyConnectionError(
                    f"Could not reach PagerDuty at {shown_url(self.base_url)} for {asked} "
                    f"({type(exc).__name__}, after {attempt} attempts)"
                )
            ) from exc
        except (_Transient, PagerDutyError) as exc:
            error = type(exc.error if isinstance(exc, _Transient) else exc).__name__
            raise
        finally:
            elapsed = time.monotonic() - started
            logger.log(
                logging.DEBUG if method == "GET" else logging.INFO,
                "%s %s params=%s -> %s in %.3fs (attempt %d)",
                method,
                path,
                dict(params or {}),
                status if status is not None else error,
                elapsed,
                attempt,
            )
            if self.on_request:
                self.on_request(
                    RequestEvent(
                        method=method,
                        path=path,
                        status=status,
                        elapsed=elapsed,
                        attempt=attempt,
                        error=error,
                    )
                )

    def _parse(self, response: requests.Response, method: str, path: str) -> dict[str, Any]:
        if response.status_code >= 400:
            self._raise_for(response, method, path)
        try:
            body = response.json()
        except ValueError as exc:
            raise _Transient(
                PagerDutyConnectionError(
                    f"PagerDuty answered {method} {_resource_of(path)} with a body that is not "
                    f"JSON (HTTP {response.status_code}, "
                    f"{response.headers.get('Content-Type', 'no content type')})",
                    hint="A proxy or an outage may be in the way; try again shortly, and check "
                    "the base URL.",
                )
            ) from exc
        if not isinstance(body, dict):
            raise PagerDutyConnectionError(
                f"PagerDuty answered {method} {_resource_of(path)} with unexpected JSON "
                f"({type(body).__name__} instead of an object)"
            )
        return body

    def _raise_for(self, response: requests.Response, method: str, path: str) -> NoReturn:
        """The one status -> error map, for reads and for the allow-listed writes (whose 403,
        400 and 5xx say what a write needs)."""
        status = response.status_code
        message, code, errors = error_body(response)
        resource = _resource_of(path)
        asked = f"{method} {resource}"
        write = _write_of(method, path)
        action = write.action.format(id=write.object_id(method, path)) if write else None
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
        credential = "OAuth token" if self.is_oauth else "API key"
        if status == 403 and write:
            raise PagerDutyForbiddenError(
                f"The {credential} cannot {action} (HTTP 403): it is read-only or lacks write "
                "access",
                hint=write.hints[403],
                **details,
            )
        if status == 403:
            area = resource.split("/")[0]
            raise PagerDutyForbiddenError(
                f"The {credential} lacks read access to {resource} (HTTP 403)",
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
                    f"PagerDuty rate-limited {asked} (HTTP 429) and retries ran out", **details
                ),
                retry_after=_retry_after_seconds(response),
                unprocessed=True,
            )
        if status in RETRYABLE_STATUSES or (write and status >= 500):
            raise _Transient(
                PagerDutyServerError(
                    f"PagerDuty answered {asked} with HTTP {status}"
                    + (
                        " (not repeated: the write may have happened)"
                        if write
                        else " and retries ran out"
                    ),
                    hint=write.hints[500] if write else None,
                    **details,
                )
            )
        if status == 400 and write:
            raise PagerDutyBadRequestError(
                f"PagerDuty refused to {action} (HTTP 400): {message or 'invalid input'}",
                hint=write.hints[400],
                **details,
            )
        if status == 400:
            raise PagerDutyBadRequestError(
                f"PagerDuty rejected {asked}: {message or 'invalid input'}", **details
            )
        raise PagerDutyError(
            f"PagerDuty answered {asked} with HTTP {status}: {message or 'no message'}",
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
        """PagerDuty's "Test Connection" for this client's credential: who it is and what it
        can read (:func:`pd_toolkit.connection.check_connection`)."""
        return check_connection(self)
