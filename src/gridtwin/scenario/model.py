"""The whole scenario: its sections and the checks across sections."""

from __future__ import annotations

from pydantic import Field, model_validator

from gridtwin.scenario.base import Section, Seed
from gridtwin.scenario.commands import CommandsSpec
from gridtwin.scenario.estimation import EstimationSpec
from gridtwin.scenario.events import EventSpec
from gridtwin.scenario.flisr import FlisrSpec
from gridtwin.scenario.forecasting import ForecastingSpec
from gridtwin.scenario.functions import FunctionSpec
from gridtwin.scenario.grid import GridSpec
from gridtwin.scenario.limits import LimitsSpec
from gridtwin.scenario.measurements import MeasurementsSpec
from gridtwin.scenario.mqtt import MqttSpec
from gridtwin.scenario.profiles import ProfilesSpec
from gridtwin.scenario.realtime import RealTimeSpec
from gridtwin.scenario.reconfiguration import ReconfigurationSpec
from gridtwin.scenario.recording import RecordingSpec
from gridtwin.scenario.scada import ScadaSpec
from gridtwin.scenario.time import TimeSpec
from gridtwin.scenario.voltage import VoltageControlSpec
from gridtwin.timeparse import format_duration

__all__ = [
    "Scenario",
]


class Scenario(Section):
    """A whole scenario: grid, period, profiles, events and recording."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="used in run ids")
    description: str = ""
    seed: Seed = Field(default=0, description="run seed in [0, 2**32 - 1]")
    time: TimeSpec
    grid: GridSpec
    profiles: ProfilesSpec = Field(default_factory=ProfilesSpec)
    events: list[EventSpec] = Field(default_factory=list)
    recording: RecordingSpec = Field(default_factory=RecordingSpec)
    measurements: MeasurementsSpec | None = None
    estimation: EstimationSpec | None = None
    voltage_control: VoltageControlSpec | None = None
    reconfiguration: ReconfigurationSpec | None = None
    forecasting: ForecastingSpec | None = None
    flisr: FlisrSpec | None = None
    limits: LimitsSpec = Field(default_factory=LimitsSpec)
    functions: list[FunctionSpec] = Field(default_factory=list)
    commands: CommandsSpec = Field(default_factory=CommandsSpec)
    scada: ScadaSpec = Field(default_factory=ScadaSpec)
    realtime: RealTimeSpec | None = None
    mqtt: MqttSpec | None = Field(default=None, description="the MQTT process bus (--mqtt URL)")
    events_file: str | None = Field(
        default=None, description="an event log (CSV or JSON) replayed after events"
    )
    measurements_file: str | None = Field(
        default=None, description="recorded measurements (CSV) replacing simulated ones"
    )

    @model_validator(mode="after")
    def _default_profile_source(self) -> Scenario:
        if self.profiles.source is None:
            self.profiles.source = "simbench" if self.grid.simbench else "none"
        if self.profiles.source == "simbench" and not self.grid.simbench:
            raise ValueError(
                "profiles.source: simbench profiles need a SimBench grid; "
                "expected csv or none for this grid"
            )
        return self

    @model_validator(mode="after")
    def _voltage_control_inputs(self) -> Scenario:
        vc = self.voltage_control
        if vc is None:
            return self
        if vc.central is not None and self.estimation is None:
            raise ValueError(
                "voltage_control: central needs an estimation section (it acts on the estimate)"
            )
        if vc.oltc is not None and self.measurements is None:
            raise ValueError(
                "voltage_control: oltc needs a measurements section with the busbar voltage "
                "(e.g. {device: scada, at: substation})"
            )
        if vc.central is not None and vc.central.interval % self.time.step:
            raise ValueError("voltage_control: central.interval must be a multiple of time.step")
        return self

    @model_validator(mode="after")
    def _measurements_file_needs_plan(self) -> Scenario:
        if self.measurements_file and self.measurements is None:
            raise ValueError(
                "measurements_file: needs a measurements section (its plan names the measurements)"
            )
        return self

    @model_validator(mode="after")
    def _estimation_needs_measurements(self) -> Scenario:
        if self.estimation is not None and self.measurements is None:
            raise ValueError(
                "estimation: needs a measurements section (the estimator sees only measurements)"
            )
        return self

    @model_validator(mode="after")
    def _reconfiguration_on_steps(self) -> Scenario:
        spec = self.reconfiguration
        if spec is None:
            return self
        step = self.time.step
        for name in ("every", "period"):
            value = getattr(spec, name)
            if value is not None and value % step:
                raise ValueError(
                    f"reconfiguration.{name}: got {format_duration(value)}; expected a multiple "
                    f"of time.step ({format_duration(step)})"
                )
        return self

    @model_validator(mode="after")
    def _forecasting_on_steps(self) -> Scenario:
        spec = self.forecasting
        if spec is None:
            return self
        step = self.time.step
        checks = [("training_window", spec.training_window), ("retrain_every", spec.retrain_every)]
        if spec.intraday is not None:
            checks += [("intraday.every", spec.intraday.every)]
            checks += [("intraday.horizon", spec.intraday.horizon)]
        if spec.day_ahead is not None:
            checks += [("day_ahead.at", spec.day_ahead.at)]
        if 86400 % step:
            raise ValueError(
                f"forecasting: time.step {format_duration(step)} does not divide a day; "
                "expected e.g. 15min or 1h"
            )
        for name, value in checks:
            if value % step:
                raise ValueError(
                    f"forecasting.{name}: got {format_duration(value)}; expected a multiple "
                    f"of time.step ({format_duration(step)})"
                )
        return self

    @model_validator(mode="after")
    def _real_time_alias(self) -> Scenario:
        old = self.time.real_time_factor
        if self.realtime is None:
            if old is not None:  # the older spelling: time.real_time_factor
                self.realtime = RealTimeSpec(factor=old)
        elif old is not None and old != self.realtime.factor:
            raise ValueError(
                f"time.real_time_factor: got {old:g} and realtime.factor {self.realtime.factor:g};"
                " expected one of them (time.real_time_factor is the older spelling)"
            )
        if self.realtime is not None:
            self.time.real_time_factor = self.realtime.factor  # InfluxDB stamps wall-clock time
        return self

    @property
    def n_steps(self) -> int:
        """Number of simulation steps."""
        return self.time.n_steps

    @property
    def source_file(self) -> str:
        """The file this scenario came from (``<scenario>`` if built in code)."""
        return getattr(self, "_source_file", "<scenario>")
