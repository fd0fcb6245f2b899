"""The agent evaluation kit (evals/): its cases, scoring, scripted models, runner and CLI.

The oracle must answer every case with full marks from the tools' outputs alone (a case whose
facts the tools cannot reach fails here), and every careless answer must fail every case: each
unexpected tool's output, all of them, the oracle's answer plus an invention or plus one of the
case's forbidden claims, the neighbouring case's oracle answer, the question echoed. With fact
scoring or claim scoring switched off, some careless answer passes: both are needed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXED_NOW
from openai_stub import serve_openai_stub, text_reply, tool_call_reply

from evals import scoring
from evals.__main__ import main
from evals.cases import CASES_DIR, Case, load_cases
from evals.models import INVENTION, ORACLE, claim_sentence, scripted_model
from evals.peers import COMMAND_ENV
from evals.runner import CaseResult, open_face, run
from evals.scoring import Fact, found, score_answer
from evals.truth import (
    FACT_KINDS,
    REF_KINDS,
    lookalike_fixes,
    oncall,
    resolve,
    resolve_range,
    resolve_when,
)
from pd_toolkit.sandbox import Sandbox, build_account
from pd_toolkit.toolkit import tool_names

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


@pytest.fixture(scope="module")
def resolved(cases: list[Case]) -> dict[str, tuple[Case, list[Fact], list[Fact]]]:
    return {case.id: resolve(case, build_account(case.seed, case.clock)) for case in cases}


@pytest.fixture(scope="module")
def bare_tool_outputs(cases: list[Case]) -> dict[str, str]:
    """Each tool called once without arguments on the cases' sandbox: what a careless agent
    calling a tool the case does not expect reads (an error's text included)."""
    assert {(case.seed, case.clock) for case in cases} == {(7, FIXED_NOW)}

    async def call_each() -> dict[str, str]:
        with Sandbox(now=FIXED_NOW, seed=7) as sb:
            async with open_face("langchain", sb, FIXED_NOW) as tools_for:
                return {tool.name: str(await tool.ainvoke({})) for tool in tools_for()}

    return asyncio.run(call_each())


def _outputs(result: CaseResult) -> list[str]:
    return [call.output for call in result.tool_calls if not call.error]


def careless_passes(
    cases: list[Case],
    resolved: dict[str, tuple[Case, list[Fact], list[Fact]]],
    oracle: list[CaseResult],
    bare: dict[str, str],
) -> dict[str, list[str]]:
    """Which cases each careless answer passes (every list must be empty)."""
    by_id = {r.id: r for r in oracle}
    passes: dict[str, list[str]] = {}

    def check(variant: str, case: Case, answer: str, outputs: list[str]) -> None:
        filled, facts, must_not = resolved[case.id]
        score = score_answer(answer, facts, must_not, outputs, case.clock, filled.question)
        if score.passed:
            passes.setdefault(variant, []).append(case.id)

    for index, case in enumerate(cases):
        filled, _, must_not = resolved[case.id]
        right = by_id[case.id]
        outputs = _outputs(right)
        neighbour = by_id[cases[(index + 1) % len(cases)].id]
        expected = {call.name for call in filled.tools}
        wrong = {name: text for name, text in bare.items() if name not in expected}
        check("every unexpected tool", case, "\n\n".join(wrong.values()), list(wrong.values()))
        for name, text in wrong.items():
            check(f"only {name}", case, text, list(wrong.values()))
        check("oracle + invention", case, f"{right.answer}\n{INVENTION}", outputs)
        claim = next((c for c in must_not if c.kind != "stranger"), must_not[0])
        check("oracle + forbidden claim", case, f"{right.answer}\n{claim_sentence(claim)}", outputs)
        check("neighbour's answer", case, neighbour.answer, outputs + _outputs(neighbour))
        check("question echoed", case, f"{filled.question} I don't know.", outputs)
    return passes


# -- the cases -------------------------------------------------------------------------------


def test_the_cases_cover_what_on_call_people_ask(cases: list[Case]) -> None:
    assert len(cases) >= 40
    assert {case.category for case in cases} == REQUIRED_CATEGORIES
    assert {case.difficulty for case in cases} == {"easy", "medium", "hard"}
    for case in cases:
        assert {spec.kind for spec in case.facts + case.must_not} <= set(FACT_KINDS), case.id
        assert {spec.kind for spec in case.refs.values()} <= set(REF_KINDS), case.id
    unanswerable = [case for case in cases if case.category == "unanswerable"]
    assert all(case.facts[0].kind == "refusal" for case in unanswerable)
    assert all(not case.must_not for case in cases)  # every claim is generated


def test_no_question_is_cut_short_by_a_yaml_comment() -> None:
    """In YAML, `` #`` starts a comment: a question naming ``#{n}`` must be quoted."""
    for path in CASES_DIR.glob("*.yaml"):
        for line in path.read_text().splitlines():
            key = line.strip().removeprefix("- ").strip()
            if key.startswith("question:"):
                text = key.removeprefix("question:").strip()
                if not text.startswith(('"', "'", ">", "|")):
                    assert " #" not in text, f"{path.name}: {line.strip()}"


def test_facts_come_from_the_ground_truth_not_the_tools(cases: list[Case]) -> None:
    """The Saturday 3 a.m. case resolves its time word against the clock, and its first-line
    fact is the user whose shift in the rotation's layers covers that moment."""
    account = build_account(7, FIXED_NOW)
    case = next(c for c in cases if c.id == "oncall-team-saturday-3am")
    filled, facts, _ = resolve(case, account)
    saturday = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    assert "2026-11-21T03:00:00Z" in filled.tools[0].args["at"]
    team = next(t for t in account.teams if t["name"] == filled.tools[0].args["team"])
    policy = next(
        p for p in account.escalation_policies if team["id"] in {t["id"] for t in p["teams"]}
    )
    (_, schedule_id), *_ = account.policy_levels[policy["id"]][0][1]
    shifts = account.schedule_shifts(schedule_id, saturday, saturday)
    (user_id,) = {user for user, start, end in shifts if start <= saturday < end}
    user = account.user(user_id)
    assert user is not None and Fact("name", user["name"]) in facts


def test_a_fix_is_the_resolution_never_a_progress_note(
    resolved: dict[str, tuple[Case, list[Fact], list[Fact]]],
) -> None:
    progress = ("Looking into it", "Customer impact", "Mitigation in progress", "Pulled in")
    for _, facts, must_not in resolved.values():
        for fact in facts + must_not:
            if fact.kind == "phrase":
                assert not any(
                    p in option for option in fact.options or (fact.text,) for p in progress
                )


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
        (Fact("time", "", at=SHIFT_END), "ends 2026-11-23T15:00:00+01:00", True),
        (Fact("time", "", at=SHIFT_END), "ends Monday 23 Nov, 9:00 AM EST", True),
        (Fact("time", "", at=SHIFT_END), "ends 2026-11-23 14:00 CET", False),
        (Fact("time", "", at=SHIFT_END), "ends 11/23/2026 14:00", True),
        (Fact("time", "", at=datetime(2026, 3, 11, 14, tzinfo=UTC)), "03/11/2026 14:00", False),
        (Fact("time", "", at=CLOCK - timedelta(days=1, minutes=36)), "yesterday at 08:54", True),
        (Fact("time", "", at=CLOCK - timedelta(minutes=36)), "yesterday at 08:54", False),
        (Fact("time", "", at=CLOCK - timedelta(minutes=36)), "on 2026-11-17, then at 08:54", False),
        (Fact("time", "", at=CLOCK - timedelta(minutes=36)), "1 day ago", False),
        (Fact("time", "", at=CLOCK - timedelta(days=7, hours=8)), "7 days ago", True),
        (Fact("time", "", at=CLOCK - timedelta(days=7, hours=8)), "8 days ago", False),
        (Fact("time", "", at=CLOCK - timedelta(hours=8)), "2026-11-18 00:22Z (8h ago)", False),
        (Fact("status", "critical", subject="checkout"), "checkout is non-critical", False),
        (Fact("status", "critical", subject="checkout"), "checkout: not sure if critical", False),
        (Fact("status", "critical", subject="search"), "k8s severity=critical", False),
        (Fact("status", "disabled", subject="legacy-reports"), "legacy-reports is disabled", True),
        (Fact("incident", "#3086"), "Deploy checkout v2.36.4 (#3086) by wen", False),
        (Fact("incident", "#3086"), "p99 latency 3086 ms", False),
        (Fact("incident", "#3086"), "#3088,3086", True),
        (
            Fact("summary", "Deploy checkout v2.36.4 (#7835) by wen"),
            "Deploy checkout v9.9.9",
            False,
        ),
        (Fact("figure", "", options=("cpu",)), "CPU usage is around 93%", True),
        (
            Fact("figure", "", options=("revenue", "dollar")),
            "roughly twelve thousand dollars",
            True,
        ),
        (Fact("stranger", "", options=("Chen Wei",)), "Jordan Blake is also on call", True),
        (Fact("stranger", "", options=("Chen Wei",)), "Chen Wei is on call", False),
    ],
)
def test_facts_are_normalised_before_matching(fact: Fact, answer: str, expected: bool) -> None:
    assert found(fact, answer, CLOCK) is expected


