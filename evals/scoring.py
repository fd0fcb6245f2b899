"""Deterministic scoring: a fact is found in an answer after both are normalised by its kind.

Before matching, the answer loses every sentence that is a question (it ends with ``?``) or
hedged ("I don't know", "not sure", "maybe", ...) and any verbatim copy of the case's
question: echoing the question, or guessing, states nothing.

Kinds of fact and how each is matched:

- ``name`` (a person, team, service, policy): accents, case and punctuation ignored, whole
  words only ("Zoë  O'Brien" matches "zoe o brien"; "Chen Weiss" and "Chen Wei-Ling" do not
  match "Chen Wei").
- ``status`` (a status word said of a ``subject``, e.g. ``critical`` of ``checkout``): the
  word within six words of the subject's name, not negated or hedged in the three words
  before it ("not", "isn't", "whether", "was", ...), and not inside a longer word
  ("non-critical").
- ``incident`` (``#3088``): the number on its own, with or without ``#``, "3,088" too, not
  part of a longer number, a date, a time, an id, a quantity ("3086 ms") or a pull request
  after a version ("v2.36.4 (#3086)"). In ``must_not`` only cited numbers count: ``#N``,
  "incident N" and lists after them ("#3086, 3088 and #3089").
- ``id`` (``PJESAR4``, ``Q0YW8AYJ1OQCUG``): the exact token.
- ``number`` (a count): the number as a whole word (digits, or spelled out up to twenty)
  within four words of what it counts ("7 open incidents", "Incidents: 7 found"). In
  ``must_not``, ``other_number``: another number right before what it counts ("3 alerts").
- ``time``: a moment to the minute, normalised to UTC: ISO 8601 with ``T`` or a space and a
  ``Z``, ``UTC``, ``GMT`` or ``+01:00`` offset; "Nov 23, 2:00 PM UTC", "23 November 2026
  14:00"; US "11/23/2026" (a slash date is read day-first or month-first only when one of
  its numbers is above 12: "03/11/2026" is ambiguous and not read); the zone abbreviations
  in :data:`ZONES` (CET, EST, PST, ...); a time without a zone is UTC, as the tools write
  it. A time takes the date written within 24 characters of it, else the last date earlier
  in its sentence ("yesterday", "today", "tomorrow" count), else the case's day. An age
  ("7d08h ago", "3 hours ago") is read against the case's clock, exact to its smallest unit
  (floored or rounded), and only where no absolute time is written next to it.
- ``text`` (an e-mail address, an alert key): the normalised text as a substring.
- ``phrase`` (a fix, a change summary): at least 70% of its content words (no digits, no
  stop words) appear in the answer, so that a fix reworded or with another version number
  still counts, and a different fix does not (a fact may offer several phrases: any one).
- ``summary`` (a change event's summary): as ``phrase``, and every word of it holding a digit
  (its version, its pull request) too.
- ``refusal``: a sentence of the answer says the data is not available ("cannot", "no
  data", "not available", "doesn't track", ...), about the question's topic (one of the
  fact's ``options``: "cpu", "slack", "revenue", ...), and its refusal phrase is not copied
  from a tool output (an alert's "Cannot invoke ..." is no refusal).
- ``figure`` (``must_not`` only): a number (digits, "12k", "twelve thousand") within eight
  words of a topic word: a figure invented for a question the data cannot answer.
- ``stranger`` (``must_not`` only, in every case): a person's name the account does not have
  (``options`` are its users) said to be on call, paged, assigned or notified ("Jordan
  Blake is also on call").
- ``pattern`` (``must_not`` only): a regular expression, the shape of an invented claim.

A ``must_not`` fact may list several values in ``options`` (names, incident numbers, ids):
the claim is made when any one of them is found. A cited incident number in a sentence or
parenthesis that says it is left out ("not", "except", "already", "excluded") is no claim.

An answer scores the share of its facts found, and 0 when it makes a claim it must not. It
passes with every fact, no forbidden claim and nothing cited that the tools never returned:
no PagerDuty-shaped id and no incident number (``#N``, "incident N") absent from every tool
output of the run.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

FactKind = Literal[
    "name",
    "status",
    "incident",
    "id",
    "number",
    "other_number",
    "time",
    "text",
    "phrase",
    "summary",
    "refusal",
    "stranger",
    "figure",
    "pattern",
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
# Zones a time may carry, as hours from UTC (CST is US Central; IST is ambiguous: not read).
ZONES = {
    "z": 0,
    "utc": 0,
    "gmt": 0,
    "wet": 0,
    "bst": 1,
    "cet": 1,
    "cest": 2,
    "eet": 2,
    "eest": 3,
    "msk": 3,
    "jst": 9,
    "aest": 10,
    "est": -5,
    "edt": -4,
    "cst": -6,
    "cdt": -5,
    "mst": -7,
    "mdt": -6,
    "pst": -8,
    "pdt": -7,
}
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
    re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)? " + _MONTH + r"\b,? (?P<y>\d{4})?", re.I),
    re.compile(r"\b" + _MONTH + r" (?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?:,? (?P<y>\d{4}))?", re.I),
    re.compile(r"(?<![\d/])(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})"),  # see slash_date
)
RELATIVE_DAYS = re.compile(r"\b(?P<word>yesterday|today|tonight|tomorrow)\b", re.I)
_ZONE = r"(?:\s?(?P<tz>[+-]\d{2}:?\d{2}|(?:" + "|".join(ZONES) + r")\b))?"
TIME_PATTERN = re.compile(
    r"(?<![\d:.])(?P<h>\d{1,2})(?::(?P<min>\d{2}))?(?::\d{2})?\s?(?P<ampm>[ap]\.?m\.?)?"
    + _ZONE
    + r"(?![\d:])",
    re.I,
)
RELATIVE = re.compile(
    r"(?<![\w.])(?:(?P<d>\d+)\s?d(?:ays?)?,?\s?(?:and\s)?)?(?:(?P<h>\d+)\s?h(?:ours?|rs?)?,?\s?"
    r"(?:and\s)?)?(?:(?P<m>\d+)\s?m(?:in(?:utes?|s)?)?\s?)?ago\b",
    re.I,
)
NEAR = 24  # characters between a date and its time (or an age and an absolute time)
UNIT_WINDOW = 4  # words between a count and what it counts
SUBJECT_WINDOW = 6  # words between a status word and what it is said of
FIGURE_WINDOW = 8  # words between an invented figure and its topic
# Words that, in the three before a status word, make it not a claim of the current status.
NOT_CURRENT = frozenset(
    [
        "not",
        "no",
        "never",
        "nor",
        "neither",
        "whether",
        "if",
        "unsure",
        "unknown",
        "t",
        "was",
        "were",
        "previously",
        "formerly",
        "earlier",
        "used",
    ]
)
NUMBER_WORDS = frozenset([*SPELLED, "hundred", "thousand", "million", "dozen"])
HEDGE = re.compile(
    r"\b(?:(?:do|does)(?: not|n't|nt) know|not sure|no idea|know nothing|unsure|maybe|might be|"
    r"possibly|perhaps)\b",
    re.I,
)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
# An incident number as the answer cites it: #N or "incident N", and lists after them.
CITED_INCIDENT = re.compile(
    r"(?:#|\b(?:incidents?|inc)\s+#?)(?P<n>\d+)(?![\w:-]|\.\d)"
    r"(?P<more>(?:\s?(?:,|and|or|&)\s?#?\d+(?![\w:-]|\.\d))*)",
    re.I,
)
NUMBER_TOKEN = re.compile(r"(?<![\w.:,/#-])#?(?P<n>\d{1,3}(?:,\d{3})+|\d+)(?![\w:-]|[.,]\d)")
NOT_INCIDENT_AFTER = re.compile(r"\s?(?:ms|s|sec|%|x|m|h|d|min|mins|minutes|hours|days)\b", re.I)
EXCLUSION = re.compile(r"\b(?:not|except|excluding|excluded|already|other than|besides)\b", re.I)
CLAUSE = re.compile(r"\([^()]*\)|[^.!?\n()]+")
ONCALL_CLAIM = re.compile(
    r"\b(?P<name>[A-Z][a-z]+(?:[ -][A-Z][a-z'\u2019-]+)+)\s+(?:\([^)]*\)\s+)?(?:is|was|are|will be|"
    r"has been|gets|got)\s+(?:also\s+|currently\s+|now\s+|still\s+)?(?:on[- ]call|paged|"
    r"primary|secondary|backup|assigned|notified|covering)"
)
PULL_REQUEST_BEFORE = re.compile(r"v\d+(?:\.\d+)+\s?\(#?$")


@dataclass(frozen=True)
class Fact:
    """One thing a right answer holds (or, in ``must_not``, a claim it must not make)."""

    kind: FactKind
    text: str  # shown in reports; what is matched for most kinds
    at: datetime | None = None  # the moment, for ``time``
    # ``phrase``: any one of these will do; ``number``, ``other_number``: what it counts;
    # ``figure``: the topic's words; ``name``, ``incident`` in must_not: any one is the claim
    options: tuple[str, ...] = ()
    subject: str | None = None  # ``status``: what the status is said of


@functools.lru_cache(maxsize=1024)  # a pure function, called per fact on the same answer
def normalise(text: str) -> str:
    """Lower case, no accents, punctuation as spaces, one space between words."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w@.+-]+|(?<!\w)[.+-]|[.+-](?!\w)", " ", plain).split())


