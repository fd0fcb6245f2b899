"""The cases: on-call questions in YAML (evals/cases/*.yaml), loaded into pydantic models.

A file holds one category and the defaults of its cases (seed, clock)::

    category: oncall
    seed: 7
    clock: 2026-11-18T09:30:00Z
    cases:
      - id: oncall-team-saturday-night
        question: Who is on call for {team} at {when}?
        difficulty: medium
        refs: {when: {when: saturday 03:00}, team: {team_oncall_changes: {at: saturday 03:00}}}
        facts: [{oncall: {team: "{team}", level: 1, at: saturday 03:00}}]
        tools: [{pagerduty_get_oncall: {team: "{team}", at: "{when}"}}]

``refs`` name things picked from the sandbox's ground truth (an open incident by its hidden
failure mode, a time word resolved against the clock), in order; ``{name}`` in the question,
the refs' and facts' parameters and the tools' arguments is replaced by what they resolve to.
Facts are fact kinds with parameters (see :mod:`evals.truth`), never literal answers; the
claims an answer must not make are generated from them (``must_not`` may add more).
"""

from __future__ import annotations

import fnmatch
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from pd_toolkit.toolkit import tool_names

CASES_DIR = Path(__file__).parent / "cases"
Difficulty = Literal["easy", "medium", "hard"]
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _single_key(value: Any, what: str) -> tuple[str, Any]:
    """A one-entry mapping ``{key: value}`` as a pair (how a YAML case lists facts and tools)."""
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError(f"each {what} is a mapping with one key, got {value!r}")
    ((key, item),) = value.items()
    return str(key), item


class Spec(BaseModel):
    """A fact kind (or a ref kind) and its parameters: ``{oncall: {team: Payments}}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_mapping(cls, value: Any) -> Any:
        if isinstance(value, dict) and set(value) <= {"kind", "params"}:
            return value
        kind, params = _single_key(value, "fact")
        if params is None:
            params = {}
        if not isinstance(params, dict):
            params = {"value": params}
        return {"kind": kind, "params": params}


class ToolCallSpec(BaseModel):
    """A tool call the case expects (and the oracle makes): ``{pagerduty_get_oncall: {...}}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    args: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_mapping(cls, value: Any) -> Any:
        if isinstance(value, dict) and set(value) <= {"name", "args"}:
            return value
        name, args = _single_key(value, "tool")
        return {"name": name, "args": args or {}}

    @field_validator("name")
    @classmethod
    def _known_tool(cls, name: str) -> str:
        if name not in tool_names():
            raise ValueError(f"unknown tool {name!r}; choose from {', '.join(tool_names())}")
        return name


class Case(BaseModel):
    """One question, where and when it is asked, and what a right answer holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    category: str
    question: str
    difficulty: Difficulty
    seed: int = 7
    clock: AwareDatetime
    refs: dict[str, Spec] = Field(default_factory=dict)
    facts: list[Spec] = Field(min_length=1)
    must_not: list[Spec] = Field(default_factory=list)
    tools: list[ToolCallSpec] = Field(default_factory=list)
    note: str | None = None  # why the case is there (shown in the report)

    def filled(self, values: dict[str, str]) -> Case:
        """The case with ``{name}`` replaced by each resolved ref, everywhere it may appear."""
        data = self.model_dump(exclude={"refs"})
        for key in ("question", "facts", "must_not", "tools"):
            data[key] = fill(data[key], values)
        return Case.model_validate(data)


class CaseFile(BaseModel):
    """One YAML file: a category, its defaults and its cases."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(pattern=r"^[a-z][a-z_]*$")
    seed: int = 7
    clock: AwareDatetime
    cases: list[dict[str, Any]] = Field(min_length=1)


def fill(value: Any, values: dict[str, str]) -> Any:
    """``value`` with the ``{name}`` placeholders of its strings replaced, for each ref."""
    if isinstance(value, str):  # only known names: a regex's {2,} stays as written
        return PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), value)
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items()}
    return value


def load_file(path: Path) -> list[Case]:
    """The cases of one YAML file (its defaults applied); ValueError names the file."""
    try:
        parsed = CaseFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        return [
            Case.model_validate(
                {"category": parsed.category, "seed": parsed.seed, "clock": parsed.clock} | raw
            )
            for raw in parsed.cases
        ]
    except (yaml.YAMLError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


def load_cases(pattern: str | None = None, directory: Path = CASES_DIR) -> list[Case]:
    """Every case under ``directory``, or those whose id, category or ``category/id`` matches
    the glob ``pattern``; ids must be unique."""
    cases = [case for path in sorted(directory.glob("*.yaml")) for case in load_file(path)]
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise ValueError(f"case id {case.id!r} is used twice")
        seen.add(case.id)
    if pattern:
        cases = [
            case
            for case in cases
            if any(
                fnmatch.fnmatchcase(name, pattern)
                for name in (case.id, case.category, f"{case.category}/{case.id}")
            )
        ]
    return cases


def clock_key(case: Case) -> tuple[int, datetime]:
    """What a sandbox is built for: cases sharing it share one sandbox."""
    return case.seed, case.clock
