"""LangGraph applications built on pd_toolkit's public API (run from the checkout)."""
