"""The approval page (agents/responder/page.py, session.py, templates.py) through werkzeug's
test client on a real responder over the sandbox: sign-in, sessions, content negotiation, CSRF,
roles, decisions and their errors, and untrusted text that stays text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape

import pytest
from conftest import FIXED_NOW, leaks
from pydantic import SecretStr
from responder_helpers import (
    SECRET,
    TOKEN,
    bearer,
    notes_of,
    responder_on,
    signed_post,
    status_of,
    wait_for,
)
from werkzeug.test import Client, TestResponse

from agents.responder import RunningResponder
from agents.responder.app import ResponderApp
from agents.responder.notes import NOTE_LIMIT
from agents.responder.page import CSP, cookie_secure
from agents.responder.session import Session, Sessions
from agents.responder.templates import (
    brief_html,
    investigation_page,
    list_page,
    message_page,
    web_base,
)
from pd_toolkit.sandbox import Sandbox
from pd_toolkit.sandbox.hostile import HOSTILE_ID, HOSTILE_NAME
from pd_toolkit.sandbox.webhooks import webhook_event

pytestmark = pytest.mark.sandbox
VIEWER = "viewer-token-5e0c7b3a91d4f268"
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}  # what a browser sends
FORM = {**HTML, "Origin": "http://localhost"}  # a form on the page (the test client's host)
CLIENT = {"REMOTE_ADDR": "192.0.2.7"}  # the connecting address a refusal is logged with
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Served:
    sandbox: Sandbox
    running: RunningResponder

    def app(
        self,
        public_url: str | None = None,
        host: str = "127.0.0.1",
        approval_token: str = TOKEN,
    ) -> ResponderApp:
        """A fresh app over the running responder (as server.py builds it)."""
        return ResponderApp(
            self.running.responder,
            secrets=[SecretStr(SECRET)],
            approval_token=SecretStr(approval_token),
            viewer_token=SecretStr(VIEWER),
            public_url=public_url,
            host=host,
        )

    def incident(self, service: str = "payments-api", mode: str = "psp_timeouts") -> str:
        """A new incident on the sandbox whose brief awaits approval; its id."""
        envelope = webhook_event(
            "incident.triggered", self.sandbox.trigger_incident(service, mode), self.sandbox.now
        )
        return self.deliver(envelope)

    def deliver(self, envelope: dict) -> str:
        incident_id = envelope["event"]["data"]["id"]
        assert signed_post(self.running.url, envelope).status_code == 202
        wait_for(
            lambda: status_of(self.running.url, incident_id) == "awaiting_approval", what="brief"
        )
        return incident_id


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with (
        Sandbox(now=FIXED_NOW, hostile=True) as sb,
        responder_on(sb, viewer_token=VIEWER) as running,
    ):
        yield Served(sb, running)


def signed_in(app: ResponderApp, token: str = TOKEN) -> Client:
    client = Client(app)
    answer = client.post("/session", data={"token": token}, headers=FORM)
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(answer: TestResponse) -> str:
    found = CSRF.search(answer.text)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def buttons(answer: TestResponse) -> list[str]:
    return [unescape(b) for b in re.findall(r"<button[^>]*>([^<]*)</button>", answer.text)]


# -- sessions --------------------------------------------------------------------------------


def test_a_session_cookie_is_signed_expires_and_dies_with_the_token() -> None:
    sessions = Sessions(TOKEN.encode(), VIEWER.encode(), lifetime=60)
    cookie, session = sessions.issue("viewer", now=1000)
    assert session.role == "viewer" and sessions.check(cookie, now=1059) == session
    assert sessions.check(cookie, now=1060) is None  # expired
    assert leaks([cookie], TOKEN, VIEWER) == []
    payload, _, signature = cookie.rpartition(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    forged = payload.replace(".viewer.", ".approver.")
    for wrong in (f"{payload}.{flipped}", f"{forged}.{signature}", payload, "", "v1.approver"):
        assert sessions.check(wrong, now=1000) is None, wrong
    rotated = Sessions(b"another-approval-token-0000", VIEWER.encode(), lifetime=60)
    assert rotated.check(cookie, now=1000) is None  # a new approval token signs everyone out
    assert Sessions(TOKEN.encode(), b"new-viewer-0000000", lifetime=60).check(cookie, 1000) is None
    other_cookie, other = sessions.issue("viewer", now=1000)
    assert other_cookie != cookie and other.csrf != session.csrf
    assert Sessions.csrf_ok(session, session.csrf)
    assert not Sessions.csrf_ok(session, other.csrf) and not Sessions.csrf_ok(session, None)


def test_signing_in_sets_a_strict_cookie_without_the_token(served: Served) -> None:
    client = Client(served.app())
    first = client.get("/", headers=HTML)
    assert first.status_code == 200
    assert re.search(r'<input type="password" name="token"', first.text)
    assert first.headers["Content-Security-Policy"] == CSP
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert first.headers["Referrer-Policy"] == "same-origin"  # own forms send their Origin
    assert first.headers["Cache-Control"] == "no-store"
    assert "<script" not in first.text and "style=" not in first.text

    for wrong in ("", "wrong-token-but-long-enough-0000", TOKEN[:-1], TOKEN + "x"):
        refused = client.post("/session", data={"token": wrong}, headers=FORM)
        assert refused.status_code == 401 and "Set-Cookie" not in refused.headers
        assert 'name="token"' in refused.text and leaks([refused.text], TOKEN) == []

    answer = client.post("/session", data={"token": TOKEN}, headers=FORM)
    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    cookie = answer.headers["Set-Cookie"]
    assert {"HttpOnly", "Path=/", "SameSite=Strict"} <= {p.strip() for p in cookie.split(";")}
    assert cookie.startswith("pd_toolkit_session=")
    assert "Secure" not in cookie  # a loopback host, no https public URL: the local demo
    assert leaks([cookie], TOKEN, VIEWER) == []
    assert "Signed in as approver" in client.get("/", headers=HTML).text

    public = "https://responder.example.com"
    for app, origin in [
        (served.app(public_url=public), public),  # behind a TLS proxy, on loopback
        (served.app(public_url=public), f"{public}:443/"),  # the same origin, spelt out
        (served.app(host="0.0.0.0"), "http://localhost"),  # beyond this machine: always
        (served.app(host="10.1.2.3", public_url="http://r.example.com"), "http://r.example.com"),
    ]:
        answer = Client(app).post(
            "/session", data={"token": VIEWER}, headers={**HTML, "Origin": origin}
        )
        assert answer.status_code == 303, origin
        parts = {p.strip() for p in answer.headers["Set-Cookie"].split(";")}
        assert (
            "Secure" in parts
            and "Path=/" in parts
            and not any(p.startswith("Domain") for p in parts)
        )
        assert answer.headers["Set-Cookie"].startswith("__Host-pd_toolkit_session=")
        secure_client = Client(app)
        secure_client.set_cookie(
            "__Host-pd_toolkit_session", answer.headers["Set-Cookie"].split(";")[0].split("=")[1]
        )
        assert "Signed in as viewer" in secure_client.get("/", headers=HTML).text
        assert secure_client.get("/investigations").content_type.startswith("text/html")

    page = client.get("/", headers=HTML)
    out = client.post("/session/end", data={"csrf": csrf_of(page)}, headers=HTML)
    assert out.status_code == 303 and "Max-Age=0" in out.headers["Set-Cookie"]
    assert 'name="token"' in client.get("/", headers=HTML).text


def test_sign_in_returns_to_the_page_asked_for_and_nowhere_else(served: Served) -> None:
    app = served.app()
    for asked, landed in [
        ("/investigations/Q1ABC", "/investigations/Q1ABC"),
        ("//ev.il/x", "/"),
        ("https://ev.il/", "/"),
        ("/investigations/Q1/../../x", "/"),
    ]:
        answer = Client(app).post("/session", data={"token": TOKEN, "next": asked}, headers=FORM)
        assert answer.headers["Location"] == landed, asked
    signed_out = Client(app).get("/investigations/Q1ABC", headers=HTML)
    assert signed_out.status_code == 401
    assert 'name="next" value="/investigations/Q1ABC"' in signed_out.text


@pytest.mark.parametrize(
    ("headers", "public_url"),
    [
        ({"Sec-Fetch-Site": "cross-site"}, None),
        ({"Sec-Fetch-Site": "same-site"}, None),
        ({}, None),  # neither Origin nor Sec-Fetch-Site: no browser's form
        ({"Origin": "https://ev.il"}, None),
        ({"Origin": "null"}, None),  # a sandboxed frame, or a page without a referrer
        ({"Origin": "https://localhost"}, None),  # another scheme: another origin
        ({"Origin": "http://localhost:8080"}, None),  # another port
        ({"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"}, None),
        ({"Origin": "http://localhost"}, "https://responder.example.com"),  # not the public one
    ],
)
def test_a_sign_in_from_elsewhere_is_refused(
    served: Served,
    headers: dict[str, str],
    public_url: str | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    answer = Client(served.app(public_url=public_url)).post(
        "/session", data={"token": TOKEN}, headers={**HTML, **headers}, environ_overrides=CLIENT
    )
    assert answer.status_code == 403 and "Set-Cookie" not in answer.headers
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refused and all("from 192.0.2.7" in line for line in refused)  # the client
    assert leaks([*refused, answer.text], TOKEN) == []


def test_a_sign_in_from_the_page_is_let_in_and_a_wrong_token_logged_without_it(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    app = served.app()
    for headers in ({"Origin": "http://localhost"}, {"Sec-Fetch-Site": "same-origin"}):
        answer = Client(app).post("/session", data={"token": TOKEN}, headers={**HTML, **headers})
        assert answer.status_code == 303, headers
    wrong = Client(app).post(
        "/session", data={"token": TOKEN[:-1] + "x"}, headers=FORM, environ_overrides=CLIENT
    )
    assert wrong.status_code == 401
    (line,) = [r.getMessage() for r in caplog.records if "sign-in refused" in r.getMessage()]
    assert "from 192.0.2.7" in line and leaks([line], TOKEN) == []


def test_a_sign_in_form_is_read_only_up_to_a_few_kilobytes(served: Served) -> None:
    answer = Client(served.app()).post("/session", data={"token": "a" * 100_000}, headers=FORM)
    assert answer.status_code == 413 and "Set-Cookie" not in answer.headers


def test_sign_out_needs_the_page_and_its_csrf_token(served: Served) -> None:
    app = served.app()
    # a cross-site form: the browser sends no cookie (SameSite=Strict); nothing is cleared
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://ev.il"}, {}):
        answer = Client(app).post("/session/end", headers={**HTML, **headers})
        assert "Set-Cookie" not in answer.headers, headers
        assert answer.status_code == (303 if not headers else 403), headers
    browser = signed_in(app)
    csrf = csrf_of(browser.get("/", headers=HTML))
    for form, headers in [
        ({}, HTML),
        ({"csrf": "forged"}, FORM),
        ({"csrf": csrf}, {**HTML, "Origin": "https://ev.il"}),
        ({"csrf": csrf}, {**HTML, "Sec-Fetch-Site": "same-site"}),
    ]:
        answer = browser.post("/session/end", data=form, headers=headers)
        assert answer.status_code == 403 and "Set-Cookie" not in answer.headers, (form, headers)
        assert "Signed in as approver" in browser.get("/", headers=HTML).text
    out = browser.post("/session/end", data={"csrf": csrf}, headers=FORM)
    assert out.status_code == 303 and "Max-Age=0" in out.headers["Set-Cookie"]
    assert 'name="token"' in browser.get("/", headers=HTML).text


@pytest.mark.parametrize(
    ("host", "public_url", "secure"),
    [
        ("127.0.0.1", None, False),
        ("localhost", "http://localhost:8787", False),
        ("::1", None, False),
        ("127.0.0.1", "https://responder.example.com", True),
        ("0.0.0.0", None, True),
        ("10.1.2.3", "http://responder.example.com", True),
        ("responder.internal", None, True),
    ],
)
def test_the_cookie_is_secure_unless_loopback_without_https(
    host: str, public_url: str | None, secure: bool
) -> None:
    assert cookie_secure(host, public_url) is secure


# -- the JSON API is unchanged ---------------------------------------------------------------


def test_json_and_bearer_requests_are_answered_as_before(served: Served) -> None:
    incident_id = served.incident()
    app = served.app()
    browser, viewer = signed_in(app), signed_in(app, VIEWER)
    for url in ("/investigations", f"/investigations/{incident_id}"):
        page = browser.get(url, headers=HTML)
        assert page.content_type.startswith("text/html")
        assert browser.get(url).content_type.startswith("text/html")  # the cookie, Accept */*
        for headers in ({"Accept": "application/json"}, {}, {"Accept": "*/*"}):
            answer = Client(app).get(url, headers=headers)  # no cookie
            assert (answer.status_code, answer.content_type) == (401, "application/json"), headers
        for cookie_holder in (browser, viewer):  # no session cookie authorizes the API
            explicit = cookie_holder.get(url, headers={"Accept": "application/json"})
            assert explicit.status_code == 401 and explicit.json == {
                "error": "reading investigations needs Authorization: Bearer <token>"
            }
        with_bearer = browser.get(url, headers={**HTML, **bearer()})  # Bearer wins
        assert with_bearer.status_code == 200 and with_bearer.content_type == "application/json"
        for answer in (page, with_bearer, explicit):  # one URL, two faces: caches must tell
            assert answer.headers["Vary"] == "Accept, Cookie, Authorization"
            assert answer.headers["Cache-Control"] == "no-store"
        basic = browser.get(url, headers={**HTML, "Authorization": "Basic eDp5"})
        assert basic.status_code == 401 and basic.content_type == "application/json"
    for cookie_holder in (browser, viewer):
        posted = cookie_holder.post(
            f"/investigations/{incident_id}/approve",
            json={"text": "x"},
            headers={"Accept": "application/json"},
        )
        assert posted.status_code == 401 and posted.content_type == "application/json"
    bearer_post = browser.post(
        f"/investigations/{incident_id}/reject", headers={**HTML, **bearer(VIEWER)}
    )
    assert bearer_post.status_code == 403 and bearer_post.json is not None  # the API's answer
    assert Client(app).post(f"/investigations/{incident_id}/reject").status_code == 401
    assert status_of(served.running.url, incident_id) == "awaiting_approval"
    css = Client(app).get("/page.css")
    assert css.status_code == 200 and css.content_type.startswith("text/css")
    assert css.headers["Cache-Control"] == "public, max-age=3600"
    assert css.headers["X-Content-Type-Options"] == "nosniff"


# -- reading and deciding --------------------------------------------------------------------


def test_a_session_outlives_a_replica_and_dies_with_a_rotated_token(served: Served) -> None:
    browser = signed_in(served.app())
    cookie = browser.get_cookie("pd_toolkit_session")
    assert cookie is not None
    for app, signed in [
        (served.app(), True),  # another replica, the same tokens
        (served.app(approval_token="rotated-approval-token-4b1e9d0c"), False),
    ]:
        replica = Client(app)
        replica.set_cookie("pd_toolkit_session", cookie.value)
        answer = replica.get("/investigations", headers=HTML)
        assert (answer.status_code == 200) is signed
        assert ("Signed in as approver" in answer.text) is signed


def test_the_list_and_a_brief_for_an_approver(served: Served) -> None:
    incident_id = served.incident()
    row = served.running.responder.find(incident_id)
    assert row is not None
    number = row.incident_number
    browser = signed_in(served.app())
    listing = browser.get("/", headers=HTML)
    row = re.search(rf'<a href="/investigations/{incident_id}">#{number}</a>.*?</tr>', listing.text)
    assert row is not None and "awaiting_approval" in row.group(0)
    assert "payments-api" in row.group(0) and "high" in row.group(0)
    pending = listing.text.split("<h2>Recent</h2>")[0]
    assert pending.index(f"#{number}<") < pending.index(f"#{number - 1}<")  # newest first

    page = browser.get(f"/investigations/{incident_id}", headers=HTML)
    assert page.status_code == 200
    assert f"#{number}" in page.text and "PSP Adyen authorization requests timing out" in page.text
    assert "<dd>payments-api</dd>" in page.text and "<dd>high</dd>" in page.text
    assert "<h2>Summary</h2>" in page.text  # the brief, rendered
    link = f'<a href="https://sandbox.pagerduty.com/incidents/{incident_id}"'
    assert link in page.text  # an evidence id links to PagerDuty's web UI
    assert buttons(page)[1:] == ["Approve", "Save and approve", "Reject"]  # after Sign out
    assert '<textarea name="text"' in page.text and 'name="reason"' in page.text


def test_the_pending_list_pages_with_a_cursor(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    older, newer = served.incident(), served.incident()
    monkeypatch.setattr("agents.responder.page.PENDING_PAGE", 1)
    browser = signed_in(served.app())
    first = browser.get("/", headers=HTML).text.split("<h2>Recent</h2>")[0]
    assert f"/investigations/{newer}" in first and f"/investigations/{older}" not in first
    more = re.search(r'<a href="(/\?cursor=[^"]+)">Older ones awaiting approval</a>', first)
    assert more is not None
    second = browser.get(unescape(more.group(1)), headers=HTML).text
    assert f"/investigations/{older}" in second.split("<h2>Recent</h2>")[0]
    wrong = browser.get("/?cursor=not-a-cursor", headers=HTML)
    assert wrong.status_code == 400 and "not a cursor this responder gave" in wrong.text


def test_save_and_approve_posts_the_edit_and_reject_keeps_the_reason(served: Served) -> None:
    as_is_id, edited_id, rejected_id = served.incident(), served.incident(), served.incident()
    browser = signed_in(served.app())
    page = browser.get(f"/investigations/{as_is_id}", headers=HTML)
    row = served.running.responder.find(as_is_id)
    assert row is not None
    brief = served.running.responder.view(row)["brief"]
    # Approve with an edit in the box: refused, the edit shown again, nothing posted
    edit = brief.replace("## Summary", "## Summary\r\nA human's line <b>kept</b>.")
    form = {"csrf": csrf_of(page), "edited": "no", "text": edit}
    refused = browser.post(f"/investigations/{as_is_id}/approve", data=form, headers=HTML)
    assert refused.status_code == 400
    assert "You changed the note: use Save and approve" in unescape(refused.text)
    box = re.search(r"<textarea[^>]*>(.*?)</textarea>", refused.text, re.S)
    assert box is not None and "A human's line <b>kept</b>." in unescape(box.group(1))
    assert notes_of(served.sandbox, as_is_id) == []
    # the box as a browser sends it back (CRLF, trailing spaces, the leading newline the HTML
    # parser drops): the brief, approved as it is
    as_sent = "\r\n".join(line + "  " for line in brief.lstrip("\n").split("\n"))
    form = {"csrf": csrf_of(page), "edited": "no", "text": as_sent}
    answer = browser.post(f"/investigations/{as_is_id}/approve", data=form, headers=HTML)
    assert answer.status_code == 303
    (note,) = notes_of(served.sandbox, as_is_id)
    assert note["content"].startswith(brief.splitlines()[0])
    assert "Approved with an edit" not in browser.get(f"/investigations/{as_is_id}").text

    page = browser.get(f"/investigations/{edited_id}", headers=HTML)
    form = {"csrf": csrf_of(page), "edited": "yes", "text": "Edited by a human.\r\nSecond line."}
    answer = browser.post(f"/investigations/{edited_id}/approve", data=form, headers=HTML)
    assert answer.status_code == 303 and answer.headers["Location"].endswith(edited_id)
    after = browser.get(answer.headers["Location"], headers=HTML)
    assert '<span class="status posted">posted</span>' in after.text
    assert buttons(after) == ["Sign out"]
    (note,) = notes_of(served.sandbox, edited_id)
    assert note["content"].startswith("Edited by a human.\nSecond line.\n")
    # the page shows what was posted, then the brief as the investigation wrote it
    shown = re.search(r'<article class="brief posted">(.*?)</article>', after.text, re.S)
    assert shown is not None and shown.group(1) == "<p>Edited by a human.\nSecond line.</p>\n"
    assert after.text.index("brief posted") < after.text.index("<h2>Summary</h2>")

    form = {"csrf": csrf_of(page), "reason": "  duplicate of #3001  "}
    answer = browser.post(f"/investigations/{rejected_id}/reject", data=form, headers=HTML)
    assert answer.status_code == 303
    after = browser.get(f"/investigations/{rejected_id}", headers=HTML)
    assert '<span class="status rejected">rejected</span>' in after.text
    assert "<dt>Reason</dt><dd>duplicate of #3001</dd>" in after.text  # trimmed, kept
    assert notes_of(served.sandbox, rejected_id) == []

    recent = browser.get("/", headers=HTML).text.split("<h2>Recent</h2>")[1]
    order = [recent.index(f"/investigations/{i}") for i in (rejected_id, edited_id, as_is_id)]
    assert order == sorted(order)  # the latest change first

    # a lost race: the page says who won, and changes nothing
    lost = browser.post(
        f"/investigations/{rejected_id}/approve",
        data={"csrf": csrf_of(page), "edited": "no"},
        headers=HTML,
    )
    assert lost.status_code == 409 and 'class="message error"' in lost.text
    assert "not awaiting approval" in lost.text and "(reject) won" in unescape(lost.text)

    empty = served.incident()
    refused = browser.post(
        f"/investigations/{empty}/approve",
        data={"csrf": csrf_of(page), "edited": "yes", "text": " \r\n "},
        headers=HTML,
    )
    assert refused.status_code == 400 and "empty" in refused.text
    assert status_of(served.running.url, empty) == "awaiting_approval"


def test_forged_posts_and_viewers_are_refused(served: Served) -> None:
    incident_id = served.incident()
    app = served.app()
    approver, viewer = signed_in(app), signed_in(app, VIEWER)
    viewer_page = viewer.get(f"/investigations/{incident_id}", headers=HTML)
    assert "Signed in as viewer" in viewer_page.text and "<h2>Summary</h2>" in viewer_page.text
    assert buttons(viewer_page) == ["Sign out"] and "<textarea" not in viewer_page.text
    other_csrf = csrf_of(signed_in(app).get("/", headers=HTML))  # another approver session's
    approver_csrf = csrf_of(approver.get("/", headers=HTML))
    url = f"/investigations/{incident_id}"
    attempts = [
        (approver, {"edited": "no"}, HTML),  # no CSRF token
        (approver, {"edited": "no", "csrf": ""}, HTML),
        (approver, {"edited": "no", "csrf": other_csrf}, HTML),
        (
            approver,
            {"edited": "no", "csrf": approver_csrf},
            {**HTML, "Sec-Fetch-Site": "same-site"},
        ),
        (viewer, {"edited": "no", "csrf": csrf_of(viewer_page)}, HTML),  # a viewer
    ]
    for client, form, headers in attempts:
        for decision in ("approve", "reject"):
            answer = client.post(f"{url}/{decision}", data=form, headers=headers)
            assert answer.status_code == 403, (form, headers)
    unsigned = Client(app).post(f"{url}/approve", data={"edited": "no"}, headers=HTML)
    assert unsigned.status_code == 401  # no session: the sign-in page
    assert status_of(served.running.url, incident_id) == "awaiting_approval"
    assert notes_of(served.sandbox, incident_id) == []


def test_an_edit_longer_than_a_note_is_refused_and_shown_again(served: Served) -> None:
    incident_id = served.incident()
    browser = signed_in(served.app())
    csrf = csrf_of(browser.get(f"/investigations/{incident_id}", headers=HTML))
    # 4-byte characters: the largest form a note-long edit makes (12 bytes each, encoded)
    for edit in ("a" * (NOTE_LIMIT + 1), "\U0001f6a8" * (NOTE_LIMIT + 1)):
        answer = browser.post(
            f"/investigations/{incident_id}/approve",
            data={"csrf": csrf, "edited": "yes", "text": edit},
            headers=HTML,
        )
        assert answer.status_code == 400, answer.status_code
        assert f"{NOTE_LIMIT + 1:,} characters" in answer.text
        assert f"at most {NOTE_LIMIT:,}" in answer.text
        box = re.search(r"<textarea[^>]*>(.*?)</textarea>", answer.text, re.S)
        assert box is not None and unescape(box.group(1)) == edit
    assert status_of(served.running.url, incident_id) == "awaiting_approval"
    assert notes_of(served.sandbox, incident_id) == []


def test_facts_and_the_box_on_the_page_are_clean() -> None:
    hostile = "\u202egnp.exe\u2066 @here\x1b[31m"
    view = {
        "incident_id": "Q1ABC",
        "incident_number": 7,
        "title": "t",
        "status": "awaiting_approval",
        "error": hostile,
        "decision": hostile,
        "note_id": hostile,
        "retry_at": hostile,
        "brief": f"The brief {hostile}",  # in the box too: the note's text, made inert
        "incident": {"urgency": hostile, "service": hostile, "html_url": None},
    }
    session = Session("approver", 0, "csrf")
    for html in (
        investigation_page(view, session, message=hostile),
        list_page([view], [view], session, message=hostile),
        message_page("Refused", hostile, session),
    ):
        assert not set(html) & {"\u202e", "\u2066", "\x1b"}
        assert "@here" not in html


def test_a_note_the_key_may_not_post_is_a_readable_502(fresh_sandbox: Sandbox) -> None:
    with responder_on(fresh_sandbox, key=fresh_sandbox.api_key) as running:  # read-only key
        envelope = webhook_event(
            "incident.triggered",
            fresh_sandbox.trigger_incident("payments-api", "psp_timeouts"),
            fresh_sandbox.now,
        )
        incident_id = Served(fresh_sandbox, running).deliver(envelope)
        app = ResponderApp(
            running.responder, secrets=[SecretStr(SECRET)], approval_token=SecretStr(TOKEN)
        )
        browser = signed_in(app)
        page = browser.get(f"/investigations/{incident_id}", headers=HTML)
        answer = browser.post(
            f"/investigations/{incident_id}/approve",
            data={"csrf": csrf_of(page), "edited": "no"},
            headers=HTML,
        )
        assert answer.status_code == 502
        assert re.search(r'class="message error" role="alert">[^<]*cannot post notes', answer.text)
        assert "awaiting_approval" in answer.text and "Approve" in buttons(answer)
        edited = browser.post(
            f"/investigations/{incident_id}/approve",
            data={"csrf": csrf_of(page), "edited": "yes", "text": "My careful edit."},
            headers=HTML,
        )
        assert edited.status_code == 502  # the edit is not lost: it is in the box again
        assert re.search(r"<textarea[^>]*>My careful edit\.</textarea>", edited.text)


# -- untrusted text --------------------------------------------------------------------------


def test_a_hostile_incident_and_names_render_as_text(served: Served) -> None:
    account = served.sandbox.account
    hostile = account.find_incident(HOSTILE_ID)
    assert hostile is not None
    served.sandbox.rename({hostile["service"]["id"]: HOSTILE_NAME})
    incident_id = served.deliver(webhook_event("incident.triggered", hostile, served.sandbox.now))
    browser = signed_in(served.app())
    for page in (
        browser.get(f"/investigations/{incident_id}", headers=HTML),
        browser.get("/", headers=HTML),
    ):
        assert page.status_code == 200
        assert "CEO. &lt;tool_" in page.text  # the title, shown as text
        assert "<tool_call" not in page.text and "<script" not in page.text
        hrefs = re.findall(r'href="([^"]*)"', page.text)
        assert all(h.startswith(("/", "#", "https://sandbox.pagerduty.com/")) for h in hrefs)
        assert "\u2066" not in page.text  # invisible characters removed, in the box too
    assert "Approved by CTO" in page.text  # the service's name, as text


@pytest.mark.parametrize(
    ("html_url", "base"),
    [
        ("https://acme.pagerduty.com/incidents/Q1", "https://acme.pagerduty.com"),
        ("https://acme.eu.pagerduty.com/incidents/Q1", "https://acme.eu.pagerduty.com"),
        ("http://acme.pagerduty.com/incidents/Q1", None),
        ("https://acme.pagerduty.com.ev.il/incidents/Q1", None),
        ("https://ev.il/acme.pagerduty.com", None),
        ("https://user@acme.pagerduty.com/incidents/Q1", None),
        ("https://acme.pagerduty.com:8443/incidents/Q1", None),
        ("javascript:alert(1)//.pagerduty.com", None),
        (None, None),
    ],
)
def test_evidence_links_go_only_to_an_account_on_pagerduty(
    html_url: str | None, base: str | None
) -> None:
    assert web_base(html_url) == base


def test_a_brief_keeps_no_markup_of_its_own() -> None:
    brief = (
        '# Incident #7 `"[incident QFAKE] <b>x</b>"` [incident Q1ABC]\n\n'
        "- <script>alert(1)</script> <img src=x onerror=alert(1)> [alert A1] [log L1] [note N1]\n"
        "- [click](javascript:alert(1)) ![i](https://ev.il/i.png) <https://ev.il/a> www.ev.il\n"
        "- [ref]\n\n[ref]: https://ev.il/r\n\n"
        "<div onclick=x>block html</div>\n\n"
        "-- posted by pd_toolkit responder after human approval [forged]\n"
    )
    html = str(brief_html(brief, "Q1ABC", "https://acme.pagerduty.com/incidents/Q1ABC"))
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs == [
        "https://acme.pagerduty.com/incidents/Q1ABC",
        "https://acme.pagerduty.com/alerts/A1",
        "https://acme.pagerduty.com/incidents/Q1ABC/log_entries/L1",
    ]
    assert "[note N1]" in html and "QFAKE" in html  # no page for notes; a quoted id stays text
    tags = set(re.findall(r"<([a-z0-9]+)", html))
    assert tags <= {"h1", "code", "a", "ul", "li", "p"}, tags
    assert "posted by pd_toolkit responder" not in html  # a forged marker, as in the note
    assert 'href="' not in str(brief_html(brief, "Q1ABC", "http://ev.il/incidents/Q1ABC"))
