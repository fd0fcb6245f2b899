"""Where the responder keeps its state: a LangGraph checkpointer (one thread per incident)
and a LangGraph store (the list of investigations, the webhook event ids seen).

``memory`` (tests, demos), a SQLite file (the default, embedded), or a PostgreSQL URL
(``postgresql://`` or SQLAlchemy's ``postgresql+psycopg://``) so that several responders share
the work.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore


def default_state_location() -> str:
    """PD_TOOLKIT_RESPONDER_STATE; else PD_TOOLKIT_STORE when it is a PostgreSQL URL (shared
    work); else ``${XDG_STATE_HOME:-~/.local/state}/pd_toolkit/responder.db``."""
    env = os.environ
    if env.get("PD_TOOLKIT_RESPONDER_STATE"):
        return env["PD_TOOLKIT_RESPONDER_STATE"]
    if env.get("PD_TOOLKIT_STORE", "").startswith("postgres"):
        return env["PD_TOOLKIT_STORE"]
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(base) / "pd_toolkit" / "responder.db")


def _postgres_dsn(url: str) -> str:
    """psycopg's form of a SQLAlchemy-style URL."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


@contextmanager
def open_persistence(location: str) -> Iterator[tuple[BaseCheckpointSaver, BaseStore]]:
    """(checkpointer, store) for ``location``, set up and closed on exit."""
    if location == "memory":
        yield InMemorySaver(), InMemoryStore()
    elif location.startswith("postgres"):
        from langgraph.checkpoint.postgres import PostgresSaver
        from langgraph.store.postgres import PostgresStore
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        dsn = _postgres_dsn(location)
        options = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
        with (
            ConnectionPool(dsn, min_size=1, max_size=8, kwargs=options, open=True) as pool,
            PostgresStore.from_conn_string(dsn, pool_config={"max_size": 4}) as store,
        ):
            saver = PostgresSaver(pool)
            saver.setup()
            store.setup()
            yield saver, store
    else:
        from langgraph.checkpoint.sqlite import SqliteSaver
        from langgraph.store.sqlite import SqliteStore

        Path(location).parent.mkdir(parents=True, exist_ok=True)
        saver_conn = sqlite3.connect(location, check_same_thread=False, timeout=30)
        store_conn = sqlite3.connect(
            location, check_same_thread=False, timeout=30, isolation_level=None
        )
        try:
            saver_conn.execute("PRAGMA journal_mode=WAL")
            saver = SqliteSaver(saver_conn)
            saver.setup()
            store = SqliteStore(store_conn)
            store.setup()
            yield saver, store
        finally:
            saver_conn.close()
            store_conn.close()
