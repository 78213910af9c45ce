"""Forecasting: no leakage, determinism, non-crossing quantiles, input errors, KPIs in a run.

The pure parts run on a synthetic hourly history (a daily load shape with a
weekly cycle and seeded noise, and a clear-sky-shaped PV with random clouds);
the run tests use SimBench MV-rural with its own 2016 profiles.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from gridtwin.controllers.forecasting.features import TargetSet, base_features, calendar
from gridtwin.controllers.forecasting.forecaster import ForecastConfig, Forecaster, warmup_steps
from gridtwin.controllers.forecasting.metrics import mae, picp, pinball_loss, skill
from gridtwin.controllers.forecasting.models import Clock, ModelKind, make_model

STEP_S = 3600
SPD = 24
START_S = 1459728000  # 2016-04-04T00:00:00Z, a Monday


def synthetic(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Two load targets and one PV target, hourly [MW]; and the clear sky [kW/m2]."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    hour = t % SPD
    weekend = ((t // SPD) % 7) >= 5
    shape = 1.0 + 0.4 * np.sin(2 * np.pi * (hour - 6) / SPD) - 0.2 * weekend
    load = np.column_stack([shape * 2.0, shape * 1.5]) + rng.normal(0, 0.05, (n, 2))
    cs = np.clip(np.sin(np.pi * (hour - 6) / 12), 0, None)
    clouds = np.repeat(rng.uniform(0.3, 1.0, n // SPD + 1), SPD)[:n]
    pv = 3.0 * cs * clouds
    return np.column_stack([load, pv]), cs


def clock(n: int, cs: np.ndarray | None = None) -> Clock:
    hour_h, weekday = calendar(START_S + STEP_S * np.arange(n), 0)
    return Clock(SPD, hour_h, weekday, cs, day_ahead_step=12)


@pytest.mark.parametrize("kind", list(ModelKind))
def test_no_leakage_marker_after_now_is_never_seen(kind):
    """Forecasts made at ``now`` are identical whether the buffer after ``now`` holds
    NaN or a huge marker value, and never come near the marker."""
    n = 90 * SPD
    data, _ = synthetic(n)
    values = data[:, :2] / 2.0
    now = 80 * SPD + 11
    model = make_model(
        kind,
        quantiles=(0.1, 0.5, 0.9),
        clock=clock(n),
        max_lead=2 * SPD,
        intraday_leads=4,
        nonnegative=False,
        seed=3,
        max_rows=3000,
        calibration_days=14,
    )
    clean = values.copy()
    clean[now + 1 :] = np.nan
    model.fit(clean, now, lo=warmup_steps(STEP_S))
    marked = values.copy()
    marked[now + 1 :] = 1e6
    leads = np.arange(1, 2 * SPD + 1)
    if kind == ModelKind.QUANTILE_GBM:
        a, b = model.predict_base(clean, now), model.predict_base(marked, now)
    else:
        a, b = model.predict(clean, now, leads), model.predict(marked, now, leads)
    assert np.array_equal(a, b)
    assert np.isfinite(a).all()
    assert np.abs(a).max() < 10.0
    x_clean = base_features(
        clean,
        now,
        now + leads,
        steps_per_day=SPD,
        hour_h=model.clock.hour_h,
        weekday=model.clock.weekday,
    )
    x_marked = base_features(
        marked,
        now,
        now + leads,
        steps_per_day=SPD,
        hour_h=model.clock.hour_h,
        weekday=model.clock.weekday,
    )
    assert np.array_equal(x_clean, x_marked, equal_nan=True)


def run_forecaster(seed: int, model: str = "quantile_gbm", n_steps: int = 7 * SPD):
    n_hist = 35 * SPD + warmup_steps(STEP_S)
    data, _ = synthetic(n_hist + n_steps)
    targets = TargetSet(
        ["load:a", "load:b", "pv:a"],
        np.array([0, 0, 1]),
        np.array([0, 1]),
        np.array([2]),
    )
    f = Forecaster(
        targets,
        data[:n_hist],
        start_s=START_S,
        step_s=STEP_S,
        n_steps=n_steps,
        utc_offset_s=0,
        config=ForecastConfig(
            model=ModelKind(model),
            intraday_every=1,
            intraday_horizon=4,
            day_ahead_step=12,
            retrain_every=2 * SPD,
            training=35 * SPD,
            latitude_deg=51.0,
            longitude_deg=10.0,
            seed=seed,
            max_rows=3000,
        ),
    )
    issues, steps = [], []
    for k in range(n_steps):
        out = f.step(k, data[n_hist + k])
        steps.append(out)
        issues.extend(c.issue for c in out.completed)
    issues.extend(c.issue for c in f.finish())
    return f, issues, steps


def test_same_seed_same_forecasts_bit_for_bit():
    _, a, _ = run_forecaster(seed=5, n_steps=3 * SPD)
    _, b, _ = run_forecaster(seed=5, n_steps=3 * SPD)
    assert len(a) == len(b) > 50
    for x, y in zip(a, b, strict=True):
        assert x.cadence == y.cadence and x.now == y.now
        assert np.array_equal(x.q, y.q)


@pytest.mark.parametrize("model", ["quantile_gbm", "seasonal_naive", "persistence"])
def test_quantiles_never_cross_and_generators_never_negative(model):
    _, issues, steps = run_forecaster(seed=0, model=model)
    cadences = {i.cadence for i in issues}
    assert cadences == {"intraday", "day_ahead"}
    for issue in issues:
        q = issue.q
        assert np.isfinite(q).all()
        assert (np.diff(q, axis=0) >= 0).all()  # 10 % <= 50 % <= 90 %
        assert (q[:, :, 2] >= 0).all()  # PV
    for out in steps[SPD:]:
        p = out.pseudo
        assert p is not None
        assert (p.load_sigma_mw >= 0).all() and (p.sgen_sigma_mw >= 0).all()


def test_learned_model_beats_seasonal_naive_on_synthetic_data():
    """Day-ahead issues of the learned model, scored against the actuals."""
    _, issues, _ = run_forecaster(seed=0, n_steps=14 * SPD)
    n_hist = 35 * SPD + warmup_steps(STEP_S)
    data, _ = synthetic(n_hist + 14 * SPD)
    da = [i for i in issues if i.cadence == "day_ahead"]
    actual = np.concatenate([data[i.now + i.leads] for i in da])
    median = np.concatenate([i.q[1] for i in da])
    naive = np.concatenate([i.seasonal_naive for i in da])
    assert skill(mae(actual, median), mae(actual, naive)) > 0.1
    lo, hi = np.concatenate([i.q[0] for i in da]), np.concatenate([i.q[-1] for i in da])
    assert 0.6 < picp(actual[:, :2], lo[:, :2], hi[:, :2]) < 0.98


def test_metric_definitions_by_hand():
    y = np.array([1.0, 2.0, 3.0])
    assert mae(y, np.array([1.5, 2.0, 2.0])) == pytest.approx(0.5)
    assert skill(0.5, 2.0) == pytest.approx(0.75)
    assert picp(y, np.array([0.0, 2.5, 2.0]), np.array([2.0, 3.0, 3.0])) == pytest.approx(2 / 3)
    q = np.array([[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]])  # levels 0.1 and 0.9
    # level 0.1: 0.1*(1+2+3)/3 = 0.2; level 0.9 at 2: 0.1*1, 0, 0.9*1 -> 1.0/3
    assert pinball_loss(y, q, np.array([0.1, 0.9])) == pytest.approx((0.2 + 1.0 / 3) / 2)


# --- in the loop --------------------------------------------------------------------------


def forecast_scenario(**forecasting) -> dict:
    spec = {
        "training_window": "21d",
        "intraday": {"every": "1h", "horizon": "2h"},
        "day_ahead": {"at": "12h"},
        "latitude": 51.0,
        "longitude": 10.0,
    }
    spec.update(forecasting)
    return {
        "name": "fc",
        "time": {"start": "2016-04-04T00:00:00+01:00", "duration": "2d", "step": "15min"},
        "grid": {"simbench": "1-MV-rural--0-sw"},
        "forecasting": spec,
        "measurements": {
            "plan": [
                {"device": "scada", "at": "substation"},
                {"device": "scada", "at": "feeder_heads"},
                {"device": "smart_meter", "at": "loads", "share": 0.3},
                {"device": "pseudo", "at": "rest"},
            ]
        },
        "estimation": {},
        "recording": {"tables": ["grid", "load", "sgen"]},
    }


def test_run_records_forecasts_and_kpis_and_feeds_pseudo_measurements(write_scenario, tmp_path):
    from gridtwin.scenario import load_scenario
    from gridtwin.world import run_scenario

    sc = load_scenario(write_scenario(forecast_scenario()))
    result = run_scenario(sc, out_dir=tmp_path / "run")
    fc = result.kpis["forecast"]
    assert fc["model"] == "quantile_gbm" and fc["level"] == "feeder" and fc["targets"] == 22
    for cadence in ("intraday", "day_ahead"):
        sec = fc[cadence]
        for key in (
            "load_mae_mw",
            "load_skill_vs_seasonal_naive",
            "pv_mae_mw",
            "pv_skill_vs_seasonal_naive",
            "picp80",
            "pinball_loss",
        ):
            assert isinstance(sec[key], float) and np.isfinite(sec[key]), (cadence, key)
        assert 0.0 <= sec["picp80"] <= 1.0
    # hourly from the start: 48 issues; the last (at 47 h) reaches past the end of the run
    assert fc["intraday"]["issues"] == 47
    assert fc["day_ahead"]["issues"] == 2  # issued 3 Apr (before the start) and 4 Apr 12:00
    saved = json.loads((result.run_dir / "kpis.json").read_text())
    assert saved["forecast"]["intraday"]["picp80"] == fc["intraday"]["picp80"]

    table = pd.read_parquet(result.run_dir / "forecast.parquet")
    assert len(table) == 192 * 22
    assert {"intraday_p10_mw", "intraday_p50_mw", "intraday_p90_mw", "day_ahead_p50_mw"} <= set(
        table.columns
    )
    q = table[["intraday_p10_mw", "intraday_p50_mw", "intraday_p90_mw"]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()
    # the actuals are the true served powers per target (the testbed scores against the
    # truth); the forecaster learned from the metered ones (1 % meters, 3 sigma): close to
    # the truth, not equal to it (the forecaster never sees the true load)
    load = pd.read_parquet(result.run_dir / "load.parquet")
    grid_load = load.groupby("sim_time_s").p_mw.sum().to_numpy()
    load_rows = table[table.element.astype(str).str.startswith("load:")]
    assert np.allclose(load_rows.groupby("sim_time_s").actual_mw.sum().to_numpy(), grid_load)
    metered = load_rows.groupby("sim_time_s").metered_mw.sum().to_numpy()
    assert np.allclose(metered, grid_load, rtol=0.01)
    assert not np.allclose(metered, grid_load, rtol=1e-9)

    # pseudo-measurements: mean from the forecast, not from the truth
    meas = pd.read_parquet(result.run_dir / "measurement.parquet")
    ps = meas[meas.element.astype(str).str.startswith("pseudo:p_mw:")].copy()
    ps["element"] = ps.element.astype(str).str.removeprefix("pseudo:p_mw:")
    truth = load.assign(element=load.element.astype(str))
    joined = ps.merge(truth[["sim_time_s", "element", "p_mw"]], on=["sim_time_s", "element"])
    z = (joined.value - joined.p_mw) / joined.sigma
    assert len(joined) > 1000
    assert 0.2 < float(np.mean(z**2)) < 5.0  # honest sigma from the quantile spread
    assert "se" in result.kpis and result.kpis["se"]["steps_estimated"] > 180
    from io import StringIO

    from rich.console import Console

    from gridtwin.cli import _summary_table

    text = StringIO()
    Console(file=text, width=200).print(_summary_table(result.kpis, "t"))
    assert "forecast intraday skill vs seasonal naive, load / PV" in text.getvalue()
    assert "forecast day-ahead PICP 10-90 %" in text.getvalue()


def test_without_forecaster_pseudo_measurements_stay_as_before(write_scenario, tmp_path):
    """feed_estimator: false leaves the sensors exactly as without a forecaster."""
    from gridtwin.scenario import load_scenario
    from gridtwin.world import run_scenario

    data = forecast_scenario(feed_estimator=False)
    data["time"]["duration"] = "2h"
    a = run_scenario(load_scenario(write_scenario(data, "a.yaml")), out_dir=tmp_path / "a")
    del data["forecasting"]
    b = run_scenario(load_scenario(write_scenario(data, "b.yaml")), out_dir=tmp_path / "b")
    ma = pd.read_parquet(a.run_dir / "measurement.parquet")
    mb = pd.read_parquet(b.run_dir / "measurement.parquet")
    assert np.array_equal(ma.value.to_numpy(), mb.value.to_numpy())
    assert "forecast" in a.kpis and "forecast" not in b.kpis


def gridtwin(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gridtwin", *args], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"latitude": None}, "forecasting.latitude", "missing; the grid has PV generators"),
        ({"longitude": None}, "forecasting.longitude", "missing; the grid has PV generators"),
        (
            {"training_window": "120d"},
            "forecasting.training_window",
            "not covered by the profiles",
        ),
        ({"quantiles": [0.5, 0.9]}, "forecasting.quantiles", "at least three ascending"),
        ({"retrain_every": "6h"}, "forecasting.retrain_every", "expected 1d or more"),
    ],
)
def test_bad_forecasting_input_exit_2_one_line(write_scenario, change, field, expected):
    data = forecast_scenario()
    for key, value in change.items():
        if value is None:
            del data["forecasting"][key]
        else:
            data["forecasting"][key] = value
    path = write_scenario(data)
    proc = gridtwin("validate", str(path))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith(f"error: {path}: {field}: ")
    assert expected in lines[0]


def test_batched_training_steps_equal_the_per_issue_ones():
    """The calibration's predictions made in one call for all issues, and the intraday
    deviations computed for all issues at once, equal the per-issue ones exactly."""
    f, _, _ = run_forecaster(seed=2, n_steps=2 * SPD)
    for g, model in f.models.items():
        if not hasattr(model, "_raws"):
            continue
        v = f.gv[g]
        issues = model.clock.day_ahead_issues(f.now - 5 * SPD, f.now - model.horizon)
        assert len(issues) >= 2
        batched = model._raws(v, issues)
        for i, raw in zip(issues, batched, strict=True):
            assert np.array_equal(raw, model._raw(v, int(i)))
        lo = int(issues[0]) - SPD
        b50 = np.nan_to_num(v[lo:]) * 0.9 + 0.01  # any base median over [lo, ...)
        many = np.arange(lo + SPD, f.now - 1, 5)
        dev = model._deviations(v, b50, many, lo)
        for n, i in enumerate(many):
            assert np.allclose(dev[:, n], model._deviation(v, b50, int(i), lo), rtol=0, atol=1e-12)


@pytest.mark.parametrize("code", ["1-MV-rural--0-sw", "1-MV-semiurb--0-sw", "1-LV-rural1--0-sw"])
def test_feeders_match_pandapowers_graph(code: str) -> None:
    """The feeders from the tables equal those of pandapower's own graph (switches respected)."""
    import networkx as nx
    import pandapower.topology as top

    from gridtwin.controllers.forecasting.features import feeder_of_bus
    from gridtwin.grid.sources import load_net
    from gridtwin.scenario.grid import GridSpec

    net = load_net(GridSpec(simbench=code), "<test>")
    net.switch.loc[net.switch.index[net.switch["et"] == "l"][:3], "closed"] = False
    feeder, names = feeder_of_bus(net)
    graph = top.create_nxgraph(net, respect_switches=True, include_trafos=False)
    subs = set(net.trafo["lv_bus"])
    graph.remove_nodes_from(subs)
    slack = set(net.ext_grid["bus"])
    pos = {b: i for i, b in enumerate(net.bus.index)}
    comps = sorted(
        (sorted(pos[b] for b in c) for c in nx.connected_components(graph) if not c & slack),
        key=lambda c: c[0],
    )
    expected = np.full(len(net.bus), -1)
    for k, comp in enumerate(comps):
        expected[comp] = k
    assert len(names) == len(comps) > 1
    np.testing.assert_array_equal(feeder, expected)
