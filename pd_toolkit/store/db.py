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

**Pruning.** Each partition records when it was last used (every write; reads at most once an
hour per handle); partitions unused for ``prune_after`` (``PD_TOOLKIT_STORE_PRUNE_DAYS``,
default 30 days) are dropped, checked on open and on sync, at most once a day per store.

**Failures.** Every SQLAlchemy, sqlite3 or file-system error, on open or in any read or write,
becomes one :class:`~pd_toolkit.errors.PagerDutyStoreError` (:meth:`IncidentStore._failures`):
unreachable, corrupt, locked or not writable, with a short reason, never SQL or a password.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import sqlite3
import textwrap
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
    bindparam,
    create_engine,
    delete,
    event,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from pd_toolkit.errors import PagerDutyConfigError, PagerDutyStoreError

# 2: pdtk_partitions.used_ts (pruning); 3: pdtk_incidents.ranking; 4: pdtk_ranking
SCHEMA_VERSION = 4
ENV_VAR = "PD_TOOLKIT_STORE"
TIMEOUT_ENV = "PD_TOOLKIT_STORE_TIMEOUT"  # seconds to wait for a locked store / a database
PRUNE_ENV = "PD_TOOLKIT_STORE_PRUNE_DAYS"  # drop partitions unused this long; 0 = never
DEFAULT_TIMEOUT = 30.0
DEFAULT_PRUNE_AFTER = timedelta(days=30)
PRUNE_EVERY = timedelta(days=1)  # a store is checked for stale partitions at most this often
USE_EVERY = timedelta(hours=1)  # a read records its partition's use at most this often
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
    Column("used_ts", BigInteger, nullable=False),  # when the partition was last used
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
    # The incident's record, derived from ``data`` by the history package (its own versioned
    # format, opaque here); emptied whenever ``data`` changes.
    Column("ranking", Text),
    Index("pdtk_incidents_created", "partition", "created_ts", "service_id"),
    Index("pdtk_incidents_status", "partition", "status"),
)
# What ranking reads of each incident (the history package's versioned "head", opaque here),
# apart from the incidents: a few hundred bytes a row, so a window's heads are read without
# reading its incidents. A head is deleted whenever its incident changes.
ranking_table = Table(
    "pdtk_ranking",
    metadata,
    Column("partition", String(64), primary_key=True),
    Column("created_ts", BigInteger, primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("service_id", String(64)),
    Column("head", Text, nullable=False),
    Index("pdtk_ranking_id", "partition", "id", unique=True),
    sqlite_with_rowid=False,  # rows kept in window order: a window is one range read
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
class PartitionInfo:
    """One partition of a store: what it holds, when it was last used, what it covers."""

    partition: str
    incidents: int
    resolutions: int
    last_used: datetime | None
    covered: tuple[datetime, datetime] | None  # earliest synced .. latest synced


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


def sqlite_engine(target: str | None, timeout: float = DEFAULT_TIMEOUT) -> Engine:
    """A SQLite engine whose every transaction is ``BEGIN IMMEDIATE`` (writers wait, never
    deadlock); a file gets WAL and a busy timeout of ``timeout`` seconds; ``None`` is one
    shared in-memory db."""
    if target is None:
        engine = create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        engine = create_engine(
            f"sqlite:///{target}", connect_args={"timeout": timeout, "check_same_thread": False}
        )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below start transactions
        cursor = dbapi_connection.cursor()
        if target is not None:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class IncidentStore:
    """The persistent incident store (see the module docstring). Thread-safe.

    Build one with :func:`open_store`; ``IncidentStore(url)`` takes a SQLAlchemy URL,
    ``IncidentStore.memory()`` a private in-memory one. ``timeout``: seconds to wait for a
    locked SQLite file, or to connect to a database; ``prune_after``: drop partitions unused
    this long (None: never); ``now``: the clock of last uses and pruning.
    """

    def __init__(
        self,
        url: str,
        *,
        engine: Engine | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        prune_after: timedelta | None = DEFAULT_PRUNE_AFTER,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise PagerDutyStoreError(
                "The store is neither a file path, 'memory' nor a SQLAlchemy URL",
                problem="unsupported",
                hint=f"Set {ENV_VAR} to a file path, memory, or a postgresql+psycopg:// URL.",
            ) from None
        self.backend = parsed.get_backend_name()
        self.location = parsed.render_as_string(hide_password=True)
        self.path: Path | None = None
        if (
            engine is None
            and self.backend == "sqlite"
            and parsed.database not in (None, "", ":memory:")
        ):
            self.path = Path(str(parsed.database))
        in_memory = self.backend == "sqlite" and self.path is None and engine is None
        # How people see the store: its file, "memory", or its URL without the password.
        self.label = str(self.path) if self.path else MEMORY if in_memory else self.location
        self.timeout = timeout
        self.prune_after = prune_after
        self._password = parsed.password
        self._now = now or (lambda: datetime.now(UTC))
        self._used: dict[str, datetime] = {}  # partition -> when this handle last recorded use
        self._prune_checked: datetime | None = None
        if self.backend not in ("sqlite", "postgresql"):
            raise PagerDutyStoreError(
                f"Store {self.label} is not supported",
                problem="unsupported",
                hint=f"Set {ENV_VAR} to a file path, memory, or a postgresql+psycopg:// URL.",
            )
        with self._failures():
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                self.path.touch(mode=0o600, exist_ok=True)
            if engine is None and self.backend == "sqlite":
                engine = sqlite_engine(str(self.path) if self.path else None, timeout)
            self.engine = engine or create_engine(
                url, pool_pre_ping=True, connect_args=_connect_args(parsed, timeout)
            )
        # An in-memory SQLite database is one connection: one user at a time.
        self._serial: AbstractContextManager[Any] = (
            threading.RLock() if self.backend == "sqlite" and self.path is None else nullcontext()
        )
        try:
            self.salt = self._prepare()
            self.prune_if_due()
        except PagerDutyStoreError:
            self.engine.dispose()
            raise

    @classmethod
    def memory(cls) -> IncidentStore:
        return cls("sqlite://")

    def __repr__(self) -> str:
        return f"IncidentStore({self.location!r})"

    def close(self) -> None:
        self.engine.dispose()

    # -- failures ------------------------------------------------------------------------

    @contextmanager
    def _failures(self) -> Iterator[None]:
        """Turn a database or file-system error of the block into one PagerDutyStoreError."""
        try:
            yield
        except (SQLAlchemyError, sqlite3.Error, OSError, ImportError) as exc:
            raise self._failure(exc) from exc

    def _failure(self, exc: BaseException) -> PagerDutyStoreError:
        """The PagerDutyStoreError saying how ``exc`` made the store unusable: its first line,
        without SQL or the password."""
        cause = getattr(exc, "orig", None) or exc
        if isinstance(cause, OSError) and cause.strerror:
            reason = f"{cause.strerror} ({cause.filename})" if cause.filename else cause.strerror
        else:
            lines = str(cause).strip().splitlines()
            reason = lines[0] if lines else type(cause).__name__
        if self._password:
            reason = reason.replace(self._password, "***")
        reason = textwrap.shorten(reason, 200, placeholder=" ...")
        problem = _problem(exc, cause, self.backend)
        memory = f"or set {ENV_VAR}=memory to keep history in memory"
        if problem == "unreachable":
            hint = (
                f"Check that the database runs and the URL (host, port, user) is right, {memory}."
            )
        elif problem == "locked":
            hint = (
                f"Another process held it for over {self.timeout:g} s ({TIMEOUT_ENV}): "
                f"try again, {memory}."
            )
        elif problem == "not writable":
            hint = f"Make it writable, point {ENV_VAR} at a writable path, {memory}."
        elif problem == "missing its driver":
            hint = f"Install it (pip install 'pd_toolkit[postgres]'), {memory}."
        else:
            drop = (
                "delete it (and its -wal and -shm files)" if self.path else "drop its pdtk_ tables"
            )
            hint = f"It is only a cache of PagerDuty: {drop}, {memory}."
        return PagerDutyStoreError(
            f"Store {self.label} is {problem}: {reason}", problem=problem, hint=hint
        )

    # -- transactions and schema -------------------------------------------------------

    def _lock(self, conn: Connection, partition: str | None) -> None:
        """PostgreSQL: the transaction's advisory lock on a partition (None: the schema)."""
        if self.backend == "postgresql":
            key = func.hashtext(partition) if partition is not None else _SCHEMA_LOCK
            conn.execute(select(func.pg_advisory_xact_lock(key)))

    @contextmanager
    def _begin(self, partition: str | None = None) -> Iterator[Connection]:
        """A write transaction, holding the partition's (or the schema's) lock."""
        with self._failures(), self._serial, self.engine.begin() as conn:
            self._lock(conn, partition)
            yield conn

    def _use(self, conn: Connection, partition: str, *, write: bool = True) -> None:
        """Record that ``partition`` is used now; a write creates its row, a read only
        refreshes an existing one (an empty partition has nothing to keep)."""
        now = self._now()
        if write:
            stmt = self._insert(partitions_table).values(
                partition=partition, revision=0, used_ts=epoch(now)
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["partition"], set_={"used_ts": stmt.excluded.used_ts}
                )
            )
        else:
            conn.execute(
                update(partitions_table)
                .where(partitions_table.c.partition == partition)
                .values(used_ts=epoch(now))
            )
        self._used[partition] = now

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._failures(), self._serial, self.engine.connect() as conn:
            yield conn

    def _touch(self, partition: str) -> None:
        """Record that a read used ``partition`` (at most once per ``USE_EVERY`` per handle)."""
        last = self._used.get(partition)
        if last is None or self._now() - last >= USE_EVERY:
            with self._begin(partition) as conn:
                self._use(conn, partition, write=False)

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
        """A new revision of the partition (whose row ``_use`` wrote)."""
        conn.execute(
            update(partitions_table)
            .where(partitions_table.c.partition == partition)
            .values(revision=partitions_table.c.revision + 1)
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
                **{
                    column: stmt.excluded[column]
                    for column in ("created_ts", "service_id", "status", "data")
                },
                "ranking": None,
            },
        )
        for start in range(0, len(changed), _CHUNK):
            chunk = changed[start : start + _CHUNK]
            conn.execute(stmt, chunk)
            conn.execute(
                delete(ranking_table).where(
                    ranking_table.c.partition == partition,
                    ranking_table.c.id.in_([row["id"] for row in chunk]),
                )
            )
        self._bump(conn, partition)
        added = sum(1 for row in changed if row["id"] not in existing)
        return UpsertCount(added=added, updated=len(changed) - added)

    def put_incidents(self, partition: str, incidents: Sequence[Mapping[str, Any]]) -> UpsertCount:
        """Insert or refresh incidents (compact dicts with id, created_at)."""
        with self._begin(partition) as conn:
            self._use(conn, partition)
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
            self._use(conn, partition)
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
        self._touch(partition)
        with self._read() as conn:
            found = [json.loads(data) for data in conn.scalars(query)]
        if team_ids:
            wanted = set(team_ids)
            found = [i for i in found if any(t.get("id") in wanted for t in i.get("teams") or [])]
        return found

    def _window(
        self,
        table: Table,
        partition: str,
        since: datetime,
        until: datetime,
        service_ids: Sequence[str],
    ) -> Any:
        """The condition on ``table``'s rows of a partition created in [since, until), on
        ``service_ids`` if given."""
        condition = (
            (table.c.partition == partition)
            & (table.c.created_ts >= epoch(since))
            & (table.c.created_ts < epoch(until))
        )
        if service_ids:
            condition &= table.c.service_id.in_(list(service_ids))
        return condition

    def ranking_heads(
        self,
        partition: str,
        *,
        since: datetime,
        until: datetime,
        service_ids: Sequence[str] = (),
    ) -> list[tuple[str, str | None]]:
        """(id, ranking head) of the incidents created in [since, until), oldest first, on
        ``service_ids`` if given; the head is None until :meth:`put_ranking_forms` stores one,
        and again after the incident changes. One read of the compact heads when every
        incident has one (the incidents' own rows are read only when some lack a head)."""
        window = (partition, since, until, service_ids)
        heads = (
            select(ranking_table.c.id, ranking_table.c.head)
            .where(self._window(ranking_table, *window))
            .order_by(ranking_table.c.created_ts, ranking_table.c.id)
        )
        count = select(func.count()).where(self._window(incidents_table, *window))
        self._touch(partition)
        with self._read() as conn:  # one transaction: heads and incidents agree
            found = list(conn.execute(heads).tuples().all())
            if conn.scalar(count) == len(found):  # heads exist only for stored incidents
                return found
            ids = conn.scalars(
                select(incidents_table.c.id)
                .where(self._window(incidents_table, *window))
                .order_by(incidents_table.c.created_ts, incidents_table.c.id)
            ).all()
        kept = dict(found)
        return [(str(i), kept.get(i)) for i in ids]

    def incident_texts(self, partition: str, incident_ids: Sequence[str]) -> dict[str, str]:
        """The stored JSON text of these incidents, by id (a missing id is not stored)."""
        return {i: data for i, (_, data) in self.ranking_records(partition, incident_ids).items()}

    def ranking_records(
        self, partition: str, incident_ids: Sequence[str]
    ) -> dict[str, tuple[str | None, str]]:
        """(stored record or None, JSON text) of these incidents, by id (a missing id is not
        stored); the record is what :meth:`put_ranking_forms` kept, until the incident
        changes."""
        found: dict[str, tuple[str | None, str]] = {}
        ids = list(incident_ids)
        with self._read() as conn:
            for start in range(0, len(ids), _CHUNK):
                rows = conn.execute(
                    select(
                        incidents_table.c.id, incidents_table.c.ranking, incidents_table.c.data
                    ).where(
                        incidents_table.c.partition == partition,
                        incidents_table.c.id.in_(ids[start : start + _CHUNK]),
                    )
                ).all()
                found.update((i, (record, data)) for i, record, data in rows)
        return found

    def put_ranking_forms(self, partition: str, forms: Sequence[tuple[str, str, str, str]]) -> None:
        """Store ranking forms: (id, the JSON text they were derived from, head, record). A
        form is kept only while the incident still holds that text: one a concurrent sync
        changed meanwhile is dropped, and derived again next time. The revision does not
        change."""
        if not forms:
            return
        with self._begin(partition) as conn:
            current: dict[str, tuple[str, int, str | None]] = {}
            ids = [form[0] for form in forms]
            for start in range(0, len(ids), _CHUNK):
                rows = conn.execute(
                    select(
                        incidents_table.c.id,
                        incidents_table.c.data,
                        incidents_table.c.created_ts,
                        incidents_table.c.service_id,
                    ).where(
                        incidents_table.c.partition == partition,
                        incidents_table.c.id.in_(ids[start : start + _CHUNK]),
                    )
                ).all()
                current.update((i, (data, created, service)) for i, data, created, service in rows)
            kept = [
                (current[i], i, head, record)
                for i, source, head, record in forms
                if i in current and current[i][0] == source
            ]
            if not kept:
                return
            records = update(incidents_table).where(
                incidents_table.c.partition == partition,
                incidents_table.c.id == bindparam("row_id"),
            )
            heads = self._insert(ranking_table)
            heads = heads.on_conflict_do_update(
                index_elements=["partition", "id"], set_={"head": heads.excluded.head}
            )
            for start in range(0, len(kept), _CHUNK):
                chunk = kept[start : start + _CHUNK]
                conn.execute(
                    records.values(ranking=bindparam("record")),
                    [{"row_id": i, "record": record} for _, i, _, record in chunk],
                )
                conn.execute(
                    heads,
                    [
                        {
                            "partition": partition,
                            "id": i,
                            "created_ts": created,
                            "service_id": service,
                            "head": head,
                        }
                        for (_, created, service), i, head, _ in chunk
                    ],
                )

    def incident(self, partition: str, incident_id: str) -> dict[str, Any] | None:
        """One stored incident by id (its compact form), or None."""
        with self._read() as conn:
            data = conn.scalar(
                select(incidents_table.c.data).where(
                    incidents_table.c.partition == partition, incidents_table.c.id == incident_id
                )
            )
        return json.loads(data) if data is not None else None

    def revision(self, partition: str) -> int:
        """A number that changes whenever the partition's incidents change."""
        with self._read() as conn:
            value = conn.scalar(
                select(partitions_table.c.revision).where(partitions_table.c.partition == partition)
            )
        return int(value or 0)

    def coverage(self, partition: str, scope: str) -> list[tuple[datetime, datetime]]:
        """The synced [since, until) intervals of ``scope`` (merged, oldest first)."""
        self._touch(partition)
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
            self._use(conn, partition)
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
            self._use(conn, partition)
            conn.execute(stmt)

    def forget(self, partition: str) -> None:
        """Drop everything one partition holds."""
        with self._begin(partition) as conn:
            self._delete(conn, partition)

    def _delete(self, conn: Connection, partition: str) -> None:
        for table in (
            incidents_table,
            ranking_table,
            resolutions_table,
            facts_table,
            slices_table,
            partitions_table,
        ):
            conn.execute(delete(table).where(table.c.partition == partition))
        self._used.pop(partition, None)

    # -- pruning and inspection --------------------------------------------------------

    def prune(self, older_than: timedelta | None = None) -> list[str]:
        """Drop every partition unused for longer than ``older_than`` (default:
        ``prune_after``; when both are None, nothing); the partitions dropped."""
        keep_for = older_than if older_than is not None else self.prune_after
        if keep_for is None:
            return []
        with self._begin() as conn:
            return self._prune(conn, keep_for)

    def prune_if_due(self) -> list[str]:
        """:meth:`prune` when the store was last pruned over ``PRUNE_EVERY`` ago (the database
        is asked at most that often per handle): on open and on sync."""
        now = self._now()
        checked = self._prune_checked
        if self.prune_after is None or (checked is not None and now - checked < PRUNE_EVERY):
            return []
        self._prune_checked = now
        with self._begin() as conn:
            last = conn.scalar(select(meta_table.c.value).where(meta_table.c.name == "pruned_at"))
            if last is not None and now - from_epoch(int(last)) < PRUNE_EVERY:
                return []
            return self._prune(conn, self.prune_after)

    def _prune(self, conn: Connection, keep_for: timedelta) -> list[str]:
        """In a transaction holding the schema's lock: drop the partitions unused for over
        ``keep_for`` (each under its own lock, checked again there) and note when."""
        now = self._now()
        stale = select(partitions_table.c.partition).where(
            partitions_table.c.used_ts < epoch(now - keep_for)
        )
        dropped = []
        for partition in conn.scalars(stale).all():
            self._lock(conn, partition)
            if conn.scalar(stale.where(partitions_table.c.partition == partition)) is None:
                continue  # used meanwhile
            self._delete(conn, partition)
            dropped.append(partition)
        stmt = self._insert(meta_table).values(name="pruned_at", value=str(epoch(now)))
        conn.execute(
            stmt.on_conflict_do_update(index_elements=["name"], set_={"value": stmt.excluded.value})
        )
        return dropped

    def partitions(self) -> list[PartitionInfo]:
        """Every partition the store holds, the most recently used first."""
        with self._read() as conn:

            def counts(table: Table) -> dict[str, int]:
                query = select(table.c.partition, func.count()).group_by(table.c.partition)
                return {key: int(n) for key, n in conn.execute(query).all()}

            incidents, resolutions = counts(incidents_table), counts(resolutions_table)
            used = dict(
                conn.execute(select(partitions_table.c.partition, partitions_table.c.used_ts)).all()
            )
            spans = {
                key: (from_epoch(lo), from_epoch(hi))
                for key, lo, hi in conn.execute(
                    select(
                        slices_table.c.partition,
                        func.min(slices_table.c.since_ts),
                        func.max(slices_table.c.until_ts),
                    ).group_by(slices_table.c.partition)
                ).all()
            }
        found = [
            PartitionInfo(
                partition=key,
                incidents=incidents.get(key, 0),
                resolutions=resolutions.get(key, 0),
                last_used=from_epoch(used[key]) if key in used else None,
                covered=spans.get(key),
            )
            for key in {*incidents, *resolutions, *used, *spans}
        ]
        never = datetime.min.replace(tzinfo=UTC)
        return sorted(found, key=lambda p: (p.last_used or never, p.partition), reverse=True)

    def vacuum(self) -> None:
        """Give the space of dropped rows back to the file system (a SQLite file; PostgreSQL's
        autovacuum does it on its own)."""
        if self.path is None:
            return
        with self._failures(), self._serial:
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()  # the connection is in autocommit mode
                cursor.execute("VACUUM")
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # and empty the WAL file
            finally:
                raw.close()

    def stats(self, partition: str | None = None) -> StoreStats:
        """Row counts (of one partition, or all) and the size on disk (a SQLite file's, or
        the PostgreSQL tables' with their indexes; None in memory)."""

        def count(table: Table) -> int:
            query = select(func.count()).select_from(table)
            if partition is not None:
                query = query.where(table.c.partition == partition)
            return int(conn.scalar(query) or 0)

        size = None
        with self._read() as conn:
            counts = [count(t) for t in (incidents_table, resolutions_table, facts_table)]
            if self.backend == "postgresql":
                size = sum(
                    int(conn.scalar(select(func.pg_total_relation_size(table.name))) or 0)
                    for table in metadata.sorted_tables
                )
        if self.path is not None:
            with self._failures():
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


def open_store(
    spec: str | IncidentStore | None = None, environ: Mapping[str, str] | None = None
) -> IncidentStore:
    """The store for ``spec`` (see :func:`store_url`), opened now: the caller owns it and
    closes it (``PagerDutyAPI`` does, for the store it opens); an IncidentStore is returned as
    it is. ``PD_TOOLKIT_STORE_TIMEOUT`` (seconds, default 30) and
    ``PD_TOOLKIT_STORE_PRUNE_DAYS`` (default 30; 0: never prune) tune it."""
    if isinstance(spec, IncidentStore):
        return spec
    env = os.environ if environ is None else environ
    days = _setting(env, PRUNE_ENV, DEFAULT_PRUNE_AFTER.days)
    return IncidentStore(
        store_url(spec, env),
        timeout=_setting(env, TIMEOUT_ENV, DEFAULT_TIMEOUT),
        prune_after=timedelta(days=days) if days else None,
    )


def default_to_memory(environ: MutableMapping[str, str] | None = None) -> None:
    """Keep this process's history in memory unless ``PD_TOOLKIT_STORE`` names a store: for
    runs on the built-in sandbox, each on a new port (so a new partition nobody reads again)."""
    env = os.environ if environ is None else environ
    if not env.get(ENV_VAR, "").strip():
        env[ENV_VAR] = MEMORY


def _setting(env: Mapping[str, str], name: str, default: float) -> float:
    """A number from 0 to 100,000 in the environment variable ``name``, else ``default``."""
    raw = env.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100_000:
        raise PagerDutyConfigError(
            f"{name} is {raw!r}", hint=f"Set {name} to a number from 0 to 100000, or unset it."
        )
    return value


def _connect_args(url: URL, timeout: float) -> dict[str, Any]:
    """libpq's connect timeout (at least its minimum, 2 s) unless the URL sets one."""
    if url.get_driver_name() in ("psycopg", "psycopg2") and "connect_timeout" not in url.query:
        return {"connect_timeout": max(2, math.ceil(timeout))}
    return {}


_NOT_WRITABLE = (
    "readonly",
    "read-only",
    "unable to open",
    "permission denied",
    "disk i/o",
    "is full",
)


def _problem(exc: BaseException, cause: BaseException, backend: str) -> str:
    """How a store failed: unreachable, corrupt, locked, not writable, missing its driver,
    else unusable (from the DBAPI error's type, SQLSTATE and text)."""
    if isinstance(cause, ImportError):
        return "missing its driver"
    if isinstance(cause, OSError):
        return "not writable"
    text = str(cause).lower()
    state = str(getattr(cause, "sqlstate", None) or "")
    if "locked" in text or state in ("55P03", "40P01"):
        return "locked"
    if "not a database" in text or "malformed" in text or state.startswith("XX"):
        return "corrupt"
    if state == "42501" or state.startswith("53") or any(w in text for w in _NOT_WRITABLE):
        return "not writable"
    connection = isinstance(exc, OperationalError | InterfaceError) and not state
    if backend == "postgresql" and (connection or state.startswith(("08", "28"))):
        return "unreachable"
    return "unusable"


__all__ = [
    "ALL_SCOPE",
    "ENV_VAR",
    "PRUNE_ENV",
    "SCHEMA_VERSION",
    "TIMEOUT_ENV",
    "IncidentStore",
    "PartitionInfo",
    "StoreStats",
    "UpsertCount",
    "default_store_path",
    "default_to_memory",
    "open_store",
    "store_url",
]
