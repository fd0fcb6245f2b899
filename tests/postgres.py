"""A throwaway PostgreSQL server for the tests: the session fixture ``postgresql_url``.

Starts ``initdb`` + ``pg_ctl`` from the PostgreSQL binaries on the machine (PATH, or
/usr/lib/postgresql/<version>/bin) in a temporary directory, listening on a free loopback port,
and stops it at the end of the session. PostgreSQL refuses to run as root, so as root the
server runs as the ``postgres`` user (``runuser``). Tests using it are skipped, saying why, when
there is no PostgreSQL or no psycopg driver.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresUnavailable(Exception):
    """No PostgreSQL server could be started here (the message says why)."""


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """``postgresql+psycopg://postgres@127.0.0.1:<port>/postgres`` of a server started for the
    block (tests and benchmarks); PostgresUnavailable when there is none to start."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise PostgresUnavailable(
            "PostgreSQL is not installed (no pg_ctl on PATH or in /usr/lib/postgresql)"
        )
    as_postgres: list[str] = []
    root = os.geteuid() == 0
    if root:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable(
                "running as root and there is no 'postgres' user to run PostgreSQL as"
            ) from None
        as_postgres = ["runuser", "-u", "postgres", "--"]
    home = Path(tempfile.mkdtemp(prefix="pdtk-pg-"))
    if root:
        shutil.chown(home, user="postgres")
    data, log, port = home / "data", home / "server.log", free_port()

    def run(*command: str) -> None:
        subprocess.run([*as_postgres, *command], check=True, capture_output=True, timeout=120)

    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust")
        run(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-o",
            f"-h 127.0.0.1 -p {port} -k {home} -c fsync=off -c max_connections=200",
            "start",
        )
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(home, ignore_errors=True)
        raise PostgresUnavailable(f"could not start a throwaway PostgreSQL server: {exc}") from exc
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """A throwaway server for the session (skipped, saying why, where none can start)."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install '.[postgres]')")
    try:
        with throwaway_postgres() as url:
            yield url
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def postgresql_db_url(postgresql_url: str) -> Iterator[str]:
    """A fresh database on the session's server for one test (dropped after it)."""
    from sqlalchemy import create_engine, text

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgresql_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgresql_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
