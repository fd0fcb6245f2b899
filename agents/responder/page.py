"""The approval page: the browser's way to read briefs and decide, at the API's own URLs.

A request is the page's when it has no ``Authorization`` header and either prefers HTML to JSON
(a browser's Accept) or, preferring neither, carries the session cookie; every other request is
the JSON API's, exactly as without the page (:meth:`ApprovalPage.wanted`). Signing in posts the
approval or viewer token once (compared in constant time, never put in a URL, a cookie or a log)
and gets a signed session cookie (:mod:`agents.responder.session`): HttpOnly, SameSite=Strict,
Path=/, and Secure (named ``__Host-pd_toolkit_session``) unless the responder listens on a
loopback host without an https ``public_url`` (:func:`cookie_secure`).

Where a POST comes from: a browser sends ``Origin`` (and ``Sec-Fetch-Site``) with a form. Any
page POST (sign-in and sign-out too) whose ``Origin`` is not this responder's own (``public_url``,
else the request's scheme and ``Host``), or whose ``Sec-Fetch-Site`` is not same-origin, is
refused. A POST with neither header is no browser's form: signing in is refused then (no session
exists yet to tie a token to), and every other POST needs the session's CSRF token anyway, as
all do; a viewer's decision is refused too. Pages are sent with a Content-Security-Policy that
allows no script, no inline style, no frame and no form target but this responder, and with
``Referrer-Policy: same-origin``, so that the page's own forms send their real ``Origin``
(``no-referrer`` would make it ``null``).
"""

from __future__ import annotations

import ipaddress
import logging
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from agents.responder.notes import NOTE_LIMIT, note_body
from agents.responder.service import DecisionError, Responder
from agents.responder.session import Role, Session, Sessions, cookie_name, match_token
from agents.responder.templates import (
    investigation_page,
    list_page,
    message_page,
    page_url,
    sign_in_page,
)
from pd_toolkit.phrases import clean_name

logger = logging.getLogger("agents.responder")
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# A note-long edit, percent-encoded (4 UTF-8 bytes a character at most, 3 bytes each), fits.
MAX_FORM_BODY = 12 * NOTE_LIMIT + 16 * 1024
MAX_SIGN_IN_BODY = 8 * 1024
PENDING_PAGE = 50
RECENT = 20
FINISHED = ("approving", "posted", "rejected", "failed", "running", "queued")
_NEXT = re.compile(r"/(investigations/[A-Za-z0-9]+)?")
STYLESHEET = (Path(__file__).parent / "static" / "page.css").read_bytes()


def loopback(host: str) -> bool:
    """Whether a listening host (``--host``) is reachable only from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a name other than localhost, or 0.0.0.0-like wildcards are not
        return False


def cookie_secure(host: str, public_url: str | None) -> bool:
    """Whether the session cookie is Secure: always, unless the responder listens on a loopback
    host without an https public URL (the local demo, plain http)."""
    return (public_url or "").lower().startswith("https://") or not loopback(host)


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, normalised (lower case, no default port);
    None for anything else (``null``, another scheme, no host)."""
    parts = urlsplit(url or "")
    try:
        port = parts.port
    except ValueError:  # not a port number
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def same_note(a: str, b: str) -> bool:
    """Whether two texts are the same note once line endings, trailing spaces and the blank
    lines around them are set aside (what a browser's textarea may change). The page compares
    them as the note would carry them (:func:`~agents.responder.notes.note_body`): the box shows
    the brief so."""

    def normalised(text: str) -> str:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return "\n".join(line.rstrip() for line in lines).strip("\n")

    return normalised(a) == normalised(b)


