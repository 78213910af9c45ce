"""Scenario schema and loading: every check on a scenario file lives here.

A scenario is a YAML file with the sections ``time``, ``grid``, ``profiles``,
``events`` and ``recording`` (see the README for a commented example). Loading
goes in two stages:

1. :func:`load_scenario` parses the YAML and checks it against the strict
   schema (unknown keys rejected with the nearest valid key suggested).
2. :func:`check_against_net` checks what needs the network: that event
   targets exist and that event times fall inside the run on a step.

Both raise :class:`gridtwin.errors.InputError` with a one-line message naming
the file, the field path and what was expected.
"""

from __future__ import annotations

import difflib
import typing
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from gridtwin.errors import InputError
from gridtwin.timeparse import format_duration, parse_duration_s, parse_instant

__all__ = [
    "DeviceClass",
    "DeviceClassSpec",
    "Engine",
    "EstimationSpec",
    "EventSpec",
    "ForecastingSpec",
    "GridSpec",
    "InfluxSpec",
    "Interpolation",
    "MeasurementsSpec",
    "PlanEntry",
    "ProfileFileSpec",
    "ProfilesSpec",
    "ReconfigurationSpec",
    "RecordingSpec",
    "Scenario",
    "TimeSpec",
    "VoltageControlSpec",
    "check_against_net",
    "dump_scenario",
    "load_scenario",
    "measurement_plan",
    "scenario_from_dict",
]


def _duration(value: Any) -> int:
    return parse_duration_s(value)


def _instant(value: Any) -> datetime:
    return parse_instant(value)


DurationS = Annotated[int, BeforeValidator(_duration), PlainSerializer(format_duration)]
"""A duration [s], written in scenario files as ``15min``, ``1d``, ..."""

Instant = Annotated[datetime, BeforeValidator(_instant), PlainSerializer(lambda v: v.isoformat())]


class Engine(StrEnum):
    """Power-flow engine: power-grid-model (default, fast) or pandapower (reference)."""

    POWER_GRID_MODEL = "power-grid-model"
    PANDAPOWER = "pandapower"


class Interpolation(StrEnum):
    """How a profile is brought to the scenario's step.

    ``hold`` keeps each profile value for its interval, ``linear`` interpolates
    between profile points, ``mean`` averages the profile over each step.
    """

    HOLD = "hold"
    LINEAR = "linear"
    MEAN = "mean"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, use_enum_values=False)


class TimeSpec(_Strict):
    """When the run starts, how long it lasts and its step."""

    start: Instant = Field(description="ISO 8601 start with UTC offset")
    duration: DurationS = Field(description="length of the run, e.g. 1d or 365d")
    step: DurationS = Field(default=900, description="simulation step, e.g. 15min")
    real_time_factor: float | None = Field(
        default=None, gt=0, description="run in wall-clock time: 1.0 = real time, 0.1 = 10x faster"
    )

    @field_validator("step")
    @classmethod
    def _step_positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("expected a step longer than zero, e.g. 15min")
        return value

    @model_validator(mode="after")
    def _duration_multiple_of_step(self) -> TimeSpec:
        if self.duration <= 0:
            raise ValueError("duration: expected a duration longer than zero, e.g. 1d")
        if self.duration % self.step:
            raise ValueError(
                f"duration: {format_duration(self.duration)} is not a whole number of "
                f"steps of {format_duration(self.step)}; expected a multiple of time.step"
            )
        return self

    @property
    def n_steps(self) -> int:
        """Number of simulation steps."""
        return self.duration // self.step


