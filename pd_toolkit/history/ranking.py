"""Local similarity ranking: TF-IDF over normalised titles, weighted trigger details, plus
service and recency signals.

The title signal is the mean of two cosines: word 1-2-grams (what the title says) and
char_wb 3-5-grams (robust to "timeout"/"timed out", "postgres"/"postgresql"). Two incidents
with the same ``incident_key`` (dedup key) come from the same alert, so their title signal is 1
(the same alert, not necessarily the same cause: a generic alert fires for several).
Vectorisers are fitted once per fetched history on the *distinct* normalised texts, so ranking
10,000 candidates costs a transform of the query and a few sparse products.

The details signal is a weighted cosine of the triggers' normalised custom details (words and
word pairs within a field). Each term weighs what it tells apart in the query's neighbourhood
(its service's candidates): rarity there (idf plus ``IDF_FLOOR``: the endpoint every neighbour
carries counts little) times how consistently it follows the alert (the share of the term's
presence variance the normalised title explains, at least ``EXPLAINED_FLOOR``: a field every
incident of an alert carries counts, a host, pod or trace id present at random does not). So
the failing signal (p99 latency, 5xx rate, CPU saturation) outweighs the endpoint its
neighbours share, learnt from the history, with no field named.

Where both sides carry details, similarity = (1 - w) x title + w x details. The weight ``w``
grows from ``DETAIL_WEIGHT`` to ``DETAIL_WEIGHT_GENERIC`` with how generic the query's title is:
1 minus the mean pairwise weighted cosine of the details of the candidates that share the
query's alert (title similarity >= ``TWIN_SIMILARITY``), scaled by ``GENERIC_SPREAD``. Past
incidents of a generic title (an SLO burn-rate alert that fired for several causes, each with
its own details) disagree, and then the details decide; from ``GENERIC_ALERT`` on, the
alert's boilerplate (the terms nearly all of them carry) counts ``BOILERPLATE_KEPT`` of its
weight.

Two thresholds on relevance: ``SHOW_FLOOR`` admits a candidate to the ranked list (the top ones
are shown, each with its similarity), ``PATTERN_THRESHOLD`` admits it to the pattern count and
the recurrence list, which must stay precise. All were chosen on sandbox seed 7 only (the
highest floor that costs no recall@5 on the "other titles" split; the pattern threshold with
the best F1 of the pattern set); ``benchmarks/history.py`` reports them on held-out seeds.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, overload

import numpy as np
from scipy.sparse import csr_matrix

from pd_toolkit.history.models import IncidentRecord
from pd_toolkit.history.normalize import field_terms

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

SHOW_FLOOR = 0.05
PATTERN_THRESHOLD = 0.40
SAME_SERVICE_BONUS = 0.10
RECENCY_BONUS = 0.05
RECENCY_HALF_LIFE_DAYS = 90.0
PAGERDUTY_WEIGHT = 0.15
SEMANTIC_WEIGHT = 0.5
DETAIL_WEIGHT = 0.7
DETAIL_WEIGHT_GENERIC = 0.9
TWIN_SIMILARITY = 0.9
GENERIC_SPREAD = 0.4
BOILERPLATE_SHARE = 0.9
MIN_NEIGHBOURHOOD = 20
GROUP_SHRINK = 2.0
GENERIC_ALERT = 0.5
IDF_FLOOR = 0.5
EXPLAINED_FLOOR = 0.1
BOILERPLATE_KEPT = 0.2


class EmbeddingsLike(Protocol):
    """Any LangChain ``Embeddings`` (duck-typed, so langchain is not needed to rank)."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


@dataclass(frozen=True)
class ScoredCandidate:
    """One candidate that reached the floor, with its score parts."""

    record: IncidentRecord
    score: float
    relevance: float
    similarity: float
    same_service: bool
    pagerduty_score: float | None
    detail_similarity: float | None = None
    title_similarity: float = 0.0
    same_key: bool = False


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


