"""Ranking quality against the sandbox's hidden ground truth (its failure modes).

The same measures as ``benchmarks/history.py`` (which prints them for the tuning seed and two
held-out seeds), on the tests' sandbox (seed 7 at FIXED_NOW, the honest sandbox: noisy details,
neighbouring causes on one endpoint, renamed monitors). The thresholds sit slightly below what
the benchmark measures, so dropping a ranking signal fails here: without the trigger details,
look-alike top-1 falls to about 1 in 3 and the recurrence list loses its precision.
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.history import (
    HARD,
    OURS,
    AnswerScores,
    answer_scores,
    run_seed,
    sandbox_records,
    sandbox_truth,
    score,
)
from pd_toolkit.history.ranking import PATTERN_THRESHOLD, SHOW_FLOOR

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def answers(sandbox: Any) -> dict[bool, AnswerScores]:
    records = sandbox_records(sandbox)
    truth = sandbox_truth(sandbox)
    return {details: answer_scores(records, truth, details=details) for details in (True, False)}


def test_lookalikes_are_told_apart_by_their_trigger_details(
    answers: dict[bool, AnswerScores],
) -> None:
    ours, title_only = answers[True], answers[False]
    assert ours.lookalike_queries >= 150
    assert ours.top1 >= 0.95 and ours.first_fix >= 0.95
    # The queries are hard: by title alone the right cause comes first about 1 time in 3.
    assert title_only.top1 <= 0.5 and title_only.first_fix <= 0.5


def test_the_most_recent_recurrences_are_shown_however_worded_and_only_them(
    answers: dict[bool, AnswerScores],
) -> None:
    ours, title_only = answers[True], answers[False]
    assert ours.recurrence_queries >= 300
    assert ours.recent_recall >= 0.93 and ours.recent_recall_reworded >= 0.9
    assert ours.recent_precision >= 0.96
    assert ours.count_within >= 0.8 and abs(ours.count_error) <= 0.05
    assert title_only.recent_recall <= 0.6 and title_only.recent_recall_reworded <= 0.2


def test_other_wordings_are_found(sandbox: Any) -> None:
    run, _, _ = run_seed(sandbox)
    for split in HARD:
        scores = score(run.rankings[split, OURS], SHOW_FLOOR, PATTERN_THRESHOLD)
        assert scores.queries >= 50
        assert scores.recall >= 0.9, split
