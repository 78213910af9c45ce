"""The ``recording`` section: the run store and the live InfluxDB copy."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gridtwin.scenario.base import Section

__all__ = [
    "InfluxSpec",
    "RecordingSpec",
]


class InfluxSpec(Section):
    """Live copy of the recorded tables in InfluxDB (in addition to the run store).

    Credentials never go here: ``INFLUX_USERNAME``/``INFLUX_PASSWORD`` (v1) or
    ``GRIDTWIN_INFLUX_TOKEN`` (v2) in the environment.
    """

    url: str = Field(description="InfluxDB base URL, e.g. http://localhost:8086")
    database: str = Field(default="gridtwin", min_length=1, description="v1 database, v2 bucket")
    api: Literal["v1", "v2"] = "v1"
    retention_policy: str | None = Field(default=None, description="v1 retention policy")
    org: str | None = Field(default=None, description="v2 organization")
    batch_points: int = Field(default=50_000, gt=0, description="points per write")
    max_delay_s: float = Field(default=1.0, gt=0, description="longest wait before a write [s]")
    max_memory_mb: float = Field(
        default=256, ge=0, description="unsent data kept in memory before spilling to disk [MB]"
    )
    drain_timeout_s: float = Field(
        default=30, ge=0, description="wait at the end of the run for unsent data [s]"
    )
    timeout_s: float = Field(default=30, gt=0, description="time-out of one HTTP request [s]")


class RecordingSpec(Section):
    """What the run store keeps and how often it writes to disk."""

    flush_every_steps: int = Field(
        default=960, gt=0, description="steps held in memory before a Parquet part is written"
    )
    tables: list[Literal["grid", "bus", "line", "trafo", "load", "sgen", "storage", "switch"]] = (
        Field(
            default_factory=lambda: [
                "grid",
                "bus",
                "line",
                "trafo",
                "load",
                "sgen",
                "storage",
                "switch",
            ]
        )
    )
    influx: InfluxSpec | None = Field(
        default=None, description="also write to InfluxDB while running (--influx URL)"
    )
