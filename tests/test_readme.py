"""The README as a newcomer follows it: every incident number it quotes exists in the sandbox
(with the story it tells), and its command lines run.

Command lines run here: the offline ones (``--sandbox``, the sandbox export line with
``pd-toolkit check`` and ``agents.investigate``, ``make responder-demo``'s module). Lines
that need a real account, a chat model key or a human (``...`` and ``<...>`` placeholders) and
the long-running servers are covered elsewhere: ``pd-toolkit sandbox`` in test_cli.py,
``pd-toolkit mcp`` in test_mcp.py, ``agents.responder`` in test_responder*.py.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from conftest import ROOT

from pd_toolkit.sandbox import Sandbox, build_account

README = (ROOT / "README.md").read_text()
SHELL_BLOCKS = re.findall(r"```sh\n(.*?)```", README, re.S)
LINES = [
    line.split("  #", 1)[0].strip()
    for block in SHELL_BLOCKS
    for line in block.splitlines()
    if line.strip() and not line.lstrip().startswith("#")
]
QUOTED_NUMBERS = sorted(
    {int(n) for n in re.findall(r"#(\d{3,})", README)}
    | {int(n) for n in re.findall(r"pd-toolkit (?:approve|reject) (\d+)", README)}
)
OFFLINE = [line for line in LINES if line.startswith(".venv/bin/python -m agents.investigate")]
OFFLINE = [line for line in OFFLINE if "--sandbox" in line]


def run(line: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(line)
    argv[0] = sys.executable if argv[0] == ".venv/bin/python" else argv[0]
    return subprocess.run(
        argv,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.parametrize("days_later", [0, 1, 30])
def test_every_quoted_incident_number_exists_whatever_the_clock(days_later: int) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=days_later)
    account = build_account(7, now)
    assert 3088 in QUOTED_NUMBERS
    assert [n for n in QUOTED_NUMBERS if account.find_incident(n) is None] == []
    demo = account.find_incident(3088)
    assert demo is not None and demo["status"] == "triggered"
    assert demo["service"]["summary"] == "checkout"
    assert "SLO burn rate" in demo["title"]


def test_the_readme_has_the_offline_commands_this_test_runs() -> None:
    assert len(OFFLINE) == 4
    assert any("--json" in line for line in OFFLINE)


@pytest.mark.parametrize("line", OFFLINE)
def test_each_offline_command_line_runs(line: str) -> None:
    done = run(line, {"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()
    assert "Traceback" not in done.stderr


def test_the_sandbox_export_line_then_check_and_investigate() -> None:
    export = next(line for line in LINES if line.startswith("export PAGERDUTY_API_HOST="))
    follow = next(line for line in LINES if line.startswith(".venv/bin/pd-toolkit check &&"))
    env = dict(re.findall(r"(PAGERDUTY_\w+)=(\S+)", export))
    with Sandbox() as sandbox:
        env["PAGERDUTY_API_HOST"] = sandbox.base_url  # the README's port 8080 may be taken here
        assert env["PAGERDUTY_API_KEY"] == sandbox.api_key
        for part in follow.split("&&"):
            part = part.strip().replace(
                ".venv/bin/pd-toolkit", f"{sys.executable} -m pd_toolkit.cli"
            )
            done = run(part, {**env, "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""})
            assert done.returncode == 0, done.stdout[-1000:] + done.stderr[-1000:]


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