class GridSpec(_Strict):
    """Where the network comes from: one of ``simbench``, ``pandapower``, ``file``, ``cgmes``."""

    simbench: str | None = Field(default=None, description="SimBench code")
    pandapower: str | None = Field(default=None, description="pandapower.networks function")
    file: str | None = Field(default=None, description="pandapower JSON file")
    cgmes: str | None = Field(default=None, description="CGMES zip (EQ, SSH, TP, SV)")
    options: dict[str, Any] = Field(
        default_factory=dict, description="keyword arguments of the pandapower network function"
    )
    engine: Engine = Engine.POWER_GRID_MODEL

    @model_validator(mode="after")
    def _exactly_one_source(self) -> GridSpec:
        given = [k for k in ("simbench", "pandapower", "file", "cgmes") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                f"got {', '.join(given) or 'no source'}; expected exactly one of "
                "simbench, pandapower, file, cgmes"
            )
        if self.options and not self.pandapower:
            raise ValueError("options: only a pandapower network function takes options")
        return self


class ProfileFileSpec(_Strict):
    """One CSV profile file: a ``time`` column and one column per element."""

    path: str
    element: Literal["load", "sgen", "storage"]
    quantity: Literal["p_mw", "q_mvar", "scaling"] = Field(
        description="p_mw [MW], q_mvar [MVAr] or scaling [pu] of the element's rated values"
    )


class ProfilesSpec(_Strict):
    """Load, generation and storage profiles."""

    source: Literal["simbench", "csv", "none"] | None = Field(
        default=None, description="default: simbench for SimBench grids, else none"
    )
    files: list[ProfileFileSpec] = Field(default_factory=list)
    interpolation: Interpolation = Interpolation.HOLD
    load_scale: float = Field(default=1.0, ge=0, description="factor on every load [-]")
    sgen_scale: float = Field(default=1.0, ge=0, description="factor on every sgen [-]")

    @model_validator(mode="after")
    def _files_only_for_csv(self) -> ProfilesSpec:
        if self.source == "csv" and not self.files:
            raise ValueError("files: expected at least one CSV file when source is csv")
        if self.files and self.source not in ("csv", None):
            raise ValueError(f"files: given, but source is {self.source}; expected source: csv")
        if self.files:
            self.source = "csv"
        return self


