"""The ``limits`` section: how large a run may be before gridtwin refuses it.

A run is refused before anything is built when its step count or the
expected size of its run store exceed these limits, unless the scenario says
``limits: {force: true}`` or the command line ``--force``. The store size is
estimated as 8 bytes per recorded value and step (the uncompressed size; the
Parquet files are usually smaller).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from gridtwin.errors import InputError
from gridtwin.scenario.base import Section
from gridtwin.timeparse import format_duration

__all__ = ["DEFAULT_MAX_STEPS", "DEFAULT_MAX_STORE_GB", "LimitsSpec", "check_run_size"]

DEFAULT_MAX_STEPS = 1_000_000
"""Default step limit: 28 years at 15 min, 11.5 days at 1 s."""

DEFAULT_MAX_STORE_GB = 20.0
"""Default limit of the expected (uncompressed) run store [GB]."""

_BYTES_PER_VALUE = 8


class LimitsSpec(Section):
    """Run-size limits (refused above them unless ``force``)."""

    max_steps: int = Field(default=DEFAULT_MAX_STEPS, gt=0, description="most steps in a run")
    max_store_gb: float = Field(
        default=DEFAULT_MAX_STORE_GB, gt=0, description="largest expected run store [GB]"
    )
    force: bool = Field(default=False, description="run even above the limits (--force)")


def _where(scenario: Any) -> str:
    return scenario.source_file


def check_steps(scenario: Any) -> None:
    """Refuse a run with more steps than ``limits.max_steps`` (no network needed).

    Raises
    ------
    InputError
        Naming ``time.duration``, the step count and how to go on anyway.
    """
    limits = scenario.limits
    n = scenario.time.duration // scenario.time.step
    if limits.force or n <= limits.max_steps:
        return
    raise InputError(
        _where(scenario),
        "time.duration",
        f"{format_duration(scenario.time.duration)} at {format_duration(scenario.time.step)} is "
        f"{n:,} steps; expected at most limits.max_steps = {limits.max_steps:,} "
        "(raise it, set limits.force: true or pass --force to run anyway)",
    )


def store_bytes_per_step(scenario: Any, net: Any) -> int:
    """Expected bytes the run store grows by per step (8 bytes per recorded value)."""
    from gridtwin.controllers.estimation.tables import ESTIMATE_BUS_TABLE, ESTIMATE_LINE_TABLE
    from gridtwin.recording.tables import GRID_TABLES
    from gridtwin.simulators.components import MEASUREMENT_TABLE

    values = 0
    for table in scenario.recording.tables:
        declared = GRID_TABLES.get(table)
        if declared is None:
            n_fields = 1 if table == "switch" else 0
            n_rows = len(net[table]) if table in net else 0
        else:
            n_fields = len(declared.columns)
            n_rows = 1 if table == "grid" else len(net[table]) if table in net else 0
        values += n_rows * n_fields
    if scenario.estimation is not None:
        values += len(net.bus) * len(ESTIMATE_BUS_TABLE.columns)
        values += len(net.line) * len(ESTIMATE_LINE_TABLE.columns)
    if scenario.measurements is not None:
        # at most one voltage and two flows per bus and element: a generous bound
        per_element = len(MEASUREMENT_TABLE.columns)
        values += (len(net.bus) + 2 * (len(net.line) + len(net.load) + len(net.sgen))) * (
            per_element
        )
    return values * _BYTES_PER_VALUE


def check_run_size(scenario: Any, net: Any) -> None:
    """Refuse a run above the step or store-size limits (unless forced).

    Raises
    ------
    InputError
        Saying what the run would cost (steps, GB) and how to go on anyway.
    """
    check_steps(scenario)
    limits = scenario.limits
    if limits.force:
        return
    n = scenario.time.duration // scenario.time.step
    gb = n * store_bytes_per_step(scenario, net) / 1e9
    if gb > limits.max_store_gb:
        raise InputError(
            _where(scenario),
            "time.duration",
            f"{n:,} steps on this network would record about {gb:,.1f} GB; expected at most "
            f"limits.max_store_gb = {limits.max_store_gb:g} GB (raise it, shorten the run, "
            "record fewer recording.tables, set limits.force: true or pass --force)",
        )
