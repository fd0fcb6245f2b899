"""The investigation graph: one incident in, a Markdown brief with evidence ids out.

    START -> find_incident -> 6 lookups in parallel -> assemble_brief -> [synthesize] -> END

``find_incident`` finds the incident (by reference, as a service's newest open incident, or
the account's most urgent open one); the six lookups call the toolkit's tools concurrently and
each records its content, artifact (JSON), error, timing and request count under
``state["lookups"]``; ``assemble_brief`` renders :mod:`agents.brief`; ``synthesize`` (only with
a chat model) adds a checked assessment. No node raises on a PagerDuty error.

    python -m agents.investigate [INCIDENT] [--service NAME] [--sandbox] [--json]
                                 [--model M --base-url U]
"""

import argparse
import json
import operator
import re
import sys
import textwrap
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, TextIO, TypedDict
from zoneinfo import ZoneInfo

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agents import lookups
from agents.brief import compose_brief, with_assessment
from agents.llm import NO_MODEL_HELP, chat_model_from_settings
from agents.options import add_connection_options, open_client
from agents.synthesis import Synthesis, synthesize
from pd_toolkit import PagerDutyClient, PagerDutyToolkit
from pd_toolkit.errors import PagerDutyError
from pd_toolkit.models import Incident, IncidentList
from pd_toolkit.scope import teams_from_env
from pd_toolkit.store import IncidentStore

LOOKUPS = lookups.NAMES
OPEN_LIMIT = 100


class LookupRecord(TypedDict):
    """One tool call of the investigation, JSON-ready."""

    tool: str
    args: dict[str, Any]
    ok: bool
    content: str
    error: str | None
    artifact: dict[str, Any] | None
    started: str
    finished: str
    seconds: float
    requests: int


class InvestigationInput(TypedDict, total=False):
    """What to investigate: an incident (number, id or URL), else a service's newest open
    incident, else (neither) the account's most urgent open incident."""

    incident: str
    service: str


class InvestigationState(InvestigationInput, total=False):
    """The whole state; everything but the model output is JSON-serialisable."""

    investigated_at: str
    target: dict[str, Any] | None
    lookup_args: dict[str, dict[str, Any]]  # each lookup's arguments, from the incident
    lookups: Annotated[dict[str, LookupRecord], operator.or_]
    brief: str
    synthesis: Synthesis


def _merged(first: LookupRecord, then: LookupRecord) -> LookupRecord:
    """``then``, timed and counted from the start of ``first`` (two calls, one step)."""
    merged = then.copy()
    merged["tool"] = f"{first['tool']} + {then['tool']}"
    merged["started"] = first["started"]
    merged["seconds"] = round(first["seconds"] + then["seconds"], 4)
    merged["requests"] = first["requests"] + then["requests"]
    return merged


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


# -- the nodes ------------------------------------------------------------------------------


def _priority_rank(incident: Incident) -> int:
    """P1 -> 1, P2 -> 2, ...; no or unnamed priority ranks last."""
    label = incident.priority.label if incident.priority else ""
    found = re.fullmatch(r"[Pp](\d+)", label.strip())
    return int(found.group(1)) if found else 99


def most_urgent(incidents: list[Incident]) -> Incident | None:
    """High urgency first, then priority, then triggered before acknowledged, then oldest."""
    oldest = datetime.max.replace(tzinfo=UTC)
    return min(
        incidents,
        key=lambda i: (
            i.urgency != "high",
            _priority_rank(i),
            i.status != "triggered",
            i.created_at or oldest,
        ),
        default=None,
    )