def _edit_problem(text: str) -> str | None:
    """Why an edited note cannot be posted (None when it can)."""
    if not text.strip():
        return "The edited note is empty: write it, or reject the brief."
    if len(text) > NOTE_LIMIT:
        return (
            f"The edited note has {len(text):,} characters; a PagerDuty note takes at most "
            f"{NOTE_LIMIT:,}. Shorten it, then Save and approve."
        )
    return None


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
    token is configured (then nobody can sign in); ``secure``: a Secure ``__Host-`` cookie
    (:func:`cookie_secure`); ``public_url``: where people reach the responder (its origin is the
    one POSTs must come from; without it, the request's own scheme and Host).
    """

    def __init__(
        self,
        responder: Responder,
        tokens: list[tuple[bytes, Role]],
        sessions: Sessions | None,
        *,
        secure: bool,
        public_url: str | None = None,
    ) -> None:
        self.responder = responder
        self.tokens = tokens
        self.sessions = sessions
        self.secure = secure
        self.cookie = cookie_name(secure)
        self.origin = origin_of(public_url)

    def wanted(self, request: Request) -> bool:
        """Whether a request is the page's rather than the JSON API's."""
        if "Authorization" in request.headers:
            return False
        html = request.accept_mimetypes["text/html"]
        json = request.accept_mimetypes["application/json"]
        return html > json if html != json else self.cookie in request.cookies

    def respond(self, request: Request, endpoint: str, **values: str) -> Response:
        """Answer a page request, with the page's security headers."""
        return _secured(getattr(self, endpoint)(request, **values))

    def _session(self, request: Request) -> Session | None:
        if self.sessions is None:
            return None
        return self.sessions.check(request.cookies.get(self.cookie))

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
        foreign = self._foreign(request, required=True)
        if foreign is not None:
            return foreign
        form = _form(request, MAX_SIGN_IN_BODY)
        if form is None:
            return _page(message_page("Too large", "The form is too large.", None), 413)
        next_path = form.get("next", "/")
        next_path = next_path if _NEXT.fullmatch(next_path) else "/"
        offered = form.get("token", "").strip().encode()
        role = match_token(offered, self.tokens) if offered else None
        if role is None or self.sessions is None:
            logger.warning("page sign-in refused from %s: not a configured token", _client(request))
            message = "That is not the approval or the viewer token."
            return _page(sign_in_page(message=message, next_path=next_path), 401)
        cookie, _ = self.sessions.issue(role)
        response = redirect(next_path, 303)
        response.set_cookie(
            self.cookie,
            cookie,
            max_age=int(self.sessions.lifetime),
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="Strict",
        )
        return response

    def sign_out(self, request: Request) -> Response:
        """Clear the session cookie: only for a POST of this responder's page with the session's
        CSRF token (a cross-site form, which carries no cookie, clears nothing)."""
        foreign = self._foreign(request)
        if foreign is not None:
            return foreign
        if self._session(request) is None:
            return redirect("/", 303)  # no session to end (and no cookie set or cleared)
        refused = self._refused(request)
        if refused is not None:
            return refused
        response = redirect("/", 303)
        response.delete_cookie(
            self.cookie, path="/", secure=self.secure, httponly=True, samesite="Strict"
        )
        return response

    def _foreign(self, request: Request, *, required: bool = False) -> Response | None:
        """A 403 for a POST a browser says comes from another origin or site (see the module
        docstring); with ``required``, also for one that says nothing (no Origin and no
        Sec-Fetch-Site). None when it may go on."""
        origin, fetch_site = request.headers.get("Origin"), request.headers.get("Sec-Fetch-Site")
        own = self.origin or origin_of(f"{request.scheme}://{request.host}")
        if origin is None and fetch_site is None:
            if not required:
                return None
            why, message = "no Origin or Sec-Fetch-Site", "Sign in from the sign-in page."
        elif origin is not None and origin_of(origin) != own:
            why = f"Origin {clean_name(origin, 100)} is not {own}"
            message = (
                f"This form was not sent from this responder's page. Open the responder at {own} "
                "and try again (that address comes from --public-url, else from the request)."
            )
        elif fetch_site not in (None, "same-origin", "none"):
            why = f"Sec-Fetch-Site {clean_name(fetch_site, 20)}"
            message = "This form is not from this page (reload the page and try again)."
        else:
            return None
        logger.warning("page POST refused from %s: %s", _client(request), why)
        return _page(message_page("Refused", message, self._session(request)), 403)

    def _refused(self, request: Request, *, deciding: bool = False) -> Response | None:
        """Why a POST from the page is refused (None when it may go on): no session (401), a
        POST from another origin or site, a missing or wrong CSRF token, or a viewer deciding
        (403), a form over :data:`MAX_FORM_BODY` (413)."""
        session = self._session(request)
        if session is None:
            return _page(sign_in_page(message="Sign in first (or again: the session ended)."), 401)
        foreign = self._foreign(request)
        if foreign is not None:
            return foreign
        form = _form(request, MAX_FORM_BODY)
        if form is None:
            return _page(message_page("Too large", "The form is too large.", session), 413)
        if not Sessions.csrf_ok(session, form.get("csrf")):
            logger.warning(
                "page POST refused from %s: no CSRF token of this session", _client(request)
            )
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
        self,
        request: Request,
        incident_id: str,
        *,
        message: str | None = None,
        status: int = 200,
        draft: str | None = None,
    ) -> Response:
        """One investigation's page; ``draft``: the text for the note's box instead of the brief
        (an edit sent back with ``message``). After an approval with an edit, the page shows
        the text that was posted (the ledger's ``decision_text``)."""
        session = self._session(request)
        if session is None:
            return _page(sign_in_page(next_path=page_url(incident_id)), 401)
        row = self.responder.find(incident_id)
        if row is None:
            missing = message_page("Not found", "No investigation of that incident.", session)
            return _page(missing, 404)
        html = investigation_page(
            self.responder.view(row),
            session,
            message=message,
            draft=draft,
            posted=row.decision_text if row.decision == "approve" else None,
        )
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
        page with the refusal's message and status (an edit shown again in the box).

        Approve posts the brief; a box that no longer holds it is refused (400): the edit would
        be lost, and Save and approve is the button that posts it (up to the note limit)."""
        refused = self._refused(request, deciding=True)
        if refused is not None:
            return refused
        form = request.form
        draft = form.get("text")
        draft = draft.replace("\r\n", "\n") if draft is not None else None
        text, problem = None, None
        if decision == "reject":
            text = form.get("reason", "").strip()[:500] or None
        elif form.get("edited") == "yes":
            text = draft or ""
            problem = _edit_problem(text)
        elif draft is not None and not same_note(
            note_body(draft), note_body(self._brief(incident_id))
        ):
            problem = "You changed the note: use Save and approve to post your edit."
        if problem is not None:
            return self.investigation(
                request, incident_id, message=problem, status=400, draft=draft
            )
        try:
            self.responder.decide(incident_id, decision, text)
        except DecisionError as exc:
            return self.investigation(
                request, incident_id, message=str(exc), status=exc.status, draft=draft
            )
        return redirect(page_url(incident_id), 303)

    def _brief(self, incident_id: str) -> str:
        """The brief an Approve would post ('' when there is none or no such investigation)."""
        row = self.responder.find(incident_id)
        return (self.responder.view(row).get("brief") or "") if row is not None else ""


def _form(request: Request, limit: int) -> MultiDict[str, str] | None:
    """The request's form, read only up to ``limit`` bytes; None when it is larger."""
    request.max_content_length = limit
    try:
        return request.form
    except RequestEntityTooLarge:
        return None


def _client(request: Request) -> str:
    """The connecting address, for refusals in the log (the proxy's, behind one)."""
    return request.remote_addr or "?"
