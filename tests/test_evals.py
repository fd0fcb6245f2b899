"""The agent evaluation kit (evals/): its cases, scoring, scripted models, runner and CLI.

The oracle must answer every case with full marks from the tools' outputs alone (a case whose
facts the tools cannot reach fails here), and each careless model must fail every case.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXED_NOW
from openai_stub import serve_openai_stub, text_reply, tool_call_reply

from evals.__main__ import main
from evals.cases import CASES_DIR, Case, load_cases
from evals.models import CARELESS, ORACLE, scripted_model
from evals.peers import COMMAND_ENV
from evals.runner import CaseResult, run
from evals.scoring import Fact, found, score_answer
from evals.truth import FACT_KINDS, REF_KINDS, resolve, resolve_range, resolve_when
from pd_toolkit.sandbox import build_account

pytestmark = pytest.mark.sandbox

REQUIRED_CATEGORIES = {
    "oncall",
    "incidents",
    "time_words",
    "timeline",
    "service_health",
    "changes",
    "similar",
    "multi_step",
    "typos",
    "unanswerable",
}


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_cases()


@pytest.fixture(scope="module")
def oracle_results(cases: list[Case]) -> list[CaseResult]:
    return run(cases, lambda case: scripted_model(ORACLE, case))


# -- the cases -------------------------------------------------------------------------------


def test_the_cases_cover_what_on_call_people_ask(cases: list[Case]) -> None:
    assert len(cases) >= 40
    assert {case.category for case in cases} == REQUIRED_CATEGORIES
    assert {case.difficulty for case in cases} == {"easy", "medium", "hard"}
    for case in cases:
        assert {spec.kind for spec in case.facts + case.must_not} <= set(FACT_KINDS), case.id
        assert {spec.kind for spec in case.refs.values()} <= set(REF_KINDS), case.id
    unanswerable = [case for case in cases if case.category == "unanswerable"]
    assert all(case.facts[0].kind == "refusal" and case.must_not for case in unanswerable)
    lookalikes = [c for c in cases if any(s.kind == "lookalike_fixes" for s in c.must_not)]
    assert len(lookalikes) >= 4


def test_no_question_is_cut_short_by_a_yaml_comment() -> None:
    """In YAML, `` #`` starts a comment: a question naming ``#{n}`` must be quoted."""
    for path in CASES_DIR.glob("*.yaml"):
        for line in path.read_text().splitlines():
            text = line.strip().removeprefix("question:").strip()
            if line.strip().startswith("question:") and not text.startswith(('"', "'")):
                assert " #" not in text, f"{path.name}: {line.strip()}"


def test_facts_come_from_the_ground_truth_not_the_tools(cases: list[Case]) -> None:
    """The Saturday 3 a.m. case resolves its time word against the clock, and its facts are
    the rotation's users at that moment."""
    account = build_account(7, FIXED_NOW)
    case = next(c for c in cases if c.id == "oncall-team-saturday-3am")
    filled, facts, _ = resolve(case, account)
    saturday = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    assert "2026-11-21T03:00:00Z" in filled.tools[0].args["at"]
    primary = next(s for s in account.schedules if s["name"] == "Payments Primary")
    expected = account.user(account.oncall_user(primary["id"], saturday))
    assert expected is not None and Fact("name", expected["name"]) in facts


def test_time_words_resolve_against_the_clock() -> None:
    wednesday = FIXED_NOW  # 2026-11-18 09:30, a Wednesday
    assert resolve_when("saturday 03:00", wednesday) == datetime(2026, 11, 21, 3, tzinfo=UTC)
    assert resolve_when("wednesday 08:00", wednesday) == datetime(2026, 11, 25, 8, tzinfo=UTC)
    assert resolve_when("today 23:00", wednesday) == datetime(2026, 11, 18, 23, tzinfo=UTC)
    assert resolve_range("this week", wednesday) == (datetime(2026, 11, 16, tzinfo=UTC), wednesday)
    assert resolve_range("last 24 hours", wednesday)[0] == wednesday - timedelta(hours=24)


# -- scoring ---------------------------------------------------------------------------------

