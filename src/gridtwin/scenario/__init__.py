"""Scenario schema and loading: every check on a scenario file lives here.

A scenario is a YAML file with the sections ``time``, ``grid``, ``profiles``,
``events``, ``recording`` and the optional automation functions (see the
README for a commented example). Each section is one module of this package
(``time``, ``grid``, ``profiles``, ...); :mod:`.model` puts them together.
Loading goes in two stages:

1. :func:`load_scenario` parses the YAML and checks it against the strict
   schema (unknown keys rejected with the nearest valid key suggested).
2. :func:`check_against_net` checks what needs the network: that event
   targets exist and that event times fall inside the run on a step.

Both raise :class:`gridtwin.errors.InputError` with a one-line message naming
the file, the field path and what was expected (:mod:`.messages` is the one
translation of pydantic's errors).

Adding a section: a module with its pydantic model (based on
:class:`~gridtwin.scenario.base.Section`), one field in :class:`Scenario`, and
its name in ``__all__`` here.
"""

from __future__ import annotations

from gridtwin.scenario.commands import CommandsSpec
from gridtwin.scenario.estimation import EstimationSpec
from gridtwin.scenario.events import EventSpec
from gridtwin.scenario.eventtime import event_offset_s
from gridtwin.scenario.flisr import FlisrSpec
from gridtwin.scenario.forecasting import DayAheadSpec, ForecastingSpec, IntradaySpec
from gridtwin.scenario.functions import FunctionSpec
from gridtwin.scenario.grid import Engine, GridSpec
from gridtwin.scenario.limits import LimitsSpec
from gridtwin.scenario.loading import dump_scenario, load_scenario, scenario_from_dict
from gridtwin.scenario.measurements import DeviceClass, DeviceClassSpec, MeasurementsSpec, PlanEntry
from gridtwin.scenario.messages import expected_text
from gridtwin.scenario.model import Scenario
from gridtwin.scenario.mqtt import MqttSpec
from gridtwin.scenario.netchecks import check_against_net, measurement_plan
from gridtwin.scenario.profiles import Interpolation, ProfileFileSpec, ProfilesSpec
from gridtwin.scenario.realtime import OnOverrun, RealTimeSpec
from gridtwin.scenario.reconfiguration import ReconfigurationSpec
from gridtwin.scenario.recording import InfluxSpec, RecordingSpec
from gridtwin.scenario.scada import ScadaSpec
from gridtwin.scenario.time import TimeSpec
from gridtwin.scenario.voltage import (
    CentralSpec,
    CurveSpec,
    LocalCurvesSpec,
    OltcSpec,
    VoltageControlSpec,
)

__all__ = [
    "CentralSpec",
    "CommandsSpec",
    "CurveSpec",
    "DayAheadSpec",
    "DeviceClass",
    "DeviceClassSpec",
    "Engine",
    "EstimationSpec",
    "EventSpec",
    "FlisrSpec",
    "ForecastingSpec",
    "FunctionSpec",
    "GridSpec",
    "InfluxSpec",
    "Interpolation",
    "IntradaySpec",
    "LimitsSpec",
    "LocalCurvesSpec",
    "MeasurementsSpec",
    "MqttSpec",
    "OltcSpec",
    "OnOverrun",
    "PlanEntry",
    "ProfileFileSpec",
    "ProfilesSpec",
    "RealTimeSpec",
    "ReconfigurationSpec",
    "RecordingSpec",
    "ScadaSpec",
    "Scenario",
    "TimeSpec",
    "VoltageControlSpec",
    "check_against_net",
    "dump_scenario",
    "event_offset_s",
    "expected_text",
    "load_scenario",
    "measurement_plan",
    "scenario_from_dict",
]
