"""Forecasting as a component: metered powers in, forecasts and pseudo-measurement inputs out."""

from __future__ import annotations

import numpy as np

from gridtwin.components import Wiring

__all__ = ["Forecasting"]


class Forecasting:
    """The ``forecasting`` section: quantile forecasts of feeder load and PV.

    Reads the metered load and generator active power (its history is what
    the meters delivered); provides ``forecast`` and ``pseudo``. Records
    ``forecast``; KPIs in section ``forecast``.
    """

    name = "forecasting"

    def plan(self, wiring: Wiring) -> None:
        from gridtwin.controllers.forecasting.build import forecast_fields
        from gridtwin.recording.store import TableSpec
        from gridtwin.report.forecast_kpis import ForecastKpis

        fc, spec = wiring.prepared.forecaster, wiring.scenario.forecasting
        fields = forecast_fields(fc.config.quantiles)
        wiring.tables["forecast"] = TableSpec(
            fc.targets.names, dict.fromkeys(fields, np.dtype("f8"))
        )
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
