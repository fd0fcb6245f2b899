"""IncidentNoteWriter: the project's only write, one incident note, posted exactly once.

The library stays read-only: a :class:`~pd_toolkit.client.PagerDutyClient` sends GET only,
unless built to allow an entry of its write allow-list, and the only entry is this note
(``allow_writes=("incident_note",)``: ``POST /incidents/{id}/notes``). Only the responder builds
such a client (:func:`~agents.responder.server.running_responder`, with ``--allow-notes``).
The writer posts ``{"note": {"content": ...}}`` with the ``From`` header that account-level
keys need through that client's :meth:`~pd_toolkit.client.PagerDutyClient.post`: its session,
authorizer, rate budget, timeout and error map. The client repeats a post only after a 429
(PagerDuty did nothing); the writer decides any other retry, keeping a post idempotent: every
note ends with a marker line tied to its approval (:func:`note_marker`), and before a post (and
before a retry after a 5xx or a lost answer) the writer looks for a note whose last line is
that marker, so a note is posted once even when an answer was lost.

The writer owns the marker: the content is made inert first (invisible characters stripped,
mentions neutralised: :func:`~pd_toolkit.phrases.inert_text`) and any text resembling the
marker is neutralised, so that the only marker in a note is its real last line: neither
PagerDuty text quoted in a brief nor a steered model can forge one.
"""

from __future__ import annotations

import logging
import re
import time

from pydantic import BaseModel

from pd_toolkit.client import PagerDutyClient
from pd_toolkit.errors import (
    PagerDutyConfigError,
    PagerDutyConnectionError,
    PagerDutyServerError,
)
from pd_toolkit.phrases import inert_text

logger = logging.getLogger(__name__)

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
    attempts: int  # posts started (the client may repeat one after a 429: PagerDuty did nothing)


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

    ``client``: a client allowed to write notes (``allow_writes=("incident_note",)``, or
    ``client.with_writes("incident_note")``); any other is a PagerDutyConfigError. ``from_email``:
    the email of a PagerDuty user, sent as ``From`` (account-level keys must send it; user keys
    may). ``max_attempts`` bounds the posts per note that the writer starts.
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
        if "incident_note" not in client.allowed_writes:
            raise PagerDutyConfigError(
                "This client may not post incident notes",
                hint='Build it with allow_writes=("incident_note",), or derive one with '
                'client.with_writes("incident_note").',
            )
        self.client = client
        self.from_email = from_email.strip() if from_email else None
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff

    def __repr__(self) -> str:
        return f"IncidentNoteWriter(base_url={self.client.base_url!r}, from={self.from_email!r})"

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

        Raises the client's errors: PagerDutyForbiddenError (a read-only key: 403),
        PagerDutyBadRequestError (400, e.g. no ``From`` for an account key),
        PagerDutyAuthError, PagerDutyNotFoundError, PagerDutyRateLimitError, and
        PagerDutyServerError / PagerDutyConnectionError when ``max_attempts`` ran out.
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
                answer = self.client.post(
                    f"/incidents/{incident_id}/notes",
                    {"note": {"content": text}},
                    headers={"From": self.from_email} if self.from_email else None,
                )
                note = answer.get("note") or {}
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
