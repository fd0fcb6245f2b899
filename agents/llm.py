"""Chat-model settings shared by the agents: OpenAI, or any OpenAI-compatible server."""

from __future__ import annotations

import os

from langchain_core.language_models import BaseChatModel

DEFAULT_MODEL = "gpt-4o-mini"
NO_MODEL_HELP = (
    "No chat model is configured. Set OPENAI_API_KEY (and optionally PD_TOOLKIT_MODEL), or pass "
    "--model NAME --base-url URL for any OpenAI-compatible server (e.g. a local vLLM or Ollama "
    "at http://localhost:11434/v1). Install the extra first: pip install -e '.[openai]'."
)


def chat_model_from_settings(
    model: str | None = None,
    base_url: str | None = None,
) -> BaseChatModel | None:
    """A ChatOpenAI when a key or base URL is configured, else None (no LLM)."""
    env = os.environ
    base_url = base_url or env.get("OPENAI_BASE_URL")
    api_key = env.get("OPENAI_API_KEY")
    if not (api_key or base_url):
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=model or env.get("PD_TOOLKIT_MODEL") or DEFAULT_MODEL,
        base_url=base_url,
        api_key=api_key or "not-needed-for-a-local-server",
        temperature=0,
        timeout=60,
        max_retries=2,
    )
