"""On-call rotation arithmetic: who is on call when, from layers that really rotate.

A schedule is a stack of layers; as in PagerDuty, a later layer wins where it has someone on call.
Times are aware UTC datetimes; rotations are anchored at a fixed `virtual_start` in the past, so
the person on call depends only on the instant asked about.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

DAY = 86400


@dataclass(frozen=True)
class Layer:
    """A rotation of `users` (ids) with turns of `turn_seconds`, optionally restricted daily."""

    users: tuple[str, ...]
    turn_seconds: int
    virtual_start: datetime
    restriction: tuple[int, int] | None = None  # (start second of day UTC, duration seconds)

    def user_at(self, t: datetime) -> str | None:
        """The user on call in this layer at `t`, or None outside its restriction."""
        if self.restriction is not None:
            start, duration = self.restriction
            second = t.hour * 3600 + t.minute * 60 + t.second
            if (second - start) % DAY >= duration:
                return None
        turn = math.floor((t - self.virtual_start).total_seconds() / self.turn_seconds)
        return self.users[turn % len(self.users)]

    def boundaries(self, since: datetime, until: datetime) -> list[datetime]:
        """Instants in [since, until] where this layer may change hands."""
        first = math.ceil((since - self.virtual_start).total_seconds() / self.turn_seconds)
        out: list[datetime] = []
        t = self.virtual_start + timedelta(seconds=first * self.turn_seconds)
        while t <= until:
            out.append(t)
            t += timedelta(seconds=self.turn_seconds)
        if self.restriction is not None:
            start, duration = self.restriction
            day = since.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
            while day <= until:
                for offset in (start, start + duration):
                    edge = day + timedelta(seconds=offset)
                    if since <= edge <= until:
                        out.append(edge)
                day += timedelta(days=1)
        return out


def user_at(layers: tuple[Layer, ...], t: datetime) -> str | None:
    """The final-schedule user at `t`: the last layer with someone on call wins."""
    for layer in reversed(layers):
        user = layer.user_at(t)
        if user is not None:
            return user
    return None


def render(
    layers: tuple[Layer, ...], since: datetime, until: datetime
) -> list[tuple[str, datetime, datetime]]:
    """Final-schedule entries (user, start, end) covering [since, until), merged and clipped."""
    edges = {since, until}
    for layer in layers:
        edges.update(layer.boundaries(since, until))
    points = sorted(e for e in edges if since <= e <= until)
    entries: list[tuple[str, datetime, datetime]] = []
    for start, end in itertools.pairwise(points):
        user = user_at(layers, start)
        if user is None:
            continue
        if entries and entries[-1][0] == user and entries[-1][2] == start:
            entries[-1] = (user, entries[-1][1], end)
        else:
            entries.append((user, start, end))
    return entries


def shifts(
    layers: tuple[Layer, ...], since: datetime, until: datetime
) -> list[tuple[str, datetime, datetime]]:
    """Whole (unclipped) shifts overlapping [since, until]; a zero-length window is an instant."""
    margin = timedelta(days=15)
    return [
        (user, start, end)
        for user, start, end in render(layers, since - margin, until + margin)
        if start <= until and end > since and (start < until or since == until)
    ]
