"""The approval page in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven
by Selenium through /usr/bin/chromedriver) against ``python -m agents.responder`` on the sandbox.

One journey, in order: a wrong token is refused; an approver signs in, reads the pending list,
edits a brief and presses Approve (refused: the edit is shown again), then Save and approve (the
note on the sandbox incident carries the edit, and the page shows it), approves the hostile
brief unchanged, rejects another; forms on other sites (another origin on the same host, and
another site; a decision and a sign-out) are refused; a viewer sees no buttons and its forged
POST gets 403; a hostile title renders as text; the log holds neither token, and says where
refusals came from. Each page is saved as a screenshot
under test-artifacts/browser/ (git-ignored). Skipped, with one line saying so, where Chromium or
chromedriver is not installed (``apt-get install chromium chromium-driver``).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from conftest import FIXED_NOW, leaks
from postgres import free_port
from responder_helpers import (
    ROOT,
    TOKEN,
    notes_of,
    responder_process,
    signed_post,
    status_of,
    triggered,
    wait_for,
)

from pd_toolkit.sandbox import Sandbox
from pd_toolkit.sandbox.hostile import HOSTILE_ID
from pd_toolkit.sandbox.webhooks import webhook_event

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip(
        "browser tests skipped: no /usr/bin/chromium or /usr/bin/chromedriver "
        "(apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402 (only where a browser exists)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.sandbox
VIEWER = "viewer-token-5e0c7b3a91d4f268"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
]
EDIT = "Edited in the browser: the PSP is timing out.\nRolled back payments-api v2.48.12."


@contextmanager
def chromium() -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile, closed afterwards."""
    profile = tempfile.mkdtemp(prefix="pd-toolkit-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@contextmanager
def other_site(html: str) -> Iterator[int]:
    """A page served on another loopback port (another origin); its port."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


class Browser:
    """The driver plus the responder's URL, waiting and screenshots."""

    def __init__(self, driver: WebDriver, url: str) -> None:
        self.driver, self.url = driver, url

    def open(self, path: str) -> None:
        self.driver.get(f"{self.url}{path}")

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))

    def button(self, label: str) -> None:
        xpath = f"//button[starts-with(normalize-space(), '{label}')]"
        self.driver.find_element(By.XPATH, xpath).click()

    def buttons(self) -> list[str]:
        return [b.text for b in self.driver.find_elements(By.TAG_NAME, "button")]

    def shows(self, text: str) -> None:
        WebDriverWait(self.driver, 20).until(lambda d: text in d.page_source, f"page with {text}")

    def sign_in(self, token: str) -> None:
        self.open("/")
        field = self.driver.find_element(By.CSS_SELECTOR, 'input[type="password"][name="token"]')
        field.send_keys(token)
        self.button("Sign in")
        self.shows("Signed in as")

    def status(self) -> str:
        return self.driver.find_element(By.CSS_SELECTOR, ".facts .status").text

    def csrf(self) -> str:
        field = self.driver.find_element(By.CSS_SELECTOR, 'input[name="csrf"]')
        return str(field.get_attribute("value"))

    def session(self) -> dict[str, str]:
        cookie = self.driver.get_cookie("pd_toolkit_session")
        assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        return {"pd_toolkit_session": cookie["value"]}


def ready(sb: Sandbox, url: str, envelope: dict) -> str:
    incident_id = envelope["event"]["data"]["id"]
    assert signed_post(url, envelope).status_code == 202
    wait_for(lambda: status_of(url, incident_id) == "awaiting_approval", what="brief")
    return incident_id


def number_of(sb: Sandbox, incident_id: str) -> int:
    incident = sb.account.find_incident(incident_id)
    assert incident is not None
    return int(incident["incident_number"])


