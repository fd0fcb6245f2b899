"""``pd-toolkit mcp`` over stdio with a fixed clock: the MCP face's server.

    python -m evals.mcp_server 2026-11-18T09:30:00Z

The same server as ``pd-toolkit mcp`` (:func:`pd_toolkit.mcp.serve_stdio` over
``PagerDutyToolkit.from_env``: PAGERDUTY_API_KEY, PAGERDUTY_API_HOST, PD_TOOLKIT_STORE), with
the case's clock, so "now", "today" and "this week" mean what they mean in the case.
"""

from __future__ import annotations

import sys
from datetime import datetime

import anyio

from pd_toolkit import PagerDutyToolkit
from pd_toolkit.mcp import serve_stdio


def main(argv: list[str]) -> None:
    """Serve until the client closes stdin."""
    clock = datetime.fromisoformat(argv[0])
    anyio.run(serve_stdio, PagerDutyToolkit.from_env(now=lambda: clock))


if __name__ == "__main__":
    main(sys.argv[1:])
