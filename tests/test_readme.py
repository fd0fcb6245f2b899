"""The README as a newcomer follows it, top to bottom: every shell block and Python snippet
runs as written, in order, on the sandbox the quick start leaves running, except the blocks
marked ``<!-- readme: skip (needs a real account | needs a chat model | ...) -->``; every
incident number it quotes exists in the sandbox (with the story it tells); the on-call example
and the time ranges it lists are what the code does.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ROOT

from pd_toolkit.sandbox import Sandbox, build_account

README = (ROOT / "README.md").read_text()
QUOTED_NUMBERS = sorted(
    {int(n) for n in re.findall(r"#(\d{3,})", README)}
    | {int(n) for n in re.findall(r"pd-toolkit (?:approve|reject) (\d+)", README)}
)


@pytest.mark.parametrize("days_later", [0, 1, 30])
def test_every_quoted_incident_number_exists_whatever_the_clock(days_later: int) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=days_later)
    account = build_account(7, now)
    assert 3088 in QUOTED_NUMBERS
    triggered_next = max(i["incident_number"] for i in account.incidents) + 1
    missing = [n for n in QUOTED_NUMBERS if account.find_incident(n) is None]
    assert missing in ([], [triggered_next])  # the walkthrough approves the one it triggers
    demo = account.find_incident(3088)
    assert demo is not None and demo["status"] == "triggered"
    assert demo["service"]["summary"] == "checkout"
    assert "SLO burn rate" in demo["title"]


# -- the README, top to bottom ---------------------------------------------------------------

BLOCK = re.compile(
    r"(?:<!-- readme: skip \((?P<reason>[^)]+)\) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S
)
SKIP_REASONS = {"needs a real account", "needs a chat model", "rewrites the repository's cassettes"}
PORTS = ("8080", "8081", "8787", "8000", "8001")  # the README's servers listen here
DEFAULT_PORTS = {"agents.responder": "8787", "mcp --http": "8000"}
# What the harness adds to each shell block (never shown in the README): after a command sent
# to the background, wait until its port answers, as a person waits for "listening at ...".
PREAMBLE = """set -euo pipefail
wait_port() { for _ in $(seq 1200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return;
  sleep 0.1; done; echo "nothing listens on $1" >&2; return 1; }
"""


def _port_of(command: str) -> str:
    found = re.search(r"--port (\d+)", command)
    if found:
        return found.group(1)
    return next(port for key, port in DEFAULT_PORTS.items() if key in command)


def _shell_script(body: str) -> str:
    """The block as bash runs it: ``make test`` (this very suite) left out, and a wait for the
    port of each command sent to the background."""
    lines = []
    for line in body.replace("\\\n", " ").splitlines():
        command = line.split("  #", 1)[0].rstrip()
        if command == "make test":
            continue
        lines.append(line)
        if command.endswith("&"):
            lines.append(f"wait_port {_port_of(command)}")
    return "\n".join(lines)


def _port_taken(port: str) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", int(port))) == 0


def _read_until_exit(shell: subprocess.Popen[str], timeout: float) -> str:
    """The shell's output until it exits (its background servers keep running, and keep the
    pipe open: they are not waited for)."""
    chunks: list[str] = []
    reader = threading.Thread(
        target=lambda: chunks.extend(iter(shell.stdout.readline, "")),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    shell.wait(timeout=timeout)
    reader.join(timeout=2)
    return "".join(chunks)


def test_the_readme_runs_top_to_bottom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shell block and Python snippet runs as written, in order, on the sandbox the quick
    start leaves running (shell exports carry over to later blocks and to the snippets); only
    blocks marked as needing a real account or a chat model (or rewriting the cassettes) are
    left out."""
    taken = [port for port in PORTS if _port_taken(port)]
    if taken:
        pytest.skip(f"ports {', '.join(taken)} are in use here; the README's servers need them")
    blocks = list(BLOCK.finditer(README))
    assert README.count("```") == 2 * len(blocks)  # every fenced block was read
    skipped = [block["reason"] for block in blocks if block["reason"]]
    assert set(skipped) <= SKIP_REASONS and len(skipped) <= 6, skipped
    env = {**os.environ, "OPENAI_API_KEY": "", "OPENAI_BASE_URL": "", "PYTHONUNBUFFERED": "1"}
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}"
    sessions: list[subprocess.Popen[str]] = []
    namespace: dict[str, object] = {}
    ran = {"sh": 0, "python": 0}
    try:
        for number, block in enumerate(blocks, start=1):
            if block["reason"] or block["lang"] not in ran:
                continue
            ran[block["lang"]] += 1
            if block["lang"] == "python":
                monkeypatch.setattr(os, "environ", dict(env))
                exec(compile(block["body"], f"README block {number}", "exec"), namespace)
                continue
            saved = tmp_path / f"env-{number}"
            script = f"{PREAMBLE}{_shell_script(block['body'])}\nenv -0 > {saved}\n"
            shell = subprocess.Popen(
                ["bash", "-c", script],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,  # its background servers share its process group
            )
            sessions.append(shell)
            output = _read_until_exit(shell, timeout=600)
            assert shell.returncode == 0, f"README block {number}:\n{output[-3000:]}"
            assert "Traceback" not in output, f"README block {number}:\n{output[-3000:]}"
            env = dict(item.split("=", 1) for item in saved.read_text().split("\0") if "=" in item)
    finally:
        for shell in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(shell.pid, signal.SIGTERM)
    assert ran["sh"] >= 6 and ran["python"] >= 3, ran


def test_the_on_call_example_is_what_the_tool_answers() -> None:
    from pd_toolkit import PagerDutyClient, PagerDutyToolkit

    shown = re.search(
        r"`\{\"team\": \"payments\"\}`, on the sandbox at\n(\d{4}-\d\d-\d\d \d\d:\d\d) UTC.*?"
        r"```text\n(.*?)```",
        README,
        re.S,
    )
    assert shown is not None
    at = datetime.fromisoformat(shown.group(1)).replace(tzinfo=UTC)
    with Sandbox(now=at) as sandbox:
        client = PagerDutyClient(api_key=sandbox.api_key, base_url=sandbox.base_url)
        tool = next(
            t
            for t in PagerDutyToolkit(client=client, now=lambda: at).get_tools()
            if t.name == "pagerduty_get_oncall"
        )
        message = tool.invoke(
            {"type": "tool_call", "name": tool.name, "args": {"team": "payments"}, "id": "1"}
        )
    assert message.content.strip() == shown.group(2).strip()


def test_the_relative_ranges_listed_are_the_ones_accepted() -> None:
    from pd_toolkit.timewindow import parse_window

    listed = re.search(r"Relative ranges: (.*?); or", README, re.S)
    assert listed is not None
    now = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
    for phrase in re.findall(r"`([^`]+)`", listed.group(1)):
        example = phrase.replace("N hours|days|weeks", "3 weeks").replace(
            "ISO..ISO", "2026-11-01..2026-11-07"
        )
        assert parse_window(example, None, None, now=now, tz=UTC) is not None, phrase
