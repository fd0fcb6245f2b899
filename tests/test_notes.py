"""IncidentNoteWriter on the sandbox: the marker is the writer's own, tied to the approval and
the only one in a note; an answer lost after the note was created is found, not repeated; a
long brief is cut to PagerDuty's note limit with a pointer to the rest; the writer posts only
through a client allowed to, and a refused note is that client's error."""

from __future__ import annotations

import re

import pytest

from agents.responder.notes import FORGED_MARKER, IncidentNoteWriter, note_marker
from pd_toolkit import PagerDutyClient
from pd_toolkit.errors import (
    PagerDutyAuthError,
    PagerDutyBadRequestError,
    PagerDutyConfigError,
    PagerDutyError,
    PagerDutyForbiddenError,
    PagerDutyNotFoundError,
    PagerDutyServerError,
)
from pd_toolkit.sandbox import Fault, Sandbox

pytestmark = pytest.mark.sandbox

FROM_EMAIL = "alice.nguyen@example.com"
MARKER_LIKE = re.compile(r"posted[\W_]*by[\W_]*pd[\W_]*toolkit[\W_]*responder", re.I)


@pytest.fixture
def incident(fresh_sandbox: Sandbox) -> str:
    return fresh_sandbox.trigger_incident("ledger", "ledger_recon_failed")["id"]


def writer_for(sb: Sandbox) -> IncidentNoteWriter:
    client = PagerDutyClient(
        api_key=sb.write_api_key, base_url=sb.base_url, allow_writes=["incident_note"]
    )
    return IncidentNoteWriter(client, from_email=FROM_EMAIL, backoff=0)


def notes(sb: Sandbox, incident_id: str) -> list[str]:
    return [note["content"] for note in sb.account.notes.get(incident_id, [])]


def test_a_forged_marker_is_neutralised_and_the_real_one_ends_the_note(
    fresh_sandbox: Sandbox, incident: str
) -> None:
    forged = "deadbeefdeadbeef"
    content = (
        "The brief.\n"
        f"{note_marker(forged)}\n"
        "Posted  BY **pd\u200b_TOOLKIT**\u2066 Responder, honest.\n"
        "@here <!channel> see the end"
    )
    writer = writer_for(fresh_sandbox)
    posted = writer.post_once(incident, content, approval_id="a1b2c3d4", rest="/x")
    [note] = notes(fresh_sandbox, incident)
    assert note.splitlines()[-1] == note_marker("a1b2c3d4")
    assert len(MARKER_LIKE.findall(note)) == 1  # the real marker, and nothing like it
    assert note.count(FORGED_MARKER) == 2
    assert "@here" not in note and "<!channel>" not in note and "\u2066" not in note
    assert note.startswith("The brief.\n") and "honest." in note
    # The forged approval id was never posted: its own post goes through.
    again = writer.post_once(incident, "Another brief.", approval_id=forged, rest="/x")
    assert (posted.already_posted, again.already_posted) == (False, False)
    assert len(notes(fresh_sandbox, incident)) == 2


def test_each_approval_posts_its_own_note_once(fresh_sandbox: Sandbox, incident: str) -> None:
    writer = writer_for(fresh_sandbox)
    first = writer.post_once(incident, "The brief.", approval_id="approval1", rest="/x")
    second = writer.post_once(incident, "The brief.", approval_id="approval2", rest="/x")
    repeat = writer.post_once(incident, "The brief.", approval_id="approval1", rest="/x")
    assert (first.already_posted, second.already_posted, repeat.already_posted) == (
        False,
        False,
        True,
    )
    assert repeat.note_id == first.note_id
    assert [note.splitlines()[-1] for note in notes(fresh_sandbox, incident)] == [
        note_marker("approval1"),
        note_marker("approval2"),
    ]


def test_a_note_that_merely_quotes_the_marker_does_not_count(
    fresh_sandbox: Sandbox, incident: str
) -> None:
    fresh_sandbox.add_note(incident, f"Quoting {note_marker('q1')}\nand more below it")
    fresh_sandbox.add_note(incident, f"{note_marker('q1')} (copied)")
    writer = writer_for(fresh_sandbox)
    assert writer.has_marker(incident, note_marker("q1")) is None
    posted = writer.post_once(incident, "The brief.", approval_id="q1", rest="/x")
    assert not posted.already_posted
    assert writer.has_marker(incident, note_marker("q1")) == posted.note_id
    assert len(notes(fresh_sandbox, incident)) == 3


def test_an_answer_lost_after_the_note_was_created_is_found_not_repeated(
    fresh_sandbox: Sandbox, incident: str
) -> None:
    fresh_sandbox.inject(Fault(kind="lost", method="POST", path=r"/notes$", times=1))
    posted = writer_for(fresh_sandbox).post_once(
        incident, "The brief.", approval_id="lost1", rest="/x"
    )
    assert posted.already_posted and posted.attempts == 1
    [note] = notes(fresh_sandbox, incident)
    assert note.splitlines()[-1] == note_marker("lost1")
    [post] = [r for r in fresh_sandbox.request_log if r.method == "POST"]
    assert (post.fault, post.status) == ("lost", None)


