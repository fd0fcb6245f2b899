"""Deterministic scoring: a fact is found in an answer after both are normalised by its kind.

Kinds of fact and how each is matched:

- ``name`` (a person, team, service, status word): accents, case and punctuation ignored,
  whole words only ("Zoë  O'Brien" matches "zoe o brien").
- ``incident`` (``#3088``): the number on its own, with or without ``#``, "3,088" too, not
  part of a longer number, a time or an id.
- ``id`` (``PJESAR4``, ``Q0YW8AYJ1OQCUG``): the exact token.
- ``number`` (a count): the number as a whole word (digits, or spelled out up to twenty)
  within four words of what it counts ("7 open incidents", "Incidents: 7 found").
- ``time``: a date and time to the minute, in any common format: ISO 8601 with ``T`` or a
  space, ``Z``/``UTC``/``+00:00``, "Nov 21, 03:00", "21 November 2026 3:00 AM UTC", "Sat
  2026-11-21 3am"; a time with no date next to it is on the case's day ("at 08:54"); an age
  ("112d14h ago", "3 hours ago") is read against the case's clock, give or take its unit.
- ``text`` (an e-mail address, an alert key): the normalised text as a substring.
- ``phrase`` (a fix, a change summary): at least 70% of its content words (no digits, no
  stop words) appear in the answer, so that a fix reworded or with another version number
  still counts, and a different fix does not (a fact may offer several phrases: any one).
- ``refusal``: the answer says the data is not available ("cannot", "no data", "not
  available", "doesn't track", ...).
- ``pattern``: a regular expression (only in ``must_not``: the shape of an invented claim).

An answer scores the share of its facts found, and 0 when it makes a claim it must not.
It passes with every fact, no forbidden claim and no cited id that the tools never returned.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

FactKind = Literal[
    "name", "incident", "id", "number", "time", "text", "phrase", "refusal", "pattern"
]
PHRASE_SHARE = 0.7

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "the",
        "then",
        "this",
        "to",
        "was",
        "were",
        "with",
        "after",
        "before",
        "it's",
        "we",
        "our",
    ]
)
SPELLED = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
REFUSAL = re.compile(
    r"\b(?:cannot|can ?not|can't|unable to|not able to|(?:do|does)(?: not|n't) "
    r"(?:have|hold|track|record|expose|include|provide|contain|show|store)|no (?:data|"
    r"information|record|way|access|metrics?)|not (?:available|tracked|recorded|exposed|"
    r"provided|part of|something)|(?:isn't|is not|aren't|are not) (?:available|tracked|"
    r"recorded|exposed|provided|part of))\b",
    re.IGNORECASE,
)
# Evidence ids: PagerDuty object ids (P + 6), the sandbox's incident and alert ids (Q + 13),
# log entry ids (R...), change event ids (26-character ULIDs).
EVIDENCE_ID = re.compile(
    r"(?<![\w-])(?:P[A-Z0-9]{6}|Q[A-Z0-9]{13}|R[A-Z0-9]{11,13}|[0-9][0-9A-Z]{25})(?![\w-])"
)
MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<mon>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
DATE_PATTERNS = (
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    re.compile(r"(?P<d>\d{1,2})(?:st|nd|rd|th)? " + _MONTH + r",? (?P<y>\d{4})?", re.I),
    re.compile(_MONTH + r" (?P<d>\d{1,2})(?:st|nd|rd|th)?(?:,? (?P<y>\d{4}))?", re.I),
    re.compile(r"(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})"),  # 21/11/2026 (day first)
)
TIME_PATTERN = re.compile(
    r"(?<![\d:])(?P<h>\d{1,2})(?::(?P<min>\d{2}))?(?::\d{2})?\s?(?P<ampm>[ap]\.?m\.?)?"
    r"(?![\d:])",
    re.I,
)
RELATIVE = re.compile(
    r"(?<![\w.])(?:(?P<d>\d+)\s?d(?:ays?)?,?\s?(?:and\s)?)?(?:(?P<h>\d+)\s?h(?:ours?|rs?)?,?\s?"
    r"(?:and\s)?)?(?:(?P<m>\d+)\s?m(?:in(?:utes?|s)?)?\s?)?ago\b",
    re.I,
)
NEAR = 24  # characters between a date and its time
UNIT_WINDOW = 4  # words between a count and what it counts


@dataclass(frozen=True)
class Fact:
    """One thing a right answer holds (or, in ``must_not``, a claim it must not make)."""

    kind: FactKind
    text: str  # shown in reports; what is matched for most kinds
    at: datetime | None = None  # the moment, for ``time``
    # ``phrase``: any one of these will do; ``number``: what it counts (word stems)
    options: tuple[str, ...] = ()


def normalise(text: str) -> str:
    """Lower case, no accents, punctuation as spaces, one space between words."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w@.+-]+|(?<!\w)[.+-]|[.+-](?!\w)", " ", plain).split())


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", normalise(text))