CLOCK = FIXED_NOW
SHIFT_END = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fact", "answer", "expected"),
    [
        (Fact("name", "Zoë O'Brien"), "Paged: zoe o brien (PX1).", True),
        (Fact("name", "Chen Wei"), "Chen Weiss is on call", False),
        (Fact("incident", "#3088"), "Incident 3088 is open", True),
        (Fact("incident", "#3088"), "see #30881 and id Q3088X and 13088", False),
        (Fact("incident", "#3088"), "at 2026-11-18 3088:00", False),
        (Fact("id", "PJESAR4"), "Chen Wei (PJESAR4)", True),
        (Fact("id", "PJESAR4"), "PJESAR45", False),
        (Fact("number", "7", options=("incident",)), "There are 7 open incidents.", True),
        (Fact("number", "7", options=("incident",)), "Seven incidents are open", True),
        (Fact("number", "7", options=("incident",)), "7 of 19 services are degraded", False),
        (Fact("time", "", at=SHIFT_END), "until 2026-11-23 14:00Z", True),
        (Fact("time", "", at=SHIFT_END), "ends 2026-11-23T14:00:00+00:00", True),
        (Fact("time", "", at=SHIFT_END), "ends Nov 23, 2:00 PM UTC", True),
        (Fact("time", "", at=SHIFT_END), "ends on 23 November 2026 at 14:00", True),
        (Fact("time", "", at=SHIFT_END), "ends at 14:00", False),  # no date: the clock's day
        (Fact("time", "", at=SHIFT_END), "ends Nov 23 at 3:00 PM", False),
        (Fact("time", "", at=CLOCK - timedelta(minutes=36)), "acknowledged at 08:54", True),
        (
            Fact("time", "", at=CLOCK - timedelta(days=112, hours=14, minutes=10)),
            "112d14h ago",
            True,
        ),
        (Fact("time", "", at=CLOCK - timedelta(days=112, hours=14)), "110 days ago", False),
        (
            Fact("phrase", "Rolled back checkout v2.41.12; the promo-code refactor broke it."),
            "Last time they rolled back checkout v2.50.1 because the promo code refactor broke it",
            True,
        ),
        (
            Fact("phrase", "Rolled back checkout v2.41.12; the promo-code refactor broke it."),
            "They rotated the expired mTLS certificate on checkout.",
            False,
        ),
        (Fact("refusal", ""), "PagerDuty doesn't track CPU usage.", True),
        (Fact("refusal", ""), "CPU is at 93%.", False),
    ],
)
def test_facts_are_normalised_before_matching(fact: Fact, answer: str, expected: bool) -> None:
    assert found(fact, answer, CLOCK) is expected


def test_a_forbidden_claim_zeroes_the_score_and_invented_ids_fail() -> None:
    facts = [Fact("name", "Chen Wei"), Fact("name", "Erik Lindqvist")]
    half = score_answer("Chen Wei (PJESAR4)", facts, [], ["Chen Wei (PJESAR4)"], CLOCK)
    assert half.score == 0.5 and not half.passed and half.cited == ["PJESAR4"]
    invented = score_answer(
        "Chen Wei (PJESAR4), Erik Lindqvist (PZ9ZZ9Z)", facts, [], ["Chen Wei (PJESAR4)"], CLOCK
    )
    assert invented.score == 1.0 and invented.unsupported == ["PZ9ZZ9Z"] and not invented.passed
    claimed = score_answer(
        "Chen Wei and Erik Lindqvist; the channel is #payments-oncall",
        facts,
        [Fact("pattern", r"(?<![\w#])#[a-z][a-z0-9_-]{2,}")],
        [],
        CLOCK,
    )
    assert claimed.score == 0.0 and claimed.forbidden_made


# -- the scripted models over every case -----------------------------------------------------


def test_the_oracle_answers_every_case_from_the_tools(oracle_results: list[CaseResult]) -> None:
    failed = {
        r.id: (r.facts_missing, r.forbidden_made, r.error) for r in oracle_results if not r.passed
    }
    assert failed == {}
    for result in oracle_results:
        assert result.expected_tools_called, result.id
        assert result.input_tokens and result.output_tokens, result.id
        if result.expected_tools:
            assert result.tool_output_tokens > 0 and result.pagerduty_requests > 0, result.id


def test_the_oracle_recovers_from_a_typo(oracle_results: list[CaseResult]) -> None:
    typo = next(r for r in oracle_results if r.id == "typo-team")
    assert [(c.name, c.error, c.retry) for c in typo.tool_calls] == [
        ("pagerduty_get_oncall", True, False),
        ("pagerduty_get_oncall", False, True),
    ]
    assert (typo.tool_errors, typo.retries) == (1, 1)


@pytest.mark.parametrize("model", CARELESS)
def test_a_careless_model_fails_every_case(cases: list[Case], model: str) -> None:
    results = run(cases, lambda case: scripted_model(model, case))
    assert [r.id for r in results if r.passed] == []
    if model == "careless-invents":  # the invented alert id is flagged as not from the tools
        assert all("Q9ZZZZ9ZZZZZZZ" in r.unsupported_ids for r in results)