class _CharTfidf:
    """char_wb 3-5-gram TF-IDF, analysing each distinct word once.

    char_wb pads and cuts every word on its own, so a title's n-gram counts are the sum of its
    words' counts: (title x word counts) @ (word x n-gram counts). Titles share most words, so
    this is several times faster than sklearn's analyser over whole titles, with equal output.
    """

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

        self._words = CountVectorizer(analyzer="word", token_pattern=r"\S+", lowercase=False)
        self._chars = CountVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=False)
        self._tfidf = TfidfTransformer(sublinear_tf=True)

    def fit_transform(self, titles: list[str]) -> csr_matrix:
        title_words = self._words.fit_transform(titles)
        word_chars = self._chars.fit_transform(self._words.get_feature_names_out())
        return self._tfidf.fit_transform(title_words @ word_chars)

    def transform(self, texts: list[str]) -> csr_matrix:
        return self._tfidf.transform(self._chars.transform(texts))


class _FieldTerms:
    """Which words and word pairs (within a field: :func:`field_terms`) each normalised
    details text carries, analysing each distinct field line once.

    Details texts share most of their lines (the same fields, the same values once
    normalised), so (text x lines) @ (line x terms) is several times faster than analysing
    every text, with equal output.
    """

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import CountVectorizer

        self._lines = CountVectorizer(analyzer=str.splitlines, binary=True)
        self._terms = CountVectorizer(analyzer=field_terms, binary=True)

    def fit_transform(self, texts: list[str]) -> csr_matrix:
        text_lines = self._lines.fit_transform(texts)
        line_terms = self._terms.fit_transform(list(self._lines.get_feature_names_out()))
        presence = csr_matrix(text_lines @ line_terms, dtype=float)
        presence.data[:] = 1.0
        return presence

    def transform(self, texts: list[str]) -> csr_matrix:
        return self._terms.transform(texts)

    @property
    def vocabulary_(self) -> dict[str, int]:
        return self._terms.vocabulary_


@dataclass(frozen=True)
class RankingColumns:
    """What ranking reads of the candidates, column by column (entry i: record i); the rest
    of a record is read for results only."""

    ids: list[str]
    normalized: list[str]
    normalized_details: list[str]
    service_ids: list[str | None]
    created_ts: list[float]
    incident_keys: list[str | None]

    @classmethod
    def of(cls, records: Sequence[IncidentRecord]) -> RankingColumns:
        return cls(
            [r.id for r in records],
            [r.normalized for r in records],
            [r.normalized_details for r in records],
            [r.service_id for r in records],
            [r.created_at.timestamp() for r in records],
            [r.incident_key for r in records],
        )

    def row(self, index: int) -> list[object]:
        """Record ``index``'s fields, in column order."""
        return [getattr(self, column.name)[index] for column in fields(self)]


class LazyRecords(Sequence[IncidentRecord]):
    """Records read when needed, several at once (:meth:`take`): ranking reads the
    :class:`RankingColumns`, the results a few records."""

    @abstractmethod
    def take(self, indices: Sequence[int]) -> list[IncidentRecord]:
        """Records ``indices``, in that order."""

    @overload
    def __getitem__(self, index: int) -> IncidentRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[IncidentRecord]: ...

    def __getitem__(self, index: int | slice) -> IncidentRecord | list[IncidentRecord]:
        if isinstance(index, slice):
            return self.take(range(*index.indices(len(self))))
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self.take([index % len(self)])[0]

    def __iter__(self) -> Iterator[IncidentRecord]:
        return iter(self[:])


def take_records(records: Sequence[IncidentRecord], indices: list[int]) -> list[IncidentRecord]:
    """Records ``indices`` of ``records``, read at once when they are :class:`LazyRecords`."""
    if isinstance(records, LazyRecords):
        return records.take(indices)
    return [records[i] for i in indices]