def content_words(text: str) -> set[str]:
    """The words that carry a phrase: no stop words, nothing with a digit."""
    return {w for w in _words(text) if w not in STOP_WORDS and not any(c.isdigit() for c in w)}


def times_in(text: str, today: date) -> set[datetime]:
    """Every date-and-time mentioned in ``text``, to the minute, as UTC (times given without
    a zone are taken as UTC, as the tools write them; a date without a year is in ``today``'s
    year, and a time with no date next to it is ``today``'s)."""
    dates = []
    for pattern in DATE_PATTERNS:
        for found in pattern.finditer(text):
            parts = found.groupdict()
            month = int(parts["m"]) if parts.get("m") else MONTHS[parts["mon"].lower()]
            year = int(parts["y"]) if parts.get("y") else today.year
            try:
                dates.append((found.start(), found.end(), datetime(year, month, int(parts["d"]))))
            except ValueError:
                continue
    found_times = set()
    for clock in TIME_PATTERN.finditer(text):
        hour, minute, ampm = int(clock["h"]), clock["min"], clock["ampm"]
        if minute is None and ampm is None:
            continue  # a bare number is not a time
        if any(start <= clock.start() < end for start, end, _ in dates):
            continue  # part of a date
        if ampm:
            if not 1 <= hour <= 12:
                continue
            hour = hour % 12 + (12 if ampm.lower().startswith("p") else 0)
        if hour > 23:
            continue
        near = [
            (min(abs(clock.start() - end), abs(start - clock.end())), day)
            for start, end, day in dates
            if clock.start() - end <= NEAR and start - clock.end() <= NEAR
        ]
        day = min(near, key=lambda pair: pair[0])[1] if near else datetime(*today.timetuple()[:3])
        found_times.add(day.replace(hour=hour, minute=int(minute or 0), tzinfo=UTC))
    return found_times


def _number_pattern(value: str) -> re.Pattern[str]:
    digits = value.lstrip("#")
    grouped = f"{int(digits):,}" if digits.isdigit() else digits
    options = {re.escape(digits), re.escape(grouped)}
    return re.compile(r"(?<![\w.:,/-])#?(?:" + "|".join(options) + r")(?![\w:]|[.,]\d)")


def _counted(number: int, units: tuple[str, ...], words: list[str]) -> bool:
    """Whether ``number`` (digits or spelled out) is within UNIT_WINDOW words of a word
    starting with one of ``units`` (anywhere, when no unit is given)."""
    spelled = SPELLED[number] if number < len(SPELLED) else None
    at = [i for i, word in enumerate(words) if word in (str(number), spelled)]
    if not units:
        return bool(at)
    near = [i for i, word in enumerate(words) if word.startswith(units)]
    return any(abs(i - j) <= UNIT_WINDOW for i in at for j in near)


