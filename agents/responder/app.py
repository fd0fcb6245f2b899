"""The responder's HTTP face (werkzeug): PagerDuty webhooks in, investigations and decisions.

POST /webhooks/pagerduty                      signed v3 webhook -> 202 (401/413/400)
GET  /investigations                          [{incident_id, incident_number, status, brief}]
GET  /investigations/{incident_id}            one investigation (the whole brief)
POST /investigations/{incident_id}/approve    Bearer <approval token>; optional {"text"}
POST /investigations/{incident_id}/reject     Bearer <approval token>
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from agents.responder.service import DecisionError, Responder
from agents.responder.webhooks import Envelope, signature_ok

logger = logging.getLogger("agents.responder")
MAX_BODY = 512 * 1024  # PagerDuty's webhook payloads are a few kB
MAX_DECISION_BODY = 64 * 1024

URLS = Map(
    [
        Rule("/webhooks/pagerduty", endpoint="webhook", methods=["POST"]),
        Rule("/investigations", endpoint="list", methods=["GET"]),
        Rule("/investigations/<incident_id>", endpoint="one", methods=["GET"]),
        Rule("/investigations/<incident_id>/approve", endpoint="approve", methods=["POST"]),
        Rule("/investigations/<incident_id>/reject", endpoint="reject", methods=["POST"]),
        Rule("/healthz", endpoint="health", methods=["GET"]),
    ],
    strict_slashes=False,
)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"error": message}, status)


class ResponderApp:
    """WSGI app over a :class:`Responder`. ``secrets``: the webhook secrets (several during a
    rotation); ``approval_token``: the Bearer token decisions need (None: decisions over HTTP
    are refused)."""

    def __init__(
        self, responder: Responder, *, secrets: list[str], approval_token: str | None
    ) -> None:
        self.responder = responder
        self.secrets = [s for s in secrets if s]
        self.approval_token = approval_token or None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            endpoint, values = URLS.bind_to_environ(environ).match()
            response = getattr(self, f"_{endpoint}")(request, **values)
        except NotFound:
            response = _error(404, "not found")
        except HTTPException as exc:
            response = _error(exc.code or 500, exc.description or exc.name)
        return response(environ, start_response)

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
        except ValidationError:
            return _error(400, "not a PagerDuty v3 webhook envelope")
        try:
            accepted = self.responder.accept(envelope.event)
        except ValidationError:
            return _error(400, "the event's incident data is malformed")
        if accepted.outcome == "dropped":
            response = _error(503, "too many investigations queued; retry later")
            response.headers["Retry-After"] = "60"
            return response
        status = 202 if accepted.outcome == "queued" else 200
        return _json(accepted.model_dump(), status)

    # -- investigations -------------------------------------------------------------------

    def _list(self, request: Request) -> Response:
        wanted = request.args.get("status")
        records = [
            r.model_dump(include={"incident_id", "incident_number", "title", "status", "brief"})
            | ({"error": r.error} if r.error else {})
            for r in self.responder.registry.all()
            if wanted is None or r.status == wanted
        ]
        return _json(records)

    def _one(self, request: Request, incident_id: str) -> Response:
        record = self.responder.registry.find(incident_id)
        if record is None:
            return _error(404, f"no investigation of incident {incident_id}")
        return _json(record.model_dump(exclude={"owner"}))

    def _approve(self, request: Request, incident_id: str) -> Response:
        return self._decide(request, incident_id, "approve")

    def _reject(self, request: Request, incident_id: str) -> Response:
        return self._decide(request, incident_id, "reject")

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if self.approval_token is None or scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(token.strip().encode(), self.approval_token.encode())

    def _decide(self, request: Request, incident_id: str, decision: str) -> Response:
        if self.approval_token is None:
            return _error(403, "decisions over HTTP need PD_TOOLKIT_APPROVAL_TOKEN to be set")
        if not self._authorized(request):
            return _error(401, "missing or wrong Authorization: Bearer <approval token>")
        if (request.content_length or 0) > MAX_DECISION_BODY:
            return _error(413, f"body larger than {MAX_DECISION_BODY} bytes")
        body = request.get_json(silent=True) if request.content_length else None
        text = body.get("text") if isinstance(body, dict) else None
        if text is not None and (not isinstance(text, str) or not text.strip()):
            return _error(400, '"text" must be a non-empty string')
        try:
            record = self.responder.decide(incident_id, decision, text)  # type: ignore[arg-type]
        except DecisionError as exc:
            return _error(exc.status, str(exc))
        return _json(record.model_dump(exclude={"owner"}))

    def _health(self, request: Request) -> Response:
        return _json({"ok": True})
