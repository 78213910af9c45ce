"""When an event happens, as seconds after the start: :func:`gridtwin.events.event_offset_s`."""

from __future__ import annotations

from gridtwin.events import event_offset_s

__all__ = ["event_offset_s"]