def ages_in(text: str, clock: datetime) -> list[tuple[datetime, datetime]]:
    """The moments a text gives as an age ("112d14h ago", "3 hours ago", "2h05m ago"), each
    as the span it stands for: its smallest unit either side (ages may be floored or
    rounded)."""
    spans = []
    for age in RELATIVE.finditer(text):
        parts = {unit: int(value) for unit, value in age.groupdict().items() if value}
        if not parts:
            continue
        unit = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}[
            next(u for u in ("m", "h", "d") if u in parts)
        ]
        moment = clock - timedelta(
            days=parts.get("d", 0), hours=parts.get("h", 0), minutes=parts.get("m", 0)
        )
        spans.append((moment - unit, moment + unit))
    return spans


def found(fact: Fact, answer: str, clock: datetime) -> bool:
    """Whether ``answer`` holds ``fact`` (see the module docstring for each kind)."""
    if fact.kind in ("name", "text"):
        wanted = normalise(fact.text)
        haystack = normalise(answer)
        if fact.kind == "text":
            return wanted in haystack
        return re.search(r"(?<!\w)" + re.escape(wanted) + r"(?!\w)", haystack) is not None
    if fact.kind == "incident":
        return _number_pattern(fact.text).search(answer) is not None
    if fact.kind == "id":
        return re.search(r"(?<![\w-])" + re.escape(fact.text) + r"(?![\w-])", answer) is not None
    if fact.kind == "number":
        return _counted(int(fact.text), fact.options, _words(answer))
    if fact.kind == "time":
        assert fact.at is not None
        moment = fact.at.astimezone(UTC).replace(second=0, microsecond=0)
        return moment in times_in(answer, clock.date()) or any(
            start <= moment <= end for start, end in ages_in(answer, clock)
        )
    if fact.kind == "phrase":
        have = set(_words(answer))
        for option in fact.options or (fact.text,):
            wanted = content_words(option)
            if wanted and len(wanted & have) >= PHRASE_SHARE * len(wanted):
                return True
        return False
    if fact.kind == "refusal":
        return REFUSAL.search(answer) is not None
    if fact.kind == "pattern":
        return re.search(fact.text, answer) is not None
    raise ValueError(f"unknown fact kind {fact.kind!r}")


def evidence_ids(text: str) -> set[str]:
    """The PagerDuty-shaped ids in a text (see EVIDENCE_ID)."""
    return set(EVIDENCE_ID.findall(text))


@dataclass
class Score:
    """How one answer scored."""

    facts_found: list[str] = field(default_factory=list)
    facts_missing: list[str] = field(default_factory=list)
    forbidden_made: list[str] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)  # ids in the answer the tools returned
    unsupported: list[str] = field(default_factory=list)  # ids in it they did not return

    @property
    def score(self) -> float:
        """The share of facts found; 0 when a forbidden claim was made."""
        total = len(self.facts_found) + len(self.facts_missing)
        if self.forbidden_made or not total:
            return 0.0
        return len(self.facts_found) / total

    @property
    def passed(self) -> bool:
        """Every fact, no forbidden claim, no id the tools never returned."""
        return self.score == 1.0 and not self.unsupported


def score_answer(
    answer: str,
    facts: Iterable[Fact],
    must_not: Iterable[Fact],
    tool_outputs: Iterable[str],
    clock: datetime,
) -> Score:
    """Score ``answer`` against the case's facts and forbidden claims; ids cited in it are
    checked against the ids in the tool outputs of the same run."""
    result = Score()
    for fact in facts:
        (result.facts_found if found(fact, answer, clock) else result.facts_missing).append(
            fact.text
        )
    result.forbidden_made = [f.text for f in must_not if found(f, answer, clock)]
    returned = set().union(*(evidence_ids(text) for text in tool_outputs))
    cited = evidence_ids(answer)
    result.cited = sorted(cited & returned)
    # An id-shaped word with no digit ("PENDING") is not taken for an invented id.
    result.unsupported = sorted(c for c in cited - returned if any(ch.isdigit() for ch in c))
    return result
