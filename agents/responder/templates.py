"""The approval page's HTML: sign-in, the list of investigations, one investigation.

Everything from PagerDuty or a model is escaped (markupsafe). The brief is rendered from
Markdown after the defusing its note gets (:func:`~agents.responder.notes.note_body`) and the
model text gets (:func:`~agents.synthesis.inert_markdown`): markdown-it with raw HTML, links,
images and autolinks off, then nh3 with a small allow-list. The only links in a brief are its
evidence ids (``[incident Q1ABC]``, ``[alert ...]``, ``[log ...]``, users, services, teams,
schedules, policies), pointing to PagerDuty's web UI of the account: the scheme and host of the
incident's ``html_url``, used only when it is ``https://<account>.pagerduty.com``. Notes and
change events have no page there and stay text. No script anywhere: the pages work with
JavaScript off.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markupsafe import Markup

from agents.brief import EVIDENCE
from agents.responder.notes import note_body
from agents.responder.session import Session
from agents.synthesis import inert_markdown
from pd_toolkit.phrases import clean_name, fmt_duration, fmt_time

STYLESHEET = "/page.css"
_ACCOUNT_HOST = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*\.pagerduty\.com")
# Where each kind of evidence id lives in PagerDuty's web UI ({incident}: the one shown).
WEB_PATHS = {
    "incident": "/incidents/{id}",
    "alert": "/alerts/{id}",
    "log": "/incidents/{incident}/log_entries/{id}",
    "service": "/service-directory/{id}",
    "policy": "/escalation_policies/{id}",
    "schedule": "/schedules/{id}",
    "user": "/users/{id}",
    "team": "/teams/{id}",
}
_BRIEF_TAGS = {"p", "ul", "ol", "li", "code", "pre", "strong", "em", "a", "blockquote", "hr", "br"}
_BRIEF_TAGS |= {f"h{level}" for level in range(1, 7)}


def web_base(html_url: str | None) -> str | None:
    """``https://<account>.pagerduty.com`` from an incident's ``html_url``; None for any other
    URL (no evidence links then)."""
    parts = urlsplit(html_url or "")
    host = parts.hostname or ""
    if parts.scheme != "https" or parts.port or parts.username or not _ACCOUNT_HOST.fullmatch(host):
        return None
    return f"https://{host}"


def brief_html(brief: str, incident_id: str, html_url: str | None) -> Markup:
    """The brief as safe HTML, its evidence ids linked to PagerDuty (see the module docstring)."""
    base = web_base(html_url)
    md = MarkdownIt("commonmark", {"html": False}).disable(
        ["html_block", "html_inline", "link", "image", "autolink", "reference"]
    )

    def linked(match: re.Match[str]) -> str:
        kind, object_id = match.group(1), match.group(2)
        path = WEB_PATHS.get(kind)
        if base is None or path is None:
            return match.group(0)
        href = base + path.format(id=object_id, incident=quote(incident_id, safe=""))
        return f'<a href="{href}">{match.group(0)}</a>'

    def text(_renderer: Any, tokens: Any, index: int, _options: Any, _env: Any) -> str:
        return EVIDENCE.sub(linked, escapeHtml(tokens[index].content))

    md.add_render_rule("text", text)
    rendered = md.render(inert_markdown(note_body(brief)))

    def only_pagerduty(tag: str, attribute: str, value: str) -> str | None:
        if tag == "a" and attribute == "href":
            return value if base is not None and value.startswith(f"{base}/") else None
        return value

    return Markup(
        nh3.clean(
            rendered,
            tags=_BRIEF_TAGS,
            attributes={"a": {"href"}, "ol": {"start"}},
            attribute_filter=only_pagerduty,
            url_schemes={"https"},
            link_rel="noopener noreferrer",
        )
    )


def _age(iso: str | None, now: datetime) -> str:
    """'2026-11-18 09:30Z (3m ago)', or '' without a time."""
    try:
        moment = datetime.fromisoformat(str(iso or "").replace("Z", "+00:00"))
    except ValueError:  # none, or not a time
        return ""
    if moment.tzinfo is None:
        return ""
    return f"{fmt_time(moment)} ({fmt_duration(now - moment)} ago)"


def page_url(incident_id: str) -> str:
    return f"/investigations/{quote(incident_id, safe='')}"


def _layout(title: str, body: Markup, session: Session | None) -> str:
    signed_in = Markup("")
    if session is not None:
        signed_in = Markup(
            '<form method="post" action="/session/end" class="sign-out">'
            "<span>Signed in as {role}</span>"
            '<input type="hidden" name="csrf" value="{csrf}">'
            '<button type="submit">Sign out</button></form>'
        ).format(role=session.role, csrf=session.csrf)
    return str(
        Markup(
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>{title} - pd_toolkit responder</title>"
            '<link rel="stylesheet" href="{css}"></head>\n<body>'
            '<header><a href="/" class="home">pd_toolkit responder</a>{signed_in}</header>'
            "<main>{body}</main></body></html>\n"
        ).format(title=title, css=STYLESHEET, signed_in=signed_in, body=body)
    )


def _message(text: str | None, kind: str = "error") -> Markup:
    if not text:
        return Markup("")
    return Markup('<p class="message {kind}" role="alert">{text}</p>').format(
        kind=kind, text=clean_name(text, 1000)
    )


def _fact(value: Any, cap: int) -> str | None:
    """A short fact from the ledger or PagerDuty as one clean line; None when absent."""
    return clean_name(value, cap) if value is not None and value != "" else None


def sign_in_page(*, message: str | None = None, next_path: str = "/") -> str:
    """The sign-in form: one password field for the approval or the viewer token."""
    body = Markup(
        "<h1>Sign in</h1>{message}"
        '<form method="post" action="/session" class="sign-in">'
        '<input type="hidden" name="next" value="{next_path}">'
        '<label for="token">Approval token (approve and reject) or viewer token (read only)'
        "</label>"
        '<input type="password" name="token" id="token" autocomplete="current-password" '
        "required autofocus>"
        '<button type="submit">Sign in</button></form>'
    ).format(message=_message(message), next_path=next_path)
    return _layout("Sign in", body, None)


def message_page(title: str, message: str, session: Session | None) -> str:
    """A page that only says what went wrong (refused, not found)."""
    body = Markup('<h1>{title}</h1>{message}<p><a href="/">All investigations</a></p>').format(
        title=title, message=_message(message)
    )
    return _layout(title, body, session)


def _number(view: Mapping[str, Any]) -> str:
    number = view.get("incident_number")
    return f"#{number}" if number is not None else str(view.get("incident_id"))


def _incident(view: Mapping[str, Any]) -> Mapping[str, Any]:
    """The incident's own facts in a view (service, urgency, created_at, html_url), if any."""
    return view.get("incident") or {}


