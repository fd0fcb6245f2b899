"""IncidentStore: incidents, resolutions, per-account facts and sync state, on SQLAlchemy Core.

One code path serves every backend: a SQLite file (the default), an in-memory SQLite database
(``memory``), or any SQLAlchemy URL (PostgreSQL via psycopg 3, ``postgresql+psycopg://...``).

**Isolation.** Every row belongs to a *partition*: ``scrypt(API key + API host, store salt)``
(see :meth:`PagerDutyClient.credential_fingerprint`). The salt is random per store, kept in its
``pdtk_meta`` table. So each credential on each host has its own partition: a user key (which
sees only what its user may see) never reads what an account key or another user's key stored,
and one sandbox or region never answers for another. The store holds neither the key nor
anything it could be recovered from (scrypt is one-way and deliberately slow to brute-force).
The price: two different keys of one account sync separately.

**Schema.** ``pdtk_meta.schema_version`` is checked on open; a store written by another version
(older or newer) is dropped and rebuilt: it is a cache of PagerDuty, so rebuilding loses
nothing that the next sync does not fetch again, and nothing is ever read in a shape it was
not written in.

**Concurrency.** Writes are serialised per store (SQLite: ``BEGIN IMMEDIATE`` + WAL + a busy
timeout) or per partition (PostgreSQL: a transaction-scoped advisory lock), and every sync step
writes its incidents and its coverage in one transaction, so concurrent syncs and killed syncs
leave a consistent store.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    inspect,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

SCHEMA_VERSION = 1
ENV_VAR = "PD_TOOLKIT_STORE"
MEMORY = "memory"
DEFAULT_FILENAME = "store.db"
ALL_SCOPE = "all"
_CHUNK = 500
_SCHEMA_LOCK = 0x5044544B  # "PDTK": the advisory lock taken while (re)building the schema

metadata = MetaData()
meta_table = Table(
    "pdtk_meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
partitions_table = Table(
    "pdtk_partitions",
    metadata,
    Column("partition", String(64), primary_key=True),
    Column("revision", BigInteger, nullable=False),
)
incidents_table = Table(
    "pdtk_incidents",
    metadata,
    Column("partition", String(64), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("created_ts", BigInteger, nullable=False),
    Column("service_id", String(64)),
    Column("status", String(32), nullable=False),
    Column("data", Text, nullable=False),
    Index("pdtk_incidents_created", "partition", "created_ts"),
    Index("pdtk_incidents_status", "partition", "status"),
)
resolutions_table = Table(
    "pdtk_resolutions",
    metadata,
    Column("partition", String(64), primary_key=True),
    Column("incident_id", String(64), primary_key=True),
    Column("data", Text, nullable=False),  # JSON; "null" = resolved with nothing to show
)
facts_table = Table(
    "pdtk_facts",
    metadata,
    Column("partition", String(64), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_ts", BigInteger, nullable=False),
)
slices_table = Table(
    "pdtk_slices",
    metadata,
    Column("partition", String(64), primary_key=True),
    Column("scope", String(512), primary_key=True),
    Column("since_ts", BigInteger, primary_key=True),
    Column("until_ts", BigInteger, nullable=False),
)


class Credentialed(Protocol):
    """What the store needs of a client: a one-way fingerprint of its credential."""

    def credential_fingerprint(self, salt: bytes) -> str: ...


def epoch(value: datetime | str) -> int:
    """Seconds since the epoch of an aware datetime or an ISO-8601 string ('...Z' allowed)."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def merge_intervals(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping union of [since, until) intervals (touching ones joined)."""
    merged: list[tuple[int, int]] = []
    for since, until in sorted(intervals):
        if merged and since <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], until))
        else:
            merged.append((since, until))
    return merged


@dataclass(frozen=True)
class StoreStats:
    """What a store (or one partition of it) holds."""

    incidents: int
    resolutions: int
    facts: int
    bytes_on_disk: int | None


@dataclass(frozen=True)
class UpsertCount:
    """Incidents a write added and changed (unchanged ones are not rewritten)."""

    added: int = 0
    updated: int = 0

    def __add__(self, other: UpsertCount) -> UpsertCount:
        return UpsertCount(self.added + other.added, self.updated + other.updated)


