"""A local PagerDuty-compatible REST server with a seeded, realistic account.

Stands in for api.pagerduty.com in tests, benchmarks, the demo and notebooks::

    with Sandbox(now=datetime(2026, 11, 18, 9, 30, tzinfo=UTC)) as sb:
        auth = {"Authorization": f"Token token={sb.api_key}"}
        requests.get(f"{sb.base_url}/incidents", headers=auth).json()

Where things live: `catalog.py`, the organisation and failure modes as static data;
`generate.py`, the seeded generator that turns them into a `World` (API objects, 180 days of
incident history, hidden ground truth); `account.py`, `SandboxAccount`, the live account over
that world (indexes, lookups, forks and their changes) and `build_account`, its per-process
cache; `rotation.py`, on-call rotations; `hostile.py`, the prompt-injection overlay; `api.py`,
the REST endpoints; `server.py`, `Sandbox`, the HTTP server, faults and the clock;
`webhooks.py`, signed v3 webhooks.

It imports nothing else from pd_toolkit.
"""

from .account import SandboxAccount, build_account
from .generate import ModeInfo
from .server import Fault, RequestRecord, Sandbox, serve

__all__ = [
    "Fault",
    "ModeInfo",
    "RequestRecord",
    "Sandbox",
    "SandboxAccount",
    "build_account",
    "serve",
]
