"""What the investigation's data suggests: the suspect changes, the fixes to try, who to reach.

Pure functions over the lookups' artifacts; :mod:`agents.brief` words and cites the results.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pd_toolkit.history.models import FixGroup, SimilarIncidents
from pd_toolkit.models import ChangeEvent, ChangeList, OnCall, OnCallReport

SUSPECT_WINDOW = timedelta(hours=2)
MAX_FIXES = 3


def suspects(changes: ChangeList, trigger: datetime | None) -> list[ChangeEvent]:
    """Change events, those before the trigger first, closest to it first."""
    seen: dict[str | None, ChangeEvent] = {}
    for change in [*changes.changes, *changes.related]:
        seen.setdefault(change.id, change)
    if trigger is None:
        return list(seen.values())

    def distance(change: ChangeEvent) -> tuple[int, float]:
        if change.timestamp is None:
            return 2, 0.0
        gap = (trigger - change.timestamp).total_seconds()
        return (0, gap) if gap >= 0 else (1, -gap)

    return sorted(seen.values(), key=distance)


def closest_before(
    changes: ChangeList | None, trigger: datetime | None, window: timedelta | None = None
) -> ChangeEvent | None:
    """The change closest before the trigger (at most ``window`` before it, when given)."""
    if changes is None or trigger is None:
        return None
    first = next(iter(suspects(changes, trigger)), None)
    if first is None or first.timestamp is None or first.timestamp > trigger:
        return None
    return first if window is None or trigger - first.timestamp <= window else None


def fixes_to_try(similar: SimilarIncidents) -> list[FixGroup]:
    """The ways similar incidents were fixed, most telling first, at most :data:`MAX_FIXES`."""
    return similar.fixes[:MAX_FIXES]


def first_oncall(report: OnCallReport | None) -> OnCall | None:
    """Who is reached first: the lowest escalation level's on-call."""
    if report is None:
        return None
    return min(report.oncalls, key=lambda o: o.escalation_level or 99, default=None)
