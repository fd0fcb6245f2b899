"""Independent truth for the seed's four questions, read from the sandbox account's own data
(never from a tool's answer), so that the tools' content can be checked against it."""

from __future__ import annotations

from datetime import datetime, timedelta

from pd_toolkit.sandbox import SandboxAccount


def payments_level_one(account: SandboxAccount, at: datetime) -> list[str]:
    """Who is on call at level 1 of the Payments team's escalation policies at ``at``."""
    team = next(t for t in account.teams if t["name"] == "Payments")
    names = []
    for policy in account.escalation_policies:
        if any(t["id"] == team["id"] for t in policy.get("teams") or []):
            target = policy["escalation_rules"][0]["targets"][0]
            user = account.user(account.oncall_user(target["id"], at))
            assert user is not None
            names.append(user["name"])
    return names


def open_numbers(account: SandboxAccount) -> list[str]:
    """'#N ' for every open incident."""
    return [f"#{i['incident_number']} " for i in account.open_incidents()]


def checkout_this_week(account: SandboxAccount, now: datetime) -> list[str]:
    """'#N ' for every checkout incident created since Monday 00:00 UTC."""
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0)
    found = [
        f"#{i['incident_number']} "
        for i in account.incidents_between(monday, now)
        if i["service"]["summary"] == "checkout"
    ]
    assert 0 < len(found) <= 100
    return found


def timeline_facts(account: SandboxAccount, number: int) -> list[str]:
    """The heading, the id, the trigger and the first person notified of incident ``number``."""
    incident = account.find_incident(number)
    assert incident is not None
    notified = next(
        e["user"]["summary"]
        for e in account.log_entries[incident["id"]]
        if e["type"].startswith("notify")
    )
    return [f"Timeline of #{number}", incident["id"], "trigger", notified]
