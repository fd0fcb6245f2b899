"""The persistent incident store: what history needs, kept across processes and shared.

``open_store(spec)`` opens the store named by ``spec`` (its caller owns and closes it), else by
``PD_TOOLKIT_STORE``, else the SQLite file ``${XDG_CACHE_HOME:-~/.cache}/pd_toolkit/store.db``;
``memory`` keeps nothing on disk; any SQLAlchemy URL works (``postgresql+psycopg://...`` for a
store a team's workers share). ``sync_incidents`` fills it from PagerDuty. Partitions unused for
``PD_TOOLKIT_STORE_PRUNE_DAYS`` are dropped; every failure is a ``PagerDutyStoreError``.
Dependencies point one way: history -> store -> client.
"""

from pd_toolkit.store.compact import compact_incident
from pd_toolkit.store.db import (
    ENV_VAR,
    PRUNE_ENV,
    SCHEMA_VERSION,
    TIMEOUT_ENV,
    IncidentStore,
    PartitionInfo,
    StoreStats,
    UpsertCount,
    default_store_path,
    default_to_memory,
    open_store,
    store_url,
)
from pd_toolkit.store.sync import (
    SyncReport,
    fetch_incidents,
    iter_slices,
    scope_key,
    sync_incidents,
)

__all__ = [
    "ENV_VAR",
    "PRUNE_ENV",
    "SCHEMA_VERSION",
    "TIMEOUT_ENV",
    "IncidentStore",
    "PartitionInfo",
    "StoreStats",
    "SyncReport",
    "UpsertCount",
    "compact_incident",
    "default_store_path",
    "default_to_memory",
    "fetch_incidents",
    "iter_slices",
    "open_store",
    "scope_key",
    "store_url",
    "sync_incidents",
]
