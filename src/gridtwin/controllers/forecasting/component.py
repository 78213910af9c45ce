"""Forecasting as a component: metered powers in, forecasts and pseudo-measurement inputs out."""

from __future__ import annotations

from gridtwin.components import Wiring

__all__ = ["Forecasting"]


class Forecasting:
    """The ``forecasting`` section: quantile forecasts of feeder load and PV.

    Reads the metered load and generator active power (its history is what
    the meters delivered); provides ``forecast`` and ``pseudo``. Records
    ``forecast``; KPIs in section ``forecast``.
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
        )
        wiring.recorder_params["forecast_kpis"] = kpis

        def section() -> dict:
            kpis.add(fc.finish())
            kpis.train_s = fc.train_s_total
            return {"forecast": kpis.section()}

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