def test_a_case_whose_facts_the_tools_do_not_reach_fails(cases: list[Case]) -> None:
    """A case asking who is on call but expecting only the incident list: the oracle, which
    may only quote the tools, cannot pass it."""
    case = next(c for c in cases if c.id == "oncall-team-now")
    unreachable = case.model_copy(
        update={
            "tools": [
                t.model_copy(update={"name": "pagerduty_list_incidents", "args": {}})
                for t in case.tools
            ]
        }
    )
    (result,) = run([unreachable], lambda c: scripted_model(ORACLE, c))
    assert not result.passed and result.facts_missing


# -- the command line ------------------------------------------------------------------------


def _report(out: Path, stem: str) -> dict[str, Any]:
    return json.loads((out / f"{stem}.json").read_text())


def test_a_chat_model_on_an_openai_compatible_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real path: ChatOpenAI at --base-url, create_agent over the toolkit, recorded."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    names = [
        f.text for f in resolve(load_cases("oncall-team-now")[0], build_account(7, FIXED_NOW))[1]
    ]
    replies = [
        tool_call_reply(("pagerduty_get_oncall", {"team": "payments"})),
        text_reply(f"On call now for Payments: {' and '.join(names)}."),
    ]
    with serve_openai_stub(replies) as (base_url, stub):
        code = main(
            [
                "run",
                "--model",
                "stub",
                "--base-url",
                base_url,
                "--cases",
                "oncall-team-now",
                "--out",
                str(tmp_path),
            ]
        )
    assert code == 0
    report = _report(tmp_path, "stub-langchain")
    (case,) = report["cases"]
    assert case["passed"] and case["facts_found"] == names
    assert [c["name"] for c in case["tool_calls"]] == ["pagerduty_get_oncall"]
    assert (case["input_tokens"], case["output_tokens"], case["model_calls"]) == (2, 2, 2)
    assert case["tool_output_tokens"] > 0 and case["pagerduty_requests"] > 0
    assert (
        len(stub.requests) == 2
        and "2026-11-18 09:30 UTC" in stub.requests[0]["messages"][0]["content"]
    )
    markdown = (tmp_path / "stub-langchain.md").read_text()
    assert "| oncall | 1 | 1 | 1.00 |" in markdown
    assert (tmp_path / "stub-langchain.png").read_bytes().startswith(b"\x89PNG")
    assert "1/1 passed" in capsys.readouterr().out


def test_the_mcp_face_runs_the_same_cases(tmp_path: Path) -> None:
    code = main(
        ["run", "--model", ORACLE, "--face", "mcp", "--cases", "typo-team", "--out", str(tmp_path)]
    )
    assert code == 0
    (case,) = _report(tmp_path, "oracle-mcp")["cases"]
    assert case["passed"] and case["retries"] == 1 and case["pagerduty_requests"] > 0


def test_a_careless_model_failing_as_it_must_exits_0(tmp_path: Path) -> None:
    assert (
        main(
            ["run", "--model", "careless-invents", "--cases", "open-count", "--out", str(tmp_path)]
        )
        == 0
    )
    assert _report(tmp_path, "careless-invents-langchain")["total"]["passed"] == 0


def test_the_peer_runs_the_same_cases_side_by_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The peer's wiring (stdio server, sandbox user key and host, reports side by side),
    with ``pd-toolkit mcp`` standing in for PagerDuty's server, which needs Python 3.12."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv(COMMAND_ENV, f"{sys.executable} -m evals.mcp_server {FIXED_NOW.isoformat()}")
    call = tool_call_reply(("pagerduty_get_oncall", {"team": "payments"}))
    replies = [call, text_reply("Nobody."), call, text_reply("Nobody.")]
    with serve_openai_stub(replies) as (base_url, stub):
        args = ["--model", "stub", "--base-url", base_url, "--cases", "oncall-team-now"]
        code = main(["run", *args, "--peer", "pagerduty-mcp", "--out", str(tmp_path)])
    assert code == 0 and len(stub.requests) == 4
    (peer,) = _report(tmp_path, "stub-pagerduty-mcp")["cases"]
    assert [c["name"] for c in peer["tool_calls"]] == ["pagerduty_get_oncall"]
    assert peer["pagerduty_requests"] > 0 and not peer["passed"]  # "Nobody." is wrong
    side_by_side = (tmp_path / "stub-langchain-vs-pagerduty-mcp.md").read_text()
    assert "| oncall | 0/1 / 0/1 |" in side_by_side


def test_without_the_peer_installed_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv(COMMAND_ENV, "no-such-pagerduty-mcp-command")
    code = main(
        ["run", "--model", "gpt-4o-mini", "--peer", "pagerduty-mcp", "--out", str(tmp_path)]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "not installed" in err[0]


def test_without_a_model_configured_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["run", "--model", "gpt-4o-mini", "--out", str(tmp_path)]) == 2
    assert "No chat model is configured" in capsys.readouterr().err