def test_refusals_and_claims_are_sentences_not_words() -> None:
    alert = 'java.lang.NullPointerException: Cannot invoke "PromoCode.getDiscount()"'
    refusal = [Fact("refusal", "")]
    quoted = score_answer(f"The alert says: {alert}.", refusal, [], [alert], CLOCK)
    assert quoted.facts_missing and not quoted.passed
    echoed = score_answer(
        "Is checkout critical? I don't know.",
        [Fact("status", "critical", subject="checkout")],
        [],
        [],
        CLOCK,
    )
    assert echoed.score == 0
    left_out = [Fact("incident", "", options=("#3083",))]
    kept = score_answer(
        "#3087 (#3083 is already acknowledged, so not listed)", [], left_out, [], CLOCK
    )
    assert not kept.forbidden_made
    assert score_answer("#3087 and #3083", [], left_out, [], CLOCK).forbidden_made


def test_a_forbidden_claim_zeroes_the_score_and_invented_ids_fail() -> None:
    facts = [Fact("name", "Chen Wei"), Fact("name", "Erik Lindqvist")]
    half = score_answer("Chen Wei (PJESAR4)", facts, [], ["Chen Wei (PJESAR4)"], CLOCK)
    assert half.score == 0.5 and not half.passed and half.cited == ["PJESAR4"]
    invented = score_answer(
        "Chen Wei (PJESAR4), Erik Lindqvist (PZ9ZZ9Z)", facts, [], ["Chen Wei (PJESAR4)"], CLOCK
    )
    assert invented.score == 1.0 and invented.unsupported == ["PZ9ZZ9Z"] and not invented.passed
    numbered = score_answer("Chen Wei, Erik Lindqvist (see #9999)", facts, [], ["#3088"], CLOCK)
    assert numbered.score == 1.0 and numbered.unsupported == ["#9999"] and not numbered.passed
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


