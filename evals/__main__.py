"""The command line: run the cases with a model, or list them.

    python -m evals run --model NAME [--base-url URL] [--cases GLOB] [--face langchain|mcp]
                        [--peer pagerduty-mcp] [--out DIR]
    python -m evals list [--cases GLOB]

``--model oracle``, ``careless-wrong-tool`` and ``careless-invents`` are the scripted models
(no LLM). Any other name is a chat model on OpenAI or any OpenAI-compatible server
(``--base-url``, or OPENAI_BASE_URL; OPENAI_API_KEY). Exit status: 0 the run is reported;
1 the chat model could not be reached, or a scripted model disagreed with the cases (the
oracle failed one, or a careless model passed one); 2 nothing to run (no model configured,
no case matched, the peer is not installed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from agents.llm import NO_MODEL_HELP, chat_model_from_settings
from evals.cases import Case, load_cases
from evals.faces import FACES, FaceName
from evals.models import CARELESS, ORACLE, SCRIPTED, scripted_model
from evals.peers import NOT_INSTALLED, PEER, peer_command, peer_installed
from evals.report import REPORTS_DIR, Report, comparison, write
from evals.runner import CaseResult, ModelFactory, is_model_unreachable, run
from evals.truth import TruthError
from pd_toolkit.connection import shown_url


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    runs = commands.add_parser("run", help="run the cases and write a report")
    runs.add_argument(
        "--model", required=True, help=f"{', '.join(SCRIPTED)}, or a chat model's name"
    )
    runs.add_argument("--base-url", help="an OpenAI-compatible server, e.g. a local vLLM")
    runs.add_argument("--cases", help="a glob over case ids and categories, e.g. 'oncall*'")
    runs.add_argument("--face", choices=FACES, default="langchain", help="default: langchain")
    runs.add_argument("--peer", choices=[PEER], help="also run the cases through this server")
    runs.add_argument("--out", type=Path, default=REPORTS_DIR, help="default: evals/reports")
    listing = commands.add_parser("list", help="list the cases")
    listing.add_argument("--cases", help="a glob over case ids and categories")
    return parser


class ProgressLine:
    """One line on stderr, rewritten per case on a terminal (one line per case otherwise)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.live = sys.stderr.isatty()

    def __call__(self, done: int, total: int, result: CaseResult) -> None:
        mark = "pass" if result.passed else "FAIL"
        line = (
            f"{self.label} [{done}/{total}] {mark} {result.category}/{result.id} "
            f"score {result.score:.2f} ({result.seconds:.1f}s)"
        )
        if self.live:
            end = "\n" if done == total else ""
            print(f"\r\033[K{line}", end=end, file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)


def _model_factory(name: str, base_url: str | None) -> ModelFactory | None:
    if name in SCRIPTED:
        return lambda case: scripted_model(name, case)
    model: BaseChatModel | None = chat_model_from_settings(name, base_url)
    return None if model is None else (lambda case: model)


def _disagreement(name: str, results: list[CaseResult]) -> list[str]:
    """The cases a scripted model got other than it must: the oracle passes every case,
    a careless model none."""
    if name == ORACLE:
        return [r.id for r in results if not r.passed]
    if name in CARELESS:
        return [r.id for r in results if r.passed]
    return []


def _run_face(
    cases: list[Case], factory: ModelFactory, args: argparse.Namespace, face: FaceName
) -> Report:
    results = run(cases, factory, face, ProgressLine(f"{args.model} ({face})"))
    where = shown_url(args.base_url) if args.base_url else None  # never a password
    return Report(model=args.model, face=face, base_url=where, cases=results)


def _run(args: argparse.Namespace) -> int:
    cases = load_cases(args.cases)
    if not cases:
        print(f"error: no case matches {args.cases!r} (python -m evals list)", file=sys.stderr)
        return 2
    if args.peer and not peer_installed():
        print(NOT_INSTALLED.format(command=" ".join(peer_command())), file=sys.stderr)
        return 2
    if args.peer and args.model in SCRIPTED:
        print(
            f"error: --peer needs a chat model: the scripted models call pd_toolkit's tools, "
            f"which {PEER} does not have.",
            file=sys.stderr,
        )
        return 2
    factory = _model_factory(args.model, args.base_url)
    if factory is None:
        print(NO_MODEL_HELP, file=sys.stderr)
        return 2
    try:
        reports = [_run_face(cases, factory, args, args.face)]
        if args.peer:
            reports.append(_run_face(cases, factory, args, args.peer))
    except TruthError as exc:
        print(f"error: a case cannot be scored: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not is_model_unreachable(exc):
            raise
        print(
            f"error: the chat model {args.model!r} did not answer "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:160]}); check --base-url / "
            "OPENAI_BASE_URL and OPENAI_API_KEY.",
            file=sys.stderr,
        )
        return 1
    for report in reports:
        paths = write(report, args.out)
        assert report.total is not None
        print(
            f"{report.model} ({report.face}): {report.total.passed}/{report.total.cases} passed, "
            f"mean score {report.total.mean_score:.2f}; {', '.join(map(str, paths))}"
        )
    if args.peer:
        side_by_side = args.out / f"{reports[0].stem}-vs-{PEER}.md"
        side_by_side.write_text(comparison(*reports), encoding="utf-8")
        print(f"side by side: {side_by_side}")
    wrong = _disagreement(args.model, reports[0].cases)
    if wrong:
        print(
            f"error: {args.model} disagrees with the cases on {', '.join(wrong)}", file=sys.stderr
        )
        return 1
    return 0


def _list(args: argparse.Namespace) -> int:
    for case in load_cases(args.cases):
        print(f"{case.category}/{case.id} [{case.difficulty}] {case.question}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run the command; the exit status."""
    args = _parser().parse_args(argv)
    return _run(args) if args.command == "run" else _list(args)


if __name__ == "__main__":
    sys.exit(main())
