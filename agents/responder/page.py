"""The approval page: the browser's way to read briefs and decide, at the API's own URLs.

A request is the page's when it has no ``Authorization`` header and either prefers HTML to JSON
(a browser's Accept) or, preferring neither, carries the session cookie; every other request is
the JSON API's, exactly as without the page (:meth:`ApprovalPage.wanted`). Signing in posts the
approval or viewer token once (compared in constant time, never put in a URL, a cookie or a log)
and gets a signed session cookie (:mod:`agents.responder.session`): HttpOnly, SameSite=Strict,
Path=/, and Secure when the request or ``public_url`` is https. Every POST from the page carries
the session's CSRF token; a POST without the session, with a wrong token, from another site
(``Sec-Fetch-Site``) or from a viewer is refused. Pages are sent with a Content-Security-Policy
that allows no script, no inline style, no frame and no form target but this responder.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Literal

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from agents.responder.service import DecisionError, Responder
from agents.responder.session import COOKIE, Role, Session, Sessions, match_token
from agents.responder.templates import (
    investigation_page,
    list_page,
    message_page,
    page_url,
    sign_in_page,
)

logger = logging.getLogger("agents.responder")
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
MAX_FORM_BODY = 256 * 1024  # a 25,000-character note, percent-encoded, fits with room
PENDING_PAGE = 50
RECENT = 20
FINISHED = ("approving", "posted", "rejected", "failed", "running", "queued")
_NEXT = re.compile(r"/(investigations/[A-Za-z0-9]+)?")
STYLESHEET = (Path(__file__).parent / "static" / "page.css").read_bytes()


def _page(html: str, status: int = 200) -> Response:
    return Response(html, status=status, content_type="text/html; charset=utf-8")


def _secured(response: Response) -> Response:
    """The page's security headers, unless the handler chose one (the stylesheet's caching)."""
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


class ApprovalPage:
    """The page's requests over a :class:`Responder` (see the module docstring).

    ``tokens``: (token, role) pairs, as the API checks them; ``sessions``: None when no approval
    token is configured (then nobody can sign in); ``secure``: cookies only over https.
    """

    def __init__(
        self,
        responder: Responder,
        tokens: list[tuple[bytes, Role]],
        sessions: Sessions | None,
        *,
        secure: bool,
    ) -> None:
        self.responder = responder
        self.tokens = tokens
        self.sessions = sessions
        self.secure = secure

    @staticmethod
    def wanted(request: Request) -> bool:
        """Whether a request is the page's rather than the JSON API's."""
        if "Authorization" in request.headers:
            return False
        html = request.accept_mimetypes["text/html"]
        json = request.accept_mimetypes["application/json"]
        return html > json if html != json else COOKIE in request.cookies

    def respond(self, request: Request, endpoint: str, **values: str) -> Response:
        """Answer a page request, with the page's security headers."""
        return _secured(getattr(self, endpoint)(request, **values))

    def _session(self, request: Request) -> Session | None:
        if self.sessions is None:
            return None
        return self.sessions.check(request.cookies.get(COOKIE))

    # -- signing in and out -------------------------------------------------------------

    def home(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return _page(sign_in_page())
        return self._list(request, session)

    def stylesheet(self, request: Request) -> Response:
        response = Response(STYLESHEET, content_type="text/css; charset=utf-8")
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    def sign_in(self, request: Request) -> Response:
        next_path = request.form.get("next", "/")
        next_path = next_path if _NEXT.fullmatch(next_path) else "/"
        if self._cross_site(request):
            return _page(message_page("Refused", "Sign in from this page.", None), 403)
        offered = request.form.get("token", "").strip().encode()
        role = match_token(offered, self.tokens) if offered else None
        if role is None or self.sessions is None:
            logger.warning("page sign-in refused")
            message = "That is not the approval or the viewer token."
            return _page(sign_in_page(message=message, next_path=next_path), 401)
        cookie, _ = self.sessions.issue(role)
        response = redirect(next_path, 303)
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=int(self.sessions.lifetime),
            path="/",
            secure=self._secure(request),
            httponly=True,
            samesite="Strict",
        )
        return response

    def sign_out(self, request: Request) -> Response:
        refused = self._refused(request) if self._session(request) else None
        if refused is not None:
            return refused
        response = redirect("/", 303)
        response.delete_cookie(
            COOKIE, path="/", secure=self._secure(request), httponly=True, samesite="Strict"
        )
        return response

    def _secure(self, request: Request) -> bool:
        return self.secure or request.scheme == "https"

    @staticmethod
    def _cross_site(request: Request) -> bool:
        """A request a browser says comes from another site (or a page of another origin)."""
        return request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none")

    def _refused(self, request: Request, *, deciding: bool = False) -> Response | None:
        """Why a POST from the page is refused (None when it may go on): no session (401), a
        cross-site request, a missing or wrong CSRF token, or a viewer deciding (403)."""
        session = self._session(request)
        if session is None:
            return _page(sign_in_page(message="Sign in first (or again: the session ended)."), 401)
        request.max_content_length = MAX_FORM_BODY
        try:
            offered = request.form.get("csrf")
        except RequestEntityTooLarge:
            return _page(message_page("Too large", "The form is too large.", session), 413)
        if self._cross_site(request) or not Sessions.csrf_ok(session, offered):
            logger.warning("page POST refused: cross-site or without this session's CSRF token")
            message = "This form is not from this page (reload the page and try again)."
            return _page(message_page("Refused", message, session), 403)
        if deciding and session.role != "approver":
            message = "Signed in with the viewer token: you may read, not decide."
            return _page(message_page("Refused", message, session), 403)
        return None

    # -- reading --------------------------------------------------------------------------

    def investigations(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return _page(sign_in_page(), 401)
        return self._list(request, session)

    def _list(self, request: Request, session: Session) -> Response:
        ledger, view = self.responder.ledger, self.responder.view
        try:
            pending = ledger.page(
                limit=PENDING_PAGE, cursor=request.args.get("cursor"), status="awaiting_approval"
            )
        except ValueError as exc:
            return _page(list_page([], [], session, message=str(exc)), 400)
        others = [
            row for status in FINISHED for row in ledger.page(limit=RECENT, status=status).items
        ]
        others.sort(key=lambda row: row.updated_at, reverse=True)
        html = list_page(
            [view(row) for row in pending.items],
            [view(row) for row in others[:RECENT]],
            session,
            next_cursor=pending.next_cursor,
        )
        return _page(html)

    def investigation(
        self, request: Request, incident_id: str, *, message: str | None = None, status: int = 200
    ) -> Response:
        session = self._session(request)
        if session is None:
            return _page(sign_in_page(next_path=page_url(incident_id)), 401)
        row = self.responder.find(incident_id)
        if row is None:
            missing = message_page("Not found", "No investigation of that incident.", session)
            return _page(missing, 404)
        html = investigation_page(self.responder.view(row), session, message=message)
        return _page(html, status)

    # -- deciding -------------------------------------------------------------------------

    def approve(self, request: Request, incident_id: str) -> Response:
        return self._decide(request, incident_id, "approve")

    def reject(self, request: Request, incident_id: str) -> Response:
        return self._decide(request, incident_id, "reject")

    def _decide(
        self, request: Request, incident_id: str, decision: Literal["approve", "reject"]
    ) -> Response:
        """Apply an approver's decision from the form; back to the brief's page (303), or the
        page with the refusal's message and status."""
        refused = self._refused(request, deciding=True)
        if refused is not None:
            return refused
        form = request.form
        if decision == "approve":
            edited = form.get("edited") == "yes"
            text = form.get("text", "").replace("\r\n", "\n") if edited else None
            if text is not None and not text.strip():
                message = "The edited note is empty: write it, or reject the brief."
                return self.investigation(request, incident_id, message=message, status=400)
        else:
            text = form.get("reason", "").strip()[:500] or None
        try:
            self.responder.decide(incident_id, decision, text)
        except DecisionError as exc:
            return self.investigation(request, incident_id, message=str(exc), status=exc.status)
        return redirect(page_url(incident_id), 303)
