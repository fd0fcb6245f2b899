"""IncidentNoteWriter: the toolkit's only write, one incident note, posted exactly once.

:class:`~pd_toolkit.client.PagerDutyClient` stays GET-only (its post/put/patch/delete raise
PagerDutyReadOnlyError). This separate writer can do one thing: ``POST /incidents/{id}/notes``
with ``{"note": {"content": ...}}`` and the ``From`` header that account-level keys need. It
borrows the client's authorizer (never the key itself), base URL and rate budget, and reads
the incident's notes through the client to keep a post idempotent: every note ends with a
marker line tied to its approval (:func:`note_marker`), and before a post (and before a retry
after a 5xx, 429 or lost connection) the writer looks for a note whose last line is that
marker, so a note is posted once even when an answer was lost.

The writer owns the marker: the content is made inert first (invisible characters stripped,
mentions neutralised: :func:`~pd_toolkit.phrases.inert_text`) and any text resembling the
marker is neutralised, so that the only marker in a note is its real last line: neither
PagerDuty text quoted in a brief nor a steered model can forge one.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import requests
from pydantic import BaseModel

from pd_toolkit.client import PagerDutyClient, error_body
from pd_toolkit.errors import (
    PagerDutyAuthError,
    PagerDutyBadRequestError,
    PagerDutyConfigError,
    PagerDutyConnectionError,
    PagerDutyError,
    PagerDutyForbiddenError,
    PagerDutyNotFoundError,
    PagerDutyServerError,
)
from pd_toolkit.phrases import inert_text

logger = logging.getLogger("pd_toolkit.notes")

# PagerDuty refuses a note longer than 25,000 characters ("Content is too long"); the web app
# applies the same cap. An incident holds at most 2,000 notes (OpenAPI: createIncidentNote).
NOTE_LIMIT = 25_000
_INCIDENT_ID = re.compile(r"[A-Za-z0-9]+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_APPROVAL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# The marker's telling words, however spaced, cased, punctuated or emphasised.
_MARKER_LIKE = re.compile(r"posted[\W_]*by[\W_]*pd[\W_]*toolkit[\W_]*responder", re.IGNORECASE)
FORGED_MARKER = "[text resembling the responder's marker removed]"


class PostedNote(BaseModel):
    """The outcome of :meth:`IncidentNoteWriter.post_once`."""

    incident_id: str
    note_id: str | None
    already_posted: bool  # the marker was found: nothing was sent this time
    cut: bool  # the content was cut to NOTE_LIMIT
    attempts: int  # POSTs sent


def note_marker(approval_id: str) -> str:
    """The last line of a note posted after approval ``approval_id`` (random per decision): it
    makes the post idempotent and ties the note to its approval."""
    return f"-- posted by pd_toolkit responder after human approval [{approval_id}]"


def note_body(content: str) -> str:
    """What a note carries before its marker: ``content`` made inert (invisible characters
    stripped, mentions neutralised) and anything resembling a marker replaced by
    :data:`FORGED_MARKER`, so that the only marker in a note is its real last line."""
    return _MARKER_LIKE.sub(FORGED_MARKER, inert_text(content))


def _last_line(text: str) -> str:
    """The last non-blank line of ``text``, stripped ('' for none)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def fit_note(content: str, footer: str, rest: str, limit: int = NOTE_LIMIT) -> tuple[str, bool]:
    """``content`` + ``footer`` within ``limit`` characters; when cut, a line saying so and
    where the rest is (``rest``) goes before the footer. (text, was it cut)."""
    whole = f"{content}\n\n{footer}"
    if len(whole) <= limit:
        return whole, False
    pointer = f"\n\n[Cut at PagerDuty's {limit:,}-character note limit. The rest: {rest}]"
    room = limit - len(pointer) - len(footer) - 2
    if room <= 0:
        raise ValueError("the footer and pointer alone exceed the note limit")
    return f"{content[:room].rstrip()}{pointer}\n\n{footer}", True


