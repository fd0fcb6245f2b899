"""The responder's HTTP face (WSGI): PagerDuty webhooks in, investigations and decisions.

POST /webhooks/pagerduty                      signed v3 webhook -> 202 (401/413/400/503)
GET  /investigations[?status=&limit=&cursor=] newest first; a JSON list, or with limit/cursor
                                              {"investigations": [...], "next_cursor": ...}
GET  /investigations/{incident}               one investigation (the whole brief)
POST /investigations/{incident}/approve       approval token; optional JSON {"text"}
POST /investigations/{incident}/reject        approval token; optional JSON {"reason"}
GET  /healthz                                 open

Every read needs ``Authorization: Bearer <token>``: the approval token, or the viewer token
(read-only: its decisions get 403). Without a valid one: 401. Tokens are compared in constant
time and never logged. A decision whose body is not JSON gets 415 and changes nothing; the loser
of two racing decisions gets 409 naming the winner.

The same investigation URLs serve the approval page to a browser (:mod:`agents.responder.page`,
which decides whose a request is: any ``Authorization`` header makes it the API's), so their
answers carry ``Vary: Accept, Cookie, Authorization``; the API's are ``Cache-Control: no-store``
like the page's. The page adds:

GET  /                                        sign-in form, or the investigations
POST /session                                 sign in (form field ``token``)
POST /session/end                             sign out
GET  /page.css                                the page's stylesheet
"""

from __future__ import annotations

import json
import logging
from typing import Any, Literal

from pydantic import SecretStr, ValidationError
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from agents.responder.page import ApprovalPage, cookie_secure
from agents.responder.service import DecisionError, Responder
from agents.responder.session import Role, Sessions, match_token
from agents.responder.webhooks import Envelope, signature_ok

logger = logging.getLogger("agents.responder")
MAX_BODY = 512 * 1024  # PagerDuty's webhook payloads are a few kB
MAX_DECISION_BODY = 64 * 1024
MAX_PAGE = 200
SHARED_VARY = "Accept, Cookie, Authorization"  # what picks the page or the API at one URL

URLS = Map(
    [
        Rule("/webhooks/pagerduty", endpoint="webhook", methods=["POST"]),
        Rule("/investigations", endpoint="list", methods=["GET"]),
        Rule("/investigations/<incident_id>", endpoint="one", methods=["GET"]),
        Rule("/investigations/<incident_id>/approve", endpoint="approve", methods=["POST"]),
        Rule("/investigations/<incident_id>/reject", endpoint="reject", methods=["POST"]),
        Rule("/healthz", endpoint="health", methods=["GET"]),
        Rule("/", endpoint="home", methods=["GET"]),
        Rule("/session", endpoint="sign_in", methods=["POST"]),
        Rule("/session/end", endpoint="sign_out", methods=["POST"]),
        Rule("/page.css", endpoint="stylesheet", methods=["GET"]),
    ],
    strict_slashes=False,
)
PAGE_ONLY = {"home", "sign_in", "sign_out", "stylesheet"}
# The API's endpoints a browser gets as the page, and the page's handler of each.
AS_PAGE = {
    "list": "investigations",
    "one": "investigation",
    "approve": "approve",
    "reject": "reject",
}


