"""When an event happens, as seconds after the start (a leaf: the event machinery uses it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridtwin.errors import InputError
from gridtwin.timeparse import parse_duration_s, parse_instant

if TYPE_CHECKING:
    from gridtwin.scenario.model import Scenario

__all__ = ["event_offset_s"]


def event_offset_s(scenario: Scenario, index: int) -> int:
    """The time of ``scenario.events[index]`` as seconds after the start."""
    event = scenario.events[index]
    field = f"events[{index}].at"
    if isinstance(event.at, int) or not any(c in str(event.at) for c in "T:"):
        try:
            return parse_duration_s(event.at)
        except ValueError as exc:
            raise InputError(scenario.source_file, field, f"got {event.at!r}; {exc}") from None
    try:
        instant = parse_instant(event.at)
    except ValueError as exc:
        raise InputError(scenario.source_file, field, f"got {event.at!r}; {exc}") from None
    return int((instant - scenario.time.start).total_seconds())