class CandidateIndex:
    """A TF-IDF index over candidate incidents; build once per history, query many times.

    ``columns`` (what ranking reads of ``records``) spares reading the records: a history
    kept in the store passes records parsed only when a result needs them."""

    def __init__(
        self,
        records: Sequence[IncidentRecord],
        columns: RankingColumns | None = None,
    ) -> None:
        # scikit-learn is imported by the first index, not when the tools are loaded.
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.records = records if columns is not None else list(records)
        if columns is None:
            columns = RankingColumns.of(self.records)
        self.titles: list[str] = sorted(set(columns.normalized))
        position = {title: i for i, title in enumerate(self.titles)}
        self._rows = np.array([position[t] for t in columns.normalized], dtype=np.intp)
        self._created = np.array(columns.created_ts, dtype=float)
        self._services = np.array([s or "" for s in columns.service_ids], dtype=object)
        self._ids = np.array(columns.ids, dtype=object)
        self._keys = np.array([k or "" for k in columns.incident_keys], dtype=object)
        self._position = {incident_id: i for i, incident_id in enumerate(columns.ids)}
        self._word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)
        self._char = _CharTfidf()
        self._word_matrix = self._fit(self._word, self.titles)
        self._char_matrix = self._fit(self._char, self.titles)
        self.details: list[str] = sorted(set(columns.normalized_details) - {""})
        detail_position = {text: i for i, text in enumerate(self.details)}
        self._detail_rows = np.array(
            [detail_position.get(text, -1) for text in columns.normalized_details], dtype=np.intp
        )
        self._detail = _FieldTerms()
        self._detail_matrix = self._fit(self._detail, self.details)
        self._contrast: dict[str, np.ndarray] = {}
        self._semantic: dict[int, tuple[EmbeddingsLike, np.ndarray]] = {}

    @staticmethod
    def _fit(
        vectorizer: TfidfVectorizer | _CharTfidf | _FieldTerms, texts: list[str]
    ) -> csr_matrix | None:
        try:
            return csr_matrix(vectorizer.fit_transform(texts), dtype=float)
        except ValueError:  # no texts, or none with a usable term
            return None

    def get(self, incident_id: str) -> IncidentRecord | None:
        """The candidate with this id, if any."""
        position = self._position.get(incident_id)
        return self.records[position] if position is not None else None

    def contrast_weights(self, service_id: str | None = None) -> np.ndarray:
        """Per detail term, how much it tells apart the incidents of the query's neighbourhood
        (its service's candidates, when there are ``MIN_NEIGHBOURHOOD``; else all):
        rarity there (idf plus ``IDF_FLOOR``: the endpoint they all share counts little)
        times how consistently it follows the title (the share of its presence's variance
        explained by the normalised title, title groups shrunk by ``GROUP_SHRINK``, at least
        ``EXPLAINED_FLOOR``: a field every incident of one alert carries scores high, a host,
        pod or trace id present at random scores low). Cached per neighbourhood."""
        key = service_id or ""
        if key in self._contrast:
            return self._contrast[key]
        assert self._detail_matrix is not None
        mask = self._services == service_id if service_id else np.ones(len(self.records), bool)
        if mask.sum() < MIN_NEIGHBOURHOOD:
            mask = np.ones(len(self.records), bool)
        rows, groups = self._detail_rows[mask], self._rows[mask]
        rows, groups = rows[rows >= 0], groups[rows >= 0]
        weights = np.ones(self._detail_matrix.shape[1])
        n = len(rows)
        if n >= 2:
            local, group = np.unique(groups, return_inverse=True)
            members = csr_matrix(
                (np.ones(n), (group, rows)), shape=(len(local), self._detail_matrix.shape[0])
            )
            sums = members @ self._detail_matrix  # per title group, how many carry each term
            size = np.asarray(members.sum(axis=1)).ravel()
            carried = np.asarray(sums.sum(axis=0)).ravel()
            share = carried / n
            scale = size / (size + GROUP_SHRINK) ** 2
            between = (
                np.asarray(sums.multiply(sums).T @ scale).ravel()
                - 2 * share * np.asarray(sums.T @ (scale * size)).ravel()
                + share**2 * float(scale @ size**2)
            )
            total = carried * (1 - share)
            explained = np.clip(
                np.divide(between, total, out=np.ones_like(total), where=total > 0),
                EXPLAINED_FLOOR,
                1.0,
            )
            weights = (np.log((n + 1) / (carried + 1)) + IDF_FLOOR) * explained
        self._contrast[key] = weights
        return weights

    def _twin_profile(
        self, twins: np.ndarray, weights: np.ndarray
    ) -> tuple[float, np.ndarray | None]:
        """(genericity, boilerplate) of the candidates in ``twins`` (a mask), from the details
        of those that carry any, weighted by ``weights``. Genericity: 1 - their mean pairwise
        cosine, scaled by ``GENERIC_SPREAD`` and capped at 1 (0 when they all carried alike
        details, or fewer than two carry any). Boilerplate: the terms at least
        ``BOILERPLATE_SHARE`` of them carry (the alert's own fields), or None."""
        rows = self._detail_rows[twins]
        rows = rows[rows >= 0]
        n = len(rows)
        if n < 2 or self._detail_matrix is None:
            return 0.0, None
        distinct, counts = np.unique(rows, return_counts=True)
        presence = self._detail_matrix[distinct]
        weighted = presence.multiply(csr_matrix(weights)).tocsr()
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        unit = csr_matrix(weighted.multiply(1 / np.where(norms > 0, norms, 1.0)[:, None]))
        total = unit.T @ counts.astype(float)  # the sum of the twins' unit vectors
        mean_cosine = (float(total @ total) - n) / (n * (n - 1))
        generic = float(np.clip((1.0 - mean_cosine) / GENERIC_SPREAD, 0.0, 1.0))
        share = (presence.T @ counts.astype(float)) / n
        return generic, share >= BOILERPLATE_SHARE

    def detail_similarity(
        self,
        normalized_details: str,
        weights: np.ndarray | None = None,
        boilerplate: np.ndarray | None = None,
    ) -> np.ndarray:
        """Weighted cosine of the query's details against every candidate's (0 without
        details): each term counts ``weights`` (default 1). The ``boilerplate`` terms are left
        out of the query, unless nothing else is left."""
        if self._detail_matrix is None or not normalized_details:
            return np.zeros(len(self.records))
        query = self._detail.transform([normalized_details]).toarray().ravel().astype(float)
        if boilerplate is not None and (query * ~boilerplate).any():
            query = query * np.where(boilerplate, BOILERPLATE_KEPT, 1.0)
        squared = np.ones_like(query) if weights is None else weights**2
        norms = np.sqrt(self._detail_matrix @ squared)
        query_norm = np.sqrt(float(query @ squared))
        if query_norm == 0:
            return np.zeros(len(self.records))
        dots = self._detail_matrix @ (query * squared)
        per_text = np.divide(dots, norms * query_norm, out=np.zeros_like(dots), where=norms > 0)
        return np.where(self._detail_rows >= 0, per_text[self._detail_rows], 0.0)

    def text_similarity(self, normalized_query: str) -> np.ndarray:
        """Cosine of the query against every distinct title (mean of word and char TF-IDF)."""
        total = np.zeros(len(self.titles))
        for vectorizer, matrix in (
            (self._word, self._word_matrix),
            (self._char, self._char_matrix),
        ):
            if matrix is not None and normalized_query:
                total += (matrix @ vectorizer.transform([normalized_query]).T).toarray().ravel()
        return total / 2.0

    def semantic_similarity(self, query: str, embeddings: EmbeddingsLike) -> np.ndarray:
        """Cosine of embedded query vs embedded distinct titles (titles embedded once)."""
        key = id(embeddings)
        if key not in self._semantic:
            vectors = embeddings.embed_documents(self.titles) if self.titles else []
            matrix = np.asarray(vectors, dtype=float).reshape(len(self.titles), -1)
            self._semantic[key] = (embeddings, _unit_rows(matrix))
        query_vector = _unit_rows(np.asarray([embeddings.embed_query(query)], dtype=float))[0]
        return np.clip(self._semantic[key][1] @ query_vector, 0.0, 1.0)

    def rank(
        self,
        normalized_query: str,
        *,
        now: datetime,
        normalized_details: str = "",
        incident_key: str | None = None,
        service_id: str | None = None,
        exclude_ids: frozenset[str] = frozenset(),
        pagerduty_scores: Mapping[str, float] | None = None,
        embeddings: EmbeddingsLike | None = None,
        min_similarity: float = SHOW_FLOOR,
        top: int | None = None,
        strong_above: float = PATTERN_THRESHOLD,
    ) -> list[ScoredCandidate]:
        """Every candidate whose relevance reaches ``min_similarity``, best first; with
        ``top``, only the ``top`` best and any others whose relevance reaches ``strong_above``
        (the rest are never read: what a search shows and counts).

        similarity = title signal, blended with the details signal (see the module docstring)
        where the query (``normalized_details``) and the candidate both carry details;
        relevance = similarity (+ PAGERDUTY_WEIGHT x PagerDuty's score / 100 when given);
        score = relevance + SAME_SERVICE_BONUS (same service) + RECENCY_BONUS x 2^(-age/90d).
        The bonuses order matches but never let an unrelated incident through; compare
        ``relevance`` with ``PATTERN_THRESHOLD`` to tell strong matches from weak ones.
        """
        if not self.records:
            return []
        per_title = self.text_similarity(normalized_query)
        if embeddings is not None:
            semantic = self.semantic_similarity(normalized_query, embeddings)
            per_title = (1 - SEMANTIC_WEIGHT) * per_title + SEMANTIC_WEIGHT * semantic
        title = per_title[self._rows]
        same_key = self._keys == incident_key if incident_key else np.zeros(len(self.records), bool)
        worded = title.copy()
        title = np.where(same_key, 1.0, title)
        has_details = self._detail_rows >= 0
        detail: np.ndarray | None = None
        similarity = title
        if normalized_details and has_details.any():
            twins = (title >= TWIN_SIMILARITY) & ~np.isin(self._ids, list(exclude_ids))
            weights = self.contrast_weights(service_id)
            generic, boilerplate = self._twin_profile(twins, weights)
            detail = self.detail_similarity(
                normalized_details, weights, boilerplate if generic >= GENERIC_ALERT else None
            )
            weight = DETAIL_WEIGHT + (DETAIL_WEIGHT_GENERIC - DETAIL_WEIGHT) * generic
            similarity = np.where(has_details, (1 - weight) * title + weight * detail, title)
        relevance = similarity.copy()
        pd_scores = pagerduty_scores or {}
        if pd_scores:
            relevance += PAGERDUTY_WEIGHT * np.array(
                [min(pd_scores.get(i, 0.0), 100.0) / 100.0 for i in self._ids.tolist()]
            )
        same_service = (
            self._services == service_id if service_id else np.zeros(len(self.records), bool)
        )
        age_days = np.maximum(0.0, (now.timestamp() - self._created) / 86_400)
        score = (
            relevance
            + SAME_SERVICE_BONUS * same_service
            + RECENCY_BONUS * np.exp2(-age_days / RECENCY_HALF_LIFE_DAYS)
        )
        relevance, score = relevance.round(4), score.round(4)
        eligible = np.flatnonzero(relevance >= min_similarity)
        # Equal scores as shown (4 decimals): the newest first.
        order = eligible[np.lexsort((-self._created[eligible], -score[eligible]))]
        if exclude_ids:
            order = order[~np.isin(self._ids[order], list(exclude_ids))]
        if top is not None:
            order = order[(np.arange(len(order)) < top) | (relevance[order] >= strong_above)]
        records = take_records(self.records, order.tolist())
        known = has_details & (detail is not None)
        shown = detail.round(4) if detail is not None else np.zeros(len(self.records))
        return [
            ScoredCandidate(
                record=record,
                score=total,
                relevance=relevant,
                similarity=similar,
                same_service=same,
                pagerduty_score=pd_scores.get(record.id),
                detail_similarity=details,
                title_similarity=worded_alike,
                same_key=keyed,
            )
            for record, total, relevant, similar, same, details, worded_alike, keyed in zip(
                records,
                score[order].tolist(),
                relevance[order].tolist(),
                similarity[order].round(4).tolist(),
                same_service[order].tolist(),
                [
                    d if k else None
                    for d, k in zip(shown[order].tolist(), known[order], strict=True)
                ],
                worded[order].round(4).tolist(),
                same_key[order].tolist(),
                strict=True,
            )
        ]
