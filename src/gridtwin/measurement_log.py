"""Recorded measurements (``measurements_file:``) that replace the simulated sensors.

A CSV file with the columns ``at`` (ISO 8601 instant with offset, or an offset
from the start such as ``1h``), ``measurement`` (a scalar name of the
measurement plan, ``<device>:<quantity>:<element>``), ``value`` (in the
scalar's unit) and optionally ``sigma`` (same unit; default the simulated
sensor's). For each named measurement, from its first to its last recorded
time, the recorded readings replace the simulated ones: a step with a record
delivers it, a step without delivers nothing (valid false). Every problem is
one :class:`~gridtwin.errors.InputError` line naming the file and the row.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gridtwin.errors import InputError

__all__ = ["MeasurementReplay", "read_measurement_log"]


@dataclass(slots=True)
class MeasurementReplay:
    """Recorded readings by step: ``records[time_s] = [(scalar, value, sigma), ...]``."""

    records: dict[int, list[tuple[int, float, float]]] = field(default_factory=dict)
    span_s: dict[int, tuple[int, int]] = field(default_factory=dict)  # scalar -> (first, last)

    def apply(self, frame: Any) -> Any:
        """The frame with the recorded readings in place of the simulated ones (in place)."""
        t = frame.time_s
        for scalar, (first, last) in self.span_s.items():
            if first <= t <= last:
                frame.valid[scalar] = False
                frame.corrupted[scalar] = False
        for scalar, value, sigma in self.records.get(t, []):
            frame.value[scalar] = value
            if not math.isnan(sigma):
                frame.sigma[scalar] = sigma
            frame.valid[scalar] = np.isfinite(frame.sigma[scalar])
        return frame


def _numbers(row: dict[str, str], src: str, n: int) -> tuple[float, float]:
    """(value, sigma) of row ``n`` (sigma NaN when not given): finite, sigma above 0."""
    try:
        value = float(row["value"])
        sigma = float(row["sigma"]) if row.get("sigma") else float("nan")
    except ValueError:
        raise InputError(src, f"row {n}.value", "expected numbers in value and sigma") from None
    if not math.isfinite(value):
        raise InputError(src, f"row {n}.value", f"got {row['value']!r}; expected a finite number")
    if row.get("sigma") and not (math.isfinite(sigma) and sigma > 0):
        raise InputError(
            src, f"row {n}.sigma", f"got {row['sigma']!r}; expected a finite number above 0"
        )
    return value, sigma


def read_measurement_log(path: str | Path, scenario: Any, plan: Any) -> MeasurementReplay:
    """Read and check a measurement log against the scenario's time grid and plan.

    Raises
    ------
    InputError
        On a missing file, a missing column, a time off the run's steps, an
        unknown measurement or a value that is not a number.
    """
    from gridtwin.timeparse import parse_duration_s, parse_instant

    path = Path(path)
    src = str(path)
    if not path.is_file():
        raise InputError(src, "", "no such file; expected a CSV measurement log")
    try:
        lines = [x for x in path.read_text(encoding="utf-8").splitlines() if not x.startswith("#")]
    except UnicodeDecodeError:
        raise InputError(src, "", "not a text file; expected UTF-8 CSV") from None
    replay = MeasurementReplay()
    step, duration = scenario.time.step, scenario.time.duration
    for n, row in enumerate(csv.DictReader(lines), start=1):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        for name in ("at", "measurement", "value"):
            if not row.get(name):
                raise InputError(src, f"row {n}.{name}", "missing; every row needs it")
        at = row["at"]
        try:
            if any(c in at for c in "T:"):
                t = int((parse_instant(at) - scenario.time.start).total_seconds())
            else:
                t = parse_duration_s(at)
        except ValueError as exc:
            raise InputError(src, f"row {n}.at", f"got {at!r}; {exc}") from None
        if not 0 <= t < duration or t % step:
            raise InputError(
                src, f"row {n}.at", f"got {at!r}; expected a step of the run (every {step} s)"
            )
        try:
            scalar = plan.scalar_index(row["measurement"])
        except LookupError as exc:
            raise InputError(src, f"row {n}.measurement", str(exc)) from None
        value, sigma = _numbers(row, src, n)
        replay.records.setdefault(t, []).append((scalar, value, sigma))
        first, last = replay.span_s.get(scalar, (t, t))
        replay.span_s[scalar] = (min(first, t), max(last, t))
    return replay
