"""Similar-incident retrieval quality, ranking latency and request cost, on the sandbox.

    python -m benchmarks.history

Ground truth is the sandbox's hidden failure mode of each incident. It is read only to pick the
queries and to score the rankings, never by the ranking. Both rankings see the same candidates
(the query incident's service over 180 days, which is the tool's default scope, or every
service) and exclude the query itself.
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.table import Table

from pd_toolkit import PagerDutyClient
from pd_toolkit.history import (
    CandidateIndex,
    IncidentRecord,
    clear_history_cache,
    fetch_incidents,
    find_similar_incidents,
)
from pd_toolkit.history.ranking import MIN_SIMILARITY
from pd_toolkit.sandbox import Sandbox

FIXED_NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
WINDOW_DAYS = 180
QUERIES_PER_MODE = 2
SEED = 20261118
K = 5
LATENCY_CANDIDATES = 10_000
LATENCY_QUERIES = 50
CONVERSATION_QUERIES = 10

Ranker = Callable[[IncidentRecord], list[str]]


@dataclass
class Scores:
    """Retrieval quality over a set of queries."""

    recall: float
    precision: float
    mrr: float
    empty: float
    r_precision: float
    lookalikes: float
    set_precision: float
    set_recall: float


def _tokens(title: str) -> set[str]:
    return set(re.findall(r"\w+", title.lower()))


def jaccard_ranking(query: IncidentRecord, candidates: Sequence[IncidentRecord]) -> list[str]:
    """The baseline: token Jaccard on raw titles (no normalisation), newest first on ties."""
    mine = _tokens(query.title)
    scored = []
    for record in candidates:
        theirs = _tokens(record.title)
        overlap = len(mine & theirs) / len(mine | theirs) if mine | theirs else 0.0
        if record.id != query.id and overlap > 0:
            scored.append((overlap, record.created_at, record.id))
    return [incident_id for *_, incident_id in sorted(scored, reverse=True)]


def our_ranking(
    query: IncidentRecord, index: CandidateIndex, min_similarity: float = MIN_SIMILARITY
) -> list[str]:
    """pd_toolkit's ranking, called as find_similar_incidents calls it (no PagerDuty scores)."""
    ranked = index.rank(
        query.normalized,
        now=FIXED_NOW,
        service_id=query.service_id,
        exclude_ids=frozenset({query.id}),
        min_similarity=min_similarity,
    )
    return [candidate.record.id for candidate in ranked]


def evaluate(
    ranker: Ranker,
    queries: Sequence[IncidentRecord],
    relevant_count: Callable[[IncidentRecord], int],
    mode_of: Callable[[str], str],
    twins: dict[str, set[str]],
) -> Scores:
    """recall@5, precision@5, MRR, the share of empty results, and the precision and recall of
    the whole returned set (what the pattern summary counts)."""
    hits, precisions, reciprocal, empty, set_precisions, set_recalls = 0, [], [], 0, [], []
    r_precisions, lookalikes = [], []
    for query in queries:
        mode = mode_of(query.id)
        found = [mode_of(incident_id) for incident_id in ranker(query)]
        good = [other == mode for other in found]
        relevant = relevant_count(query)
        r_precisions.append(sum(good[:relevant]) / relevant)
        if twins.get(mode):
            lookalikes.append(sum(other in twins[mode] for other in found[:K]) / K)
        hits += any(good[:K])
        precisions.append(sum(good[:K]) / min(K, relevant))
        first = next((rank for rank, ok in enumerate(good, start=1) if ok), None)
        reciprocal.append(1 / first if first else 0.0)
        empty += not good
        set_precisions.append(sum(good) / len(good) if good else 0.0)
        set_recalls.append(sum(good) / relevant)
    n = len(queries)
    return Scores(
        recall=hits / n,
        precision=statistics.mean(precisions),
        mrr=statistics.mean(reciprocal),
        empty=empty / n,
        r_precision=statistics.mean(r_precisions),
        lookalikes=statistics.mean(lookalikes) if lookalikes else 0.0,
        set_precision=statistics.mean(set_precisions),
        set_recall=statistics.mean(set_recalls),
    )


