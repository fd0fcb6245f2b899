"""Similar-incident search: ranked, explained past incidents and their pattern, on any plan.

``find_similar_incidents`` reads the window's history through a ``PagerDutyAPI`` (its store,
synced on demand; each incident parsed once and its record kept in the store, parsed
histories kept per API), ranks it locally (normalised titles, TF-IDF word + char n-grams,
trigger details weighed by what tells the neighbours apart, same service, recency, optionally
PagerDuty's past_incidents score and any LangChain ``Embeddings``), fetches how the top matches
were resolved, and summarises the pattern (only incidents of the same cause, and why each was
counted). ``pd_toolkit.render`` turns the result into compact text for a model.
"""

from pd_toolkit.history.models import (
    HistoryQuery,
    IncidentRecord,
    Pattern,
    Resolution,
    ResolverCount,
    SimilarIncident,
    SimilarIncidents,
)
from pd_toolkit.history.normalize import normalize_title
from pd_toolkit.history.ranking import CandidateIndex, EmbeddingsLike
from pd_toolkit.history.search import find_similar_incidents, prefetch_resolutions
from pd_toolkit.store import fetch_incidents

__all__ = [
    "CandidateIndex",
    "EmbeddingsLike",
    "HistoryQuery",
    "IncidentRecord",
    "Pattern",
    "Resolution",
    "ResolverCount",
    "SimilarIncident",
    "SimilarIncidents",
    "fetch_incidents",
    "find_similar_incidents",
    "normalize_title",
    "prefetch_resolutions",
]
