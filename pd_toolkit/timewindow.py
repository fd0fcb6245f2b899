"""Human time ranges ("this week", "last 24 hours", "2026-11-01..2026-11-07") -> UTC windows.

Calendar phrases (today, this week, this month...) follow the caller's time zone; the result is
always a pair of aware UTC datetimes, measured from an injectable ``now``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator

from pd_toolkit.errors import TimeRangeError
from pd_toolkit.models import TimeWindow


def known_time_zone(name: str) -> str:
    """An IANA time zone name, or a ValueError that says what to give instead."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"Unknown time zone {name!r}; use an IANA name such as UTC") from None
    return name


TimeZoneName = Annotated[str, AfterValidator(known_time_zone)]


PHRASES = (
    "today, yesterday, this week, last week, this month, last month, last 24 hours, "
    "last N hours|days|weeks, an ISO date (2026-11-17), or ISO..ISO (2026-11-01..2026-11-07)"
)
_UNITS = {
    "m": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "h": "hours",
    "hr": "hours",
    "hrs": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
    "w": "weeks",
    "week": "weeks",
    "weeks": "weeks",
}
_RELATIVE = re.compile(r"^(?:(?:last|past|previous)\s+)?(\d+)?\s*([a-z]+)$")
_AGO = re.compile(r"^(\d+)\s*([a-z]+)\s+ago$")


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
LONGEST = timedelta(days=3660)


def iso_utc(moment: datetime) -> str:
    """'2026-11-18T09:30:00Z': how PagerDuty is sent a time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _in_range(moment: datetime, text: str) -> datetime:
    if not EARLIEST <= moment < LATEST:
        raise TimeRangeError(
            f"The time {text!r} is out of range: give a time between 1970 and 2100"
        )
    return moment


def _local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def _relative(text: str) -> timedelta | None:
    """'last 24 hours', 'past 7 days', '24h', 'last hour' -> a duration."""
    match = _RELATIVE.match(text)
    if not match or match.group(2) not in _UNITS:
        return None
    if match.group(1) is None and not text.startswith(("last", "past", "previous")):
        return None
    amount = int(match.group(1) or 1)
    if amount <= 0:
        raise TimeRangeError(f"Time range {text!r} is empty: give a positive amount")
    return _duration(_UNITS[match.group(2)], amount, text)


def _duration(unit: str, amount: int, text: str) -> timedelta:
    """``amount`` ``unit``s, at most about ten years."""
    try:
        span = timedelta(**{unit: amount})
    except OverflowError:
        span = LONGEST * 2
    if span > LONGEST:
        raise TimeRangeError(f"Time range {text!r} is too long: give at most 10 years")
    return span


def parse_instant(text: str, *, now: datetime, tz: tzinfo = UTC) -> datetime:
    """'now', 'N hours ago', an ISO date (its local midnight) or datetime -> aware UTC,
    between 1970 and 2100."""
    value = " ".join(text.strip().lower().split())
    if value == "now":
        return now.astimezone(UTC)
    ago = _AGO.match(value)
    if ago and ago.group(2) in _UNITS:
        span = _duration(_UNITS[ago.group(2)], int(ago.group(1)), text)
        return _in_range(now.astimezone(UTC) - span, text)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return _in_range(_local_midnight(date.fromisoformat(value), tz), text)
        parsed = datetime.fromisoformat(text.strip().replace("z", "Z"))
        moment = (parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed).astimezone(UTC)
    except ValueError:
        raise TimeRangeError(
            f"Could not read the time {text!r}: give an ISO date or datetime "
            "(2026-11-17, 2026-11-17T09:30:00Z), 'now' or 'N hours ago'"
        ) from None
    except OverflowError:
        moment = LATEST
    return _in_range(moment, text)


def _end_of(text: str, *, now: datetime, tz: tzinfo) -> datetime:
    """The end bound of a range: a bare date means the whole day (its next local midnight)."""
    moment = parse_instant(text, now=now, tz=tz)
    value = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return _in_range(_local_midnight(date.fromisoformat(value) + timedelta(days=1), tz), text)
    return moment


def _phrase(text: str, now: datetime, tz: tzinfo) -> tuple[datetime, datetime] | None:
    local = now.astimezone(tz)
    today = local.date()
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    previous_first = (first - timedelta(days=1)).replace(day=1)
    calendar = {
        "today": (today, None),
        "yesterday": (today - timedelta(days=1), today),
        "this week": (monday, None),
        "last week": (monday - timedelta(days=7), monday),
        "this month": (first, None),
        "last month": (previous_first, first),
    }
    if text in calendar:
        start, end = calendar[text]
        return _local_midnight(start, tz), _local_midnight(end, tz) if end else now
    span = _relative(text)
    return (now - span, now) if span else None


def parse_window(
    time_range: str | None = None,
    since: str | None = None,
    until: str | None = None,
    *,
    now: datetime,
    tz: tzinfo = UTC,
    default: timedelta | None = None,
) -> TimeWindow | None:
    """The window asked for, or ``default`` back from now, or None when nothing was asked.

    ``until`` alone means the 30 days before it (PagerDuty's own default window).
    """
    now = now.astimezone(UTC)
    if time_range and (since or until):
        raise TimeRangeError("Give either time_range or since/until, not both")
    if time_range:
        text = " ".join(time_range.strip().lower().split())
        bounds = _phrase(text, now, tz)
        if bounds is None and ".." in text:
            left, _, right = time_range.partition("..")
            bounds = (
                parse_instant(left, now=now, tz=tz),
                _end_of(right, now=now, tz=tz),
            )
        elif bounds is None and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            bounds = (parse_instant(text, now=now, tz=tz), _end_of(text, now=now, tz=tz))
        elif bounds is None:
            try:
                bounds = (parse_instant(time_range, now=now, tz=tz), now)
            except TimeRangeError:
                raise TimeRangeError(
                    f"Could not read time_range {time_range!r}: use {PHRASES}"
                ) from None
        start, end = bounds
        label = time_range.strip()
    elif since or until:
        end = _end_of(until, now=now, tz=tz) if until else now
        start = parse_instant(since, now=now, tz=tz) if since else end - timedelta(days=30)
        label = f"{since or '30 days before until'}..{until or 'now'}"
    elif default is not None:
        start, end, label = now - default, now, f"last {_describe(default)} (default)"
    else:
        return None
    end = min(end, now)
    if start > now:
        raise TimeRangeError(
            f"The range starts in the future ({start:%Y-%m-%d %H:%M}Z; now is "
            f"{now:%Y-%m-%d %H:%M}Z): give a start in the past"
        )
    if start >= end:
        raise TimeRangeError(
            f"The range is inverted or empty: since {start:%Y-%m-%d %H:%M}Z is not before until "
            f"{end:%Y-%m-%d %H:%M}Z; swap them or widen the range"
        )
    return TimeWindow(since=start, until=end, label=label)


def _describe(span: timedelta) -> str:
    if span >= timedelta(days=2) and span % timedelta(days=1) == timedelta(0):
        return f"{span.days} days"
    return f"{span.total_seconds() / 3600:g} hours"
