"""LangGraph applications built on pd_toolkit's public API (run from the checkout).

Every application here needs LangGraph (the ``agents`` extra). Without it, ``python -m
agents.<app>`` says so in one line (exit 2) instead of a ModuleNotFoundError traceback, and an
import raises ModuleNotFoundError with the same words."""

import sys
from importlib.util import find_spec

if find_spec("langgraph") is None:
    _NEEDS_LANGGRAPH = "agents/ needs LangGraph: pip install 'pd_toolkit[agents]'"
    if sys.argv[:1] == ["-m"]:  # python -m agents.<app>: argv[0] is "-m" while it is found
        print(f"error: {_NEEDS_LANGGRAPH}", file=sys.stderr)
        raise SystemExit(2)
    raise ModuleNotFoundError(_NEEDS_LANGGRAPH, name="langgraph")