def pick_queries(
    records: Sequence[IncidentRecord],
    relevant_count: Callable[[IncidentRecord], int],
    mode_of: Callable[[str], str],
) -> list[IncidentRecord]:
    """Up to two incidents per mode (seeded), each with another incident of its mode in scope."""
    per_mode: dict[str, list[IncidentRecord]] = defaultdict(list)
    for record in sorted(records, key=lambda r: r.id):
        if relevant_count(record) > 0:
            per_mode[mode_of(record.id)].append(record)
    rng = random.Random(SEED)
    return [
        query
        for mode in sorted(per_mode)
        for query in rng.sample(per_mode[mode], min(QUERIES_PER_MODE, len(per_mode[mode])))
    ]


def resample(records: Sequence[IncidentRecord], size: int, *, unique: bool) -> list[IncidentRecord]:
    """``size`` candidates drawn from ``records`` with new ids (and, if ``unique``, a distinct
    extra word per title, so no two normalised titles coincide: the worst case for the index)."""
    rng = random.Random(SEED)
    out = []
    for n in range(size):
        record = rng.choice(records)
        extra = f" tok{n:05d}x" if unique else ""
        out.append(
            record.model_copy(update={"id": f"R{n:05d}", "normalized": record.normalized + extra})
        )
    return out


def latency(
    records: Sequence[IncidentRecord], queries: Sequence[IncidentRecord]
) -> tuple[float, float]:
    """(index build + first query, median of 3; median query on the built index), in ms."""
    builds = []
    for _ in range(3):
        started = time.perf_counter()
        index = CandidateIndex(records)
        our_ranking(queries[0], index)
        builds.append((time.perf_counter() - started) * 1000)
    timings = []
    for query in queries[:LATENCY_QUERIES]:
        started = time.perf_counter()
        our_ranking(query, index)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(builds), statistics.median(timings)


def conversation_requests(sandbox: Sandbox, queries: Sequence[IncidentRecord]) -> list[int]:
    """requests_used of successive default searches by one client (incident's service scope)."""
    client = PagerDutyClient(
        api_key=sandbox.api_key, base_url=sandbox.base_url, rate_limit_per_minute=None
    )
    clear_history_cache()
    by_id = {i["id"]: i for i in sandbox.account.incidents}
    used = []
    for query in [*queries, queries[0]]:
        result = find_similar_incidents(client, by_id[query.id], now=FIXED_NOW)
        used.append(result.requests_used)
    return used


