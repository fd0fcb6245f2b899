"""Title normalisation: strip the parts of an incident title that vary between recurrences.

Two alerts of one failure mode differ in hosts, pods, ids, numbers and quoted values
("Disk 91% full on db-7.prod.internal" / "Disk 97% full on db-2.prod.internal"); removing those
leaves the stable template, which is what similarity should compare. CamelCase alert names are
split into words first ("KubeNodeNotReady" -> "kube node not ready"), so they share terms with
the same failure worded in prose ("Node ... NotReady", "Kubernetes node ... not ready").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import pairwise

_RULES: list[tuple[re.Pattern[str], str]] = [
    # Quoted values: "...", '...', `...` (error messages, query text, user input).
    (re.compile(r"\"[^\"]*\"|'[^'\s][^']*'|`[^`]*`|“[^”]*”"), " "),
    # ISO-8601 dates and times (2026-11-15, 2026-11-15T19:02:11Z).
    (
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?\b"
        ),
        " ",
    ),
    # URLs and paths with a scheme.
    (re.compile(r"\b[a-z][a-z0-9+.-]*://\S+"), " "),
    # Email addresses.
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), " "),
    # UUIDs.
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), " "),
    # Fully qualified host names (three or more labels): db-7.prod.internal -> removed.
    (re.compile(r"\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9][a-z0-9-]*){2,}\b"), " "),
    # IPv4 (optional port or CIDR), AWS-style ip-10-0-3-17 names, and IPv6.
    (re.compile(r"\b(?:ip-)?\d{1,3}(?:[.-]\d{1,3}){3}(?::\d+|/\d{1,2})?\b"), " "),
    (re.compile(r"(?<![\w:])[0-9a-f]{0,4}(?::{1,2}[0-9a-f]{1,4}){2,7}(?![\w:])"), " "),
    # Kubernetes pod names: keep the workload, drop the replicaset hash and pod suffix.
    (re.compile(r"\b([a-z][a-z0-9-]*?)-[a-z0-9]{6,10}-[a-z0-9]{5}\b"), r"\1"),
    # Hex ids (0x..., git shas, request ids): six or more hex chars with a digit in them.
    (re.compile(r"\b(?:0x[0-9a-f]+|(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,})\b"), " "),
    # Other opaque ids: eight or more word chars mixing letters and digits.
    (re.compile(r"\b(?=\w*\d)(?=\w*[a-z])\w{8,}\b"), " "),
    # Numbers with optional decimals and units, and percentages (91%, 2.5s, 512mb, 3x).
    (
        re.compile(
            r"(?<![a-z0-9])\d+(?:[.,]\d+)*\s*(?:%|ms|s|sec|m|min|h|d|[kmgt]i?b|x)?(?![a-z0-9])"
        ),
        " ",
    ),
]
_NON_WORD = re.compile(r"[^a-z0-9]+")
# A word of letters only (ids mix in digits), and the CamelCase boundaries inside it: lower to
# upper after two letters ("NodeNotReady"; not "iOS"), and the end of an acronym ("OOMKilled";
# not "OAuth").
_LETTERS_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]+(?![A-Za-z0-9])")
_CAMEL_BOUNDARY = re.compile(r"(?<=[A-Za-z][a-z])(?=[A-Z])|(?<=[A-Z]{2})(?=[A-Z][a-z])")

DETAILS_CAP = 2000
STOP_WORDS = frozenset(
    "a an and are as at be by for from has have in is it of on or the to was were with".split()  # noqa: SIM905
)


def split_camel_case(text: str) -> str:
    """Split CamelCase words: 'KubePodCrashLooping OOMKilled' -> 'Kube Pod Crash Looping OOM
    Killed'; words with digits (ids) and 'iOS'/'OAuth'-style words are left whole."""
    return _LETTERS_WORD.sub(lambda word: _CAMEL_BOUNDARY.sub(" ", word.group(0)), text)


def normalize_title(title: str) -> str:
    """Split CamelCase, lower-case and remove the variable parts; words joined by single spaces."""
    text = split_camel_case(title).lower()
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def normalize_details(details: Mapping[str, str], cap: int = DETAILS_CAP) -> str:
    """A trigger's custom details as one normalised text, one line per field ('key value',
    keys split into words), at most ``cap`` characters: what the details signal of ranking
    compares (field by field: see :func:`field_terms`)."""
    parts = (normalize_title(f"{key.replace('.', ' ')} {value}") for key, value in details.items())
    return "\n".join(part for part in parts if part)[:cap].strip()


def field_terms(normalized_details: str) -> list[str]:
    """The words and word pairs of normalised details, pairs never spanning two fields (which
    field follows which says nothing of the failure)."""
    terms: list[str] = []
    for field in normalized_details.split("\n"):
        words = field.split()
        terms += words
        terms += [f"{first} {second}" for first, second in pairwise(words)]
    return terms


def content_terms(normalized: str) -> list[str]:
    """The words of a normalised title that carry meaning (no stop words), in order."""
    return [word for word in normalized.split() if word not in STOP_WORDS and len(word) > 1]


def shared_terms(normalized_query: str, normalized_title: str, limit: int = 6) -> list[str]:
    """The query's content words that the title also has (why a match matched)."""
    title_terms = set(content_terms(normalized_title))
    shared = dict.fromkeys(t for t in content_terms(normalized_query) if t in title_terms)
    return list(shared)[:limit]
