"""The `pd-toolkit` commands: `sandbox` serves a working sandbox until stopped and prints the
export lines that point pd_toolkit at it; `check` tells an unreachable host, a host that is not
PagerDuty and a refused key apart, and never shows a URL's password; options are checked and
described; `sandbox-trigger` explains a refusal in words."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from pd_toolkit.cli import RESPONDER_VERBS, build_parser, main


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


@contextmanager
def not_pagerduty(status: int = 404) -> Iterator[str]:
    """A plain web server answering every request with an HTML error page (404 by default);
    yields its URL."""

    class NotFound(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_error(status)

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run_cli(
    arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int | str | None, str, str]:
    """(exit status, stdout, stderr) of `pd-toolkit ARGUMENTS`, run in this process."""
    try:
        status: int | str | None = main(arguments)
    except SystemExit as exit:
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("status", [404, 401])
def test_check_says_a_host_that_is_not_pagerduty_is_not_pagerduty(
    status: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with not_pagerduty(status) as url:
        host = url.replace("http://", "http://proxy-user:s3cret-pass@")
        monkeypatch.setenv("PAGERDUTY_API_HOST", host)
        monkeypatch.setenv("PAGERDUTY_API_KEY", "k" * 20)
        exit_status, out, err = run_cli(["check"], capsys)
    text = " ".join((out + err).split())
    assert exit_status == 1
    assert "does not look like the PagerDuty REST API" in text
    assert f"HTTP {status} without PagerDuty's error JSON" in text and "PAGERDUTY_API_HOST" in text
    assert "not accepted" not in text and "No such PagerDuty resource" not in text
    assert "refused the API key" not in text
    assert "s3cret-pass" not in text and "proxy-user:***@" in text


def test_check_still_blames_a_key_pagerduty_refused(sandbox: Any) -> None:
    from pd_toolkit import PagerDutyClient

    check = PagerDutyClient(api_key="revoked-key-000000000", base_url=sandbox.base_url).verify()
    assert check.is_pagerduty and check.reached and not check.ok
    assert check.key_kind == "unknown"


@pytest.mark.parametrize("days", ["-5", "0", "3651", "99999", "a week"])
def test_sync_refuses_a_window_that_is_not_1_to_3650_days(
    days: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run_cli(["sync", "--days", days], capsys)
    assert status == 2
    assert "argument --days:" in err and "Traceback" not in err


def test_every_option_says_what_it_does() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in commands.choices.items():
        if name in RESPONDER_VERBS:  # their options are the responder's (its own --help)
            continue
        assert command.description, name
        for action in command._actions:
            assert action.help, f"{name} {action.option_strings}"


def test_sandbox_trigger_help_lists_the_failure_modes(capsys: pytest.CaptureFixture[str]) -> None:
    from pd_toolkit.sandbox.catalog import MODES

    status, out, _ = run_cli(["sandbox-trigger", "--help"], capsys)
    assert status == 0
    assert all(mode.name in out for mode in MODES)
    status, _, err = run_cli(["sandbox-trigger", "--mode", "no_such_mode"], capsys)
    assert status == 2 and "invalid choice: 'no_such_mode'" in err


def test_sandbox_trigger_says_why_in_words(
    fresh_sandbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    url = fresh_sandbox.base_url
    status, out, _ = run_cli(
        ["sandbox-trigger", "--url", url, "--mode", "coredns_servfail"], capsys
    )
    assert status == 0 and out.startswith("Triggered #")
    status, out, _ = run_cli(["sandbox-trigger", "--url", url, "--service", "nope"], capsys)
    assert status == 1
    assert " ".join(out.split()) == "error: the sandbox refused (HTTP 400): unknown service 'nope'"
    with not_pagerduty() as elsewhere:
        status, out, _ = run_cli(["sandbox-trigger", "--url", elsewhere], capsys)
    assert status == 2 and "answered HTTP 404 without JSON: is it the sandbox?" in out
    assert "{" not in out
