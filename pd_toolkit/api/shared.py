"""Shared reads: identical GETs sent once; incidents and services kept briefly.

Two lookups of one investigation often ask the same thing at the same moment (a policy's
on-calls for both the on-call and the service-status tools; a service's open incidents for
both picking the incident and its service status). :class:`SharedReads` sends such a GET once
for the calls in flight or within ``ttl`` seconds, and keeps every incident it has seen (from a
lookup or a listing) for ``ttl`` seconds, so a follow-up lookup by id or number sends nothing.
A service a listing embedded in full (``include[]=services,escalation_policies``) is kept the
same way, so the service's detail right after needs no GET of its own.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from pd_toolkit.client import PagerDutyClient
from pd_toolkit.models import Incident, Service


class SharedReads:
    """GET de-duplication and the short-lived incident and service cache of one API object."""

    def __init__(
        self,
        client: PagerDutyClient,
        *,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self._shared: dict[tuple[str, str], tuple[float, Future[dict[str, Any]]]] = {}
        self._incidents: dict[str, tuple[float, Incident]] = {}
        self._services: dict[str, tuple[float, Service]] = {}
        self._lock = threading.Lock()

    def get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """GET ``path`` once for identical calls in flight or within ``ttl`` seconds. List
        parameters match in any order. Failures are not kept."""
        canonical = {k: sorted(v) if isinstance(v, list) else v for k, v in params.items()}
        key = (path, json.dumps(canonical, sort_keys=True, default=str))
        future: Future[dict[str, Any]]
        with self._lock:
            entry = self._shared.get(key)
            shared = entry is not None and (
                not entry[1].done() or self.clock() - entry[0] < self.ttl
            )
            if entry is not None and shared:
                future = entry[1]
            else:
                now = self.clock()
                stale = [
                    old
                    for old, (at, pending) in self._shared.items()
                    if pending.done() and now - at >= self.ttl
                ]
                for old in stale:  # answers past their reuse time: a long-lived process keeps none
                    del self._shared[old]
                future = Future()  # this call sends it
                self._shared[key] = (now, future)
        if shared:
            return future.result()  # waited for outside the lock
        try:
            future.set_result(self.client.get(path, params))
        except BaseException as exc:
            with self._lock:
                self._shared.pop(key, None)
            future.set_exception(exc)
        return future.result()

    def incident(self, key: str) -> Incident | None:
        """A kept incident by id or number, while fresh."""
        with self._lock:
            cached = self._incidents.get(key)
        if cached and self.clock() - cached[0] < self.ttl:
            return cached[1]
        return None

    def remember(self, incidents: Sequence[Incident]) -> None:
        """Keep freshly fetched incidents for ``ttl`` seconds, under their id and number."""
        fetched_at = self.clock()
        with self._lock:
            for incident in incidents:
                aliases = [incident.id, incident.incident_number]
                for alias in (str(a) for a in aliases if a is not None):
                    self._incidents[alias] = (fetched_at, incident)

    def service(self, service_id: str) -> Service | None:
        """A kept service (with its escalation policy's levels) by id, while fresh."""
        with self._lock:
            cached = self._services.get(service_id)
        if cached and self.clock() - cached[0] < self.ttl:
            return cached[1]
        return None

    def remember_services(self, services: Sequence[Service]) -> None:
        """Keep services just fetched in full (with their policy) for ``ttl`` seconds."""
        fetched_at = self.clock()
        with self._lock:
            for service in services:
                if service.id:
                    self._services[service.id] = (fetched_at, service)