class EventSpec(BaseModel):
    """One scheduled event; parameters beyond these depend on ``type``."""

    model_config = ConfigDict(extra="allow")

    at: str | int = Field(description="offset from start (6h) or ISO 8601 instant")
    type: str
    target: str | int = Field(description="element name or index, or 'all'")
    duration: DurationS | None = Field(default=None, description="undo the event after this")

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        from gridtwin.events import EVENT_TYPES

        if value not in EVENT_TYPES:
            hint = difflib.get_close_matches(value, list(EVENT_TYPES), n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ValueError(
                f"unknown event type{extra}; expected one of {', '.join(sorted(EVENT_TYPES))}"
            )
        return value

    @model_validator(mode="after")
    def _check_params(self) -> EventSpec:
        from gridtwin.events import EVENT_TYPES

        kind = EVENT_TYPES.get(self.type)
        if kind is None:
            return self
        extra = dict(self.model_extra or {})
        for name in extra:
            if name not in kind.params:
                valid = ["at", "type", "target", "duration", *kind.params]
                hint = difflib.get_close_matches(name, valid, n=1)
                raise ValueError(
                    f"{name}: not a parameter of {self.type}"
                    + (f" (did you mean {hint[0]!r}?)" if hint else "")
                    + f"; expected {', '.join(valid)}"
                )
        for name, param in kind.params.items():
            if name not in extra:
                if param.required:
                    raise ValueError(f"{name}: missing; {self.type} needs {param.description}")
                continue
            try:
                value = float(extra[name])
            except (TypeError, ValueError):
                raise ValueError(f"{name}: got {extra[name]!r}; expected a number") from None
            if not param.low <= value <= param.high:
                raise ValueError(
                    f"{name}: got {value}; expected {param.description} "
                    f"in [{param.low}, {param.high}]"
                )
            setattr(self, name, value)
        if self.duration is not None and kind.inverse is None:
            raise ValueError(f"duration: {self.type} cannot be undone; remove duration")
        return self

    def params(self) -> dict[str, float]:
        """The type-specific parameters with their values."""
        return {k: float(v) for k, v in (self.model_extra or {}).items()}


class InfluxSpec(_Strict):
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


class RecordingSpec(_Strict):
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


class DeviceClass(StrEnum):
    """Measurement device classes."""

    SCADA = "scada"
    PMU = "pmu"
    SMART_METER = "smart_meter"
    PSEUDO = "pseudo"


class DeviceClassSpec(_Strict):
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


class PlanEntry(_Strict):
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
        return self


class MeasurementsSpec(_Strict):
    """What the control centre measures: device classes and the measurement plan."""

    seed: int | None = Field(default=None, ge=0, description="noise seed; default: scenario seed")
    classes: dict[DeviceClass, DeviceClassSpec] = Field(default_factory=dict)
    plan: list[PlanEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _plan_not_empty(self) -> MeasurementsSpec:
        if not self.plan:
            raise ValueError(
                "plan: expected at least one entry, e.g. {device: scada, at: substation}"
            )
        return self


class EstimationSpec(_Strict):
    """The state estimator under test."""

    engine: Literal["power-grid-model", "pandapower"] = "power-grid-model"
    chi2_confidence: float = Field(default=0.95, gt=0, lt=1, description="chi-square test level")
    lnr_threshold: float = Field(default=3.0, gt=0, description="normalized residual limit")
    max_bad_data_removals: int = Field(default=5, ge=0, description="removals per step")


class IntradaySpec(_Strict):
    """Intraday forecasts: issued every ``every``, for the next ``horizon``."""

    every: DurationS = Field(default=3600, description="issue interval, e.g. 1h or 15min")
    horizon: DurationS = Field(default=14400, description="forecast horizon, e.g. 4h (24h at most)")


class DayAheadSpec(_Strict):
    """Day-ahead forecasts: issued once a day at local time ``at``, for the whole next day."""

    at: DurationS = Field(default=43200, description="local time of day of the issue, e.g. 12h")


class ForecastingSpec(_Strict):
    """The load and PV forecaster under test.

    It forecasts loads, PV and other generators at ``level`` (``element``,
    ``bus``, ``feeder`` or ``grid``) from the history up to now: the profiles
    of the ``training_window`` before ``time.start`` (for SimBench grids the
    window must lie inside SimBench's year 2016, with 29 days more for the
    lag features), then the run's own actuals. PV needs the site
    (``latitude``, ``longitude``) for the clear-sky model. When the scenario
    also has pseudo-measurements, their mean and sigma come from the forecast
    (``feed_estimator``).
    """

    model: Literal["persistence", "seasonal_naive", "quantile_gbm"] = "quantile_gbm"
    level: Literal["element", "bus", "feeder", "grid"] = "feeder"
    quantiles: list[float] = Field(
        default_factory=lambda: [0.1, 0.5, 0.9], description="ascending, with 0.5"
    )
    intraday: IntradaySpec | None = Field(default_factory=IntradaySpec)
    day_ahead: DayAheadSpec | None = Field(default_factory=DayAheadSpec)
    training_window: DurationS = Field(default=56 * 86400, description="history for training")
    retrain_every: DurationS = Field(default=7 * 86400, description="at least 1d")
    latitude: float | None = Field(default=None, ge=-90, le=90, description="PV site [degree N]")
    longitude: float | None = Field(default=None, ge=-180, le=180, description="[degree E]")
    seed: int | None = Field(default=None, ge=0, description="model seed; default: scenario's")
    feed_estimator: bool = Field(default=True, description="pseudo-measurements from forecasts")

    @model_validator(mode="after")
    def _consistent(self) -> ForecastingSpec:
        q = self.quantiles
        if len(q) < 3 or 0.5 not in q or any(not 0 < v < 1 for v in q) or q != sorted(set(q)):
            raise ValueError(
                f"quantiles: got {q}; expected at least three ascending levels in (0, 1) "
                "with 0.5, e.g. [0.1, 0.5, 0.9]"
            )
        if self.intraday is None and self.day_ahead is None:
            raise ValueError("intraday: both cadences are off; expected intraday or day_ahead")
        if self.intraday is not None:
            if not 0 < self.intraday.every <= self.intraday.horizon <= 86400:
                raise ValueError(
                    "intraday: expected 0 < every <= horizon <= 24h, e.g. {every: 1h, horizon: 4h}"
                )
        if self.day_ahead is not None and not 0 <= self.day_ahead.at < 86400:
            raise ValueError("day_ahead.at: expected a time of day in [0, 24h), e.g. 12h")
        if self.retrain_every < 86400:
            raise ValueError(
                f"retrain_every: got {format_duration(self.retrain_every)}; expected 1d or more"
            )
        if self.training_window < 21 * 86400:
            raise ValueError(
                f"training_window: got {format_duration(self.training_window)}; expected 21d "
                "or more (the last 14 days calibrate the learned model)"
            )
        return self


class ReconfigurationSpec(_Strict):
    """The switch-reconfiguration controller under test.

    Every ``every`` (and on each ``reconfigure`` event) it plans the next
    ``horizon`` in periods of ``period`` from the metered loads it has seen and
    commands the switches; the grid applies a command one step later.
    ``objective`` picks preset prices (``losses``, ``reliability`` or
    ``weighted``); the price fields override them. The search stops after
    ``max_evaluations`` configuration-period evaluations (machine-independent,
    so a run is reproducible) or, if set, after ``time_limit_s`` of wall time.
    """

    every: DurationS | None = Field(
        default=21600, description="planning interval, e.g. 6h; null: only on reconfigure events"
    )
    horizon: DurationS = Field(default=86400, description="planning horizon, e.g. 24h")
    period: DurationS = Field(default=3600, description="length of one planning period, e.g. 1h")
    forecast: Literal["previous_day", "hold"] = Field(
        default="previous_day",
        description="loads per period: the same hours of the previous day, or the last values",
    )
    objective: Literal["losses", "reliability", "weighted"] = "weighted"
    loss_cost_per_mwh: float | None = Field(default=None, ge=0, description="[EUR/MWh]")
    reliability: float | None = Field(default=None, ge=0, description="factor on EENS cost [-]")
    switching_cost: float | None = Field(default=None, ge=0, description="[EUR/operation]")
    violation_cost_per_percent_h: float | None = Field(
        default=None, ge=0, description="[EUR/(%·h)]"
    )
    max_evaluations: int = Field(default=3000, gt=0, description="search budget per plan")
    time_limit_s: float | None = Field(default=None, gt=0, description="wall-clock cap [s]")
    all_lines_switchable: bool = Field(
        default=False, description="every line is switchable (nets without switch tables)"
    )
    vm_min_pu: float | None = Field(default=None, gt=0, lt=2, description="[pu]")
    vm_max_pu: float | None = Field(default=None, gt=0, lt=2, description="[pu]")
    max_loading_percent: float | None = Field(default=None, gt=0, description="[%]")
    seed: int | None = Field(default=None, ge=0, description="search seed; default: scenario's")

    @field_validator("every", "horizon", "period")
    @classmethod
    def _positive(cls, value: int | None) -> int | None:
        if value is not None and value <= 0:
            raise ValueError("expected a duration longer than zero, e.g. 6h")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ReconfigurationSpec:
        if self.horizon % self.period:
            raise ValueError(
                f"horizon: {format_duration(self.horizon)} is not a whole number of periods "
                f"of {format_duration(self.period)}; expected a multiple of period"
            )
        if self.horizon > 7 * 86400:
            raise ValueError(f"horizon: got {format_duration(self.horizon)}; expected 7d or less")
        if (
            self.vm_min_pu is not None
            and self.vm_max_pu is not None
            and self.vm_min_pu >= self.vm_max_pu
        ):
            raise ValueError(
                f"vm_max_pu: got {self.vm_max_pu}; expected more than vm_min_pu ({self.vm_min_pu})"
            )
        return self

    def weight_overrides(self) -> dict[str, float]:
        """The price fields that are set, by their ``Weights`` names."""
        names = (
            "loss_cost_per_mwh",
            "reliability",
            "switching_cost",
            "violation_cost_per_percent_h",
        )
        return {n: float(getattr(self, n)) for n in names if getattr(self, n) is not None}


class FlisrSpec(_Strict):
    """The FLISR automation function (fault location, isolation, service restoration).

    It sees breaker positions, status indications and the fault passage
    indicators at the switches; each switching takes ``remote_time`` on a
    remote-controlled switch, ``manual_time`` when a crew drives out.
    """

    remote: Literal["all", "breakers", "none"] = Field(
        default="all", description="which switches are remote-controlled"
    )
    remote_time: DurationS = Field(default=30, description="operation time of a remote switching")
    manual_time: DurationS = Field(default=3600, description="operation time of a manual one")
    confirm: DurationS = Field(
        default=0, description="a breaker counts as tripped once seen open this long"
    )
    indicators: Literal["all"] | list[str | int] = Field(
        default="all",
        description="switches with a fault passage indicator (names or indices); "
        "breakers always report",
    )
    vm_min_pu: float = Field(default=0.9, gt=0, lt=2, description="restoration voltage band [pu]")
    vm_max_pu: float = Field(default=1.1, gt=0, lt=2, description="[pu]")
    max_loading_percent: float = Field(default=100.0, gt=0, description="[%]")

    @model_validator(mode="after")
    def _band(self) -> FlisrSpec:
        if self.vm_min_pu >= self.vm_max_pu:
            raise ValueError(
                f"vm_max_pu: got {self.vm_max_pu}; expected more than vm_min_pu ({self.vm_min_pu})"
            )
        return self


class CurveSpec(_Strict):
    """A piecewise-linear DER curve: voltages [pu], values [pu of the unit's rating]."""

    v_pu: list[float] = Field(min_length=2, description="strictly increasing voltages [pu]")
    y_pu: list[float] = Field(min_length=2, description="non-increasing values [pu of rating]")

    @model_validator(mode="after")
    def _valid_curve(self) -> CurveSpec:
        from gridtwin.controllers.voltage.curves import Curve

        try:
            Curve(tuple(self.v_pu), tuple(self.y_pu))
        except ValueError as exc:
            field = "v_pu" if str(exc).startswith("voltages") else "y_pu"
            raise ValueError(f"{field}: {exc}") from None
        return self


class OltcSpec(_Strict):
    """On-load tap changer control at the substation transformers."""

    set_point_pu: float = Field(default=1.0, gt=0.8, lt=1.2, description="busbar voltage [pu]")
    dead_band_pu: float = Field(default=0.01, gt=0, lt=0.1, description="half width [pu]")
    delay: DurationS = Field(default=0, description="time outside the band before a step")
    ldc_r_pu: float = Field(default=0.0, ge=0, description="line-drop compensation R [pu]")
    ldc_x_pu: float = Field(default=0.0, ge=0, description="line-drop compensation X [pu]")


class LocalCurvesSpec(_Strict):
    """Q(U) and P(U) at every DER unit, on its own terminal voltage."""

    preset: Literal["ieee1547_b", "vde4110", "vde4105"] = "ieee1547_b"
    q_u: CurveSpec | None = Field(default=None, description="overrides the preset's Q(U)")
    p_u: CurveSpec | None = Field(default=None, description="overrides the preset's P(U)")
    q_u_enabled: bool = True
    p_u_enabled: bool = True
    response_time_s: float = Field(default=10.0, ge=0, description="first-order time constant")


class CentralSpec(_Strict):
    """Centralized optimal voltage control on the state estimate."""

    interval: DurationS = Field(default=900, description="control interval, a multiple of step")
    margin_pu: float = Field(default=0.005, ge=0, lt=0.05, description="kept from the band [pu]")
    q_limit_pu: float = Field(default=0.44, ge=0, le=1, description="DER Q limit [pu of rating]")
    cost_curtailment_per_mw: float = Field(default=100.0, ge=0)
    cost_q_per_mvar: float = Field(default=1.0, ge=0)
    cost_tap_per_step: float = Field(default=5.0, ge=0)


class VoltageControlSpec(_Strict):
    """Voltage band and the voltage controllers (each optional; none = no control)."""

    band_mv_pu: tuple[float, float] = Field(default=(0.95, 1.05), description="1-35 kV buses")
    band_lv_pu: tuple[float, float] = Field(default=(0.90, 1.10), description="below 1 kV")
    oltc: OltcSpec | None = None
    local: LocalCurvesSpec | None = None
    central: CentralSpec | None = None

    @model_validator(mode="after")
    def _bands_ordered(self) -> VoltageControlSpec:
        for name in ("band_mv_pu", "band_lv_pu"):
            lower, upper = getattr(self, name)
            if not lower < upper:
                raise ValueError(f"{name}: lower limit {lower} is not below upper limit {upper}")
        return self


class Scenario(_Strict):
    """A whole scenario: grid, period, profiles, events and recording."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="used in run ids")
    description: str = ""
    seed: int = Field(default=0, ge=0)
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

    @property
    def n_steps(self) -> int:
        """Number of simulation steps."""
        return self.time.n_steps

    @property
    def source_file(self) -> str:
        """The file this scenario came from (``<scenario>`` if built in code)."""
        return getattr(self, "_source_file", "<scenario>")


# --- loading and error messages -------------------------------------------------------


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file.

    Relative paths inside it (network and profile files) are resolved against
    the scenario file's folder.

    Raises
    ------
    InputError
        One line naming the file, the field and what was expected.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "", "no such file; expected a scenario YAML file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", exc)
        raise InputError(str(path), where, f"not valid YAML ({problem})") from None
    except UnicodeDecodeError:
        raise InputError(str(path), "", "not a text file; expected UTF-8 YAML") from None
    return scenario_from_dict(data, source=str(path), base_dir=path.parent)


def scenario_from_dict(
    data: Any, *, source: str = "<scenario>", base_dir: str | Path = "."
) -> Scenario:
    """Validate a scenario given as a dictionary (as parsed from YAML)."""
    if not isinstance(data, dict):
        raise InputError(source, "", f"got {type(data).__name__}; expected a YAML mapping")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise _to_input_error(exc, source) from None
    base = Path(base_dir)
    if scenario.grid.file:
        scenario.grid.file = str((base / scenario.grid.file).resolve())
    for spec in scenario.profiles.files:
        spec.path = str((base / spec.path).resolve())
    object.__setattr__(scenario, "_source_file", source)
    object.__setattr__(scenario, "_n_inline_events", len(scenario.events))
    if scenario.measurements_file:
        scenario.measurements_file = str((base / scenario.measurements_file).resolve())
    if scenario.events_file:
        from gridtwin.event_log import read_event_log

        scenario.events_file = str((base / scenario.events_file).resolve())
        scenario.events.extend(read_event_log(scenario.events_file))
    return scenario


def dump_scenario(scenario: Scenario) -> str:
    """The scenario as YAML with every default filled in."""
    data = scenario.model_dump(mode="json")
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "tagged-union")):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the field at ``loc`` (for key suggestions)."""
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _expected(msg: str) -> str:
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if msg.startswith("Input should be "):
        return "expected " + msg.removeprefix("Input should be ")
    if msg.startswith("String should match pattern "):
        return "expected letters, digits, '_', '.' or '-' only (" + msg.lower() + ")"
    return msg


def _to_input_error(exc: ValidationError, source: str) -> InputError:
    err = exc.errors(include_url=False)[0]
    loc = tuple(err.get("loc", ()))
    if err["type"] == "extra_forbidden":
        key = str(loc[-1])
        owner = _model_at(loc[:-1])
        valid = list(owner.model_fields) if owner else []
        hint = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
        suggestion = f"did you mean {hint[0]!r}? " if hint else ""
        return InputError(
            source,
            _loc_to_path(loc),
            f"unknown key; {suggestion}expected one of {', '.join(valid)}",
        )
    if err["type"] == "missing":
        return InputError(source, _loc_to_path(loc), "missing; this field is required")
    msg = _expected(err["msg"])
    field = _loc_to_path(loc)
    # Errors raised in model validators name their sub-field as "field: ..."
    head, sep, rest = msg.partition(": ")
    if sep and head.replace("_", "").isalnum() and " " not in head:
        field = f"{field}.{head}" if field else head
        msg = rest
    given = err.get("input")
    if not isinstance(given, dict | list) and "got " not in msg and given is not None:
        msg = f"got {given!r}; {msg}"
    return InputError(source, field, msg)


# --- checks that need the network -----------------------------------------------------


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


def measurement_plan(scenario: Scenario, net: Any) -> Any:
    """The scenario's measurement plan resolved against ``net`` (None without one).

    Raises
    ------
    InputError
        If a plan entry names an element that does not exist.
    """
    from gridtwin.simulators.sensors import resolve_plan

    if scenario.measurements is None:
        return None
    seed = scenario.measurements.seed
    try:
        return resolve_plan(
            net, scenario.measurements, seed=scenario.seed if seed is None else seed
        )
    except LookupError as exc:
        index, message = exc.args
        raise InputError(
            scenario.source_file, f"measurements.plan[{index}].names", message
        ) from None


def _event_where(scenario: Scenario, index: int, name: str) -> tuple[str, str]:
    """(file, field) naming event ``index``: the scenario's ``events`` or a row of its event log."""
    n_inline = getattr(scenario, "_n_inline_events", len(scenario.events))
    if index < n_inline or not scenario.events_file:
        return scenario.source_file, f"events[{index}].{name}"
    return scenario.events_file, f"event {index - n_inline + 1}.{name}"


def check_against_net(scenario: Scenario, net: Any) -> Any:
    """Check the parts of a scenario that depend on the network.

    Event targets must name existing elements (by name or index) and event
    times must fall on a step inside the run.

    Raises
    ------
    InputError
        On the first problem found.
    """
    from gridtwin.events import EVENT_TYPES, measurement_positions, resolve_target

    plan = measurement_plan(scenario, net)
    for i, event in enumerate(scenario.events):
        at_s = event_offset_s(scenario, i)
        if not 0 <= at_s < scenario.time.duration:
            raise InputError(
                *_event_where(scenario, i, "at"),
                f"got {event.at!r}, outside the run; expected a time in "
                f"[0, {format_duration(scenario.time.duration)}) after time.start",
            )
        if at_s % scenario.time.step:
            raise InputError(
                *_event_where(scenario, i, "at"),
                f"got {event.at!r}; expected a multiple of time.step "
                f"({format_duration(scenario.time.step)})",
            )
        kind = EVENT_TYPES[event.type]
        try:
            if event.type in ("comms_loss", "comms_restore"):
                if str(event.target) != "all":
                    raise LookupError(f"got {event.target!r}; expected all")
            elif kind.element == "measurement":
                if plan is None:
                    raise LookupError(
                        f"{event.type} needs a measurements section; expected measurements.plan"
                    )
                measurement_positions(plan, event.type, str(event.target))
            elif kind.element == "controller":
                if scenario.reconfiguration is None:
                    raise LookupError(
                        f"{event.type} needs a reconfiguration section; expected reconfiguration"
                    )
                if str(event.target) != "reconfiguration":
                    raise LookupError(f"got {event.target!r}; expected reconfiguration")
            else:
                resolve_target(net, kind.element, event.target, allow_all=kind.allow_all)
        except LookupError as exc:
            raise InputError(*_event_where(scenario, i, "target"), str(exc)) from None
    if scenario.measurements_file:
        from gridtwin.measurement_log import read_measurement_log

        read_measurement_log(scenario.measurements_file, scenario, plan)
    if scenario.flisr is not None and scenario.flisr.indicators != "all":
        for i, name in enumerate(scenario.flisr.indicators):
            try:
                resolve_target(net, "switch", name)
            except LookupError as exc:
                raise InputError(scenario.source_file, f"flisr.indicators[{i}]", str(exc)) from None
    return plan
