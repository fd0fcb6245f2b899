"""A local PagerDuty-compatible REST server with a seeded, realistic account.

Stands in for api.pagerduty.com in tests, benchmarks, the demo and notebooks::

    with Sandbox(now=datetime(2026, 11, 18, 9, 30, tzinfo=UTC)) as sb:
        auth = {"Authorization": f"Token token={sb.api_key}"}
        requests.get(f"{sb.base_url}/incidents", headers=auth).json()

It imports nothing else from pd_toolkit.
"""

from .account import ModeInfo, SandboxAccount, build_account
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