def test_an_approver_and_a_viewer_in_a_real_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PD_TOOLKIT_VIEWER_TOKEN", VIEWER)
    log = tmp_path / "responder.log"
    with (
        Sandbox(now=FIXED_NOW, hostile=True) as sb,
        responder_process(sb, "memory", free_port(), log) as url,
        chromium() as driver,
    ):
        edited, rejected, forged = (ready(sb, url, triggered(sb)) for _ in range(3))
        hostile = sb.account.find_incident(HOSTILE_ID)
        assert hostile is not None
        ready(sb, url, webhook_event("incident.triggered", hostile, sb.now))
        browser = Browser(driver, url)

        # a wrong token, then the approver's; the pending list, newest first
        browser.open("/")
        browser.shot("01-sign-in")
        driver.find_element(By.NAME, "token").send_keys(TOKEN[:-1] + "x")
        browser.button("Sign in")
        browser.shows("That is not the approval or the viewer token")
        browser.sign_in(TOKEN)
        browser.shot("02-list")
        pending = driver.find_element(By.TAG_NAME, "table").text
        numbers = [f"#{number_of(sb, i)}" for i in (forged, rejected, edited)]
        assert [n for n in re.findall(r"#\d+", pending) if n in numbers] == numbers
        assert pending.count("awaiting_approval") == 4

        # open a brief, edit it; Approve would lose the edit: refused, the edit kept
        driver.find_element(By.LINK_TEXT, f"#{number_of(sb, edited)}").click()
        browser.shows("Save and approve")
        assert browser.status() == "awaiting_approval"
        assert driver.find_element(By.CSS_SELECTOR, ".brief h2").text == "Summary"
        evidence = driver.find_element(By.CSS_SELECTOR, f'.brief a[href$="/incidents/{edited}"]')
        assert evidence.text == f"[incident {edited}]"
        browser.shot("03-brief")
        text = driver.find_element(By.NAME, "text")
        text.clear()
        text.send_keys(EDIT)
        browser.button("Approve")
        browser.shows("You changed the note: use Save and approve")
        browser.shot("04-changed-refused")
        assert driver.find_element(By.NAME, "text").get_attribute("value") == EDIT
        assert notes_of(sb, edited) == []
        # save and approve: the note carries the edit, and the page shows what was posted
        browser.button("Save and approve")
        browser.shows('class="status posted"')
        assert browser.status() == "posted" and browser.buttons() == ["Sign out"]
        posted = driver.find_element(By.CSS_SELECTOR, ".brief.posted").text
        assert posted == EDIT.replace("\n", " ")  # one Markdown paragraph
        browser.shot("05-posted")
        (note,) = notes_of(sb, edited)
        assert note["content"].startswith(EDIT + "\n")

        # the hostile brief, approved as it is: the box a browser sends back is the brief
        notes_before = len(notes_of(sb, HOSTILE_ID))  # the sandbox's hostile notes
        browser.open(f"/investigations/{HOSTILE_ID}")
        browser.button("Approve")
        browser.shows('class="status posted"')
        assert len(notes_of(sb, HOSTILE_ID)) == notes_before + 1
        assert "Approved with an edit" not in driver.page_source

        # reject another, with a reason
        browser.open(f"/investigations/{rejected}")
        driver.find_element(By.NAME, "reason").send_keys("a duplicate of the edited one")
        browser.button("Reject")
        browser.shows('class="status rejected"')
        browser.shot("06-rejected")
        assert notes_of(sb, rejected) == []

        # a form on another origin (same host) and on another site: refused, nothing decided
        browser.open(f"/investigations/{forged}")
        stolen = browser.csrf()  # even with the token, the other origin is refused
        attack = (
            f'<form method="post" action="{url}/investigations/{forged}/approve">'
            f'<input type="hidden" name="csrf" value="{stolen}">'
            '<input type="hidden" name="edited" value="no">'
            "<button>Claim your prize</button></form>"
            f'<form method="post" action="{url}/session/end"><button>Sign me out</button></form>'
        )
        with other_site(attack) as port:
            driver.get(f"http://127.0.0.1:{port}/")  # same site, another origin
            browser.button("Claim your prize")
            browser.shows("This form was not sent from this responder")
            browser.shot("07-refused-other-origin")
            driver.get(f"http://localhost:{port}/")  # another site: no cookie is sent
            browser.button("Claim your prize")
            browser.shows("Sign in first")
            browser.shot("08-refused-other-site")
            driver.get(f"http://localhost:{port}/")
            browser.button("Sign me out")  # a cross-site sign-out clears nothing
            browser.shows("This form was not sent from this responder")
        assert status_of(url, forged) == "awaiting_approval" and notes_of(sb, forged) == []
        browser.open("/")
        browser.shows("Signed in as approver")

        # the cookie without the CSRF token: 403
        page = f"{url}/investigations/{forged}"
        no_token = requests.post(
            f"{page}/approve", data={"edited": "no"}, cookies=browser.session(), timeout=30
        )
        assert no_token.status_code == 403

        # sign out; a viewer reads, sees no buttons, and its forged POST gets 403
        browser.open("/")
        browser.button("Sign out")
        browser.shows('name="token"')
        browser.sign_in(VIEWER)
        browser.open(f"/investigations/{forged}")
        browser.shows("Signed in as viewer")
        assert browser.buttons() == ["Sign out"]
        assert driver.find_elements(By.TAG_NAME, "textarea") == []
        browser.shot("09-viewer")
        for decision in ("approve", "reject"):
            answer = requests.post(
                f"{page}/{decision}",
                data={"csrf": browser.csrf(), "edited": "no"},
                cookies=browser.session(),
                timeout=30,
            )
            assert answer.status_code == 403 and "viewer token" in answer.text
        assert status_of(url, forged) == "awaiting_approval"

        # a hostile title is text, and nothing runs
        browser.open(f"/investigations/{HOSTILE_ID}")
        heading = driver.find_element(By.TAG_NAME, "h1").text
        assert "<tool_call>" in heading and "Ignore previous instructions" in heading
        assert driver.find_elements(By.CSS_SELECTOR, "script, tool_call, img, iframe") == []
        hrefs = [a.get_attribute("href") or "" for a in driver.find_elements(By.TAG_NAME, "a")]
        assert all(h.startswith((url, "https://sandbox.pagerduty.com/")) for h in hrefs), hrefs
        browser.shot("10-hostile")

    # neither token in the log; the refusals name where they came from
    logged = log.read_text()
    assert leaks([logged], TOKEN, VIEWER) == []
    assert "page sign-in refused from 127.0.0.1" in logged
    assert "page POST refused from 127.0.0.1: Origin http://127.0.0.1:" in logged
