"""Time ranges are read against a fixed clock; calendar phrases follow the time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import FIXED_NOW  # Wed 2026-11-18 09:30 UTC
from hypothesis import given
from hypothesis import strategies as st

from pd_toolkit.errors import PagerDutyError, TimeRangeError
from pd_toolkit.timewindow import parse_instant, parse_window


def window(text: str, tz: str = "UTC") -> tuple[datetime, datetime]:
    result = parse_window(text, now=FIXED_NOW, tz=ZoneInfo(tz))
    assert result is not None
    return result.since, result.until


@pytest.mark.parametrize(
    ("text", "since", "until"),
    [
        ("today", datetime(2026, 11, 18, tzinfo=UTC), FIXED_NOW),
        ("yesterday", datetime(2026, 11, 17, tzinfo=UTC), datetime(2026, 11, 18, tzinfo=UTC)),
        ("this week", datetime(2026, 11, 16, tzinfo=UTC), FIXED_NOW),
        ("This  Week", datetime(2026, 11, 16, tzinfo=UTC), FIXED_NOW),
        ("last week", datetime(2026, 11, 9, tzinfo=UTC), datetime(2026, 11, 16, tzinfo=UTC)),
        ("this month", datetime(2026, 11, 1, tzinfo=UTC), FIXED_NOW),
        ("last month", datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)),
        ("last 24 hours", FIXED_NOW - timedelta(hours=24), FIXED_NOW),
        ("last 7 days", FIXED_NOW - timedelta(days=7), FIXED_NOW),
        ("past 3 days", FIXED_NOW - timedelta(days=3), FIXED_NOW),
        ("last hour", FIXED_NOW - timedelta(hours=1), FIXED_NOW),
        ("24h", FIXED_NOW - timedelta(hours=24), FIXED_NOW),
        ("last 2 weeks", FIXED_NOW - timedelta(weeks=2), FIXED_NOW),
        ("2026-11-10", datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 11, tzinfo=UTC)),
        ("2026-11-18", datetime(2026, 11, 18, tzinfo=UTC), FIXED_NOW),
        (
            "2026-11-01..2026-11-07",
            datetime(2026, 11, 1, tzinfo=UTC),
            datetime(2026, 11, 8, tzinfo=UTC),
        ),
        (
            "2026-11-17T08:00:00Z..2026-11-17T10:00:00Z",
            datetime(2026, 11, 17, 8, tzinfo=UTC),
            datetime(2026, 11, 17, 10, tzinfo=UTC),
        ),
    ],
)
def test_phrases_in_utc(text: str, since: datetime, until: datetime) -> None:
    assert window(text) == (since, until)


def test_this_week_starts_monday_midnight_in_the_toolkit_time_zone() -> None:
    since, until = window("this week", "America/Los_Angeles")
    assert since == datetime(2026, 11, 16, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert since == datetime(2026, 11, 16, 8, tzinfo=UTC)
    assert until == FIXED_NOW


def test_today_in_a_zone_east_of_utc() -> None:
    since, _ = window("today", "Asia/Tokyo")  # 18:30 in Tokyo
    assert since == datetime(2026, 11, 17, 15, tzinfo=UTC)


def test_since_until_and_defaults() -> None:
    got = parse_window(since="2026-11-17T00:00:00Z", now=FIXED_NOW)
    assert got is not None and (got.since, got.until) == (
        datetime(2026, 11, 17, tzinfo=UTC),
        FIXED_NOW,
    )
    only_until = parse_window(until="2026-11-10", now=FIXED_NOW)
    assert only_until is not None
    assert only_until.until == datetime(2026, 11, 11, tzinfo=UTC)
    assert only_until.since == only_until.until - timedelta(days=30)
    assert parse_window(now=FIXED_NOW) is None
    default = parse_window(now=FIXED_NOW, default=timedelta(hours=24))
    assert default is not None and default.since == FIXED_NOW - timedelta(hours=24)
    assert "default" in default.label


def test_future_until_is_capped_at_now() -> None:
    got = parse_window("2026-11-17..2026-12-31", now=FIXED_NOW)
    assert got is not None and got.until == FIXED_NOW


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"time_range": "2026-11-10..2026-11-01"}, "inverted"),
        ({"since": "2026-11-10", "until": "2026-11-01"}, "inverted"),
        ({"since": "2026-12-01"}, "future"),
        ({"time_range": "next tuesday-ish"}, "Could not read time_range 'next tuesday-ish'"),
        ({"time_range": "last 0 days"}, "positive"),
        ({"time_range": "today", "since": "2026-11-01"}, "not both"),
        ({"since": "yesterdayish"}, "Could not read the time 'yesterdayish'"),
    ],
)
def test_precise_errors(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(TimeRangeError, match=message) as caught:
        parse_window(**kwargs, now=FIXED_NOW)
    assert isinstance(caught.value, PagerDutyError)  # one family for callers to catch
    assert str(caught.value).endswith(TimeRangeError.default_hint)


def test_parse_instant_forms() -> None:
    assert parse_instant("now", now=FIXED_NOW) == FIXED_NOW
    assert parse_instant("2 hours ago", now=FIXED_NOW) == FIXED_NOW - timedelta(hours=2)
    assert parse_instant("2026-11-18T12:00", now=FIXED_NOW, tz=ZoneInfo("Europe/Paris")) == (
        datetime(2026, 11, 18, 11, tzinfo=UTC)
    )


@given(st.integers(min_value=1, max_value=1000), st.sampled_from(["hours", "days", "minutes"]))
def test_last_n_units_always_ends_now_and_is_ordered(amount: int, unit: str) -> None:
    got = parse_window(f"last {amount} {unit}", now=FIXED_NOW)
    assert got is not None
    assert got.until == FIXED_NOW
    assert got.until - got.since == timedelta(**{unit: amount})
    assert got.since.tzinfo is not None
