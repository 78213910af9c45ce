"""mosaik simulator that emits scheduled events at exactly their time.

Event-based: it steps only at event times. Its one entity ``Events`` has the
output ``events``: ``(time_s, [ScheduledEvent, ...])``, the events due at
``time_s`` (for the physical world and the recorder), and ``reports``, the
same for the events a control centre is told of (:data:`REPORTED`).
Receivers apply them only at that time: mosaik may hand the same output to a
later step of a time-based receiver.
"""

from __future__ import annotations

from typing import Any

import mosaik_api_v3
from mosaik_api_v3.types import CreateResult, InputData, Meta, OutputData, OutputRequest

from gridtwin.events import ScheduledEvent

__all__ = ["REPORTED", "EventSimulator"]

REPORTED = frozenset({"repair", "reconfigure"})
"""Event types a control centre is told of (crew repair reports, operator requests);
output ``reports`` carries only these, for the automation functions."""

META = {
    "api_version": "3.0",
    "type": "event-based",
    "models": {"Events": {"public": True, "params": [], "attrs": ["events", "reports"]}},
}


class EventSimulator(mosaik_api_v3.Simulator):
    """Replays a schedule of events (in-process only)."""

    def __init__(self) -> None:
        super().__init__(META)
        self.schedule: list[ScheduledEvent] = []
        self._next = 0
        self._due: list[ScheduledEvent] = []
        self._due_time = -1

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> Meta:
        self.schedule = sorted(sim_params.get("schedule", []))
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[CreateResult]:
        return [{"eid": "events", "type": model}]

    def step(self, time: int, inputs: InputData, max_advance: int) -> int | None:
        due = []
        while self._next < len(self.schedule) and self.schedule[self._next].time_s <= time:
            due.append(self.schedule[self._next])
            self._next += 1
        self._due = due
        self._due_time = time
        if self._next < len(self.schedule):
            return self.schedule[self._next].time_s
        return None

    def get_data(self, outputs: OutputRequest) -> OutputData:
        if not self._due:
            return {}
        reported = [e for e in self._due if e.type in REPORTED]
        data: dict[str, dict[str, Any]] = {}
        for eid, attrs in outputs.items():
            values: dict[str, Any] = {}
            if "events" in attrs:
                values["events"] = (self._due_time, list(self._due))
            if "reports" in attrs and reported:
                values["reports"] = (self._due_time, reported)
            data[eid] = values
        return data


if __name__ == "__main__":  # a process of its own: gridtwin.remote.main, reached by name
    import importlib

    raise SystemExit(importlib.import_module("gridtwin.remote").main("Events"))
