"""Every error the library raises is a PagerDutyError, in pd_toolkit.errors, with a fix hint."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest
from conftest import FIXED_NOW

import pd_toolkit.errors
from pd_toolkit import PagerDutyClient
from pd_toolkit.directory import Directory, match_name, parse_incident_ref
from pd_toolkit.errors import PagerDutyError
from pd_toolkit.scope import TeamScope
from pd_toolkit.timewindow import parse_window

UNREACHABLE = PagerDutyClient(api_key="k" * 20, base_url="http://127.0.0.1:9")
ERROR_CLASSES = [
    cls
    for _, cls in inspect.getmembers(pd_toolkit.errors, inspect.isclass)
    if issubclass(cls, Exception)
]


def test_every_error_class_is_in_the_family_and_exported_with_its_own_hint() -> None:
    assert sorted(cls.__name__ for cls in ERROR_CLASSES) == sorted(pd_toolkit.errors.__all__)
    for cls in ERROR_CLASSES:
        assert issubclass(cls, PagerDutyError), cls
        if cls is not PagerDutyError:
            assert cls.default_hint != PagerDutyError.default_hint, cls


@pytest.mark.parametrize(
    ("fail", "hint"),
    [
        (lambda: match_name("nope", [{"id": "PT1", "name": "Payments"}], "team"), "Retry with"),
        (lambda: parse_incident_ref("#abc"), "Give an incident number"),
        (lambda: parse_window("next tuesday-ish", now=FIXED_NOW), "Fix time_range"),
        (lambda: TeamScope(Directory(UNREACHABLE), []), "PAGERDUTY_TEAMS"),
    ],
    ids=["name", "incident reference", "time range", "empty team scope"],
)
def test_callers_catch_one_family(fail: Callable[[], object], hint: str) -> None:
    with pytest.raises(PagerDutyError) as caught:
        fail()
    assert hint in str(caught.value)