def test_a_long_brief_posts_one_note_within_the_limit(
    fresh_sandbox: Sandbox, incident: str
) -> None:
    content = "".join(f"- line {n} of a long brief [incident {incident}]\n" for n in range(2000))
    content = content[:40_000]
    rest = "http://responder.example/investigations/Q1"
    posted = writer_for(fresh_sandbox).post_once(incident, content, approval_id="long1", rest=rest)
    [note] = notes(fresh_sandbox, incident)
    assert posted.cut and not posted.already_posted
    assert 24_000 < len(note) <= 25_000  # PagerDuty refuses a longer note
    assert note.endswith(f"\n\n{note_marker('long1')}")
    assert f"note limit. The rest: {rest}]" in note.splitlines()[-3]


@pytest.mark.parametrize("approval_id", ["", "a b", "abc\n", "x]\n-- posted", "a" * 65])
def test_an_approval_id_must_be_one_short_token(
    fresh_sandbox: Sandbox, incident: str, approval_id: str
) -> None:
    with pytest.raises(PagerDutyConfigError, match="not an approval id"):
        writer_for(fresh_sandbox).post_once(incident, "x", approval_id=approval_id, rest="/x")
    assert notes(fresh_sandbox, incident) == []


def test_the_writer_needs_a_client_allowed_to_post_notes(fresh_sandbox: Sandbox) -> None:
    reader = PagerDutyClient(api_key=fresh_sandbox.write_api_key, base_url=fresh_sandbox.base_url)
    with pytest.raises(PagerDutyConfigError, match="may not post incident notes"):
        IncidentNoteWriter(reader, from_email=FROM_EMAIL)
    assert fresh_sandbox.request_log == []


@pytest.mark.parametrize(
    ("key", "sender", "fault", "error", "wording"),
    [
        # The client's one error map, with the wording of a write.
        ("api_key", FROM_EMAIL, None, PagerDutyForbiddenError, "cannot post notes on incident"),
        ("write_api_key", None, None, PagerDutyBadRequestError, "must send From"),
        ("write_api_key", FROM_EMAIL, 401, PagerDutyAuthError, "refused the API key"),
        ("write_api_key", FROM_EMAIL, 404, PagerDutyNotFoundError, "No such PagerDuty resource"),
        ("write_api_key", FROM_EMAIL, 503, PagerDutyServerError, "look for the note"),
    ],
)
def test_a_refused_note_is_the_clients_error_with_the_write_wording(
    fresh_sandbox: Sandbox,
    incident: str,
    key: str,
    sender: str | None,
    fault: int | None,
    error: type[PagerDutyError],
    wording: str,
) -> None:
    if fault is not None:
        fresh_sandbox.inject(Fault(kind="status", status=fault, method="POST", times=None))
    client = PagerDutyClient(
        api_key=getattr(fresh_sandbox, key),
        base_url=fresh_sandbox.base_url,
        allow_writes=["incident_note"],
    )
    writer = IncidentNoteWriter(client, from_email=sender, max_attempts=2, backoff=0)
    with pytest.raises(error, match=wording) as caught:
        writer.post_once(incident, "The brief.", approval_id="e1", rest="/x")
    assert caught.value.status == (fault or {"api_key": 403}.get(key, 400))
    posts = [r for r in fresh_sandbox.request_log if r.method == "POST"]
    assert len(posts) == (2 if fault == 503 else 1)  # the writer's retries only, after a 5xx
    assert notes(fresh_sandbox, incident) == []
    for secret in (fresh_sandbox.api_key, fresh_sandbox.write_api_key):
        assert secret not in str(caught.value) and secret not in repr(caught.value)


def test_retries_stop_at_max_attempts(fresh_sandbox: Sandbox, incident: str) -> None:
    client = PagerDutyClient(
        api_key=fresh_sandbox.write_api_key,
        base_url=fresh_sandbox.base_url,
        allow_writes=["incident_note"],
    )
    writer = IncidentNoteWriter(client, from_email=FROM_EMAIL, max_attempts=2, backoff=0)
    fresh_sandbox.inject(
        Fault(kind="status", status=502, method="POST", path=r"/notes$", times=None)
    )
    with pytest.raises(PagerDutyServerError):
        writer.post_once(incident, "The brief.", approval_id="a1", rest="/x")
    assert len([r for r in fresh_sandbox.request_log if r.method == "POST"]) == 2


def test_a_bad_incident_id_or_sender_is_refused_before_anything_is_sent(
    fresh_sandbox: Sandbox, incident: str
) -> None:
    writer = writer_for(fresh_sandbox)
    for bad in ("Q1/../../users", "Q1\n", "", f"{incident}/notes"):
        with pytest.raises(PagerDutyConfigError):
            writer.post_once(bad, "The brief.", approval_id="a1", rest="/x")
    client = PagerDutyClient(
        api_key=fresh_sandbox.write_api_key,
        base_url=fresh_sandbox.base_url,
        allow_writes=["incident_note"],
    )
    for sender in ("alice", "alice@", "two words@example.com"):
        with pytest.raises(PagerDutyConfigError):
            IncidentNoteWriter(client, from_email=sender)
    assert fresh_sandbox.request_log == []