def default_store_path(environ: Mapping[str, str] | None = None) -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/pd_toolkit/store.db``."""
    env = os.environ if environ is None else environ
    cache = env.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(cache) / "pd_toolkit" / DEFAULT_FILENAME


def sqlite_engine(target: str | None) -> Engine:
    """A SQLite engine whose every transaction is ``BEGIN IMMEDIATE`` (writers wait, never
    deadlock); a file gets WAL and a 30 s busy timeout; ``None`` is one shared in-memory db."""
    if target is None:
        engine = create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        engine = create_engine(
            f"sqlite:///{target}", connect_args={"timeout": 30, "check_same_thread": False}
        )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below start transactions
        cursor = dbapi_connection.cursor()
        if target is not None:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class IncidentStore:
    """The persistent incident store (see the module docstring). Thread-safe.

    Build one with :func:`open_store`; ``IncidentStore(url)`` takes a SQLAlchemy URL,
    ``IncidentStore.memory()`` a private in-memory one.
    """

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        parsed = make_url(url)
        self.backend = parsed.get_backend_name()
        if self.backend not in ("sqlite", "postgresql"):
            raise ValueError(
                f"Unsupported store backend {self.backend!r}: use SQLite or PostgreSQL"
            )
        self.location = parsed.render_as_string(hide_password=True)
        self.path: Path | None = None
        if engine is None and self.backend == "sqlite":
            database = parsed.database or None
            if database and database != ":memory:":
                self.path = Path(database)
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                self.path.touch(mode=0o600, exist_ok=True)
            engine = sqlite_engine(str(self.path) if self.path else None)
        self.engine = engine or create_engine(url, pool_pre_ping=True)
        # An in-memory SQLite database is one connection: one user at a time.
        self._serial: AbstractContextManager[Any] = (
            threading.RLock() if self.backend == "sqlite" and self.path is None else nullcontext()
        )
        self.salt = self._prepare()

    @classmethod
    def memory(cls) -> IncidentStore:
        return cls("sqlite://")

    def __repr__(self) -> str:
        return f"IncidentStore({self.location!r})"

    def close(self) -> None:
        self.engine.dispose()

    # -- transactions and schema -------------------------------------------------------

    @contextmanager
    def _begin(self, partition: str | None = None) -> Iterator[Connection]:
        """A write transaction, holding the partition's (or the schema's) lock."""
        with self._serial, self.engine.begin() as conn:
            if self.backend == "postgresql":
                key = func.hashtext(partition) if partition is not None else _SCHEMA_LOCK
                conn.execute(select(func.pg_advisory_xact_lock(key)))
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._serial, self.engine.connect() as conn:
            yield conn

    def _prepare(self) -> bytes:
        """Create the schema, or rebuild one of another version; the partition salt."""
        with self._begin() as conn:
            if inspect(conn).has_table(meta_table.name):
                rows = dict(conn.execute(select(meta_table.c.name, meta_table.c.value)).all())
                if rows.get("schema_version") == str(SCHEMA_VERSION) and rows.get("salt"):
                    return bytes.fromhex(rows["salt"])
                metadata.drop_all(conn)
            metadata.create_all(conn)
            salt = secrets.token_bytes(16)
            conn.execute(
                meta_table.insert(),
                [
                    {"name": "schema_version", "value": str(SCHEMA_VERSION)},
                    {"name": "salt", "value": salt.hex()},
                ],
            )
            return salt

    def schema_version(self) -> int:
        with self._read() as conn:
            value = conn.scalar(
                select(meta_table.c.value).where(meta_table.c.name == "schema_version")
            )
        return int(value) if value is not None else 0

    def partition(self, client: Credentialed) -> str:
        """The partition of ``client``'s credential (see the module docstring)."""
        return client.credential_fingerprint(self.salt)

    def _insert(self, table: Table) -> Any:
        """The dialect's INSERT, which has ``on_conflict_do_update`` on both backends."""
        return (postgresql if self.backend == "postgresql" else sqlite).insert(table)

    def _bump(self, conn: Connection, partition: str) -> None:
        stmt = self._insert(partitions_table).values(partition=partition, revision=1)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["partition"],
                set_={"revision": partitions_table.c.revision + 1},
            )
        )

    # -- incidents ---------------------------------------------------------------------

    def _upsert(
        self, conn: Connection, partition: str, incidents: Sequence[Mapping[str, Any]]
    ) -> UpsertCount:
        rows = {
            str(i["id"]): {
                "partition": partition,
                "id": str(i["id"]),
                "created_ts": epoch(str(i["created_at"])),
                "service_id": (i.get("service") or {}).get("id"),
                "status": str(i.get("status") or "unknown"),
                "data": json.dumps(i, sort_keys=True, separators=(",", ":")),
            }
            for i in incidents
        }
        existing: dict[str, str] = {}
        ids = list(rows)
        for start in range(0, len(ids), _CHUNK):
            existing.update(
                conn.execute(
                    select(incidents_table.c.id, incidents_table.c.data).where(
                        incidents_table.c.partition == partition,
                        incidents_table.c.id.in_(ids[start : start + _CHUNK]),
                    )
                ).all()
            )
        changed = [row for key, row in rows.items() if existing.get(key) != row["data"]]
        if not changed:
            return UpsertCount()
        stmt = self._insert(incidents_table)
        stmt = stmt.on_conflict_do_update(
            index_elements=["partition", "id"],
            set_={
                column: stmt.excluded[column]
                for column in ("created_ts", "service_id", "status", "data")
            },
        )
        for start in range(0, len(changed), _CHUNK):
            conn.execute(stmt, changed[start : start + _CHUNK])
        self._bump(conn, partition)
        added = sum(1 for row in changed if row["id"] not in existing)
        return UpsertCount(added=added, updated=len(changed) - added)

    def put_incidents(self, partition: str, incidents: Sequence[Mapping[str, Any]]) -> UpsertCount:
        """Insert or refresh incidents (compact dicts with id, created_at)."""
        with self._begin(partition) as conn:
            return self._upsert(conn, partition, incidents)

    def put_slice(
        self,
        partition: str,
        incidents: Sequence[Mapping[str, Any]],
        *,
        scope: str,
        since: datetime,
        until: datetime,
    ) -> UpsertCount:
        """Store one fetched slice and mark [since, until) of ``scope`` as synced, atomically."""
        with self._begin(partition) as conn:
            count = self._upsert(conn, partition, incidents)
            where = (slices_table.c.partition == partition) & (slices_table.c.scope == scope)
            known = conn.execute(
                select(slices_table.c.since_ts, slices_table.c.until_ts).where(where)
            ).all()
            merged = merge_intervals([*map(tuple, known), (epoch(since), epoch(until))])
            conn.execute(delete(slices_table).where(where))
            conn.execute(
                slices_table.insert(),
                [
                    {"partition": partition, "scope": scope, "since_ts": s, "until_ts": u}
                    for s, u in merged
                ],
            )
            return count

    def incidents(
        self,
        partition: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        service_ids: Sequence[str] = (),
        team_ids: Sequence[str] = (),
        statuses: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """Stored incidents created in [since, until), oldest first, optionally filtered."""
        query = select(incidents_table.c.data).where(incidents_table.c.partition == partition)
        if since is not None:
            query = query.where(incidents_table.c.created_ts >= epoch(since))
        if until is not None:
            query = query.where(incidents_table.c.created_ts < epoch(until))
        if service_ids:
            query = query.where(incidents_table.c.service_id.in_(list(service_ids)))
        if statuses:
            query = query.where(incidents_table.c.status.in_(list(statuses)))
        query = query.order_by(incidents_table.c.created_ts, incidents_table.c.id)
        with self._read() as conn:
            found = [json.loads(data) for data in conn.scalars(query)]
        if team_ids:
            wanted = set(team_ids)
            found = [i for i in found if any(t.get("id") in wanted for t in i.get("teams") or [])]
        return found

    def revision(self, partition: str) -> int:
        """A number that changes whenever the partition's incidents change."""
        with self._read() as conn:
            value = conn.scalar(
                select(partitions_table.c.revision).where(partitions_table.c.partition == partition)
            )
        return int(value or 0)

    def coverage(self, partition: str, scope: str) -> list[tuple[datetime, datetime]]:
        """The synced [since, until) intervals of ``scope`` (merged, oldest first)."""
        with self._read() as conn:
            rows = conn.execute(
                select(slices_table.c.since_ts, slices_table.c.until_ts)
                .where(slices_table.c.partition == partition, slices_table.c.scope == scope)
                .order_by(slices_table.c.since_ts)
            ).all()
        return [(from_epoch(s), from_epoch(u)) for s, u in merge_intervals(map(tuple, rows))]

    # -- resolutions and facts ---------------------------------------------------------

    def resolutions(
        self, partition: str, incident_ids: Sequence[str]
    ) -> dict[str, dict[str, Any] | None]:
        """Kept resolutions of these incidents; a missing id was never stored."""
        found: dict[str, dict[str, Any] | None] = {}
        ids = list(incident_ids)
        with self._read() as conn:
            for start in range(0, len(ids), _CHUNK):
                rows = conn.execute(
                    select(resolutions_table.c.incident_id, resolutions_table.c.data).where(
                        resolutions_table.c.partition == partition,
                        resolutions_table.c.incident_id.in_(ids[start : start + _CHUNK]),
                    )
                ).all()
                found.update((key, json.loads(data)) for key, data in rows)
        return found

    def put_resolutions(
        self, partition: str, resolutions: Mapping[str, Mapping[str, Any] | None]
    ) -> None:
        """Keep resolutions (None: resolved, with neither note nor resolve entry)."""
        if not resolutions:
            return
        stmt = self._insert(resolutions_table)
        stmt = stmt.on_conflict_do_update(
            index_elements=["partition", "incident_id"], set_={"data": stmt.excluded.data}
        )
        rows = [
            {"partition": partition, "incident_id": key, "data": json.dumps(value, default=str)}
            for key, value in resolutions.items()
        ]
        with self._begin(partition) as conn:
            conn.execute(stmt, rows)

    def fact(self, partition: str, name: str) -> tuple[str, datetime] | None:
        """A remembered per-account fact (value, when it was learnt), e.g. a 402."""
        with self._read() as conn:
            row = conn.execute(
                select(facts_table.c.value, facts_table.c.updated_ts).where(
                    facts_table.c.partition == partition, facts_table.c.name == name
                )
            ).first()
        return (row[0], from_epoch(row[1])) if row is not None else None

    def set_fact(self, partition: str, name: str, value: str, at: datetime) -> None:
        stmt = self._insert(facts_table).values(
            partition=partition, name=name, value=value, updated_ts=epoch(at)
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["partition", "name"],
            set_={"value": stmt.excluded.value, "updated_ts": stmt.excluded.updated_ts},
        )
        with self._begin(partition) as conn:
            conn.execute(stmt)

    def forget(self, partition: str) -> None:
        """Drop everything one partition holds."""
        with self._begin(partition) as conn:
            for table in (
                incidents_table,
                resolutions_table,
                facts_table,
                slices_table,
                partitions_table,
            ):
                conn.execute(delete(table).where(table.c.partition == partition))

    def stats(self, partition: str | None = None) -> StoreStats:
        """Row counts (of one partition, or all) and the file size of a SQLite store."""

        def count(table: Table) -> int:
            query = select(func.count()).select_from(table)
            if partition is not None:
                query = query.where(table.c.partition == partition)
            return int(conn.scalar(query) or 0)

        with self._read() as conn:
            counts = [count(t) for t in (incidents_table, resolutions_table, facts_table)]
        size = None
        if self.path is not None:
            size = sum(
                p.stat().st_size
                for p in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm"))
                if p.exists()
            )
        return StoreStats(*counts, bytes_on_disk=size)


def store_url(spec: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The SQLAlchemy URL of a store spec: None (``PD_TOOLKIT_STORE`` or the default file),
    ``memory``, a file path, or a URL."""
    env = os.environ if environ is None else environ
    spec = (spec if spec is not None else env.get(ENV_VAR, "")).strip()
    if not spec:
        return f"sqlite:///{default_store_path(env)}"
    if spec.lower() == MEMORY:
        return "sqlite://"
    if "://" in spec:
        return spec
    return f"sqlite:///{Path(spec).expanduser().resolve()}"


def open_store(spec: str | IncidentStore | None = None) -> IncidentStore:
    """The store for ``spec`` (see :func:`store_url`), opened now: the caller owns it and
    closes it (``PagerDutyAPI`` does, for the store it opens); an IncidentStore is returned as
    it is."""
    if isinstance(spec, IncidentStore):
        return spec
    return IncidentStore(store_url(spec))


__all__ = [
    "ALL_SCOPE",
    "ENV_VAR",
    "SCHEMA_VERSION",
    "IncidentStore",
    "StoreStats",
    "UpsertCount",
    "default_store_path",
    "open_store",
    "store_url",
]
