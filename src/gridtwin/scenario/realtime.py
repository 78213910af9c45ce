"""The ``realtime`` section: pace the run to the wall clock, and what to do when it falls behind."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any

from pydantic import Field

from gridtwin.errors import InputError
from gridtwin.scenario.base import Section

__all__ = ["OnOverrun", "RealTimeSpec", "apply_real_time"]


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


def apply_real_time(scenario: Any, factor: str | None, on_overrun: str | None) -> None:
    """Apply ``--real-time FACTOR`` and ``--on-overrun`` to a loaded scenario.

    Raises
    ------
    InputError
        ``--real-time`` not a number in (0, 1000], or ``--on-overrun`` not one
        of warn, skip, stop (or given without real time).
    """
    if factor is None and on_overrun is None:
        return
    spec = scenario.realtime
    if factor is not None:
        value = _factor(factor)
        spec = RealTimeSpec(factor=value, on_overrun=spec.on_overrun if spec else OnOverrun.WARN)
    if on_overrun is not None:
        if spec is None:
            raise InputError(
                "--on-overrun",
                "",
                "needs real time; expected --real-time FACTOR or a realtime "
                "section in the scenario",
            )
        try:
            spec = RealTimeSpec(factor=spec.factor, on_overrun=OnOverrun(on_overrun))
        except ValueError:
            raise InputError(
                "--on-overrun", "", f"got {on_overrun!r}; expected warn, skip or stop"
            ) from None
    scenario.realtime = spec
    scenario.time.real_time_factor = spec.factor  # InfluxDB stamps wall-clock time


def _factor(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and 0 < value <= 1000):
        raise InputError(
            "--real-time",
            "",
            f"got {text!r}; expected a factor in (0, 1000], e.g. 1 for real time or 0.1 for "
            "ten times faster",
        )
    return value
