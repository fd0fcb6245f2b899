"""Independent truth for the seed's four questions, read from the sandbox account's own data
(never from a tool's answer), so that the tools' content can be checked against it. The
on-call and time-word ground truth is evals/truth.py's (the evaluation kit's), shared."""

from __future__ import annotations

from datetime import datetime

from evals.truth import level_user_ids, resolve_range, team_policies
from pd_toolkit.sandbox import SandboxAccount


def payments_level_one(account: SandboxAccount, at: datetime) -> list[str]:
    """Who is on call at level 1 of each of the Payments team's escalation policies at ``at``
    (one name per policy: its first level-1 target)."""
    names = []
    for policy in team_policies(account, "Payments"):
        user = account.user(level_user_ids(account, policy, 1, at)[0])
        assert user is not None
        names.append(user["name"])
    return names


def open_numbers(account: SandboxAccount) -> list[str]:
    """'#N ' for every open incident."""
    return [f"#{i['incident_number']} " for i in account.open_incidents()]


def checkout_this_week(account: SandboxAccount, now: datetime) -> list[str]:
    """'#N ' for every checkout incident created since Monday 00:00 UTC."""
    monday, _ = resolve_range("this week", now)
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
