"""The `pd-toolkit sandbox` command serves a working sandbox until stopped, and prints the
export lines that point pd_toolkit at it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import requests


def test_pd_toolkit_sandbox_serves_until_stopped() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pd_toolkit.cli", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(2)]
        url = re.search(r"http://127\.0\.0\.1:\d+", banner[0])
        key = re.search(r"account-level key:\s+(\S+)", banner[1])
        assert url and key, banner
        answer = requests.get(
            url.group(0) + "/abilities",
            headers={"Authorization": f"Token token={key.group(1)}"},
            timeout=10,
        )
        assert answer.status_code == 200 and answer.json()["abilities"]
        export = next(
            line for line in iter(process.stdout.readline, "") if line.strip().startswith("export ")
        )
        env = dict(re.findall(r"(PAGERDUTY_\w+)=(\S+)", export))
        assert env == {"PAGERDUTY_API_HOST": url.group(0), "PAGERDUTY_API_KEY": key.group(1)}
        check = subprocess.run(
            [sys.executable, "-m", "pd_toolkit.cli", "check"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_help_lists_every_command() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "pd_toolkit.cli", "--help"], capture_output=True, text=True
    )
    assert shown.returncode == 0
    for command in ("check", "sandbox", "mcp"):
        assert re.search(rf"^\s+{command}\s+\S", shown.stdout, re.MULTILINE), command
    assert "serve the tools over MCP" in shown.stdout


def test_check_says_could_not_reach_before_blaming_the_key() -> None:
    from rich.console import Console

    from pd_toolkit import PagerDutyClient
    from pd_toolkit.cli import print_check

    client = PagerDutyClient(api_key="k" * 20, base_url="http://127.0.0.1:9", max_retries=0)
    check = client.verify()
    assert not check.ok and not check.reached
    console = Console(record=True, width=200)
    print_check(check, console)
    text = console.export_text()
    assert "could not reach http://127.0.0.1:9" in text
    assert "not accepted" not in text