class Investigation:
    """The graph's nodes over one toolkit (one API object: client, names, scope, store,
    clock)."""

    def __init__(
        self,
        client: PagerDutyClient,
        *,
        now: datetime | Callable[[], datetime] | None = None,
        time_zone: str = "UTC",
        store: str | IncidentStore | None = None,
        teams: list[str] | None = None,
        open_store: bool = True,
    ) -> None:
        clock = (lambda: now) if isinstance(now, datetime) else now
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.tz = ZoneInfo(time_zone)
        self.client = client
        self.toolkit = PagerDutyToolkit(
            client=client, now=clock, time_zone=time_zone, teams=teams, store=store
        )
        self.tools: dict[str, BaseTool] = {tool.name: tool for tool in self.toolkit.get_tools()}
        if open_store:
            self.open_store()

    def open_store(self) -> None:
        """Open the store and derive the client's partition (a deliberately slow KDF), so that
        the first history lookup does not wait for them. Blocking I/O, done once: the
        constructor calls it unless told not to, else ``find_incident`` does."""
        self.toolkit.api.partition()

    def call(
        self, tool: str, unavailable: str | None = None, **args: Any
    ) -> tuple[LookupRecord, ToolMessage | None]:
        """Call one tool as a model would (unless ``unavailable`` says why it cannot be);
        a failure becomes an error record, never a raise."""
        started, clock = _now_iso(), time.perf_counter()
        message: ToolMessage | None = None
        with self.client.count_requests() as tally:
            if unavailable:
                error: str | None = unavailable
            elif tool not in self.tools:
                error = f"the toolkit has no tool {tool!r} (update pd_toolkit)"
            else:
                try:
                    message = self.tools[tool].invoke(
                        {"type": "tool_call", "name": tool, "args": args, "id": f"call-{tool}"}
                    )
                    error = message.content if message.status == "error" else None
                except Exception as exc:  # the tools handle their errors; this is a last guard
                    error = f"{tool} failed: {type(exc).__name__}: {exc}"
        artifact = getattr(message, "artifact", None) if error is None else None
        record = LookupRecord(
            tool=tool,
            args=args,
            ok=error is None,
            content=str(message.content) if message is not None else "",
            error=str(error) if error is not None else None,
            artifact=artifact.model_dump(mode="json") if artifact is not None else None,
            started=started,
            finished=_now_iso(),
            seconds=round(time.perf_counter() - clock, 4),
            requests=tally.count,
        )
        return record, message if error is None else None

    # find_incident ---------------------------------------------------------------------

    def find_incident(self, state: InvestigationState) -> dict[str, Any]:
        """The incident to investigate, as a JSON dict in ``target`` (None on failure, or when
        nothing is open)."""
        # At once when already open; in this node's thread when deferred. A store that cannot
        # open is the history lookup's gap (its tool says why), not the investigation's end.
        with suppress(PagerDutyError):
            self.open_store()
        stamp = self.clock().astimezone(UTC).isoformat()
        if state.get("incident"):
            record, message = self.call("pagerduty_get_incident", incident=state["incident"])
            target = message.artifact if message is not None else None
        else:
            record, target = self._pick_open(state.get("service"))
        return {
            "investigated_at": stamp,
            "target": target.model_dump(mode="json") if target is not None else None,
            "lookup_args": {lookup.name: lookup.args(target) for lookup in lookups.TABLE if target},
            "lookups": {"incident": record},
        }

    def _pick_open(self, service: str | None) -> tuple[LookupRecord, Incident | None]:
        """A service's newest open incident, or the account's most urgent one."""
        if service:
            # The very listing the service-status lookup makes: shared, so sent once.
            record, message = self.call(
                "pagerduty_list_incidents", statuses=["open"], service=service, limit=OPEN_LIMIT
            )
        else:
            record, message = self.call(
                "pagerduty_list_incidents", statuses=["open"], urgency="high", limit=OPEN_LIMIT
            )
            if message is not None and not message.artifact.items:
                fallback, message = self.call(
                    "pagerduty_list_incidents", statuses=["open"], limit=OPEN_LIMIT
                )
                record = _merged(record, fallback)
        if message is None:
            return record, None
        listing: IncidentList = message.artifact
        newest = listing.items[:1]  # the listing is newest first
        # None when nothing is open: an answer (the record stays ok), not a failure. The
        # toolkit keeps listed incidents briefly, so the lookups by id send no extra GET.
        return record, most_urgent(newest if service else listing.items)

    # the six lookups ----------------------------------------------------------------------

    def lookup(self, name: str) -> Callable[[InvestigationState], dict[str, Any]]:
        """The node function of lookup ``name`` (its tool and arguments: :mod:`agents.lookups`)."""
        tool = lookups.BY_NAME[name].tool

        def node(state: InvestigationState) -> dict[str, Any]:
            args = state["lookup_args"][name]  # from the incident, validated once
            missing = [key for key, value in args.items() if value is None]
            if missing:
                why = f"the incident names no {missing[0].replace('_', ' ')} to look up"
                record, _ = self.call(tool, unavailable=why, **args)
            else:
                record, _ = self.call(tool, **args)
            return {"lookups": {name: record}}

        node.__name__ = name
        node.__doc__ = f"The {name} lookup of the resolved incident."
        return node

    # assemble_brief -----------------------------------------------------------------------

    def assemble_brief(self, state: InvestigationState) -> dict[str, Any]:
        """The deterministic Markdown brief."""
        return {"brief": compose_brief(state, self.tz)}


