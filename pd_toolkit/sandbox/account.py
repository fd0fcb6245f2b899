"""The live sandbox account: generated data, its indexes and lookups, its changes over time.

`build_account(seed, now, incidents)` generates the world once per process (`generate.py`:
the organisation, the incident history, the hidden ground truth) and wraps it in a
`SandboxAccount`, shared between sandboxes: treat its objects as read-only. The account is
that `World` plus what serving it needs: indexes by id, number and time, lookups, on-call from
the rotations, ground-truth queries, and the changes a sandbox makes over time, only ever on a
`fork`: new incidents, resolutions, notes, renames. Objects are plain dicts in PagerDuty's JSON
shape; a change replaces an object or a container, never edits one a fork shares.
"""

from __future__ import annotations

import copy
import functools
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .generate import API, HISTORY_INCIDENTS, WEB, Json, World, generate, iso, new_incident, ref
from .rotation import render, shifts, user_at

# The objects `SandboxAccount.rename` renames (and contact methods, which it relabels), and the
# containers that hold them or refer to them.
RENAMEABLE = ("team", "user", "schedule", "escalation_policy", "service")
_NAMED = ("teams", "users", "schedules", "escalation_policies", "services")
_REFERRING = (
    *_NAMED,
    "contact_methods",
    "incidents",
    "alerts",
    "log_entries",
    "notes",
    "change_events",
    "team_refs",
    "user_refs",
    "schedule_refs",
    "policy_refs",
    "service_refs",
)


