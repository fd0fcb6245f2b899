"""``python -m agents.responder.demo`` (``make responder-demo``): the whole loop, locally, with
no LLM: a sandbox pages, its signed webhook reaches the responder, the investigation runs,
a person approves with ``pd-toolkit approve``, and the note shows up on the sandbox incident.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import requests

from agents.responder import decide
from agents.responder.server import ResponderSettings, running_responder
from pd_toolkit import PagerDutyClient
from pd_toolkit.cli import main as pd_toolkit_cli
from pd_toolkit.sandbox import Sandbox
from pd_toolkit.store import default_to_memory

FROM_EMAIL = "alice.nguyen@example.com"  # a user of the sandbox account


def _wait_for_brief(url: str, token: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    auth = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < deadline:
        for item in requests.get(f"{url}/investigations", headers=auth, timeout=10).json():
            if item["status"] == "awaiting_approval":
                return item
        time.sleep(0.1)
    raise TimeoutError("no brief became ready")


def main() -> int:
    webhook_secret = secrets.token_hex(16)
    token = secrets.token_hex(16)
    os.environ["PD_TOOLKIT_APPROVAL_TOKEN"] = token
    default_to_memory()  # a sandbox's history is not worth keeping in ~/.cache
    with tempfile.TemporaryDirectory() as folder, Sandbox() as sandbox:
        # The sandbox's write key may post notes; its other keys are read-only (403).
        client = PagerDutyClient(api_key=sandbox.write_api_key, base_url=sandbox.base_url)
        settings = ResponderSettings(
            port=0,
            state=str(Path(folder) / "responder.db"),
            webhook_secrets=[webhook_secret],
            approval_token=token,
            allow_notes=True,
            from_email=FROM_EMAIL,
        )
        with running_responder(client, settings) as responder:
            sandbox.webhook_url = f"{responder.url}/webhooks/pagerduty"
            sandbox.webhook_secrets = [webhook_secret]
            print(f"sandbox at {sandbox.base_url}; responder at {responder.url}\n")
            print("1. PagerDuty pages: $ pd-toolkit sandbox-trigger")
            started = time.monotonic()
            if pd_toolkit_cli(["sandbox-trigger", "--url", sandbox.base_url]) != 0:
                return 1
            item = _wait_for_brief(responder.url, token)
            seconds = time.monotonic() - started
            print(f"\n2. Investigated in {seconds:.2f}s; the brief awaits approval:\n")
            print("\n".join(f"   {line}" for line in (item["brief"] or "").splitlines()[:12]))
            print("   ...\n")
            print(f"3. A human approves: $ pd-toolkit approve {item['incident_id']} --yes")
            decision = ["approve", item["incident_id"], "--url", responder.url, "--yes"]
            if decide.main(decision) != 0:
                return 1
            notes = client.get(f"/incidents/{item['incident_id']}/notes")["notes"]
            note = notes[-1]
            print(f"\n4. The note on the incident (by {note['user']['summary']}):\n")
            lines = note["content"].splitlines()
            print("\n".join(f"   {line}" for line in [*lines[:6], "   ...", *lines[-1:]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