def _json(body: Any, status: int = 200) -> Response:
    response = Response(json.dumps(body), status=status, content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _error(status: int, message: str) -> Response:
    response = _json({"error": message}, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="pd_toolkit responder"'
    return response


def _secret(value: SecretStr | None) -> bytes | None:
    return value.get_secret_value().encode() if value is not None else None


class ResponderApp:
    """WSGI app over a :class:`Responder`. ``secrets``: the webhook secrets (several during a
    rotation); ``approval_token``: may read and decide; ``viewer_token``: may only read;
    ``public_url``: where people reach it (the origin the page's POSTs must come from);
    ``host``: where it listens. The page's cookie is Secure unless ``host`` is loopback and
    ``public_url`` is not https (:func:`~agents.responder.page.cookie_secure`)."""

    def __init__(
        self,
        responder: Responder,
        *,
        secrets: list[SecretStr],
        approval_token: SecretStr | None,
        viewer_token: SecretStr | None = None,
        public_url: str | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.responder = responder
        self.secrets = [s.get_secret_value() for s in secrets if s.get_secret_value()]
        self.tokens: list[tuple[bytes, Role]] = [
            (token, role)
            for token, role in (
                (_secret(approval_token), "approver"),
                (_secret(viewer_token), "viewer"),
            )
            if token
        ]
        approval = _secret(approval_token)
        self.page = ApprovalPage(
            responder,
            self.tokens,
            Sessions(approval, _secret(viewer_token)) if approval else None,
            secure=cookie_secure(host, public_url),
            public_url=public_url,
        )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            endpoint, values = URLS.bind_to_environ(environ).match()
            if endpoint in PAGE_ONLY:
                response = self.page.respond(request, endpoint, **values)
            elif endpoint in AS_PAGE and self.page.wanted(request):
                response = self.page.respond(request, AS_PAGE[endpoint], **values)
            else:
                response = getattr(self, f"_{endpoint}")(request, **values)
            if endpoint in AS_PAGE:
                response.headers["Vary"] = SHARED_VARY
        except NotFound:
            response = _error(404, "not found")
        except HTTPException as exc:
            response = _error(exc.code or 500, exc.description or exc.name)
        return response(environ, start_response)

    def _role(self, request: Request) -> Role | None:
        """Who the request's Bearer token says it is; every configured token is compared."""
        scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not offered.strip():
            return None
        return match_token(offered.strip().encode(), self.tokens)

    # -- webhooks -------------------------------------------------------------------------

    def _webhook(self, request: Request) -> Response:
        length = request.content_length
        if length is None:
            return _error(411, "a Content-Length is required")
        if length > MAX_BODY:
            return _error(413, f"body larger than {MAX_BODY} bytes")
        body = request.get_data(cache=False)
        if not signature_ok(body, request.headers.get("X-PagerDuty-Signature"), self.secrets):
            logger.warning("webhook refused: missing or wrong signature")
            return _error(401, "missing or invalid X-PagerDuty-Signature")
        try:
            envelope = Envelope.model_validate_json(body)
            accepted = self.responder.accept(envelope.event)
        except ValidationError:
            return _error(400, "not a PagerDuty v3 webhook envelope with incident data")
        if accepted.outcome == "dropped":
            response = _error(503, "too many investigations waiting; retry later")
            response.headers["Retry-After"] = "60"
            return response
        status = 202 if accepted.outcome == "queued" else 200
        return _json(accepted.model_dump(), status)

    # -- investigations -------------------------------------------------------------------

    def _list(self, request: Request) -> Response:
        if self._role(request) is None:
            return _error(401, "reading investigations needs Authorization: Bearer <token>")
        limit_arg, cursor = request.args.get("limit"), request.args.get("cursor")
        paged = limit_arg is not None or cursor is not None
        try:
            wrong = f"limit must be a whole number from 1 to {MAX_PAGE}"
            if limit_arg is not None and not limit_arg.isdigit():
                raise ValueError(wrong)
            limit = int(limit_arg) if limit_arg is not None else (50 if paged else None)
            if limit is not None and not 1 <= limit <= MAX_PAGE:
                raise ValueError(wrong)
            page = self.responder.ledger.page(
                limit=limit, cursor=cursor, status=request.args.get("status")
            )
        except ValueError as exc:
            return _error(400, str(exc))
        items = [self.responder.view(row) for row in page.items]
        if not paged:
            return _json(items)
        return _json({"investigations": items, "next_cursor": page.next_cursor})

    def _one(self, request: Request, incident_id: str) -> Response:
        if self._role(request) is None:
            return _error(401, "reading investigations needs Authorization: Bearer <token>")
        row = self.responder.find(incident_id)
        if row is None:
            return _error(404, "no investigation of that incident")
        return _json(self.responder.view(row))

    def _approve(self, request: Request, incident_id: str) -> Response:
        return self._decide(request, incident_id, "approve")

    def _reject(self, request: Request, incident_id: str) -> Response:
        return self._decide(request, incident_id, "reject")

    def _decide(
        self, request: Request, incident_id: str, decision: Literal["approve", "reject"]
    ) -> Response:
        role = self._role(request)
        if role is None:
            return _error(401, "decisions need Authorization: Bearer <approval token>")
        if role != "approver":
            return _error(403, "the viewer token may read investigations, not decide")
        if (request.content_length or 0) > MAX_DECISION_BODY:
            return _error(413, f"body larger than {MAX_DECISION_BODY} bytes")
        text = None
        if request.content_length:
            if request.mimetype != "application/json":
                return _error(415, "a decision body must be JSON: Content-Type: application/json")
            try:
                body = json.loads(request.get_data(cache=False))
            except ValueError:
                return _error(400, "the body is not valid JSON")
            field = "text" if decision == "approve" else "reason"
            if not isinstance(body, dict) or set(body) - {field}:
                return _error(400, f'the body must be a JSON object with at most "{field}"')
            text = body.get(field)
            if text is not None and (not isinstance(text, str) or not text.strip()):
                return _error(400, f'"{field}" must be a non-empty string')
        try:
            row = self.responder.decide(incident_id, decision, text)
        except DecisionError as exc:
            return _error(exc.status, str(exc))
        return _json(self.responder.view(row))

    def _health(self, request: Request) -> Response:
        return _json({"ok": True})