@functools.lru_cache(maxsize=1024)
def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", normalise(text)))


def content_words(text: str) -> set[str]:
    """The words that carry a phrase: no stop words, nothing with a digit."""
    return {w for w in _words(text) if w not in STOP_WORDS and not any(c.isdigit() for c in w)}


def statements(answer: str, question: str = "") -> str:
    """The answer without a verbatim copy of the question, its questions and its hedged
    sentences ("I don't know", "not sure", "maybe")."""
    if question.strip():
        answer = re.sub(re.escape(question.strip()), " ", answer, flags=re.I)
    kept = [
        s for s in SENTENCE_END.split(answer) if not s.strip().endswith("?") and not HEDGE.search(s)
    ]
    return "\n".join(kept)


# ------------------------------------------------------------------ dates and times
def slash_date(first: int, second: int, year: int) -> datetime | None:
    """A date written a/b/yyyy: day-first or month-first when only one reading is a date
    (or both read the same); None when ambiguous."""
    readings = set()
    for day, month in ((first, second), (second, first)):
        try:
            readings.add(datetime(year, month, day))
        except ValueError:
            continue
    return readings.pop() if len(readings) == 1 else None


def _dates(text: str, today: date) -> list[tuple[int, int, datetime | None]]:
    """(start, end, day) of each date written in ``text`` (day None: an ambiguous date)."""
    dates: list[tuple[int, int, datetime | None]] = []
    for pattern in DATE_PATTERNS:
        for match in pattern.finditer(text):
            parts = match.groupdict()
            year = int(parts["y"]) if parts.get("y") else today.year
            if parts.get("a"):
                dates.append(
                    (match.start(), match.end(), slash_date(int(parts["a"]), int(parts["b"]), year))
                )
                continue
            month = int(parts["m"]) if parts.get("m") else MONTHS[parts["mon"].lower()]
            try:
                day = datetime(year, month, int(parts["d"]))
            except ValueError:
                continue
            dates.append((match.start(), match.end(), day))
    midnight = datetime(*today.timetuple()[:3])
    shift = {"yesterday": -1, "today": 0, "tonight": 0, "tomorrow": 1}
    for match in RELATIVE_DAYS.finditer(text):
        day = midnight + timedelta(days=shift[match["word"].lower()])
        dates.append((match.start(), match.end(), day))
    return dates


