"""The ``recording`` section: the run store and the live InfluxDB copy."""

from __future__ import annotations

import typing
from typing import Any, Literal

from pydantic import Field, ValidationError, field_serializer, field_validator

from gridtwin.redact import redact_url
from gridtwin.scenario.base import MAX_WAIT_S, Section, check_url

__all__ = [
    "MAX_FLUSH_STEPS",
    "InfluxSpec",
    "RecordingSpec",
    "influx_spec",
]


class InfluxSpec(Section):
    """Live copy of the recorded tables in InfluxDB (in addition to the run store).

    Credentials belong in the environment: ``INFLUX_USERNAME``/``INFLUX_PASSWORD``
    (v1) or ``GRIDTWIN_INFLUX_TOKEN`` (v2). A password given in the URL
    (``http://user:password@host:8086``) is used, but never written out: the
    URL is redacted to ``user:***@`` in ``scenario.yaml``, the log and messages.
    """

    url: str = Field(description="InfluxDB base URL, e.g. http://localhost:8086")
    database: str = Field(default="gridtwin", min_length=1, description="v1 database, v2 bucket")
    api: Literal["v1", "v2"] = "v1"
    retention_policy: str | None = Field(default=None, description="v1 retention policy")
    org: str | None = Field(default=None, description="v2 organization")
    batch_points: int = Field(default=50_000, gt=0, description="points per write")
    max_delay_s: float = Field(
        default=1.0, gt=0, le=MAX_WAIT_S, description="longest wait before a write [s]"
    )
    max_memory_mb: float = Field(
        default=256, ge=0, description="unsent data kept in memory before spilling to disk [MB]"
    )
    drain_timeout_s: float = Field(
        default=30,
        ge=0,
        le=MAX_WAIT_S,
        description="wait at the end of the run for unsent data [s]",
    )
    timeout_s: float = Field(
        default=30, gt=0, le=MAX_WAIT_S, description="time-out of one HTTP request [s]"
    )

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        check_url(value, ("http", "https"), "http://localhost:8086")
        return value

    @field_serializer("url", when_used="json")
    def _redacted_url(self, value: str) -> str:
        return redact_url(value)


def influx_spec(data: dict[str, Any], source: str) -> InfluxSpec:
    """An :class:`InfluxSpec` from options (e.g. ``--influx``), or a one-line :class:`InputError`.

    ``source`` names where the values came from (``--influx`` or the scenario).
    """
    from gridtwin.scenario.messages import to_input_error

    try:
        return InfluxSpec(**data)
    except ValidationError as exc:
        raise to_input_error(exc, source, InfluxSpec) from None


MAX_FLUSH_STEPS = 100_000
"""Most steps held in memory before a Parquet part is written (the buffers are allocated
for that many steps, capped at the run's step count)."""

TableName = Literal["grid", "bus", "line", "trafo", "load", "sgen", "storage", "switch", "timing"]
"""A per-step table of the run store."""

TABLE_NAMES: tuple[TableName, ...] = tuple(t for t in typing.get_args(TableName) if t != "timing")
"""The grid's per-step tables, in the order the run store keeps them (the default ``tables``).
``timing`` (wall-clock timing of every step, :mod:`gridtwin.pacing`) is recorded when listed,
and in every real-time run; it is not a default: its figures differ from run to run."""


class RecordingSpec(Section):
    """What the run store keeps and how often it writes to disk."""

    flush_every_steps: int = Field(
        default=960,
        gt=0,
        le=MAX_FLUSH_STEPS,
        description="steps held in memory before a Parquet part is written",
    )
    tables: list[TableName] = Field(default_factory=lambda: list(TABLE_NAMES))
    influx: InfluxSpec | None = Field(
        default=None, description="also write to InfluxDB while running (--influx URL)"
    )
