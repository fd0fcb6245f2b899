"""``pd-toolkit approve|reject INCIDENT`` (also ``python -m agents.responder approve|reject``):
a person's decision on a running responder's brief.

``pd-toolkit`` runs these verbs as ``python -m agents.responder`` (from the checkout), as it
runs ``pd-toolkit responder``: the library never imports the responder. An approval first
shows the note exactly as the writer will post it (:func:`~agents.responder.notes.note_body`)
and asks; ``--yes`` skips the question. Environment: PD_TOOLKIT_APPROVAL_TOKEN (the
responder's approval token), PD_TOOLKIT_RESPONDER_URL (default of ``--url``). A decision on an
investigation still queued or running waits for its brief (``--wait``, 60 s). Exit status 0
when the responder took the decision, 1 when it refused it or the person said no, 2 when
something is not configured or the responder cannot be reached.
"""

from __future__ import annotations

import argparse
import os
import time

import requests
from rich.console import Console

from agents.responder.notes import note_body

VERBS = ("approve", "reject")


def build_parser() -> argparse.ArgumentParser:
    """``approve|reject INCIDENT [--url URL]``; approve also ``--yes``, ``--text``,
    ``--text-file``; reject also ``--reason``."""
    parser = argparse.ArgumentParser(
        prog="pd-toolkit", description="Decide on a responder's brief awaiting approval."
    )
    verbs = parser.add_subparsers(dest="decision", required=True)
    responder_url = os.environ.get("PD_TOOLKIT_RESPONDER_URL", "http://127.0.0.1:8787")
    for decision, verb in (("approve", "post the brief as a note"), ("reject", "drop the brief")):
        decide = verbs.add_parser(
            decision,
            help=f"{verb} (a responder's investigation awaiting approval)",
            description="Needs PD_TOOLKIT_APPROVAL_TOKEN; the responder's URL is --url or "
            "PD_TOOLKIT_RESPONDER_URL.",
        )
        decide.add_argument("incident", help="incident id or number")
        decide.add_argument("--url", default=responder_url, help="the responder's URL")
        decide.add_argument(
            "--wait",
            type=float,
            default=60.0,
            help="seconds to wait for an investigation still queued or running (default 60)",
        )
        if decision == "approve":
            decide.add_argument(
                "--yes", action="store_true", help="post without showing the note and asking"
            )
            edited = decide.add_mutually_exclusive_group()
            edited.add_argument("--text", help="post this text instead of the brief")
            edited.add_argument("--text-file", help="post this file's text instead")
        else:
            decide.add_argument("--reason", help="why (kept with the decision; nothing is posted)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``approve|reject ...`` (``argv`` starts with the verb); the exit status."""
    return decide(build_parser().parse_args(argv), Console())


def decide(args: argparse.Namespace, console: Console) -> int:
    """POST /investigations/{incident}/approve|reject to a running responder; an approval first
    shows the text it will post and asks (``--yes`` skips the question)."""
    token = os.environ.get("PD_TOOLKIT_APPROVAL_TOKEN")
    if not token:
        console.print("[red]PD_TOOLKIT_APPROVAL_TOKEN is not set[/red] (the responder's token)")
        return 2
    text = None
    if getattr(args, "text_file", None):
        try:
            with open(args.text_file, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            console.print(f"error: cannot read {args.text_file}: {exc.strerror}", markup=False)
            return 2
    elif getattr(args, "text", None):
        text = args.text
    base = f"{args.url.rstrip('/')}/investigations/{args.incident.lstrip('#')}"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        shown = _when_decidable(console, base, auth, args.wait)
        if shown.status_code != 200:
            return _refused(console, args.decision, shown)
        asked = args.decision == "approve" and not args.yes
        if asked and not _confirmed(console, shown.json(), text):
            console.print("Not approved: nothing was posted.")
            return 1
        response = requests.post(
            f"{base}/{args.decision}",
            json=_body(text, getattr(args, "reason", None)),
            headers=auth,
            timeout=120,
        )
    except requests.RequestException as exc:
        console.print(f"[red]No responder at {args.url}:[/red] {type(exc).__name__}")
        return 2
    if response.status_code != 200:
        return _refused(console, args.decision, response)
    body = response.json()
    note = f", note {body['note_id']}" if body.get("note_id") else ""
    console.print(f"incident {body['incident_id']}: {body['status']}{note}", markup=False)
    return 0


def _body(text: str | None, reason: str | None) -> dict[str, str] | None:
    """The decision's JSON body: an approval's edited text, or a rejection's reason."""
    if text:
        return {"text": text}
    return {"reason": reason} if reason else None


def _when_decidable(
    console: Console, url: str, auth: dict[str, str], wait: float
) -> requests.Response:
    """GET the investigation, waiting up to ``wait`` seconds while it is still queued or
    running (a person often decides right after the page)."""
    deadline = time.monotonic() + wait
    told = False
    while True:
        shown = requests.get(url, headers=auth, timeout=30)
        status = shown.json().get("status") if shown.status_code == 200 else None
        if status not in ("queued", "running") or time.monotonic() >= deadline:
            return shown
        if not told:
            console.print(f"waiting for the brief (the investigation is {status})...")
            told = True
        time.sleep(0.5)


def _refused(console: Console, decision: str, response: requests.Response) -> int:
    """One line saying why the responder refused."""
    try:
        error = response.json().get("error")
    except ValueError:
        error = response.text[:200]
    console.print(
        f"{decision} failed (HTTP {response.status_code}): {error}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return 1


def _confirmed(console: Console, investigation: dict, text: str | None) -> bool:
    """Show what an approval posts (as the note writer will send it) and ask; False on no or
    on no answer (stdin closed)."""
    body = note_body(text if text is not None else investigation.get("brief") or "")
    number = investigation.get("incident_number")
    console.rule(f"The note to post on incident #{number} ({investigation['incident_id']})")
    console.print(body, markup=False, highlight=False, soft_wrap=True)
    console.rule("followed by a line naming this approval")
    try:
        answer = console.input("Post this note? [y/N] ")
    except EOFError:
        console.print("\nNo answer (pass --yes to approve without the question).")
        return False
    return answer.strip().lower() in ("y", "yes")
