"""Shared fixtures: a fixed clock, the sandbox, and vcrpy cassettes under ./cassettes.

Cassette tests replay with ``--record-mode=none`` (``make test``) and never touch the network.
To re-record: ``pytest --record-mode=rewrite tests/...`` records from a fresh sandbox at
FIXED_NOW, or from a real account when PAGERDUTY_API_KEY is set.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import tenacity
from langchain_core.messages import ToolCall, ToolMessage

from pd_toolkit import PagerDutyClient, PagerDutyToolkit

pytest_plugins = ["postgres"]  # the session fixture postgresql_url (tests/postgres.py)

ROOT = Path(__file__).resolve().parents[1]
OPENAPI_SPEC = ROOT.parent / "shared" / "pagerduty-openapi" / "openapiv3.json"
# A Wednesday morning: "this week" then spans Monday..now, and some shifts are mid-rotation.
FIXED_NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
REDACTED = "Token token=REDACTED"
# The tool names of the public contract (DESIGN.md), in the toolkit's order.
CONTRACT_TOOLS = [
    "pagerduty_list_incidents",
    "pagerduty_get_incident",
    "pagerduty_get_incident_timeline",
    "pagerduty_get_incident_alerts",
    "pagerduty_get_oncall",
    "pagerduty_get_service_status",
    "pagerduty_list_recent_changes",
    "pagerduty_find_similar_incidents",
]


@pytest.fixture(scope="session", autouse=True)
def _no_default_store() -> Iterator[None]:
    """Session- and module-scoped fixtures get an in-memory store, never ~/.cache."""
    from pd_toolkit.store import ENV_VAR

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV_VAR, "memory")
        yield


@pytest.fixture(autouse=True)
def isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets an empty store file of its own (nothing reaches ~/.cache, and request
    counts start from an empty store, as the tests expect); the path is the fixture's value.
    Stores and histories live in the API objects that open them, so nothing else to reset."""
    from pd_toolkit.store import ENV_VAR

    path = tmp_path / "pd_toolkit-store.db"
    monkeypatch.setenv(ENV_VAR, str(path))
    yield path


@pytest.fixture(scope="session")
def sandbox() -> Iterator[object]:
    """One sandbox for the session, at the fixed clock. Do not inject faults into it."""
    from pd_toolkit.sandbox import Sandbox

    with Sandbox(now=FIXED_NOW) as sb:
        yield sb


@pytest.fixture
def fresh_sandbox() -> Iterator[object]:
    """A sandbox of the test's own, for fault injection and request logs."""
    from pd_toolkit.sandbox import Sandbox

    with Sandbox(now=FIXED_NOW) as sb:
        yield sb


@pytest.fixture(scope="module")
def vcr_config() -> dict:
    """Match on method, path and query (not host), so sandbox and real recordings agree."""
    return {
        "filter_headers": [("authorization", REDACTED)],
        "match_on": ["method", "path", "query"],
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(ROOT / "cassettes" / request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture
def cassette_client(request: pytest.FixtureRequest, record_mode: str) -> Iterator[PagerDutyClient]:
    """A client for ``@pytest.mark.vcr`` tests.

    Replaying: points at an unroutable loopback port (the cassette answers). Recording: a real
    account when PAGERDUTY_API_KEY is set, else a fresh sandbox at FIXED_NOW.
    """
    # One request at a time: vcrpy records only what the test's own thread sends.
    if record_mode == "none":
        yield PagerDutyClient(
            api_key="replayed-from-cassette", base_url="http://127.0.0.1:9", max_concurrency=1
        )
    elif os.environ.get("PAGERDUTY_API_KEY"):
        yield PagerDutyClient.from_env(max_concurrency=1)
    else:
        sandbox = request.getfixturevalue("sandbox")
        yield PagerDutyClient(api_key=sandbox.api_key, base_url=sandbox.base_url, max_concurrency=1)


@pytest.fixture
def cassette_toolkit(cassette_client: PagerDutyClient) -> PagerDutyToolkit:
    """The toolkit on ``cassette_client``, its clock fixed at FIXED_NOW."""
    return PagerDutyToolkit(client=cassette_client, now=lambda: FIXED_NOW)


@pytest.fixture
def ask(cassette_toolkit: PagerDutyToolkit) -> Callable[..., ToolMessage]:
    """``ask("pagerduty_get_oncall", team="payments")`` -> the ToolMessage a model would get."""
    tools = {tool.name: tool for tool in cassette_toolkit.get_tools()}

    def call(name: str, **args: object) -> ToolMessage:
        return tools[name].invoke(ToolCall(name=name, args=args, id="call-1", type="tool_call"))

    return call


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Tenacity's sleeps between attempts, recorded instead of slept: the waits the client
    chose, checked exactly, whatever the machine's load."""
    recorded: list[float] = []
    monkeypatch.setattr(tenacity.nap, "time", SimpleNamespace(sleep=recorded.append))
    return recorded


def secret_pieces(secret: str, size: int = 8) -> set[str]:
    """Every ``size``-character piece of ``secret``: part of a key (a prefix in a hint, a tail
    in a log line) is a leak too."""
    return {secret[at : at + size] for at in range(max(1, len(secret) - size + 1))}


def leaks(texts: Iterable[str], *secrets: str) -> list[str]:
    """The start of each text that holds an 8-character piece of one of ``secrets``."""
    pieces = set().union(*(secret_pieces(secret) for secret in secrets))
    return [text[:200] for text in texts if any(piece in text for piece in pieces)]


class LeakWatch(logging.Handler):
    """Every log record of pd_toolkit, urllib3 and agents (DEBUG and up) since the last check,
    so that each tool answer can be scanned for the key together with what was logged for it."""

    LOGGERS = ("pd_toolkit", "urllib3", "agents")

    def __init__(self, secret: str) -> None:
        super().__init__(logging.DEBUG)
        self.secret = secret
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.__dict__!r}")

    def check(self, message: ToolMessage) -> None:
        """Fail if a piece of the key is in the message's content or artifact, or in the logs
        since the last check."""
        texts = [str(message.content), *self.lines]
        if message.artifact is not None:
            texts.append(message.artifact.model_dump_json())
        self.lines.clear()
        assert leaks(texts, self.secret) == []


@contextmanager
def leak_watch(secret: str) -> Iterator[LeakWatch]:
    """A LeakWatch on the package loggers at DEBUG for the duration of the block."""
    watch = LeakWatch(secret)
    loggers = [logging.getLogger(name) for name in LeakWatch.LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(watch)
        logger.setLevel(logging.DEBUG)
    try:
        yield watch
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(watch)
            logger.setLevel(level)
