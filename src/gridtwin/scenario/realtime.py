"""The ``realtime`` section: pace the run to the wall clock, and what to do when it falls behind."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from gridtwin.scenario.base import Section

__all__ = ["OnOverrun", "RealTimeSpec"]


class OnOverrun(StrEnum):
    """What the run does with a step that starts more than one step late."""

    WARN = "warn"
    """Run it anyway, count it and log a warning (the first one, then every 100th)."""
    SKIP = "skip"
    """Drop the automation functions' work of that step (they keep their last outputs,
    send no commands) so the loop catches up; count the skipped steps."""
    STOP = "stop"
    """End the run cleanly at that step: tables flushed, ``kpis.json`` with
    ``run.completed`` false and ``realtime.stopped`` saying why."""


class RealTimeSpec(Section):
    """Run in wall-clock time: each step starts at ``factor * sim_time`` after the first one.

    Present in a scenario (or given by ``gridtwin run --real-time``), the run
    is paced; absent, it runs as fast as it can. ``time.real_time_factor`` is
    the older spelling of ``factor`` and still works.
    """

    factor: float = Field(
        default=1.0,
        gt=0,
        le=1000,
        description="wall seconds per simulated second: 1.0 = real time, 0.1 = ten times faster",
    )
    on_overrun: OnOverrun = Field(
        default=OnOverrun.WARN,
        description="a step starting more than one step late: warn, skip or stop",
    )