class SandboxAccount(World):
    """Everything the sandbox serves, plus the hidden ground truth behind the incidents."""

    def __init__(self, world: World) -> None:
        """The live account over a generated `world` (which it takes over, indexes included:
        services get their status and last incident time)."""
        super().__init__(**vars(world))
        self._by_id: dict[str, Json] = {}
        for attr in _NAMED:
            self._register(getattr(self, attr))
        self._register([m for methods in self.contact_methods.values() for m in methods])
        self._index()

    # ------------------------------------------------------------------ changes over time
    def fork(self) -> SandboxAccount:
        """A private copy that can change (new incidents, resolutions, notes) while this one,
        shared through `build_account`'s cache, stays untouched. Changes replace objects in the
        copy's own containers; they never edit an object the two share."""
        twin = copy.copy(self)
        twin.incidents = list(self.incidents)
        twin.alerts = dict(self.alerts)
        twin.log_entries = dict(self.log_entries)
        twin.notes = dict(self.notes)
        twin.change_events = list(self.change_events)
        twin.mode_of = dict(self.mode_of)
        twin.services = [dict(service) for service in self.services]
        twin._by_id = dict(self._by_id)
        twin._register(twin.services)
        twin._index()
        return twin

    def rename(self, names: Mapping[str, str]) -> None:
        """Rename teams, users, schedules, escalation policies or services of a `fork` (``{id:
        new name}``), as PagerDuty shows a renamed object: its `name` and `summary`, and the
        `summary` of every reference to it (incidents, alerts, log entries, notes, change
        events, other objects, on-calls). A contact method's id relabels it (its `label`, and
        the `summary` of it and of its references). Free text that mentions an old name stays
        as written, and `trigger_incident` still takes the catalog's name."""
        for obj_id in names:
            found = self._by_id.get(obj_id)
            if found is None or not (
                found["type"] in RENAMEABLE or found["type"].endswith("_contact_method")
            ):
                raise KeyError(
                    f"no team, user, schedule, escalation policy, service or contact method "
                    f"{obj_id!r}"
                )
        for attr in _REFERRING:
            setattr(self, attr, _renamed(getattr(self, attr), names))
        for attr in _NAMED:
            self._register(getattr(self, attr))
        self._register([m for methods in self.contact_methods.values() for m in methods])
        self._index()

    def trigger_incident(self, mode_name: str, service_name: str, at: datetime) -> Json:
        """Trigger a new incident of failure mode `mode_name` on `service_name` at `at` (only on
        a `fork`); it is numbered after the newest incident and stays triggered."""
        number = max(self._incident_by_number, default=999) + 1
        taken = set(self._by_id) | set(self._incident_by_id)
        self.add(new_incident(self, mode_name, service_name, at, number, taken))
        self.incidents.sort(key=lambda incident: incident["created_at"])
        self.change_events.sort(key=lambda change: change["timestamp"])
        self._index()
        return self._incident_by_number[number]

    def add_note(self, ident: str | int, content: str, at: datetime, user_id: str) -> Json:
        """Add a note (and its annotate log entry) to an incident of a `fork`."""
        incident = self.find_incident(ident)
        if incident is None:
            raise KeyError(f"no incident {ident!r}")
        user = self.user_refs[user_id]
        note_id = f"PN{len(self.notes.get(incident['id'], [])):02d}{incident['id'][-3:]}"
        note = {
            "id": note_id,
            "user": user,
            "channel": {"summary": "The PagerDuty website or APIs"},
            "content": content,
            "created_at": iso(at),
        }
        self.notes[incident["id"]] = [*self.notes.get(incident["id"], []), note]
        self._log(
            incident, "annotate", at, "Note added", user, {"type": "note", "summary": content}
        )
        return note

    def resolve_incident(self, ident: str | int, at: datetime, user_id: str) -> Json:
        """Resolve an open incident of a `fork` at `at`, by the user `user_id`."""
        incident = self.find_incident(ident)
        if incident is None:
            raise KeyError(f"no incident {ident!r}")
        if incident["status"] == "resolved":
            return incident
        user = self.user_refs[user_id]
        alerts = [alert | {"status": "resolved"} for alert in self.alerts[incident["id"]]]
        self.alerts[incident["id"]] = alerts
        resolved = incident | {
            "status": "resolved",
            "resolved_at": iso(at),
            "updated_at": iso(at),
            "last_status_change_at": iso(at),
            "last_status_change_by": user,
            "assignments": [],
            "acknowledgements": [],
            "alert_counts": {"all": len(alerts), "triggered": 0, "resolved": len(alerts)},
        }
        self.incidents[self.incidents.index(incident)] = resolved
        self._log(
            resolved, "resolve", at, f"Resolved by {user['summary']}.", user, {"type": "website"}
        )
        self._index()
        return resolved

    def _log(
        self, incident: Json, kind: str, at: datetime, summary: str, agent: Json, channel: Json
    ) -> None:
        """Append a log entry to an incident's timeline (the list is replaced, not edited)."""
        entries = self.log_entries[incident["id"]]
        entry_id = f"RL{len(entries):04d}{incident['id'][-8:]}"
        entry = {
            "id": entry_id,
            "type": f"{kind}_log_entry",
            "summary": summary,
            "self": f"{API}/log_entries/{entry_id}",
            "html_url": f"{WEB}/incidents/{incident['id']}/log_entries/{entry_id}",
            "created_at": iso(at),
            "agent": agent,
            "channel": channel,
            "service": incident["service"],
            "incident": ref("incident", incident["id"], incident["summary"]),
            "teams": incident["teams"],
            "contexts": [],
        }
        self.log_entries[incident["id"]] = [*entries, entry]

    # ------------------------------------------------------------------ indexes and lookups
    def _index(self) -> None:
        """Rebuild the incident and change indexes and each service's derived status and last
        incident time, after the incidents changed."""
        self._incident_by_id = {i["id"]: i for i in self.incidents}
        self._incident_by_number = {i["incident_number"]: i for i in self.incidents}
        self._created = [i["created_at"] for i in self.incidents]
        self._change_times = [c["timestamp"] for c in self.change_events]
        last: dict[str, str] = {}
        open_by_service: dict[str, list[Json]] = defaultdict(list)
        for inc in self.incidents:
            last[inc["service"]["id"]] = inc["created_at"]
            if inc["status"] != "resolved":
                open_by_service[inc["service"]["id"]].append(inc)
        for service in self.services:
            if service["id"] in last:
                service["last_incident_timestamp"] = last[service["id"]]
            state = self.service_spec[service["id"]].state
            open_incidents = open_by_service.get(service["id"], [])
            if state is not None:
                service["status"] = state
            elif any(i["status"] == "triggered" and i["urgency"] == "high" for i in open_incidents):
                service["status"] = "critical"
            elif open_incidents:
                service["status"] = "warning"
            else:
                service["status"] = "active"

    def _register(self, objs: list[Json]) -> None:
        """Make named objects (teams, users, ...) findable by id (replacing older copies)."""
        self._by_id.update((o["id"], o) for o in objs)

    def _lookup(self, obj_id: str, kind: str) -> Json | None:
        """The object of that kind with this id, or None."""
        obj = self._by_id.get(obj_id)
        return obj if obj is not None and obj["type"] == kind else None

    def full(self, reference: Json) -> Json:
        """The full object behind a reference to a team, user, schedule, policy or service."""
        return self._by_id[reference["id"]]

    def team(self, obj_id: str) -> Json | None:
        """The team with this id, or None."""
        return self._lookup(obj_id, "team")

    def user(self, obj_id: str) -> Json | None:
        """The user with this id, or None."""
        return self._lookup(obj_id, "user")

    def service(self, obj_id: str) -> Json | None:
        """The service with this id, or None."""
        return self._lookup(obj_id, "service")

    def schedule(self, obj_id: str) -> Json | None:
        """The schedule (without rendered entries) with this id, or None."""
        return self._lookup(obj_id, "schedule")

    def escalation_policy(self, obj_id: str) -> Json | None:
        """The escalation policy with this id, or None."""
        return self._lookup(obj_id, "escalation_policy")

    def find_incident(self, ident: str | int) -> Json | None:
        """An incident by id or by number ("1234", 1234 or "#1234")."""
        if isinstance(ident, str) and ident in self._incident_by_id:
            return self._incident_by_id[ident]
        text = str(ident).lstrip("#")
        return self._incident_by_number.get(int(text)) if text.isdigit() else None

    def change_event(self, obj_id: str) -> Json | None:
        """The change event with this id, or None."""
        return next((c for c in self.change_events if c["id"] == obj_id), None)

    def incidents_between(self, since: datetime | None, until: datetime | None) -> list[Json]:
        """Incidents created in [since, until) (either bound may be None), oldest first."""
        lo = 0 if since is None else bisect_left(self._created, iso(since))
        hi = len(self.incidents) if until is None else bisect_left(self._created, iso(until))
        return self.incidents[lo:hi]

    def changes_between(self, since: datetime | None, until: datetime | None) -> list[Json]:
        """Change events with timestamp in [since, until], oldest first."""
        lo = 0 if since is None else bisect_left(self._change_times, iso(since))
        hi = (
            len(self.change_events)
            if until is None
            else bisect_right(self._change_times, iso(until))
        )
        return self.change_events[lo:hi]

    def open_incidents(self) -> list[Json]:
        """Incidents not resolved at `now`."""
        return [i for i in self.incidents if i["status"] != "resolved"]

    def oncall_user(self, schedule_id: str, at: datetime) -> str | None:
        """The user id on call for a schedule at `at`."""
        return user_at(self.layers[schedule_id], at)

    def render_schedule(
        self, schedule_id: str, since: datetime, until: datetime
    ) -> list[tuple[str, datetime, datetime]]:
        """Final-schedule entries (user id, start, end) clipped to [since, until)."""
        return render(self.layers[schedule_id], since, until)

    def schedule_shifts(
        self, schedule_id: str, since: datetime, until: datetime
    ) -> list[tuple[str, datetime, datetime]]:
        """Whole shifts (user id, start, end) overlapping [since, until]."""
        return shifts(self.layers[schedule_id], since, until)

    # ------------------------------------------------------------------ ground truth
    def failure_mode_of(self, incident_id: str) -> str:
        """The hidden failure mode behind an incident (KeyError for an unknown id)."""
        return self.mode_of[incident_id]

    def incident_ids_by_mode(self) -> dict[str, list[str]]:
        """Incident ids grouped by hidden failure mode, oldest first."""
        grouped: dict[str, list[str]] = {m.name: [] for m in self.modes}
        for inc in self.incidents:
            grouped[self.mode_of[inc["id"]]].append(inc["id"])
        return grouped


def _renamed(value: Any, names: Mapping[str, str]) -> Any:
    """``value`` with each object or reference whose id is in ``names`` named so. Only what
    changes is copied: a fork never edits what it shares with the cached account."""
    if isinstance(value, dict):
        items = {key: _renamed(item, names) for key, item in value.items()}
        obj_id = value.get("id")
        name = names.get(obj_id) if isinstance(obj_id, str) else None
        if name is not None:
            items |= {field: name for field in ("summary", "name", "label") if field in value}
        return items if any(items[key] is not value[key] for key in value) else value
    if isinstance(value, list):
        copied = [_renamed(item, names) for item in value]
        changed = any(new is not old for new, old in zip(copied, value, strict=True))
        return copied if changed else value
    return value


@functools.lru_cache(maxsize=8)
def build_account(seed: int, now: datetime, incidents: int = HISTORY_INCIDENTS) -> SandboxAccount:
    """The account for (seed, now, history size), built once per process, shared read-only."""
    return SandboxAccount(generate(seed, now, incidents))