def main() -> None:
    console = Console()
    with Sandbox(now=FIXED_NOW) as sandbox:
        account = sandbox.account
        modes = {i: mode for mode, ids in account.incident_ids_by_mode().items() for i in ids}
        mode_of = modes.__getitem__
        twins: dict[str, set[str]] = defaultdict(set)
        for info in account.modes:
            if info.lookalike:
                twins[info.name].add(info.lookalike)
                twins[info.lookalike].add(info.name)
        client = PagerDutyClient(
            api_key=sandbox.api_key, base_url=sandbox.base_url, rate_limit_per_minute=None
        )
        started = time.perf_counter()
        raw = fetch_incidents(client, FIXED_NOW - timedelta(days=WINDOW_DAYS), FIXED_NOW)
        fetch_seconds = time.perf_counter() - started
        fetch_requests = client.request_count
        records = [IncidentRecord.from_api(i) for i in raw if i["id"] in modes]
        by_service: dict[str | None, list[IncidentRecord]] = defaultdict(list)
        for record in records:
            by_service[record.service_id].append(record)

        def same_mode_in(
            pool_of: Callable[[IncidentRecord], Sequence[IncidentRecord]],
        ) -> Callable[[IncidentRecord], int]:
            """How many other incidents of the query's mode a scope holds."""
            return lambda q: sum(
                1 for c in pool_of(q) if c.id != q.id and mode_of(c.id) == mode_of(q.id)
            )

        service_relevant = same_mode_in(lambda q: by_service[q.service_id])

        queries = pick_queries(records, service_relevant, mode_of)
        service_index = {s: CandidateIndex(pool) for s, pool in by_service.items()}
        all_index = CandidateIndex(records)
        rows = []

        def other_titles(q: IncidentRecord) -> list[IncidentRecord]:
            return [c for c in by_service[q.service_id] if c.normalized != q.normalized]

        other_relevant = same_mode_in(other_titles)
        hard_queries = [q for q in queries if other_relevant(q) > 0]
        for scope, scope_queries, ours, unthresholded, base, relevant in (
            (
                "incident's service (default)",
                queries,
                lambda q: our_ranking(q, service_index[q.service_id]),
                lambda q: our_ranking(q, service_index[q.service_id], 0.0),
                lambda q: jaccard_ranking(q, by_service[q.service_id]),
                service_relevant,
            ),
            (
                "all services",
                queries,
                lambda q: our_ranking(q, all_index),
                lambda q: our_ranking(q, all_index, 0.0),
                lambda q: jaccard_ranking(q, records),
                same_mode_in(lambda q: records),
            ),
            (
                f"service, other titles only ({len(hard_queries)} queries)",
                hard_queries,
                lambda q: our_ranking(q, CandidateIndex(other_titles(q))),
                lambda q: our_ranking(q, CandidateIndex(other_titles(q)), 0.0),
                lambda q: jaccard_ranking(q, other_titles(q)),
                other_relevant,
            ),
        ):
            rows.append(
                (scope, "pd_toolkit", evaluate(ours, scope_queries, relevant, mode_of, twins))
            )
            rows.append(
                (
                    scope,
                    "pd_toolkit, no threshold",
                    evaluate(unthresholded, scope_queries, relevant, mode_of, twins),
                )
            )
            rows.append(
                (
                    scope,
                    "baseline: token Jaccard",
                    evaluate(base, scope_queries, relevant, mode_of, twins),
                )
            )

        resampled = resample(records, LATENCY_CANDIDATES, unique=False)
        worst = resample(records, LATENCY_CANDIDATES, unique=True)
        timing = {
            "resampled": latency(resampled, queries),
            "all distinct": latency(worst, queries),
        }
        distinct = {
            "resampled": len({r.normalized for r in resampled}),
            "all distinct": len({r.normalized for r in worst}),
        }
        conversation = conversation_requests(sandbox, queries[:CONVERSATION_QUERIES])

    console.print(
        f"[bold]Similar-incident search[/bold] on the sandbox at {FIXED_NOW:%Y-%m-%dT%H:%MZ}: "
        f"{len(records)} incidents in {WINDOW_DAYS} days, {len(set(modes.values()))} failure "
        f"modes, {len(queries)} query incidents ({QUERIES_PER_MODE} per mode, seed {SEED})."
    )
    quality = Table(title="Retrieval quality (ground truth: same failure mode)")
    columns = ("candidates", "ranking", "recall@5", "precision@5", "MRR", "R-precision")
    for column in (*columns, "look-alikes@5", "set precision", "set recall", "no result"):
        quality.add_column(
            column, justify="left" if column in ("candidates", "ranking") else "right"
        )
    for scope, name, s in rows:
        quality.add_row(
            scope,
            name,
            *(f"{v:.3f}" for v in (s.recall, s.precision, s.mrr, s.r_precision, s.lookalikes)),
            *(f"{v:.3f}" for v in (s.set_precision, s.set_recall)),
            f"{s.empty:.0%}",
        )
    console.print(quality)
    console.print(
        "recall@5: share of queries with at least one same-mode incident in the top 5. "
        "precision@5: same-mode share of the top 5, out of min(5, same-mode incidents in scope). "
        "MRR: mean of 1/rank of the first same-mode result (0 if none is returned). "
        "R-precision: same-mode share of the top R, R = same-mode incidents in scope. "
        "look-alikes@5: share of the top 5 taken by the query mode's look-alike twin (hard "
        "negatives; lower is better; over queries whose mode has a twin). "
        "set precision/recall: of everything returned (pd_toolkit: all above its similarity "
        "threshold, which the pattern summary counts; baseline: every title with a shared token)."
    )
    cost = Table(title="Cost")
    cost.add_column("measure")
    cost.add_column("value", justify="right")
    for label in ("resampled", "all distinct"):
        cold, warm = timing[label]
        cost.add_row(
            f"rank {LATENCY_CANDIDATES:,} candidates, {label} ({distinct[label]:,} distinct "
            "normalised titles): index build + query (median of 3)",
            f"{cold:.1f} ms",
        )
        cost.add_row(
            f"  ... then per query on the built index (median of {LATENCY_QUERIES})",
            f"{warm:.1f} ms",
        )
    cost.add_row(
        f"fetch all {len(raw):,} incidents of {WINDOW_DAYS} days (time-sliced)",
        f"{fetch_requests} requests, {fetch_seconds:.2f} s",
    )
    cost.add_row("requests, first search (cold cache, default scope)", str(conversation[0]))
    cost.add_row(
        f"requests per search, next {len(conversation) - 2} incidents (mean)",
        f"{statistics.mean(conversation[1:-1]):.1f}",
    )
    cost.add_row("requests, repeating the first search (warm cache)", str(conversation[-1]))
    console.print(cost)


if __name__ == "__main__":
    main()
