"""A scenario's forecaster: targets, training history and configuration (no mosaik).

The training history before ``time.start`` comes from the scenario's own
profiles over ``[start - training_window - 29 d, start)`` (for SimBench grids:
SimBench's year 2016), never from the run's period.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gridtwin.controllers.forecasting.features import GROUPS, TargetSet, target_set
from gridtwin.controllers.forecasting.forecaster import (
    ForecastConfig,
    Forecaster,
    element_shares,
    q_per_p,
    warmup_steps,
)
from gridtwin.controllers.forecasting.models import ModelKind
from gridtwin.errors import InputError
from gridtwin.timeparse import format_duration

if TYPE_CHECKING:
    import pandapower as pp

__all__ = ["build_forecaster", "check_forecasting"]


def _history(scenario: object, net: pp.pandapowerNet, n_hist: int) -> tuple[np.ndarray, ...]:
    """Load P, sgen P [MW], load Q, sgen Q [MVAr] over the ``n_hist`` steps before the start."""
    from datetime import timedelta

    from gridtwin.profiles import build_profiles

    time = scenario.time  # type: ignore[attr-defined]
    window = type(time)(
        start=time.start - timedelta(seconds=n_hist * time.step),
        duration=n_hist * time.step,
        step=time.step,
    )
    shifted = scenario.model_copy(update={"time": window})  # type: ignore[attr-defined]
    object.__setattr__(shifted, "_source_file", scenario.source_file)  # type: ignore[attr-defined]
    try:
        profiles = build_profiles(shifted, net)
    except InputError as exc:
        spec = scenario.forecasting  # type: ignore[attr-defined]
        raise InputError(
            scenario.source_file,  # type: ignore[attr-defined]
            "forecasting.training_window",
            f"got {format_duration(spec.training_window)}; the history from "
            f"{window.start.isoformat()} (training window + 29 days for the lag features) is "
            f"not covered by the profiles ({exc.message}); expected a later time.start or a "
            "shorter training_window",
        ) from None

    def full(element: str, quantity: str) -> np.ndarray:
        arr = profiles.series[(element, quantity)]
        return np.repeat(arr, n_hist, axis=0) if arr.shape[0] == 1 else arr

    return (
        full("load", "p_mw"),
        full("sgen", "p_mw"),
        full("load", "q_mvar"),
        full("sgen", "q_mvar"),
    )


def check_forecasting(scenario: object, net: pp.pandapowerNet) -> None:
    """Every check :func:`build_forecaster` makes, without training a model.

    Raises
    ------
    InputError
        If the grid has PV but the site is missing, or the history is not covered.
    """
    spec = scenario.forecasting  # type: ignore[attr-defined]
    _check_site(scenario, target_set(net, spec.level))
    step = scenario.time.step  # type: ignore[attr-defined]
    _history(scenario, net, spec.training_window // step + warmup_steps(step))


def _check_site(scenario: object, targets: TargetSet) -> None:
    spec = scenario.forecasting  # type: ignore[attr-defined]
    n_pv = int((targets.group == GROUPS.index("pv")).sum())
    if n_pv and (spec.latitude is None or spec.longitude is None):
        missing = "latitude" if spec.latitude is None else "longitude"
        raise InputError(
            scenario.source_file,  # type: ignore[attr-defined]
            f"forecasting.{missing}",
            "missing; the grid has PV generators and their forecast needs the site for the "
            "clear-sky model; expected latitude [degree N] and longitude [degree E], "
            "e.g. {latitude: 51.0, longitude: 10.0}",
        )


def build_forecaster(scenario: object, net: pp.pandapowerNet) -> Forecaster:
    """The forecaster of a scenario with a ``forecasting`` section.

    Raises
    ------
    InputError
        If the grid has PV but the site is missing, or the history is not covered.
    """
    spec = scenario.forecasting  # type: ignore[attr-defined]
    time = scenario.time  # type: ignore[attr-defined]
    targets = target_set(net, spec.level)
    _check_site(scenario, targets)
    step = time.step
    training = spec.training_window // step
    n_hist = training + warmup_steps(step)
    load_hist, sgen_hist, load_q, sgen_q = _history(scenario, net, n_hist)
    history = targets.aggregate(load_hist, sgen_hist)
    shares = element_shares(targets, load_hist[-training:], sgen_hist[-training:])
    seed = scenario.seed if spec.seed is None else spec.seed  # type: ignore[attr-defined]
    config = ForecastConfig(
        model=ModelKind(spec.model),
        quantiles=tuple(float(q) for q in spec.quantiles),
        intraday_every=spec.intraday.every // step if spec.intraday else None,
        intraday_horizon=spec.intraday.horizon // step if spec.intraday else None,
        day_ahead_step=spec.day_ahead.at // step if spec.day_ahead else None,
        retrain_every=spec.retrain_every // step,
        training=training,
        latitude_deg=spec.latitude,
        longitude_deg=spec.longitude,
        seed=seed,
    )
    return Forecaster(
        targets,
        history,
        start_s=int(time.start.timestamp()),
        step_s=step,
        n_steps=time.n_steps,
        utc_offset_s=int(time.start.utcoffset().total_seconds()),
        config=config,
        load_share=shares[0],
        sgen_share=shares[1],
        load_share_error_mw=shares[2],
        sgen_share_error_mw=shares[3],
        q_per_p=(
            *q_per_p(load_hist[-training:], load_q[-training:]),
            *q_per_p(sgen_hist[-training:], sgen_q[-training:]),
        ),
    )
