"""PagerDutyToolkit: the tools, sharing one API object (client, names, scope, store, clock)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import ConfigDict, Field, PrivateAttr, field_validator

from pd_toolkit.api import PagerDutyAPI
from pd_toolkit.client import PagerDutyClient
from pd_toolkit.errors import PagerDutyConfigError
from pd_toolkit.scope import TeamScope, teams_from_env
from pd_toolkit.store import IncidentStore
from pd_toolkit.timewindow import TimeZoneName
from pd_toolkit.tools import TOOL_CLASSES

TOOLS_ENV = "PD_TOOLKIT_TOOLS"


def tool_names() -> list[str]:
    """Every tool's name, in the toolkit's order."""
    return [tool.model_fields["name"].default for tool in TOOL_CLASSES]


def select_tools(names: str | list[str] | None) -> list[str] | None:
    """The tools named in a list or a comma-separated string (``--tools``, ``PD_TOOLKIT_TOOLS``);
    None (every tool) when none is named. An unknown name is a PagerDutyConfigError that lists
    the valid ones, so a server refuses it at start rather than serving fewer tools."""
    listed = names.split(",") if isinstance(names, str) else names or []
    chosen = [name.strip() for name in listed if name.strip()]
    unknown = [name for name in chosen if name not in tool_names()]
    if unknown:
        raise PagerDutyConfigError(
            f"Unknown tool name{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}",
            hint=f"Choose from {', '.join(tool_names())} (comma-separated).",
        )
    return chosen or None


class PagerDutyToolkit(BaseToolkit):
    """Read-only PagerDuty tools for LangChain/LangGraph agents.

    ``time_zone`` sets where "today"/"this week" begin (IANA name, default UTC); ``now`` is
    an optional clock for tests; ``tools`` keeps only the named tools (a shorter list helps a
    model choose); ``cache_ttl`` is how long name listings are reused, in seconds;
    ``incident_cache_ttl`` how long a fetched incident is reused (0 = always refetch);
    ``teams`` (names or ids) limits every answer to those teams (default: no scope, the whole
    account the key can see).
    ``store`` is where history is kept: None (``PD_TOOLKIT_STORE``, else the SQLite file under
    ``${XDG_CACHE_HOME:-~/.cache}/pd_toolkit/``), ``"memory"``, a file path, a SQLAlchemy URL
    (``postgresql+psycopg://...``) or an :class:`IncidentStore`.

    The tools share one :class:`~pd_toolkit.api.PagerDutyAPI` (``toolkit.api``), which holds
    the store it opens until :meth:`close` (or the end of a ``with`` block).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    client: PagerDutyClient
    time_zone: TimeZoneName = "UTC"
    now: Callable[[], datetime] | None = None
    tools: list[str] | None = Field(default=None, description="Tool names to keep; None = all.")
    cache_ttl: float = 300.0
    incident_cache_ttl: float = 30.0
    teams: list[str] | None = Field(default=None, description="Team scope; None = no scope.")
    store: str | IncidentStore | None = None
    _api: PagerDutyAPI = PrivateAttr()

    @field_validator("tools")
    @classmethod
    def _known_tools(cls, value: list[str] | None) -> list[str] | None:
        known = set(tool_names())
        unknown = sorted(set(value or ()) - known)
        if unknown:
            raise ValueError(f"Unknown tool names {unknown}; choose from {sorted(known)}")
        return value

    def model_post_init(self, context: Any, /) -> None:
        self._api = PagerDutyAPI(
            self.client,
            teams=self.teams,
            store=self.store,
            now=self.now,
            cache_ttl=self.cache_ttl,
            incident_cache_ttl=self.incident_cache_ttl,
        )

    @property
    def api(self) -> PagerDutyAPI:
        """The API layer the tools share."""
        return self._api

    @property
    def scope(self) -> TeamScope | None:
        """The team scope, or None when every team is in scope."""
        return self._api.scope

    def close(self) -> None:
        """Close what the toolkit opened (its store, when it opened one)."""
        self._api.close()

    def __enter__(self) -> PagerDutyToolkit:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> PagerDutyToolkit:
        """Build on PagerDutyClient.from_env (PAGERDUTY_API_KEY, PAGERDUTY_REGION, ...); the
        team scope from PAGERDUTY_TEAMS unless ``teams`` is given, and the tools from
        PD_TOOLKIT_TOOLS (comma-separated names) unless ``tools`` is given."""
        kwargs.setdefault("teams", teams_from_env(environ))
        if "tools" not in kwargs:
            kwargs["tools"] = select_tools(
                (os.environ if environ is None else environ).get(TOOLS_ENV)
            )
        return cls(client=PagerDutyClient.from_env(environ), **kwargs)

    def get_tools(self) -> list[BaseTool]:
        tools: list[BaseTool] = [
            tool_class(api=self._api, time_zone=self.time_zone) for tool_class in TOOL_CLASSES
        ]
        if self.tools is not None:
            tools = [tool for tool in tools if tool.name in self.tools]
        return tools
