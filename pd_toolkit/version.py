"""The installed package's version (read from its metadata), for the User-Agent and MCP."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    """pd_toolkit's version; ``0+unknown`` from a checkout that was never installed."""
    try:
        return version("pd_toolkit")
    except PackageNotFoundError:
        return "0+unknown"


__version__ = package_version()