class IncidentNoteWriter:
    """Posts incident notes, and nothing else (see the module docstring).

    ``from_email``: the email of a PagerDuty user, sent as ``From`` (account-level keys must
    send it; user keys may). ``max_attempts`` bounds POSTs per note.
    """

    def __init__(
        self,
        client: PagerDutyClient,
        *,
        from_email: str | None,
        max_attempts: int = 3,
        backoff: float = 0.5,
    ) -> None:
        if from_email is not None and not _EMAIL.match(from_email.strip()):
            raise PagerDutyConfigError(
                f"{from_email!r} is not an email address",
                hint="Give the email of a PagerDuty user (--from-email or PAGERDUTY_FROM_EMAIL).",
            )
        self.client = client
        self.from_email = from_email.strip() if from_email else None
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self._session = requests.Session()
        self._session.headers.update(
            {k: v for k, v in client.session.headers.items() if k != "Authorization"}
        )
        self._session.auth = client.session.auth  # the client's authorizer, never the key

    def __repr__(self) -> str:
        return f"IncidentNoteWriter(base_url={self.client.base_url!r}, from={self.from_email!r})"

    def close(self) -> None:
        self._session.close()

    def has_marker(self, incident_id: str, marker: str) -> str | None:
        """The id of the incident's note whose last line is ``marker`` (one GET), or None. A
        note that merely quotes the marker elsewhere does not count."""
        notes = self.client.get(f"/incidents/{incident_id}/notes").get("notes") or []
        for note in notes:
            if _last_line(str(note.get("content") or "")) == marker:
                return str(note.get("id") or "") or None
        return None

    def post_once(
        self, incident_id: str, content: str, *, approval_id: str, rest: str
    ) -> PostedNote:
        """Post ``content`` (made inert, marker look-alikes neutralised, cut to the note limit
        with ``rest`` saying where the whole text is) followed by ``note_marker(approval_id)``
        as the last line, unless a note ending with that marker exists.

        Raises PagerDutyForbiddenError (a read-only key: 403), PagerDutyBadRequestError (400,
        e.g. no ``From`` for an account key), PagerDutyAuthError, PagerDutyNotFoundError,
        PagerDutyServerError / PagerDutyConnectionError when retries ran out.
        """
        if not _INCIDENT_ID.fullmatch(incident_id):
            raise PagerDutyConfigError(f"{incident_id!r} is not an incident id")
        if not _APPROVAL_ID.fullmatch(approval_id):
            raise PagerDutyConfigError(
                f"{approval_id!r} is not an approval id (1-64 letters, digits, _ or -)"
            )
        marker = note_marker(approval_id)
        text, cut = fit_note(note_body(content), marker, rest)
        existing = self.has_marker(incident_id, marker)
        if existing is not None:
            return PostedNote(
                incident_id=incident_id, note_id=existing, already_posted=True, cut=cut, attempts=0
            )
        attempts = 0
        while True:
            attempts += 1
            try:
                note = self._post(incident_id, text)
                return PostedNote(
                    incident_id=incident_id,
                    note_id=str(note.get("id") or "") or None,
                    already_posted=False,
                    cut=cut,
                    attempts=attempts,
                )
            except (PagerDutyServerError, PagerDutyConnectionError) as exc:
                if attempts >= self.max_attempts:
                    raise
                logger.warning("note on %s: %s; checking before a retry", incident_id, exc.message)
                time.sleep(self.backoff * attempts)
                existing = self.has_marker(incident_id, marker)
                if existing is not None:  # the lost answer had posted it
                    return PostedNote(
                        incident_id=incident_id,
                        note_id=existing,
                        already_posted=True,
                        cut=cut,
                        attempts=attempts,
                    )

    def _post(self, incident_id: str, text: str) -> dict[str, Any]:
        """One POST; the created note, or a PagerDutyError saying what to do."""
        if self.client.rate_budget:
            self.client.rate_budget.acquire()
        path = f"/incidents/{incident_id}/notes"
        headers = {"From": self.from_email} if self.from_email else {}
        try:
            response = self._session.post(
                self.client.base_url + path,
                json={"note": {"content": text}},
                headers=headers,
                timeout=self.client.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise PagerDutyConnectionError(
                f"Could not reach PagerDuty to post a note on {incident_id} ({type(exc).__name__})"
            ) from exc
        logger.info("POST %s -> %s", path, response.status_code)
        if response.status_code < 400:
            try:
                return (response.json() or {}).get("note") or {}
            except ValueError:
                return {}
        self._raise_for(response, incident_id)

    def _raise_for(self, response: requests.Response, incident_id: str) -> Any:
        status = response.status_code
        _, code, errors = error_body(response)
        details = {"status": status, "code": code, "errors": errors}
        if status == 403:
            raise PagerDutyForbiddenError(
                f"The API key cannot post notes on incident {incident_id} (HTTP 403): it is "
                "read-only or lacks write access",
                hint="The brief stays available; to post it, run the responder with a key "
                "allowed to write incident notes (a full-access REST key, or OAuth with "
                "incidents.write).",
                **details,
            )
        if status == 401:
            raise PagerDutyAuthError("PagerDuty refused the API key (HTTP 401)", **details)
        if status == 404:
            raise PagerDutyNotFoundError(f"No such incident: {incident_id}", **details)
        if status == 400:
            raise PagerDutyBadRequestError(
                f"PagerDuty refused the note on {incident_id} (HTTP 400)",
                hint="An account-level key must send From: give --from-email (or "
                "PAGERDUTY_FROM_EMAIL) the email of a PagerDuty user; an incident holds at "
                "most 2,000 notes.",
                **details,
            )
        if status == 429 or status >= 500:
            raise PagerDutyServerError(
                f"PagerDuty answered the note on {incident_id} with HTTP {status}", **details
            )
        raise PagerDutyError(
            f"PagerDuty answered the note on {incident_id} with HTTP {status}", **details
        )