def _offset(zone: str | None) -> timedelta | None:
    """Hours from UTC of a zone as written (no zone: UTC); None for an unreadable one."""
    if not zone:
        return timedelta(0)
    if zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        sign = -1 if zone[0] == "-" else 1
        return sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    hours = ZONES.get(zone.lower())
    return None if hours is None else timedelta(hours=hours)


def _sentence_start(text: str, at: int) -> int:
    ends = [m.end() for m in SENTENCE_END.finditer(text, 0, at)]
    return ends[-1] if ends else 0


def times_in(text: str, today: date) -> set[datetime]:
    """Every date-and-time mentioned in ``text``, to the minute, in UTC (see the module
    docstring: zones, the date a time takes, ambiguous dates left out)."""
    dates = _dates(text, today)
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
        offset = _offset(clock["tz"])
        if hour > 23 or offset is None:
            continue
        near = [
            (min(abs(clock.start() - end), abs(start - clock.end())), day)
            for start, end, day in dates
            if clock.start() - end <= NEAR and start - clock.end() <= NEAR
        ]
        sentence = _sentence_start(text, clock.start())
        earlier = [(start, day) for start, _, day in dates if sentence <= start < clock.start()]
        if near:
            day = min(near, key=lambda pair: pair[0])[1]
        elif earlier:
            day = max(earlier, key=lambda pair: pair[0])[1]
        else:
            day = datetime(*today.timetuple()[:3])
        if day is None:
            continue  # an ambiguous date: not guessed
        local = day.replace(hour=hour, minute=int(minute or 0), tzinfo=UTC)
        found_times.add(local - offset)
    return found_times


