"""The sandbox HTTP server: werkzeug on loopback, PagerDuty auth, latency and fault injection.

Faults as a `requests` client sees them:
- "status": the given status with PagerDuty's error body (429 adds rate-limit headers).
- "slow": the normal answer after `delay` seconds.
- "truncated": a 200 whose Content-Length promises the whole JSON but only the first half is
  sent before the server closes the connection; `requests` raises ChunkedEncodingError (or, for a
  client that ignores Content-Length, the half body fails to parse as JSON).
- "not_json": a 200 HTML error page (text/html), as a misbehaving proxy would send.
- "drop": the socket is shut down before any byte is sent; `requests` raises ConnectionError.
- "lost": the request is processed (a POSTed note is created), then the socket is shut down
  before any byte of the answer is sent: the write happened, the client sees a ConnectionError.
- "endless": a listing answers like PagerDuty's documented examples served by a mock: every
  page is the first page (the offset is ignored), says ``more: true`` and has no ``total``; a
  client that pages until ``more`` is false never stops.

Writes: every key is read-only (403 on anything but GET) except `write_api_key`, an
account-level key that may create incident notes (`POST /incidents/{id}/notes`, which needs a
`From: <user email>` header, as PagerDuty asks of account keys). With `webhook_url`, a
triggered incident is delivered as a signed v3 webhook; `POST /_sandbox/trigger` (any valid
key, JSON `{"service", "mode"}`, both optional) triggers one on demand.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from werkzeug.datastructures import MultiDict
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from .account import SandboxAccount, build_account
from .api import ApiError, Context, dispatch
from .generate import HISTORY_INCIDENTS
from .hostile import hostile_account
from .webhooks import deliver, webhook_event

FaultKind = Literal["status", "slow", "truncated", "not_json", "drop", "lost", "endless"]
KeyKind = Literal["account", "user", "restricted", "writer"]
NOTE_LIMIT = 25_000  # characters of one note
NOTES_PER_INCIDENT = 2_000
JSON_TYPE = "application/json; charset=utf-8"
ERROR_NAMES = {
    400: (2001, "Invalid Input Provided"),
    401: (2006, "Authentication failed"),
    402: (2014, "Account does not have the abilities to perform the action"),
    403: (2010, "Access Denied"),
    404: (2100, "Not Found"),
    429: (2020, "Rate Limit Exceeded"),
}
PROXY_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    "</h1></center><hr><center>nginx</center></body></html>"
)


@dataclass(frozen=True)
class Fault:
    """A misbehaviour to inject into matching requests (see the module docstring)."""

    kind: FaultKind
    path: str | None = None  # regex searched in the request path; None matches every path
    times: int | None = 1  # matching requests affected; None = forever
    status: int | None = None
    retry_after: float | None = None
    delay: float | None = None
    method: str | None = None  # None matches every method

    def __post_init__(self) -> None:
        if self.kind not in ("status", "slow", "truncated", "not_json", "drop", "lost", "endless"):
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.kind == "status" and self.status is None:
            raise ValueError("a 'status' fault needs status=")
        if self.kind == "slow" and self.delay is None:
            raise ValueError("a 'slow' fault needs delay=")

    def matches(self, method: str, path: str) -> bool:
        """True when this fault applies to a request with this method and path."""
        return (self.method is None or self.method.upper() == method) and (
            self.path is None or re.search(self.path, path) is not None
        )


@dataclass
class RequestRecord:
    """One request as the sandbox handled it (times are `time.monotonic()` values)."""

    method: str
    path: str
    query: dict[str, list[str]]
    status: int | None  # None when the connection was dropped
    started: float
    finished: float
    fault: FaultKind | None
    key_kind: KeyKind | None  # None when the key was missing or unknown


@dataclass
class _ActiveFault:
    fault: Fault
    remaining: int | None


def _first_page(args: MultiDict[str, str]) -> MultiDict[str, str]:
    """The query of a listing's first page: ``args`` without its offset."""
    first = args.copy()
    first.pop("offset", None)
    return first


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without the per-request access log on stderr."""

    def log(self, type: str, message: str, *args: Any) -> None:
        """Drop "info" lines (tests and notebooks start many sandboxes); keep errors."""
        if type != "info":
            super().log(type, message, *args)


class Sandbox:
    """A local PagerDuty-compatible REST API serving a seeded account over loopback HTTP."""

    api_key = "sandbox-account-key-3f9c2e7a5b1d4086"
    user_api_key = "sandbox-user-key-8e1b6f3a9d2c4e07"
    restricted_api_key = "sandbox-restricted-key-c41d7e2a8b95f360"
    write_api_key = "sandbox-write-key-6b2e9f0c3a7d5e18"  # account-level, may create notes
    # OAuth access tokens (sent as "Bearer <token>"): an app-level token with every read
    # scope, and one without schedules.read/oncalls.read (answered like the restricted key).
    oauth_token = "sandbox-oauth-token-5d2a9c7e1f3b4a68"
    restricted_oauth_token = "sandbox-oauth-restricted-b7e3d1a9c5f24e80"

    def __init__(
        self,
        now: datetime | None = None,
        seed: int = 7,
        port: int = 0,
        host: str = "127.0.0.1",
        *,
        latency: float = 0.0,
        past_incidents_enabled: bool = False,
        hostile: bool = False,
        incidents: int = HISTORY_INCIDENTS,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> None:
        if now is None:
            now = datetime.now(UTC).replace(second=0, microsecond=0)
        elif now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.now = now.astimezone(UTC)
        self.seed = seed
        self.host = host
        self.port = port
        self.latency = latency
        self.past_incidents_enabled = past_incidents_enabled
        self.hostile = hostile  # add the prompt-injection incident of sandbox/hostile.py
        self.incidents = incidents  # resolved incidents in the 180 days of history
        if webhook_url and not webhook_secret:
            raise ValueError("webhook_url needs a webhook_secret to sign with")
        self.webhook_url = webhook_url
        self.webhook_secrets = [s for s in (webhook_secret or "").split(",") if s]
        self.webhook_log: list[tuple[str, int]] = []  # (event id, HTTP status; 0 unreachable)
        self.request_log: list[RequestRecord] = []
        self._faults: list[_ActiveFault] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # one change of the account at a time
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._own_account: SandboxAccount | None = None

    @property
    def account(self) -> SandboxAccount:
        """The generated data and hidden ground truth (shared and read-only until this sandbox
        changes it: the first change gives the sandbox its own copy)."""
        if self._own_account is not None:
            return self._own_account
        account = build_account(self.seed, self.now, self.incidents)
        return hostile_account(account) if self.hostile else account

    # -------------------------------------------------------------- changes over time
    def _changeable(self) -> SandboxAccount:
        with self._lock:
            if self._own_account is None:
                self._own_account = self.account.fork()
            return self._own_account

    def advance(self, delta: timedelta) -> datetime:
        """Move the sandbox clock forward (the account keeps its incidents); the new now."""
        if delta < timedelta(0):
            raise ValueError("the sandbox clock only moves forward")
        self._changeable()
        self.now += delta
        return self.now

    def trigger_incident(self, service: str, mode: str, at: datetime | None = None) -> dict:
        """Trigger a new incident of failure `mode` on the service named `service` (at the
        sandbox's now by default); returns the incident as GET /incidents/{id} would. With a
        `webhook_url`, its `incident.triggered` webhook is delivered before this returns."""
        return self._trigger(service, mode, at or self.now)[0]

    def _trigger(self, service: str, mode: str, at: datetime) -> tuple[dict, int | None]:
        """(the new incident, its webhook's HTTP status or None without a `webhook_url`)."""
        with self._write_lock:
            incident = self._changeable().trigger_incident(mode, service, at)
        status = self.deliver_webhook("incident.triggered", incident) if self.webhook_url else None
        return incident, status

    def deliver_webhook(self, event_type: str, incident: dict) -> int:
        """POST a signed v3 webhook for `incident` to `webhook_url`; the HTTP status."""
        if not self.webhook_url or not self.webhook_secrets:
            raise RuntimeError("the sandbox has no webhook_url and webhook_secret")
        envelope = webhook_event(event_type, incident, self.now)
        status = deliver(self.webhook_url, envelope, self.webhook_secrets)
        with self._lock:
            self.webhook_log.append((envelope["event"]["id"], status))
        return status

    def resolve_incident(self, incident: str | int, at: datetime | None = None) -> dict:
        """Resolve an open incident (by id or number) as its first assignee would."""
        account = self._changeable()
        found = account.find_incident(incident)
        if found is None:
            raise KeyError(f"no incident {incident!r}")
        assignees = [a["assignee"]["id"] for a in found.get("assignments") or []]
        user_id = assignees[0] if assignees else account.user_key_user_id
        return account.resolve_incident(incident, at or self.now, user_id)

    def add_note(self, incident: str | int, content: str, user_id: str | None = None) -> dict:
        """Add a note to an incident (by the user-key's user unless `user_id` is given)."""
        account = self._changeable()
        with self._write_lock:
            return account.add_note(
                incident, content, self.now, user_id or account.user_key_user_id
            )

    def rename(self, names: Mapping[str, str]) -> None:
        """Rename users, services, teams, schedules or escalation policies (``{id: new
        name}``), references included, as PagerDuty would then show them: e.g. to serve hostile
        names in tests."""
        with self._write_lock:
            self._changeable().rename(names)

    @property
    def base_url(self) -> str:
        """http://host:port of the running server."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running; call start() or use `with`")
        return f"http://{self.host}:{self._server.server_port}"

    # -------------------------------------------------------------- lifecycle
    def start(self) -> Sandbox:
        """Build the account and serve it from a background thread."""
        if self._server is not None:
            return self
        self.account  # noqa: B018 - build before the first request, not during it
        self._server = make_server(
            self.host, self.port, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"pd-sandbox-{self._server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -------------------------------------------------------------- faults
    def inject(self, fault: Fault) -> None:
        """Add a fault; faults apply in the order injected, one per request."""
        with self._lock:
            self._faults.append(_ActiveFault(fault, fault.times))

    def clear_faults(self) -> None:
        """Remove every pending fault."""
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for active in self._faults:
                if active.fault.matches(method, path):
                    if active.remaining is not None:
                        active.remaining -= 1
                        if active.remaining <= 0:
                            self._faults.remove(active)
                    return active.fault
        return None

    # -------------------------------------------------------------- request handling
    def _key_kind(self, request: Request) -> KeyKind | None:
        """The kind of a known credential in its own scheme: REST keys as ``Token token=``,
        OAuth tokens as ``Bearer``; anything else (or a credential in the wrong scheme) None."""
        header = request.headers.get("Authorization", "").strip()
        kinds: dict[tuple[str, str], KeyKind] = {
            ("Token token=", self.api_key): "account",
            ("Token token=", self.user_api_key): "user",
            ("Token token=", self.restricted_api_key): "restricted",
            ("Bearer ", self.oauth_token): "account",
            ("Bearer ", self.restricted_oauth_token): "restricted",
            ("Token token=", self.write_api_key): "writer",
        }
        match = re.fullmatch(r"(Token token=|Bearer )(\S+)", header)
        return kinds.get((match.group(1), match.group(2))) if match else None

    def _answer(
        self, request: Request, key_kind: KeyKind | None, *, endless: bool = False
    ) -> tuple[int, Any]:
        """(status, JSON body) for a request, as api.pagerduty.com would answer it."""
        try:
            if key_kind is None:
                raise ApiError(
                    401,
                    2006,
                    "Authentication failed",
                    ["Use a REST API key (not an Events API routing key): Token token=<key>"],
                )
            if request.method == "POST" and request.path == "/_sandbox/trigger":
                return 200, self._trigger_on_demand(request)
            if request.method == "POST" and key_kind == "writer":
                return 200, self._create_note(request)
            if request.method not in ("GET", "HEAD"):
                raise ApiError(
                    403,
                    2010,
                    "Access Denied",
                    ["This API key is read-only: only GET requests are allowed"],
                )
            if key_kind == "restricted" and re.match(r"/(schedules|oncalls)\b", request.path):
                raise ApiError(
                    403, 2010, "Access Denied", ["This API key cannot read schedules or on-calls"]
                )
            ctx = Context(
                account=self.account,
                now=self.now,
                args=_first_page(request.args) if endless else request.args,
                user_id=self.account.user_key_user_id if key_kind == "user" else None,
                past_incidents_enabled=self.past_incidents_enabled,
            )
            body = dispatch(request.path, ctx)
            if endless and isinstance(body, dict) and "more" in body:
                body = {**body, "more": True, "total": None}
            return 200, body
        except ApiError as error:
            return error.status, error.body()

    def _trigger_on_demand(self, request: Request) -> dict:
        """`POST /_sandbox/trigger`: a new incident (and its webhook, when configured)."""
        asked = request.get_json(silent=True) or {}
        modes = self.account.modes
        mode_name = str(asked.get("mode") or modes[0].name)
        known = next((m for m in modes if m.name == mode_name), None)
        service = str(asked.get("service") or (known or modes[0]).services[0])
        try:
            incident, status = self._trigger(service, mode_name, self.now)
        except ValueError as exc:
            raise ApiError(400, 2001, "Invalid Input Provided", [str(exc)]) from None
        return {"incident": incident, "webhook_status": status}

    def _create_note(self, request: Request) -> dict:
        """`POST /incidents/{id}/notes` by the write key, as PagerDuty checks it."""
        found = re.fullmatch(r"/incidents/([^/]+)/notes/?", request.path)
        if found is None:
            raise ApiError(404, 2100, "Not Found", [f"No route for POST {request.path}"])
        sender = (request.headers.get("From") or "").strip().lower()
        account = self.account
        users = {u["email"].lower(): u["id"] for u in account.users}
        if not sender:
            raise ApiError(
                400, 2001, "Invalid Input Provided", ["A From header is required for this key"]
            )
        if sender not in users:
            raise ApiError(
                400, 2001, "Invalid Input Provided", ["From must be the email of a valid user"]
            )
        body = request.get_json(silent=True)
        note = body.get("note") if isinstance(body, dict) else None
        content = note.get("content") if isinstance(note, dict) else None
        if not isinstance(content, str) or not content.strip():
            raise ApiError(400, 2001, "Invalid Input Provided", ["note.content is required"])
        if len(content) > NOTE_LIMIT:
            raise ApiError(400, 2001, "Invalid Input Provided", ["Content is too long"])
        incident = account.find_incident(found.group(1))
        if incident is None:
            raise ApiError(404, 2100, "Not Found", [f"Incident {found.group(1)} not found"])
        if len(account.notes.get(incident["id"], [])) >= NOTES_PER_INCIDENT:
            raise ApiError(
                400, 2001, "Invalid Input Provided", ["An incident holds at most 2000 notes"]
            )
        return {"note": self.add_note(incident["id"], content, users[sender])}

    def _fault_response(self, fault: Fault) -> Response:
        status = fault.status or 500
        code, message = ERROR_NAMES.get(status, (2000, "Internal Server Error"))
        body = {"error": {"message": message, "code": code, "errors": [f"Injected {status}"]}}
        response = Response(
            json.dumps(body, separators=(",", ":")), status=status, content_type=JSON_TYPE
        )
        reset = fault.retry_after if fault.retry_after is not None else 1
        if fault.retry_after is not None:
            response.headers["Retry-After"] = f"{fault.retry_after:g}"
        if status == 429:
            response.headers["ratelimit-limit"] = "960"
            response.headers["ratelimit-remaining"] = "0"
            response.headers["ratelimit-reset"] = f"{reset:g}"
        return response

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        started = time.monotonic()
        key_kind = self._key_kind(request)
        fault = self._take_fault(request.method, request.path)
        if self.latency:
            time.sleep(self.latency)
        status: int | None
        if fault is not None and fault.kind in ("drop", "lost"):
            if fault.kind == "lost":
                self._answer(request, key_kind)  # done; its answer never leaves
            sock: socket.socket = environ["werkzeug.socket"]
            sock.shutdown(socket.SHUT_RDWR)
            response, status = Response(b"", status=200), None
        elif fault is not None and fault.kind == "status":
            response = self._fault_response(fault)
            status = response.status_code
        elif fault is not None and fault.kind == "not_json":
            response = Response(PROXY_PAGE, status=200, content_type="text/html; charset=utf-8")
            status = 200
        else:
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.delay or 0)
            endless = fault is not None and fault.kind == "endless"
            status, body = self._answer(request, key_kind, endless=endless)
            data = json.dumps(body, separators=(",", ":")).encode()
            if fault is not None and fault.kind == "truncated":
                response = Response(data[: len(data) // 2], status=status, content_type=JSON_TYPE)
                response.headers["Content-Length"] = str(len(data))
                response.headers["Connection"] = "close"
            else:
                response = Response(data, status=status, content_type=JSON_TYPE)
        record = RequestRecord(
            method=request.method,
            path=request.path,
            query=request.args.to_dict(flat=False),
            status=status,
            started=started,
            finished=time.monotonic(),
            fault=fault.kind if fault else None,
            key_kind=key_kind,
        )
        with self._lock:
            self.request_log.append(record)
        return response(environ, start_response)


def serve(
    port: int = 8080,
    host: str = "127.0.0.1",
    now: datetime | None = None,
    *,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
) -> None:
    """Run a sandbox in the foreground until interrupted, printing how to connect."""
    sandbox = Sandbox(
        now=now, port=port, host=host, webhook_url=webhook_url, webhook_secret=webhook_secret
    ).start()
    print(f"PagerDuty sandbox serving at {sandbox.base_url} (clock: {sandbox.now.isoformat()})")
    print(f"  account-level key:  {sandbox.api_key}")
    print(f"  user-level key:     {sandbox.user_api_key}")
    print(f"  restricted key:     {sandbox.restricted_api_key}")
    print(f"  OAuth token:        {sandbox.oauth_token}  (Authorization: Bearer ...)")
    print(f"  write key (notes):  {sandbox.write_api_key}")
    if webhook_url:
        print(f"  webhooks to:        {webhook_url} (POST /_sandbox/trigger to trigger one)")
    print("Point pd_toolkit at it from another shell:")
    print(f"  export PAGERDUTY_API_HOST={sandbox.base_url} PAGERDUTY_API_KEY={sandbox.api_key}")
    print("  .venv/bin/pd-toolkit check && .venv/bin/python -m agents.investigate")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
