"""State estimation: correctness against the truth and the reference, bad data, observability.

::

    truth (power flow) ──► SensorModel ──► frame ──► WlsEstimator ──► Estimate
                                               └───► PandapowerEstimator (reference)
"""

from __future__ import annotations

import numpy as np
import pytest

from gridtwin.controllers.estimation.pp_wls import PandapowerEstimator
from gridtwin.controllers.estimation.result import Status
from gridtwin.controllers.estimation.wls import Topology, WlsEstimator
from gridtwin.grid.pgm_engine import PgmEngine
from gridtwin.grid.sources import load_net
from gridtwin.grid.state import GridState
from gridtwin.measurements import MeasurementFrame, resolve_plan
from gridtwin.scenario import scenario_from_dict
from gridtwin.simulators.sensors import SensorModel, true_values

FULL_PLAN = [
    {"device": "scada", "at": "substation"},
    {"device": "scada", "at": "feeder_heads"},
    {"device": "scada", "at": "every_nth_bus", "n": 4},
    {"device": "smart_meter", "at": "loads"},
    {"device": "smart_meter", "at": "sgens"},
]


def _setup(grid: dict, plan: list[dict], classes: dict | None = None):
    sc = scenario_from_dict(
        {
            "name": "se",
            "time": {"start": "2016-06-21T12:00:00+01:00", "duration": "1h"},
            "grid": grid,
            "measurements": {"plan": plan, "classes": classes or {}},
            "estimation": {},
        }
    )
    net = load_net(sc.grid)
    truth = PgmEngine(net).solve(GridState.from_net(net))
    plan_ = resolve_plan(net, sc.measurements, seed=0)
    return net, truth, plan_


@pytest.fixture(scope="module")
def mv_rural():
    return _setup({"simbench": "1-MV-rural--0-sw"}, FULL_PLAN)


def _exact_frame(plan, truth, model):
    exact = true_values(plan, truth)
    n = plan.n_scalars
    return MeasurementFrame(0, exact, model.sigma_of(exact), np.ones(n, bool), np.zeros(n, bool))


def test_noise_free_estimate_equals_truth(mv_rural):
    net, truth, plan = mv_rural
    frame = _exact_frame(plan, truth, SensorModel(plan, 900, 0))
    est = WlsEstimator(net, plan).estimate(frame, Topology.from_net(net))
    assert est.status == Status.ESTIMATED
    assert np.abs(est.bus_vm_pu - truth.bus_vm_pu).max() < 1e-6
    assert np.abs(est.bus_va_degree - truth.bus_va_degree).max() < 1e-4
    assert np.abs(est.line_p_from_mw - truth.line_p_from_mw).max() < 1e-5
    assert est.objective < 1e-6 and est.chi2_ok and not est.removed


def test_power_grid_model_agrees_with_pandapower_wls(mv_rural):
    """Same noisy measurements into both engines: Vm within 1e-5 pu, same objective."""
    net, truth, plan = mv_rural
    frame = SensorModel(plan, 900, seed=7).measure(0, truth)
    topo = Topology.from_net(net)
    ours = WlsEstimator(net, plan).estimate(frame, topo)
    ref = PandapowerEstimator(net, plan).estimate(frame, topo)
    assert ours.status == ref.status == Status.ESTIMATED
    assert np.abs(ours.bus_vm_pu - ref.bus_vm_pu).max() < 1e-5
    assert ours.objective == pytest.approx(ref.objective, rel=1e-3)
    assert ours.chi2_limit == pytest.approx(ref.chi2_limit)
    assert 0 < np.abs(ours.bus_vm_pu - truth.bus_vm_pu).max() < 0.01  # noisy, but close


def test_objective_follows_chi_square_with_counted_degrees_of_freedom(mv_rural):
    """Noise only: the mean of J over many frames is the degrees of freedom."""
    net, truth, plan = mv_rural
    est = WlsEstimator(net, plan)
    model, topo = SensorModel(plan, 900, seed=3), Topology.from_net(net)
    from scipy.stats import chi2

    results = [est.estimate(model.measure(k * 900, truth), topo) for k in range(120)]
    j = np.array([r.objective for r in results])
    dof, limit = results[0].dof, results[0].chi2_limit
    assert limit == pytest.approx(chi2.ppf(0.95, dof))
    assert abs(j.mean() - dof) < 4 * np.sqrt(2 * dof / len(j))
    assert np.mean(j > limit) < 0.15


def _redundant(est, frame, topo, plan):
    scalars, cov = est.residual_covariance(frame, topo)
    d = np.diag(cov)
    rho = cov / np.sqrt(np.outer(d, d) + 1e-30)
    np.fill_diagonal(rho, 0)
    ok = (d >= 0.1) & (np.abs(rho).max(axis=1) < 0.9)
    return [plan.sc_name[i] for i in scalars[ok]]


def test_gross_error_is_detected_and_identified(mv_rural):
    net, truth, plan = mv_rural
    est, topo = WlsEstimator(net, plan), Topology.from_net(net)
    model = SensorModel(plan, 900, seed=11)
    candidates = _redundant(est, _exact_frame(plan, truth, model), topo, plan)
    assert "scada:p_mw:MV1.101 Line 22@from" in candidates
    for k, name in enumerate(candidates[:4]):
        frame = model.measure(k * 900, truth)
        i = plan.scalar_index(name)
        frame.value[i] += 20 * frame.sigma[i]
        result = est.estimate(frame, topo)
        assert result.bad_data_detected, name
        assert result.removed[0] == name
        assert result.chi2_ok
        assert np.abs(result.bus_vm_pu - truth.bus_vm_pu).max() < 0.01


