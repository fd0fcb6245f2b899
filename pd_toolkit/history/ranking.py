"""Local similarity ranking: TF-IDF over normalised titles and trigger details, plus service
and recency signals.

The title signal is the mean of two cosines: word 1-2-grams (what the title says) and
char_wb 3-5-grams (robust to "timeout"/"timed out", "postgres"/"postgresql"). Two incidents
with the same ``incident_key`` (dedup key) come from the same alert, so their title signal is 1.
The details signal is the word 1-2-gram cosine of the triggers' normalised custom details.
Vectorisers are fitted once per fetched history on the *distinct* normalised texts, so ranking
10,000 candidates costs a transform of the query and a few sparse products.

Where both sides carry details, similarity = (1 - w) x title + w x details. The weight ``w``
grows from ``DETAIL_WEIGHT`` to ``DETAIL_WEIGHT_GENERIC`` with how generic the query's title is:
1 minus the mean pairwise cosine of the details of the candidates that share the query's alert
(title similarity >= ``TWIN_SIMILARITY``). A title whose past incidents all carried the same
details is specific (w stays low); an SLO burn-rate alert that fired for several causes, each
with its own details, is generic, and then the details decide, compared without the alert's
boilerplate (the terms nearly all of those candidates carry).

Two thresholds on relevance: ``SHOW_FLOOR`` admits a candidate to the ranked list (the top ones
are shown, each with its similarity), ``PATTERN_THRESHOLD`` admits it to the pattern count,
which must stay precise. Both were chosen on sandbox seed 7 only (the highest floor that costs
no recall@5 on the "other titles" split; the pattern threshold with the best F0.5 of the
pattern set); ``benchmarks/history.py`` reports them on held-out seeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import numpy as np
from scipy.sparse import csr_matrix

from pd_toolkit.history.models import IncidentRecord

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

SHOW_FLOOR = 0.05
PATTERN_THRESHOLD = 0.25
SAME_SERVICE_BONUS = 0.10
RECENCY_BONUS = 0.05
RECENCY_HALF_LIFE_DAYS = 90.0
PAGERDUTY_WEIGHT = 0.15
SEMANTIC_WEIGHT = 0.5
DETAIL_WEIGHT = 0.3
DETAIL_WEIGHT_GENERIC = 0.9
TWIN_SIMILARITY = 0.9
GENERIC_SPREAD = 0.4
BOILERPLATE_SHARE = 0.9


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


class CandidateIndex:
    """A TF-IDF index over candidate incidents; build once per history, query many times."""

    def __init__(self, records: Sequence[IncidentRecord]) -> None:
        # scikit-learn is imported by the first index, not when the tools are loaded.
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.records = list(records)
        self.titles: list[str] = sorted({record.normalized for record in self.records})
        position = {title: i for i, title in enumerate(self.titles)}
        self._rows = np.array([position[r.normalized] for r in self.records], dtype=np.intp)
        self._created = np.array([r.created_at.timestamp() for r in self.records], dtype=float)
        self._services = np.array([r.service_id or "" for r in self.records], dtype=object)
        self._ids = np.array([r.id for r in self.records], dtype=object)
        self._keys = np.array([r.incident_key or "" for r in self.records], dtype=object)
        self._by_id = {r.id: r for r in self.records}
        self._word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)
        self._char = _CharTfidf()
        self._word_matrix = self._fit(self._word, self.titles)
        self._char_matrix = self._fit(self._char, self.titles)
        self.details: list[str] = sorted({r.normalized_details for r in self.records} - {""})
        detail_position = {text: i for i, text in enumerate(self.details)}
        self._detail_rows = np.array(
            [detail_position.get(r.normalized_details, -1) for r in self.records], dtype=np.intp
        )
        self._detail = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)
        self._detail_matrix = self._fit(self._detail, self.details)
        self._detail_presence = (
            None if self._detail_matrix is None else (self._detail_matrix > 0).astype(float)
        )
        self._semantic: dict[int, tuple[EmbeddingsLike, np.ndarray]] = {}

    @staticmethod
    def _fit(vectorizer: TfidfVectorizer | _CharTfidf, texts: list[str]) -> csr_matrix | None:
        try:
            return vectorizer.fit_transform(texts)
        except ValueError:  # no texts, or none with a usable term
            return None

    def get(self, incident_id: str) -> IncidentRecord | None:
        """The candidate with this id, if any."""
        return self._by_id.get(incident_id)

    def _twin_profile(self, twins: np.ndarray) -> tuple[float, np.ndarray | None]:
        """(genericity, boilerplate) of the candidates in ``twins`` (a mask), from the details
        of those that carry any. Genericity: 1 - their mean pairwise cosine, scaled by
        ``GENERIC_SPREAD`` and capped at 1 (0 when they all carried the same details, or fewer
        than two carry any). Boilerplate: the terms at least ``BOILERPLATE_SHARE`` of them
        carry (the alert's own fields), or None."""
        rows = self._detail_rows[twins]
        rows = rows[rows >= 0]
        n = len(rows)
        if n < 2 or self._detail_matrix is None or self._detail_presence is None:
            return 0.0, None
        counts = csr_matrix(np.bincount(rows, minlength=len(self.details)).astype(float))
        total = counts @ self._detail_matrix  # the sum of the twins' unit vectors
        mean_cosine = (float(total.multiply(total).sum()) - n) / (n * (n - 1))
        generic = float(np.clip((1.0 - mean_cosine) / GENERIC_SPREAD, 0.0, 1.0))
        share = (counts @ self._detail_presence).toarray().ravel() / n
        return generic, share >= BOILERPLATE_SHARE

    def detail_similarity(
        self, normalized_details: str, boilerplate: np.ndarray | None = None
    ) -> np.ndarray:
        """Cosine of the query's details against every candidate's (0 without details). The
        ``boilerplate`` terms are left out of the query, unless nothing else is left."""
        if self._detail_matrix is None or not normalized_details:
            return np.zeros(len(self.records))
        query = self._detail.transform([normalized_details])
        if boilerplate is not None:
            kept = query.multiply(csr_matrix(~boilerplate)).tocsr()
            if kept.nnz:
                query = kept / np.sqrt(kept.multiply(kept).sum())
        per_text = (self._detail_matrix @ query.T).toarray().ravel()
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
    ) -> list[ScoredCandidate]:
        """Every candidate whose relevance reaches ``min_similarity``, best first.

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
        if incident_key:
            title = np.where(self._keys == incident_key, 1.0, title)
        has_details = self._detail_rows >= 0
        detail: np.ndarray | None = None
        similarity = title
        if normalized_details and has_details.any():
            twins = (title >= TWIN_SIMILARITY) & ~np.isin(self._ids, list(exclude_ids))
            generic, boilerplate = self._twin_profile(twins)
            detail = self.detail_similarity(normalized_details, boilerplate)
            weight = DETAIL_WEIGHT + (DETAIL_WEIGHT_GENERIC - DETAIL_WEIGHT) * generic
            similarity = np.where(has_details, (1 - weight) * title + weight * detail, title)
        relevance = similarity.copy()
        pd_scores = pagerduty_scores or {}
        if pd_scores:
            relevance += PAGERDUTY_WEIGHT * np.array(
                [min(pd_scores.get(r.id, 0.0), 100.0) / 100.0 for r in self.records]
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
        relevance = relevance.round(4)
        eligible = np.flatnonzero(relevance >= min_similarity)
        order = eligible[np.lexsort((-self._created[eligible], -score[eligible]))]
        records = [self.records[i] for i in order.tolist()]
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
            )
            for record, total, relevant, similar, same, details in zip(
                records,
                score[order].round(4).tolist(),
                relevance[order].tolist(),
                similarity[order].round(4).tolist(),
                same_service[order].tolist(),
                [
                    d if k else None
                    for d, k in zip(shown[order].tolist(), known[order], strict=True)
                ],
                strict=True,
            )
            if record.id not in exclude_ids
        ]