def _service(view: Mapping[str, Any]) -> str:
    service = _incident(view).get("service")
    return clean_name(service, 60) if service else ""


def _rows(views: Sequence[Mapping[str, Any]], now: datetime) -> Markup:
    if not views:
        return Markup('<p class="empty">None.</p>')
    rows = [
        Markup(
            '<tr><td><a href="{url}">{number}</a></td><td>{title}</td><td>{service}</td>'
            '<td>{urgency}</td><td><span class="status {status}">{status}</span></td>'
            "<td>{age}</td></tr>"
        ).format(
            url=page_url(str(view["incident_id"])),
            number=_number(view),
            title=clean_name(view.get("title"), 120) if view.get("title") else "",
            service=_service(view),
            urgency=_fact(_incident(view).get("urgency"), 20) or "",
            status=view.get("status"),
            age=_age(_incident(view).get("created_at") or view.get("created_at"), now),
        )
        for view in views
    ]
    return Markup(
        "<table><thead><tr><th>Incident</th><th>Title</th><th>Service</th><th>Urgency</th>"
        "<th>Status</th><th>Since</th></tr></thead><tbody>{rows}</tbody></table>"
    ).format(rows=Markup("").join(rows))


def list_page(
    pending: Sequence[Mapping[str, Any]],
    recent: Sequence[Mapping[str, Any]],
    session: Session,
    *,
    next_cursor: str | None = None,
    message: str | None = None,
    now: datetime | None = None,
) -> str:
    """Investigations awaiting approval (newest first), then the most recently updated others."""
    now = now or datetime.now(UTC)
    more = (
        Markup('<p><a href="/?cursor={cursor}">Older ones awaiting approval</a></p>').format(
            cursor=quote(next_cursor, safe="")
        )
        if next_cursor
        else Markup("")
    )
    body = Markup(
        "{message}<h1>Awaiting approval</h1>{pending}{more}<h2>Recent</h2>{recent}"
    ).format(
        message=_message(message),
        pending=_rows(pending, now),
        more=more,
        recent=_rows(recent, now),
    )
    return _layout("Investigations", body, session)