def test_unobservable_set_is_not_estimated_and_holds_last_values():
    net, truth, plan = _setup(
        {"pandapower": "case33bw"},
        [
            {"device": "scada", "at": "substation"},
            {"device": "smart_meter", "at": "loads", "share": 0.5},
        ],
    )
    est = WlsEstimator(net, plan)
    frame = SensorModel(plan, 900, 0).measure(0, truth)
    result = est.estimate(frame, Topology.from_net(net))
    assert result.status == Status.NOT_ESTIMATED
    assert np.isfinite(result.bus_vm_pu).all() and (result.bus_vm_pu == 1.0).all()


def test_missing_meter_falls_back_to_pseudo_measurement():
    plan_spec = [
        {"device": "scada", "at": "substation"},
        {"device": "smart_meter", "at": "loads"},
        {"device": "pseudo", "at": "rest"},
    ]
    net, truth, plan = _setup({"pandapower": "case33bw"}, plan_spec)
    est = WlsEstimator(net, plan)
    frame = SensorModel(plan, 900, 0).measure(0, truth)
    active = est.active_channels(frame)
    assert not active[plan.ch_fallback_only].any()  # every meter delivered: no pseudo used
    lost = plan.scalar_index("smart_meter:p_mw:load 4")
    frame.valid[lost] = False
    active = est.active_channels(frame)
    pseudo = plan.ch_name.index("pseudo:pq:load 4")
    assert active[pseudo] and active.sum() == plan.n_channels - plan.ch_fallback_only.sum()
    assert est.estimate(frame, Topology.from_net(net)).status == Status.ESTIMATED


def test_same_seed_same_measurements(mv_rural):
    _net, truth, plan = mv_rural
    a = [SensorModel(plan, 900, seed=5).measure(0, truth).value for _ in range(2)]
    b = SensorModel(plan, 900, seed=6).measure(0, truth).value
    assert np.array_equal(a[0], a[1]) and not np.array_equal(a[0], b)


def test_smart_meter_averages_and_delivers_late():
    """Interval 30 min, latency 15 min, step 15 min, no noise (sigma_abs tiny)."""
    _net, truth, plan = _setup(
        {"pandapower": "case33bw"},
        [{"device": "smart_meter", "at": "names", "element": "load", "names": [3]}],
        {"smart_meter": {"interval_s": "30min", "latency_s": "15min", "sigma_abs": 1e-12}},
    )
    model = SensorModel(plan, 900, 0)
    p = plan.scalar_index("smart_meter:p_mw:load 3")
    delivered = []
    for k, scale in enumerate([1.0, 2.0, 3.0, 4.0, 5.0]):
        r = type(truth)(**{f: getattr(truth, f) for f in truth.__slots__})
        r.load_p_mw = truth.load_p_mw * scale
        f = model.measure(k * 900, r)
        delivered.append(f.value[p] if f.valid[p] else None)
    base = truth.load_p_mw[3]
    # readings taken at steps 0 (1x), 2 (mean of 2x, 3x), 4 (mean of 4x, 5x); each one step late
    assert delivered[0] is None
    assert delivered[1] == pytest.approx(base) and delivered[2] == pytest.approx(base)
    assert delivered[3] == pytest.approx(2.5 * base) and delivered[4] == pytest.approx(2.5 * base)


def test_reused_estimator_gives_the_estimate_of_a_fresh_one(mv_rural):
    """One estimator across steps (its models, sensors and topology kept and updated) and a
    fresh estimator per step agree within 1e-9 pu, also on steps with dropouts, a gross
    error (bad-data removal) and a changed topology."""
    net, truth, plan = mv_rural
    topo = Topology.from_net(net)
    opened = Topology.from_net(net)
    opened.line_in_service = opened.line_in_service.copy()
    opened.line_in_service[np.flatnonzero(net.line["in_service"].to_numpy())[-1]] = False
    reused = WlsEstimator(net, plan)
    model = SensorModel(plan, 900, seed=3)
    rng = np.random.default_rng(3)
    gross = plan.scalar_index("scada:p_mw:MV1.101 Line 22@from")
    for k in range(8):
        frame = model.measure(k * 900, truth)
        if k in (2, 5):
            frame.valid[rng.choice(plan.n_scalars, 2, replace=False)] = False
        if k == 3:
            frame.value[gross] += 20 * frame.sigma[gross]
        t = opened if k == 6 else topo
        a = reused.estimate(frame, t)
        b = WlsEstimator(net, plan).estimate(frame, t)
        assert a.status == b.status == Status.ESTIMATED, k
        assert a.removed == b.removed
        assert np.abs(a.bus_vm_pu - b.bus_vm_pu).max() <= 1e-9
        assert np.abs(a.bus_va_degree - b.bus_va_degree).max() <= 1e-7
        if k == 3:
            assert a.removed == [plan.sc_name[gross]]