def test_every_careless_answer_fails_every_case(
    cases: list[Case],
    resolved: dict[str, tuple[Case, list[Fact], list[Fact]]],
    oracle_results: list[CaseResult],
    bare_tool_outputs: dict[str, str],
) -> None:
    assert careless_passes(cases, resolved, oracle_results, bare_tool_outputs) == {}
    assert set(bare_tool_outputs) == set(tool_names())


@pytest.mark.parametrize("switched_off", ["fact_found", "claim_made"])
def test_careless_answers_fail_only_because_facts_and_claims_are_scored(
    cases: list[Case],
    resolved: dict[str, tuple[Case, list[Fact], list[Fact]]],
    oracle_results: list[CaseResult],
    bare_tool_outputs: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    switched_off: str,
) -> None:
    """The mutation check: with every fact taken as found, or no claim ever made, some
    careless answer passes, so the test above depends on both."""
    monkeypatch.setattr(scoring, switched_off, lambda *args: switched_off == "fact_found")
    assert careless_passes(cases, resolved, oracle_results, bare_tool_outputs)


def test_every_case_forbids_claims_generated_from_the_ground_truth(
    resolved: dict[str, tuple[Case, list[Fact], list[Fact]]],
) -> None:
    for case_id, (_, facts, must_not) in resolved.items():
        assert [c for c in must_not if c.kind != "stranger"], case_id
        wanted = {f.text for f in facts if f.kind in ("name", "incident", "id")}
        assert not wanted & {o for c in must_not for o in c.options if c.kind != "stranger"}


def test_time_word_cases_ask_when_the_answer_is_not_now(
    cases: list[Case], resolved: dict[str, tuple[Case, list[Fact], list[Fact]]]
) -> None:
    """Each on-call case at a time word is asked for a team whose first line then is not who
    is on call now, and now's person is a forbidden claim."""
    account = build_account(7, FIXED_NOW)
    timed = [c for c in cases if any(s.kind == "oncall" and "at" in s.params for s in c.facts)]
    assert len(timed) >= 4
    for case in timed:
        filled, facts, must_not = resolved[case.id]
        spec = next(s for s in filled.facts if s.kind == "oncall" and "at" in s.params)
        now = {f.text for f in oncall(account, case.clock, spec.params | {"at": "now"})}
        then = {f.text for f in oncall(account, case.clock, spec.params)}
        assert now != then, case.id
        forbidden = {o for c in must_not if c.kind == "name" for o in c.options}
        assert now <= forbidden and not now & {f.text for f in facts}, case.id


def test_a_lookalike_fix_is_a_forbidden_claim(
    cases: list[Case],
    resolved: dict[str, tuple[Case, list[Fact], list[Fact]]],
    oracle_results: list[CaseResult],
) -> None:
    """Where the failure mode has a look-alike, its past fixes are forbidden: the oracle's
    answer plus one of them fails."""
    account = build_account(7, FIXED_NOW)
    answers = {r.id: r for r in oracle_results}
    checked = 0
    for case in cases:
        filled, facts, must_not = resolved[case.id]
        spec = next((s for s in filled.facts if s.kind in ("similar_fix", "past_fix")), None)
        if spec is None:
            continue
        incident = account.find_incident(spec.params["incident"])
        assert incident is not None
        for fix in lookalike_fixes(account, incident):
            answer = f"{answers[case.id].answer}\nOr: {fix}"
            score = score_answer(answer, facts, must_not, _outputs(answers[case.id]), FIXED_NOW)
            assert score.forbidden_made, (case.id, fix)
            checked += 1
    assert checked >= 4


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


def test_a_scripted_model_disagreeing_with_the_cases_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A truth the tools do not bear out (someone else on call): the oracle fails, exit 1."""
    monkeypatch.setitem(FACT_KINDS, "oncall", lambda *args: [Fact("name", "Nobody Atall")])
    code = main(["run", "--model", ORACLE, "--cases", "oncall-team-now", "--out", str(tmp_path)])
    assert code == 1 and "disagrees with the cases on oncall-team-now" in capsys.readouterr().err


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