def _after_find(state: InvestigationState) -> list[str]:
    return list(LOOKUPS) if state.get("target") else ["assemble_brief"]


def add_investigation(
    builder: StateGraph,
    client: PagerDutyClient,
    model: BaseChatModel | None = None,
    *,
    now: datetime | Callable[[], datetime] | None = None,
    time_zone: str = "UTC",
    store: str | IncidentStore | None = None,
    teams: list[str] | None = None,
    open_store: bool = True,
) -> str:
    """Add the investigation's nodes and edges (from START) to ``builder``, whose state
    extends :class:`InvestigationState`; the name of the last node, for the caller to wire on
    (``build_graph`` ends there, the responder adds its approval after it)."""
    nodes = Investigation(
        client, now=now, time_zone=time_zone, store=store, teams=teams, open_store=open_store
    )
    builder.add_node("find_incident", nodes.find_incident)
    builder.add_edge(START, "find_incident")
    builder.add_conditional_edges("find_incident", _after_find, [*LOOKUPS, "assemble_brief"])
    for name in LOOKUPS:
        builder.add_node(name, nodes.lookup(name))
    builder.add_node("assemble_brief", nodes.assemble_brief)
    builder.add_edge(list(LOOKUPS), "assemble_brief")
    if model is None:
        return "assemble_brief"

    def synthesize_node(state: InvestigationState) -> dict[str, Any]:
        """The model's assessment, its citations checked, placed into the brief."""
        result = synthesize(model, state["brief"], state)
        return {
            "synthesis": result,
            "brief": with_assessment(state["brief"], result["text"], result["error"]),
        }

    builder.add_node("synthesize", synthesize_node)
    builder.add_edge("assemble_brief", "synthesize")
    return "synthesize"


def build_graph(
    client: PagerDutyClient,
    model: BaseChatModel | None = None,
    *,
    now: datetime | Callable[[], datetime] | None = None,
    time_zone: str = "UTC",
    teams: list[str] | None = None,
    store: str | IncidentStore | None = None,
    open_store: bool = True,
) -> CompiledStateGraph:
    """The compiled investigation graph (no checkpointer).

    ``model``: any LangChain chat model for the optional assessment, or None. ``now``: a fixed
    datetime or a clock, passed to the toolkit (for reproducible runs on the sandbox).
    ``time_zone``: IANA zone for "this week" in the tools and the times in the brief.
    ``teams``: a team scope (names or ids): an incident outside it is refused, and every
    lookup answers within it. ``store``: where history is kept (see :class:`PagerDutyToolkit`;
    None = ``PD_TOOLKIT_STORE`` or the default file). ``open_store``: open the store (and
    derive the client's partition, a deliberately slow KDF) now; False defers that blocking
    I/O to the first run's ``find_incident`` node, which LangGraph runs in a worker thread
    when the graph runs async (what a graph factory in an event loop, like ``langgraph dev``'s,
    needs). Each lookup records the requests it sent (``client.count_requests``).
    """
    builder = StateGraph(InvestigationState, input_schema=InvestigationInput)
    last = add_investigation(
        builder,
        client,
        model,
        now=now,
        time_zone=time_zone,
        store=store,
        teams=teams,
        open_store=open_store,
    )
    builder.add_edge(last, END)
    return builder.compile(name="investigate")


def graph(config: RunnableConfig) -> CompiledStateGraph:
    """Graph factory for ``langgraph dev`` / LangGraph Studio (see langgraph.json): built from
    the environment at run time (PAGERDUTY_API_KEY, ...; OPENAI_API_KEY optional), so that
    importing this module needs no key. The server calls it in its event loop, where blocking
    I/O is refused: the store is opened in the first run's ``find_incident`` node instead."""
    return build_graph(
        client_from_env(), chat_model_from_settings(), teams=teams_from_env(), open_store=False
    )


