"""The ``measurements`` section: device classes and the measurement plan."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from gridtwin.scenario.base import DurationS, Section, Seed
from gridtwin.timeparse import format_duration

__all__ = [
    "DeviceClass",
    "DeviceClassSpec",
    "MeasurementsSpec",
    "PlanEntry",
]


class DeviceClass(StrEnum):
    """Measurement device classes."""

    SCADA = "scada"
    PMU = "pmu"
    SMART_METER = "smart_meter"
    PSEUDO = "pseudo"


class DeviceClassSpec(Section):
    """Accuracy, availability and timing of one device class (unset fields keep the defaults).

    ``accuracy_percent`` is SOGNO's convention: the error bound at 3 sigma in
    percent of the measured value, so sigma = accuracy_percent / 300 * |value|.
    ``sigma_abs`` instead gives an absolute standard deviation in the
    quantity's unit (pu for voltages, MW/MVAr for powers).
    """

    accuracy_percent: float | None = Field(default=None, gt=0, description="3-sigma error [%]")
    sigma_abs: float | None = Field(default=None, gt=0, description="absolute sigma [pu, MW]")
    dropout_probability: float | None = Field(
        default=None, ge=0, le=1, description="chance a reading is lost, per step [-]"
    )
    latency_s: DurationS | None = Field(default=None, description="delay until delivered")
    interval_s: DurationS | None = Field(
        default=None, description="averaging interval (smart meters)"
    )

    @field_validator("latency_s", "interval_s")
    @classmethod
    def _non_negative(cls, value: int | None) -> int | None:
        if value is not None and value < 0:
            raise ValueError("expected a duration of zero or more, e.g. 15min")
        return value


class PlanEntry(Section):
    """One line of a measurement plan: a device class placed at a set of elements.

    ``at`` chooses where: ``substation`` (voltage at the substation busbars and
    the transformer flows), ``feeder_heads`` (flows of the lines leaving the
    substation busbars), ``all_buses``, ``every_nth_bus`` (with ``n``),
    ``loads`` / ``sgens`` (with ``share``, a seeded random choice), ``rest``
    (every load and sgen without a smart meter; pseudo-measurements) or
    ``names`` (with ``element`` and ``names``).
    """

    device: DeviceClass
    at: Literal[
        "substation",
        "feeder_heads",
        "all_buses",
        "every_nth_bus",
        "loads",
        "sgens",
        "rest",
        "names",
    ]
    n: int = Field(default=1, gt=0, description="every n-th bus")
    share: float = Field(default=1.0, gt=0, le=1, description="share of loads/sgens [-]")
    element: Literal["bus", "line", "load", "sgen"] | None = None
    names: list[str | int] = Field(default_factory=list)
    active_from: DurationS = Field(default=0, description="offset from start when it starts")
    active_until: DurationS | None = Field(default=None, description="offset when it stops")

    @model_validator(mode="after")
    def _names_need_element(self) -> PlanEntry:
        if self.at == "names" and (self.element is None or not self.names):
            raise ValueError("names: at: names needs element (bus, line, load, sgen) and names")
        if self.at != "names" and self.names:
            raise ValueError("names: given, but at is not names; expected at: names")
        if self.active_until is not None and self.active_until <= self.active_from:
            raise ValueError(
                f"active_until: got {format_duration(self.active_until)}; expected later than "
                f"active_from ({format_duration(self.active_from)})"
            )
        return self


class MeasurementsSpec(Section):
    """What the control centre measures: device classes and the measurement plan."""

    seed: Seed | None = Field(default=None, description="noise seed; default: scenario seed")
    classes: dict[DeviceClass, DeviceClassSpec] = Field(default_factory=dict)
    plan: list[PlanEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _plan_not_empty(self) -> MeasurementsSpec:
        if not self.plan:
            raise ValueError(
                "plan: expected at least one entry, e.g. {device: scada, at: substation}"
            )
        return self
