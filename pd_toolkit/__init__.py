"""A read-only PagerDuty toolkit for LangChain and LangGraph agents."""

__version__ = "0.1.0"

from pd_toolkit.client import ConnectionCheck, PagerDutyClient
from pd_toolkit.toolkit import PagerDutyToolkit

__all__ = ["ConnectionCheck", "PagerDutyClient", "PagerDutyToolkit", "__version__"]
