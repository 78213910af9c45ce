"""Forecasting as a component: metered powers in, forecasts and pseudo-measurement inputs out."""

from __future__ import annotations

from functools import partial
from typing import Any

from gridtwin.components import RowWriter, Wiring

__all__ = ["Forecasting"]


class Forecasting:
    """The ``forecasting`` section: quantile forecasts of feeder load and PV.

    Reads the metered load and generator active power (its history is what
    the meters delivered); provides ``forecast`` and ``pseudo``. Records
    ``forecast`` and ``forecast_issues`` (every issue as the KPIs score it);
    KPIs in section ``forecast``.
    Summary rows, InfluxDB mapping, dashboard: :mod:`gridtwin.declarations.forecasting`.
    """

    name = "forecasting"

    def plan(self, wiring: Wiring) -> None:
        from gridtwin.controllers.forecasting.tables import forecast_table
        from gridtwin.report.forecast_kpis import ForecastKpis

        fc, spec = wiring.prepared.forecaster, wiring.scenario.forecasting
        table = forecast_table(fc.config.quantiles, fc.targets.aggregate)
        wiring.record(table, list(fc.targets.names))
        kpis = ForecastKpis(
            fc.targets.group,
            fc.config.quantiles,
            info={
                "model": str(fc.config.model),
                "level": spec.level,
                "targets": fc.targets.n_targets,
            },
            aggregate=fc.targets.aggregate,  # scored against the truth, by the testbed
            n_hist=fc.n_hist,
            sink=_IssueSink(wiring, fc),
        )
        wiring.feed(partial(_feed, kpis, wiring.step_s))

        def section() -> dict:
            kpis.train_s = fc.train_s_total
            return {"forecast": kpis.section()}

        wiring.closing.append(lambda store: kpis.add(fc.finish()))  # the last issues
        wiring.sections.append(section)

    def add(self, wiring: Wiring) -> None:
        sim = wiring.world.start(
            "Forecaster", forecaster=wiring.prepared.forecaster, step_s=wiring.step_s
        )
        forecaster = wiring.add_function(self.name, sim.Forecaster(), commands=False)
        wiring.read(forecaster, "metered_load_p_mw", "metered_sgen_p_mw")
        wiring.provide("forecast", forecaster)
        wiring.provide("pseudo", forecaster)
        wiring.connect(forecaster, wiring.entities["recorder"], "forecast")


def _feed(kpis: Any, step_s: int, time_s: int, inputs: Any, write_rows: RowWriter) -> None:
    """The recorder's step: the step's truth, then the issues completed now (scored)."""
    forecast = inputs["forecast"]
    if forecast is None:
        return
    result = inputs["result"]
    if result is not None:
        kpis.add_truth(time_s // step_s, result.load_p_mw, result.sgen_p_mw)
    kpis.add(forecast.completed)


class _IssueSink:
    """Writes the issues the forecast KPIs score to ``forecast_issues``, as they are scored."""

    def __init__(self, wiring: Wiring, fc: Any) -> None:
        from gridtwin.controllers.forecasting.features import GROUPS

        self.wiring, self.fc = wiring, fc
        self.groups = [GROUPS[g] for g in fc.targets.group]
        self.start_s = int(wiring.scenario.time.start.timestamp())
        self.n = 0

    def __call__(self, known: int, completed: list) -> None:
        from gridtwin.controllers.forecasting.tables import ISSUES, issue_columns

        fc = self.fc
        columns = issue_columns(
            self.n,
            known,
            completed,
            fc.targets.names,
            self.groups,
            fc.config.quantiles,
            fc.n_hist,
            self.wiring.step_s,
            self.start_s,
        )
        self.n += len(completed)
        if columns:
            self.wiring.recorder_params["store"].append_columns(ISSUES, columns)
