"""A tiny OpenAI-compatible chat-completions server on loopback, for testing the LLM paths.

It answers ``POST /v1/chat/completions`` from a script of replies (text or tool calls) and
records every request body, so tests can check what the real langchain-openai client sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


def text_reply(content: str) -> dict[str, Any]:
    return {"role": "assistant", "content": content}


def tool_call_reply(*calls: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": f"call_{index}_{name}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
            for index, (name, arguments) in enumerate(calls)
        ],
    }


class OpenAIStub:
    """Serves scripted replies in order; the last one repeats once the script runs out."""

    def __init__(self, replies: list[dict[str, Any]]) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        if request.method != "POST" or not request.path.endswith("/chat/completions"):
            return Response("not found", status=404)(environ, start_response)
        body = request.get_json(force=True)
        with self._lock:
            self.requests.append(body)
            reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        finish = "tool_calls" if reply.get("tool_calls") else "stop"
        payload = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "stub"),
            "choices": [{"index": 0, "message": reply, "finish_reason": finish}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        return Response(json.dumps(payload), mimetype="application/json")(environ, start_response)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Keep test output clean: no access log lines."""


@contextmanager
def serve_openai_stub(replies: list[dict[str, Any]]) -> Iterator[tuple[str, OpenAIStub]]:
    """Yield ``(base_url, stub)``; base_url ends in /v1 as ChatOpenAI expects."""
    stub = OpenAIStub(replies)
    server = make_server("127.0.0.1", 0, stub, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1", stub
    finally:
        server.shutdown()
        thread.join(timeout=5)
