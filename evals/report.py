"""A run's report: the results as JSON, a Markdown table, and a per-category bar chart (PNG).

Written to evals/reports/<model>-<face>.{json,md,png}: one file set per model and face, so a
rerun replaces it and two models (or two faces) sit side by side.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from evals.runner import CaseResult

REPORTS_DIR = Path(__file__).parent / "reports"


class Totals(BaseModel):
    """Sums and means over a set of case results (a category, or the whole run)."""

    cases: int
    passed: int
    mean_score: float
    model_calls: int
    input_tokens: int | None  # None: the model reported no usage
    output_tokens: int | None
    tool_output_tokens: int
    pagerduty_requests: int
    tool_errors: int
    retries: int
    unsupported_ids: int
    seconds: float


class Report(BaseModel):
    """One run: which model through which face, every case's result and the totals."""

    model: str
    face: str
    base_url: str | None = None
    started: datetime = Field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    cases: list[CaseResult]
    categories: dict[str, Totals] = Field(default_factory=dict)
    total: Totals | None = None

    def model_post_init(self, context: object, /) -> None:
        names = list(dict.fromkeys(result.category for result in self.cases))
        self.categories = {
            name: totals([r for r in self.cases if r.category == name]) for name in names
        }
        self.total = totals(self.cases)

    @property
    def stem(self) -> str:
        """The report files' name: model and face, safe for a file name."""
        return re.sub(r"[^A-Za-z0-9._-]+", "_", f"{self.model}-{self.face}")


def _sum_reported(values: list[int | None]) -> int | None:
    return sum(v for v in values if v is not None) if any(v is not None for v in values) else None


def totals(results: list[CaseResult]) -> Totals:
    """The totals of some case results."""
    return Totals(
        cases=len(results),
        passed=sum(r.passed for r in results),
        mean_score=round(sum(r.score for r in results) / len(results), 3) if results else 0.0,
        model_calls=sum(r.model_calls for r in results),
        input_tokens=_sum_reported([r.input_tokens for r in results]),
        output_tokens=_sum_reported([r.output_tokens for r in results]),
        tool_output_tokens=sum(r.tool_output_tokens for r in results),
        pagerduty_requests=sum(r.pagerduty_requests for r in results),
        tool_errors=sum(r.tool_errors for r in results),
        retries=sum(r.retries for r in results),
        unsupported_ids=sum(len(r.unsupported_ids) for r in results),
        seconds=round(sum(r.seconds for r in results), 2),
    )


def _figure(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _cell(text: str, limit: int = 80) -> str:
    """Text for a table cell: one line, no pipes, capped (answers are model output)."""
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def category_table(report: Report) -> str:
    """The per-category Markdown table (also what the README publishes for the oracle)."""
    lines = [
        "| category | cases | passed | mean score | model calls | tokens read | tokens written "
        "| tool-output tokens | PagerDuty requests | tool errors / retries |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = [*report.categories.items(), ("**total**", report.total)]
    for name, t in rows:
        assert t is not None
        lines.append(
            f"| {name} | {t.cases} | {t.passed} | {t.mean_score:.2f} | {t.model_calls} "
            f"| {_figure(t.input_tokens)} | {_figure(t.output_tokens)} "
            f"| {t.tool_output_tokens:,} | {t.pagerduty_requests:,} "
            f"| {t.tool_errors} / {t.retries} |"
        )
    return "\n".join(lines)


def markdown(report: Report) -> str:
    """The whole report as Markdown: per category, per case, and what each failure missed."""
    where = f" at {report.base_url}" if report.base_url else ""
    parts = [
        f"# Evaluation: {report.model}{where}, {report.face} face",
        "",
        f"Run {report.started:%Y-%m-%d %H:%M}Z on the sandbox. Scores: the share of a case's "
        "facts found in the answer (0 with a forbidden claim); passed: every fact, no "
        "forbidden claim, no cited id the tools never returned.",
        "",
        category_table(report),
        "",
        "| case | category | difficulty | passed | score | facts | tools called | errors / "
        "retries | tokens read / written | seconds |",
        "|---|---|---|---|---:|---:|---|---:|---:|---:|",
    ]
    for r in report.cases:
        facts = f"{len(r.facts_found)}/{len(r.facts_found) + len(r.facts_missing)}"
        tools = ", ".join(c.name.removeprefix("pagerduty_") for c in r.tool_calls) or "none"
        parts.append(
            f"| {r.id} | {r.category} | {r.difficulty} | {'yes' if r.passed else 'no'} "
            f"| {r.score:.2f} | {facts} | {tools} | {r.tool_errors} / {r.retries} "
            f"| {_figure(r.input_tokens)} / {_figure(r.output_tokens)} | {r.seconds:.1f} |"
        )
    failed = [r for r in report.cases if not r.passed]
    if failed:
        parts += ["", "## What the failures missed", ""]
        for r in failed:
            problems = [f"missing {_cell(f, 60)!r}" for f in r.facts_missing]
            problems += [f"forbidden claim {_cell(f, 60)!r}" for f in r.forbidden_made]
            problems += [f"id not in any tool output {i}" for i in r.unsupported_ids]
            problems += [f"error {_cell(r.error)}"] if r.error else []
            parts.append(f"- **{r.id}** ({_cell(r.question, 70)}): {'; '.join(problems)}")
    return "\n".join(parts) + "\n"


def chart(report: Report, path: Path) -> None:
    """A bar chart of the mean score and the share passed, per category (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report.categories)
    scores = [report.categories[n].mean_score for n in names]
    passed = [report.categories[n].passed / report.categories[n].cases for n in names]
    figure, axes = plt.subplots(figsize=(max(6.0, 0.9 * len(names) + 2), 4))
    positions = range(len(names))
    axes.bar([p - 0.2 for p in positions], scores, width=0.4, label="mean score")
    axes.bar([p + 0.2 for p in positions], passed, width=0.4, label="share passed")
    axes.set_xticks(list(positions), names, rotation=30, ha="right")
    axes.set_ylim(0, 1.05)
    axes.set_title(f"{report.model} ({report.face} face): per category")
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=100, metadata={"Software": None})  # no version: rerunnable
    plt.close(figure)


def write(report: Report, directory: Path = REPORTS_DIR) -> list[Path]:
    """Write the JSON, Markdown and PNG of ``report``; their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{report.stem}.{suffix}" for suffix in ("json", "md", "png")]
    paths[0].write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    paths[1].write_text(markdown(report), encoding="utf-8")
    chart(report, paths[2])
    return paths


def comparison(ours: Report, peer: Report) -> str:
    """Ours and the peer's figures per category, side by side (Markdown)."""
    lines = [
        f"# {ours.model}: {ours.face} face vs {peer.face}",
        "",
        "| category | passed (ours / peer) | mean score | tokens read | tool-output tokens "
        "| PagerDuty requests |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, mine in [*ours.categories.items(), ("**total**", ours.total)]:
        theirs = peer.total if name == "**total**" else peer.categories.get(name)
        assert mine is not None and theirs is not None
        lines.append(
            f"| {name} | {mine.passed}/{mine.cases} / {theirs.passed}/{theirs.cases} "
            f"| {mine.mean_score:.2f} / {theirs.mean_score:.2f} "
            f"| {_figure(mine.input_tokens)} / {_figure(theirs.input_tokens)} "
            f"| {mine.tool_output_tokens:,} / {theirs.tool_output_tokens:,} "
            f"| {mine.pagerduty_requests:,} / {theirs.pagerduty_requests:,} |"
        )
    return "\n".join(lines) + "\n"