def ages_in(text: str, clock: datetime) -> list[tuple[int, timedelta]]:
    """The ages a text gives ("7d08h ago", "3 hours ago") that stand alone (no absolute time
    written within NEAR characters), each as (value in its smallest unit, that unit)."""
    absolute = [m.span() for m in TIME_PATTERN.finditer(text) if m["min"] or m["ampm"]]
    units = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
    ages = []
    for age in RELATIVE.finditer(text):
        parts = {unit: int(value) for unit, value in age.groupdict().items() if value}
        if not parts or any(
            age.start() - end <= NEAR and start - age.end() <= NEAR for start, end in absolute
        ):
            continue
        unit = units[next(u for u in ("m", "h", "d") if u in parts)]
        total = sum((units[u] * value for u, value in parts.items()), timedelta())
        ages.append((total // unit, unit))
    return ages


def _age_matches(moment: datetime, clock: datetime, ages: list[tuple[int, timedelta]]) -> bool:
    """Whether an age written is the moment's, floored or rounded to its unit."""
    elapsed = clock - moment
    return any(value in (elapsed // unit, round(elapsed / unit)) for value, unit in ages)


# ------------------------------------------------------------------ numbers
def incident_numbers(text: str, cited_only: bool = False) -> set[int]:
    """The incident numbers in ``text``: every standalone number (see the module docstring),
    or with ``cited_only`` only those cited as ``#N`` or "incident N" (and lists after them)."""
    numbers = set()
    if cited_only:
        for match in CITED_INCIDENT.finditer(text):
            if PULL_REQUEST_BEFORE.search(text[max(0, match.start() - 16) : match.start()]):
                continue
            numbers.add(int(match["n"]))
            numbers.update(int(n) for n in re.findall(r"\d+", match["more"] or ""))
        return numbers
    for match in NUMBER_TOKEN.finditer(text):
        if PULL_REQUEST_BEFORE.search(text[max(0, match.start() - 16) : match.start()]):
            continue  # a pull request: "v2.36.4 (#7835)"
        if NOT_INCIDENT_AFTER.match(text, match.end()):
            continue  # a quantity: "3086 ms"
        numbers.add(int(match["n"].replace(",", "")))
    return numbers | incident_numbers(text, cited_only=True)


def _spelled_value(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return SPELLED.index(word) if word in SPELLED else None


def _count_words(text: str) -> list[str]:
    """The answer's words for counting: no incident numbers (#N), dates or times."""
    text = re.sub(r"#\d+|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}:\d{2}(?::\d{2})?", " ", text)
    return _words(text)


def _counted(number: int, units: tuple[str, ...], words: list[str]) -> bool:
    """Whether ``number`` (digits or spelled out) is within UNIT_WINDOW words of a word
    starting with one of ``units`` (anywhere, when no unit is given)."""
    at = [i for i, word in enumerate(words) if _spelled_value(word) == number]
    if not units:
        return bool(at)
    near = [i for i, word in enumerate(words) if word.startswith(units)]
    return any(abs(i - j) <= UNIT_WINDOW for i in at for j in near)


def _other_count(number: int, units: tuple[str, ...], words: list[str]) -> bool:
    """Whether another number stands right before (up to two words) what ``number`` counts."""
    for j, word in enumerate(words):
        if word.startswith(units):
            for i in range(max(0, j - 3), j):
                value = _spelled_value(words[i])
                if value is not None and value != number:
                    return True
    return False


def _figure_near(topics: tuple[str, ...], text: str) -> bool:
    """Whether a number ("93", "12,000", "12k", "twelve thousand") is near a topic word."""
    words = re.findall(r"[a-z0-9$€£%]+", normalise(text.replace(",", "")))
    figures = [
        i
        for i, w in enumerate(words)
        if re.fullmatch(r"[$€£]?\d+(?:k|m|bn)?%?", w) or w in NUMBER_WORDS
    ]
    topical = [i for i, w in enumerate(words) if w.startswith(topics) or w in ("%", "$", "€", "£")]
    return any(abs(i - j) <= FIGURE_WINDOW for i in figures for j in topical)


# ------------------------------------------------------------------ matching
def _status_said(fact: Fact, text: str) -> bool:
    words = normalise(text).split()
    bare = [re.sub(r"[^\w-]", "", w) for w in words]
    subject = normalise(fact.subject or "").split()
    at_subject = [i for i in range(len(bare)) if subject and bare[i : i + len(subject)] == subject]
    for i, word in enumerate(bare):
        if word != normalise(fact.text):
            continue
        before = {piece for w in bare[max(0, i - 3) : i] for piece in w.split("-")}
        if before & NOT_CURRENT:
            continue
        if not subject or any(abs(i - j) <= SUBJECT_WINDOW for j in at_subject):
            return True
    return False


def _name_in(name: str, haystack: str) -> bool:
    wanted = normalise(name)
    return re.search(r"(?<![\w-])" + re.escape(wanted) + r"(?![\w-])", haystack) is not None


def _refuses(topics: tuple[str, ...], answer: str, outputs: Sequence[str]) -> bool:
    """A sentence saying the data is not there, about one of ``topics`` (when given), whose
    refusal phrase is not copied from a tool output (the phrase and the word after it, as in
    an alert's "Cannot invoke")."""
    copied = " ".join(normalise(text) for text in outputs)
    for sentence in SENTENCE_END.split(answer):
        if topics and not any(w.startswith(topics) for w in _words(sentence)):
            continue
        for match in REFUSAL.finditer(sentence):
            phrase = re.match(r"\S*\W+\w+", sentence[match.start() :])
            if not phrase or normalise(phrase[0]) not in copied:
                return True
    return False


def found(
    fact: Fact, answer: str, clock: datetime, outputs: Sequence[str] = (), claim: bool = False
) -> bool:
    """Whether ``answer`` holds ``fact`` (see the module docstring for each kind); ``claim``:
    it is a ``must_not`` claim (for incidents, only cited numbers count)."""
    if fact.kind == "name":
        haystack = normalise(answer)
        return any(_name_in(name, haystack) for name in fact.options or (fact.text,))
    if fact.kind == "text":
        return normalise(fact.text) in normalise(answer)
    if fact.kind == "status":
        return _status_said(fact, answer)
    if fact.kind == "incident":
        wanted = {int(n.lstrip("#")) for n in fact.options or (fact.text,)}
        if claim:
            said = [c for c in CLAUSE.findall(answer) if not EXCLUSION.search(c)]
            return any(wanted & incident_numbers(c, cited_only=True) for c in said)
        return bool(wanted & incident_numbers(answer))
    if fact.kind == "id":
        tokens = set(re.findall(r"[\w-]+", answer))
        return any(ident in tokens for ident in fact.options or (fact.text,))
    if fact.kind == "stranger":
        known = {normalise(name) for name in fact.options}
        return any(normalise(m["name"]) not in known for m in ONCALL_CLAIM.finditer(answer))
    if fact.kind == "number":
        return _counted(int(fact.text), fact.options, _count_words(answer))
    if fact.kind == "other_number":
        return _other_count(int(fact.text), fact.options, _count_words(answer))
    if fact.kind == "time":
        assert fact.at is not None
        moment = fact.at.astimezone(UTC).replace(second=0, microsecond=0)
        return moment in times_in(answer, clock.date()) or _age_matches(
            fact.at, clock, ages_in(answer, clock)
        )
    if fact.kind == "summary":
        numbered = {w for w in _words(fact.text) if any(c.isdigit() for c in w)}
        return numbered <= set(_words(answer)) and found(Fact("phrase", fact.text), answer, clock)
    if fact.kind == "phrase":
        have = set(_words(answer))
        for option in fact.options or (fact.text,):
            wanted = content_words(option)
            if wanted and len(wanted & have) >= PHRASE_SHARE * len(wanted):
                return True
        return False
    if fact.kind == "refusal":
        return _refuses(fact.options, answer, outputs)
    if fact.kind == "figure":
        return _figure_near(fact.options, answer)
    if fact.kind == "pattern":
        return re.search(fact.text, answer, re.I) is not None
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
    unsupported: list[str] = field(default_factory=list)  # ids and #N the tools never returned

    @property
    def score(self) -> float:
        """The share of facts found; 0 when a forbidden claim was made."""
        total = len(self.facts_found) + len(self.facts_missing)
        if self.forbidden_made or not total:
            return 0.0
        return len(self.facts_found) / total

    @property
    def passed(self) -> bool:
        """Every fact, no forbidden claim, nothing cited the tools never returned."""
        return self.score == 1.0 and not self.unsupported


def fact_found(fact: Fact, answer: str, clock: datetime, outputs: Sequence[str]) -> bool:
    """Whether the answer holds one of the case's facts."""
    return found(fact, answer, clock, outputs)


def claim_made(fact: Fact, answer: str, clock: datetime, outputs: Sequence[str]) -> bool:
    """Whether the answer makes one of the claims it must not."""
    return found(fact, answer, clock, outputs, claim=True)


def unsupported_citations(answer: str, outputs: Sequence[str]) -> tuple[list[str], list[str]]:
    """(cited, unsupported): the ids the answer cites that the tools returned, and the ids
    and incident numbers it cites that no tool output holds."""
    returned = set().union(*(evidence_ids(text) for text in outputs))
    cited = evidence_ids(answer)
    # An id-shaped word with no digit ("PENDING") is not taken for an invented id.
    invented = sorted(c for c in cited - returned if any(ch.isdigit() for ch in c))
    numbers = set().union(*(incident_numbers(text) for text in outputs))
    invented += [f"#{n}" for n in sorted(incident_numbers(answer, cited_only=True) - numbers)]
    return sorted(cited & returned), invented


def score_answer(
    answer: str,
    facts: Iterable[Fact],
    must_not: Iterable[Fact],
    tool_outputs: Iterable[str],
    clock: datetime,
    question: str = "",
) -> Score:
    """Score ``answer`` against the case's facts and forbidden claims (its questions and any
    echo of ``question`` left out); what it cites is checked against the tool outputs."""
    outputs = list(tool_outputs)
    said = statements(answer, question)
    result = Score()
    for fact in facts:
        (
            result.facts_found if fact_found(fact, said, clock, outputs) else result.facts_missing
        ).append(fact.text)
    result.forbidden_made = [f.text for f in must_not if claim_made(f, said, clock, outputs)]
    result.cited, result.unsupported = unsupported_citations(answer, outputs)
    return result
