"""What every tool shares: the base class, its error handling and the argument types.

Every tool is a :class:`PagerDutyTool`: a pydantic ``args_schema``, content-and-artifact output
(compact text for the model, the structured pydantic result as the artifact) and errors that
reach the model as a ``ToolMessage`` with ``status="error"`` saying what to do. A tool is thin:
its validated arguments -> its one ``api`` (:class:`~pd_toolkit.api.PagerDutyAPI`, which owns
the endpoints and applies the team scope) -> :mod:`pd_toolkit.render`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from pd_toolkit.api import PagerDutyAPI
from pd_toolkit.errors import PagerDutyError
from pd_toolkit.models import TimeWindow
from pd_toolkit.timewindow import TimeZoneName, parse_window

logger = logging.getLogger("pd_toolkit.tools")

MAX_ARGUMENT = 200  # characters of a name, reference or time: errors echo it back


def format_validation_error(error: ValidationError) -> str:
    """pydantic's errors as one short line the model can act on."""
    problems = []
    for item in error.errors()[:5]:
        where = ".".join(str(part) for part in item["loc"]) or "arguments"
        given = repr(item.get("input"))
        given = given if len(given) <= 60 else given[:57] + "..."
        problems.append(f"{where}: {item['msg']} (got {given})")
    return f"Invalid arguments: {'; '.join(problems)}. Fix them and call the tool again."


def _text_or_number(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


IncidentRef = Annotated[
    str,
    BeforeValidator(_text_or_number),
    Field(
        max_length=MAX_ARGUMENT,
        description="Incident number (12345 or #12345), incident id, or its web URL.",
    ),
]
TimeRange = Annotated[
    str | None,
    Field(
        max_length=MAX_ARGUMENT,
        description="today, yesterday, this week, last week, this month, last 24 hours, "
        "last N days, an ISO date, or ISO..ISO. Or use since/until.",
    ),
]
Since = Annotated[
    str | None,
    Field(max_length=MAX_ARGUMENT, description="ISO date/datetime start (instead of time_range)."),
]
Until = Annotated[
    str | None, Field(max_length=MAX_ARGUMENT, description="ISO date/datetime end; default now.")
]
Name = Annotated[str | None, Field(max_length=MAX_ARGUMENT)]


class Args(BaseModel):
    """Base of every tool's arguments: unknown arguments are refused."""

    model_config = ConfigDict(extra="forbid")


class PagerDutyTool(BaseTool):
    """Base of every pd_toolkit tool: one ``api`` (from the environment when none is given)
    and the time zone of its answers; every failure becomes a ToolException whose text says
    what happened and what to do."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    api: PagerDutyAPI = Field(default_factory=PagerDutyAPI.from_env, exclude=True)
    time_zone: TimeZoneName = "UTC"
    args_schema: type[BaseModel] = Args
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: bool = True
    handle_validation_error: Callable[[ValidationError], str] = format_validation_error

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def clock(self) -> datetime:
        return self.api.clock()

    def _run(self, **kwargs: Any) -> tuple[str, BaseModel]:
        kwargs.pop("run_manager", None)
        try:
            # LangChain passes only the arguments the caller gave: the args model fills in the
            # rest, so each default is declared once, in the args model.
            return self.answer(self.args_schema.model_validate(kwargs))
        except PagerDutyError as exc:
            raise ToolException(str(exc)) from exc
        except Exception as exc:
            logger.exception("%s failed unexpectedly", self.name)
            # The first line only, capped: a library's multi-line error (SQL, a traceback's
            # context) never reaches the model.
            first = str(exc).strip().partition("\n")[0][:200]
            raise ToolException(
                f"{self.name} failed unexpectedly ({type(exc).__name__}: {first}). PagerDuty may "
                "have answered in an unexpected shape; try again or use another tool."
            ) from exc

    def answer(self, args: Any) -> tuple[str, BaseModel]:
        """(content, artifact) for the validated arguments (an instance of ``args_schema``);
        raises PagerDutyError on failure."""
        raise NotImplementedError

    def window(
        self,
        time_range: str | None,
        since: str | None,
        until: str | None,
        default: timedelta | None = None,
    ) -> TimeWindow | None:
        return parse_window(time_range, since, until, now=self.clock(), tz=self.tz, default=default)
