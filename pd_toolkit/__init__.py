"""A read-only PagerDuty toolkit for LangChain and LangGraph agents."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pd_toolkit")
except PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "0+unknown"

from pd_toolkit.client import PagerDutyClient
from pd_toolkit.connection import ConnectionCheck
from pd_toolkit.toolkit import PagerDutyToolkit

__all__ = ["ConnectionCheck", "PagerDutyClient", "PagerDutyToolkit", "__version__"]
