"""Where the responder keeps its state: a LangGraph checkpointer (one graph thread per run of an
incident's investigation) and the ledger (:mod:`agents.responder.ledger`), in one database.

- a SQLite file (the default, embedded): ``${XDG_STATE_HOME:-~/.local/state}/pd_toolkit/
  responder.db``, created ``0600`` (its WAL files too) in a ``0700`` directory;
- a PostgreSQL URL (``postgresql://`` or SQLAlchemy's ``postgresql+psycopg://``), shared by
  several responders, which then coordinate through it;
- ``memory``: a SQLite file in a private temporary directory, deleted on exit (tests, demos).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy import create_engine

from agents.responder.ledger import Ledger
from pd_toolkit.store.db import sqlite_engine

MEMORY = "memory"


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


def _private_file(path: Path) -> None:
    """Create ``path`` (and its missing parents) readable by this user only: the file ``0600``,
    a directory this creates ``0700``."""
    missing = [parent for parent in reversed(path.parents) if not parent.exists()]
    for folder in missing:
        folder.mkdir(mode=0o700)
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        if (path.parent / name).exists():
            os.chmod(path.parent / name, 0o600)


@contextmanager
def open_persistence(location: str) -> Iterator[tuple[BaseCheckpointSaver, Ledger]]:
    """(checkpointer, ledger) for ``location``, set up and closed on exit."""
    with ExitStack() as stack:
        if location.startswith("postgres"):
            from langgraph.checkpoint.postgres import PostgresSaver
            from psycopg.rows import dict_row
            from psycopg_pool import ConnectionPool

            _, _, rest = location.partition("://")
            options = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
            pool = stack.enter_context(
                ConnectionPool(
                    f"postgresql://{rest}", min_size=1, max_size=8, kwargs=options, open=True
                )
            )
            saver: BaseCheckpointSaver = PostgresSaver(pool)
            engine = create_engine(f"postgresql+psycopg://{rest}", pool_pre_ping=True)
        else:
            from langgraph.checkpoint.sqlite import SqliteSaver

            if location == MEMORY:
                folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="pdtk-responder-"))
                path = Path(folder) / "responder.db"
            else:
                path = Path(location).expanduser()
            _private_file(path)
            connection = sqlite3.connect(path, check_same_thread=False, timeout=30)
            stack.callback(connection.close)
            connection.execute("PRAGMA journal_mode=WAL")
            saver = SqliteSaver(connection)
            engine = sqlite_engine(str(path))
        stack.callback(engine.dispose)
        saver.setup()
        ledger = Ledger(engine)
        yield saver, ledger
