"""The LangChain tools, by domain: each answers one on-call question in few GETs and few tokens.

``base`` (the shared base class, error handling and argument types), ``incidents`` (list, one
incident, timeline, alerts), ``oncall``, ``services``, ``changes`` and ``history`` (similar
past incidents). Each tool holds one ``api`` (:class:`~pd_toolkit.api.PagerDutyAPI`): arguments
-> API -> render. Adding a tool is one small subclass plus an entry in :data:`TOOL_CLASSES`.
"""

from pd_toolkit.tools.base import PagerDutyTool, format_validation_error
from pd_toolkit.tools.changes import ListRecentChangesTool
from pd_toolkit.tools.history import FindSimilarIncidentsTool
from pd_toolkit.tools.incidents import (
    GetIncidentAlertsTool,
    GetIncidentTimelineTool,
    GetIncidentTool,
    ListIncidentsTool,
)
from pd_toolkit.tools.oncall import GetOnCallTool
from pd_toolkit.tools.services import GetServiceStatusTool

TOOL_CLASSES: tuple[type[PagerDutyTool], ...] = (
    ListIncidentsTool,
    GetIncidentTool,
    GetIncidentTimelineTool,
    GetIncidentAlertsTool,
    GetOnCallTool,
    GetServiceStatusTool,
    ListRecentChangesTool,
    FindSimilarIncidentsTool,
)

__all__ = [
    "TOOL_CLASSES",
    "FindSimilarIncidentsTool",
    "GetIncidentAlertsTool",
    "GetIncidentTimelineTool",
    "GetIncidentTool",
    "GetOnCallTool",
    "GetServiceStatusTool",
    "ListIncidentsTool",
    "ListRecentChangesTool",
    "PagerDutyTool",
    "format_validation_error",
]
