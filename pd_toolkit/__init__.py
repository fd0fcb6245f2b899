"""A read-only PagerDuty toolkit for LangChain and LangGraph agents.

The public names are imported when first used (a module ``__getattr__``), so that
``pd-toolkit --help`` and the light commands start without LangChain or scikit-learn."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pd_toolkit.client import PagerDutyClient
    from pd_toolkit.connection import ConnectionCheck
    from pd_toolkit.toolkit import PagerDutyToolkit

# Public name -> the module that defines it.
_LAZY = {
    "ConnectionCheck": "pd_toolkit.connection",
    "PagerDutyClient": "pd_toolkit.client",
    "PagerDutyToolkit": "pd_toolkit.toolkit",
}

__all__ = ["ConnectionCheck", "PagerDutyClient", "PagerDutyToolkit", "__version__"]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use, and keep the name."""
    if name == "__version__":
        from pd_toolkit.version import __version__ as value
    elif name in _LAZY:
        value: Any = getattr(import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
