"""The MCP server over stdio, on the account named by PAGERDUTY_API_KEY/PAGERDUTY_API_HOST
(the tests' sandbox) and with the tests' fixed clock, so answers match the sandbox's data.

    python tests/mcp_fixed_clock_server.py     # what tests/test_mcp.py spawns
"""

import anyio
from conftest import FIXED_NOW

from pd_toolkit import PagerDutyToolkit
from pd_toolkit.mcp import serve_stdio

if __name__ == "__main__":
    anyio.run(serve_stdio, PagerDutyToolkit.from_env(now=lambda: FIXED_NOW))