@cache
def client_from_env() -> PagerDutyClient:
    """One client per server process: its rate budget (and the partition it derived for a
    store file) last across runs."""
    return PagerDutyClient.from_env()


# -- CLI ------------------------------------------------------------------------------------


def _short(text: object, width: int = 160) -> str:
    """One line of at most ``width`` characters, cut between words."""
    return textwrap.shorten(str(text), width=width, placeholder=" ...")


def _progress_line(node: str, update: dict[str, Any], seconds: float) -> str:
    records = list((update or {}).get("lookups", {}).values())
    if records:
        record = records[0]
        mark = "ok " if record["ok"] else "!! "
        note = "" if record["ok"] else f"  unavailable: {_short(record['error'])}"
        if record["ok"] and node == "find_incident" and not update.get("target"):
            note = "  nothing open"
        return f"{mark}{node:<17}{record['seconds']:6.2f}s {record['requests']:3d} requests{note}"
    error = (update or {}).get("synthesis", {}).get("error") if node == "synthesize" else None
    note = f"  model unavailable: {_short(error)}" if error else ""
    return f"{'!! ' if error else 'ok '}{node:<17}{seconds:6.2f}s   0 requests{note}"


def run_with_progress(
    compiled: CompiledStateGraph, request: InvestigationInput, out: TextIO
) -> InvestigationState:
    """Run the graph, printing one line per finished node to ``out``; the final state."""
    state: InvestigationState = {}
    last = started = time.perf_counter()
    for mode, chunk in compiled.stream(request, stream_mode=["updates", "values"]):
        if mode == "values":
            state = chunk
            continue
        for node, update in chunk.items():
            now = time.perf_counter()
            print(_progress_line(node, update, now - last), file=out, flush=True)
            last = now
    total = sum(r["requests"] for r in state.get("lookups", {}).values())
    print(f"done in {time.perf_counter() - started:.2f}s, {total} requests", file=out)
    return state


def _print_brief(brief: str) -> None:
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(brief))
    else:
        sys.stdout.write(brief)


EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def failure_of(state: InvestigationState) -> str | None:
    """Why no incident could be investigated (unknown incident or service, a refused key, ...);
    None when there was one, or when nothing is open (a true answer, not a failure)."""
    record = state.get("lookups", {}).get("incident")
    if state.get("target") is not None or record is None or record["ok"]:
        return None
    return " ".join(str(record["error"]).split())


def main(argv: list[str] | None = None) -> int:
    """The CLI. Exit status: 0 a brief (or nothing open), 1 the incident could not be
    investigated (unknown incident or service, a PagerDuty error such as 401), 2 a
    configuration error (no key, no model for --model)."""
    parser = argparse.ArgumentParser(
        prog="python -m agents.investigate",
        description="Investigate a PagerDuty incident and print a brief with evidence ids.",
    )
    parser.add_argument("incident", nargs="?", help="incident number (#1234), id or URL")
    parser.add_argument("--service", help="investigate this service's newest open incident")
    parser.add_argument("--json", action="store_true", help="print the structured state")
    add_connection_options(parser)
    args = parser.parse_args(argv)

    model = chat_model_from_settings(args.model, args.base_url)
    if model is None and (args.model or args.base_url):
        print(NO_MODEL_HELP, file=sys.stderr)
        return EXIT_CONFIG
    request: InvestigationInput = {}
    if args.incident:
        request["incident"] = args.incident
    if args.service:
        request["service"] = args.service
    with ExitStack() as stack:
        client = open_client(args, stack)
        if client is None:
            return EXIT_CONFIG
        try:  # the store opens here: unreachable, corrupt, locked, ...
            compiled = build_graph(client, model, teams=teams_from_env())
        except PagerDutyError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_CONFIG
        state = run_with_progress(compiled, request, sys.stderr)
    if args.json:
        print(json.dumps(state, indent=2))
    else:
        _print_brief(state["brief"])
    failure = failure_of(state)
    if failure is not None:
        print(f"error: {failure}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