def _facts(view: Mapping[str, Any], now: datetime) -> Markup:
    facts = [
        ("Status", Markup('<span class="status {0}">{0}</span>').format(view.get("status"))),
        ("Service", _service(view) or None),
        ("Urgency", _fact(_incident(view).get("urgency"), 20)),
        ("Triggered", _age(_incident(view).get("created_at"), now) or None),
        ("Received", _age(view.get("created_at"), now) or None),
        ("Decision", _fact(view.get("decision"), 20)),
        ("Decided", _age(view.get("decided_at"), now) or None),
        ("Reason", clean_name(view["reason"], 500) if view.get("reason") else None),
        ("Note", _fact(view.get("note_id"), 64)),
        ("Retry at", _fact(view.get("retry_at"), 40)),
    ]
    return Markup('<dl class="facts">{}</dl>').format(
        Markup("").join(
            Markup("<dt>{}</dt><dd>{}</dd>").format(name, value)
            for name, value in facts
            if value is not None
        )
    )


def _decision_forms(view: Mapping[str, Any], session: Session, draft: str | None) -> Markup:
    """Approve, Save and approve (the box holds ``draft`` when given, else the brief as the
    note would carry it: :func:`~agents.responder.notes.note_body`, no invisible characters),
    and Reject with a reason."""
    url = page_url(str(view["incident_id"]))
    return Markup(
        '<section class="decide" id="decide"><h2>Decide</h2>'
        '<form method="post" action="{url}/approve">'
        '<input type="hidden" name="csrf" value="{csrf}">'
        '<label for="text">The note to post (edit it, then Save and approve)</label>'
        '<textarea name="text" id="text" rows="20">{brief}</textarea>'
        '<div class="buttons">'
        '<button type="submit" name="edited" value="no">Approve</button>'
        '<button type="submit" name="edited" value="yes">Save and approve</button></div></form>'
        '<form method="post" action="{url}/reject" class="reject">'
        '<input type="hidden" name="csrf" value="{csrf}">'
        '<label for="reason">Reason (optional)</label>'
        '<input type="text" name="reason" id="reason" maxlength="500">'
        '<button type="submit">Reject</button></form></section>'
    ).format(
        url=url,
        csrf=session.csrf,
        brief=draft if draft is not None else note_body(view.get("brief") or ""),
    )


def investigation_page(
    view: Mapping[str, Any],
    session: Session,
    *,
    message: str | None = None,
    draft: str | None = None,
    posted: str | None = None,
    now: datetime | None = None,
) -> str:
    """One investigation: its facts, the rendered brief, and (for an approver, while it awaits
    approval) the decision forms, the box holding ``draft`` when given. ``posted``: the edited
    text an approval posted instead of the brief, shown first (the brief below it, folded)."""
    now = now or datetime.now(UTC)
    brief = view.get("brief")
    incident_id, html_url = str(view["incident_id"]), _incident(view).get("html_url")
    rendered = Markup('<article class="brief">{}</article>').format(
        brief_html(brief, incident_id, html_url)
        if brief
        else Markup('<p class="empty">No brief (yet).</p>')
    )
    if posted:
        rendered = Markup(
            '<p class="message notice">Approved with an edit: this text is the note (the brief '
            "as the investigation wrote it is below).</p>"
            '<article class="brief posted">{posted}</article>'
            "<details><summary>The brief before the edit</summary>{brief}</details>"
        ).format(posted=brief_html(posted, incident_id, html_url), brief=rendered)
    can_decide = session.role == "approver" and view.get("status") == "awaiting_approval"
    body = Markup(
        '{message}<h1><span class="number">{number}</span> {title}</h1>{facts}{jump}{problem}'
        "{brief}{forms}"
    ).format(
        jump=Markup('<p><a href="#decide">Decide</a> (below the brief)</p>') if can_decide else "",
        message=_message(message),
        number=_number(view),
        title=clean_name(view.get("title"), 200) if view.get("title") else "",
        facts=_facts(view, now),
        problem=_message(view.get("error"), "warning"),
        brief=rendered,
        forms=_decision_forms(view, session, draft) if can_decide else Markup(""),
    )
    return _layout(_number(view), body, session)
