"""The sensor model's accuracy convention, pinned statistically.

::

    truth (power flow) ──► SensorModel ──► frames ──► error statistics per device class

``accuracy_percent`` is the error bound at 3 sigma in percent of the value
(SOGNO's convention, see :mod:`gridtwin.measurements`):
``sigma = accuracy_percent / 300 * |value|``, never below ``SIGMA_FLOOR``. So
the normalized error ``(reading - truth) / sigma`` is standard normal, and
99.73 % of readings fall within ``accuracy_percent`` of the true value.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from gridtwin.grid.pgm_engine import PgmEngine
from gridtwin.grid.sources import load_net
from gridtwin.grid.state import GridState
from gridtwin.measurements import CLASS_NAMES, SIGMA_FLOOR, resolve_plan
from gridtwin.scenario import scenario_from_dict
from gridtwin.simulators.sensors import SensorModel, true_values

N_FRAMES = 400
ACCURACY = {"scada": 1.0, "smart_meter": 2.0, "pseudo": 50.0}


@pytest.fixture(scope="module")
def errors():
    """Relative errors per class over ``N_FRAMES`` frames of one true state."""
    sc = scenario_from_dict(
        {
            "name": "sensors",
            "time": {"start": "2016-06-21T12:00:00+01:00", "duration": "1h"},
            "grid": {"pandapower": "case33bw"},
            "measurements": {
                "plan": [
                    {"device": "scada", "at": "all_buses"},
                    {"device": "smart_meter", "at": "loads", "share": 0.5},
                    {"device": "pseudo", "at": "rest"},
                ],
                "classes": {k: {"accuracy_percent": v} for k, v in ACCURACY.items()},
            },
        }
    )
    net = load_net(sc.grid)
    truth = PgmEngine(net).solve(GridState.from_net(net))
    plan = resolve_plan(net, sc.measurements, seed=0)
    model = SensorModel(plan, step_s=900, seed=7)  # smart meters: one reading per step
    exact = true_values(plan, truth)
    frames = [model.measure(k * 900, truth) for k in range(N_FRAMES)]
    value = np.array([f.value for f in frames])
    sigma = np.array([f.sigma for f in frames])
    assert np.array([f.valid for f in frames]).all()
    cls = np.array([CLASS_NAMES[c] for c in plan.ch_class[plan.sc_channel]])
    return exact, value, sigma, cls


@pytest.mark.parametrize("device", sorted(ACCURACY))
def test_reported_sigma_is_accuracy_over_three(errors, device):
    exact, _, sigma, cls = errors
    m = (cls == device) & (np.abs(exact) * ACCURACY[device] / 300 > SIGMA_FLOOR["power"])
    assert m.sum() >= 10
    expected = ACCURACY[device] / 300.0 * np.abs(exact[m])
    np.testing.assert_allclose(sigma[:, m], np.broadcast_to(expected, sigma[:, m].shape))


@pytest.mark.parametrize("device", sorted(ACCURACY))
def test_errors_are_normal_with_that_sigma(errors, device):
    exact, value, _, cls = errors
    m = (cls == device) & (np.abs(exact) * ACCURACY[device] / 300 > SIGMA_FLOOR["power"])
    rel = (value[:, m] - exact[m]) / np.abs(exact[m])  # relative error [-]
    z = rel / (ACCURACY[device] / 300.0)
    n = z.size
    assert n >= 4000
    # the sample standard deviation of n standard normal draws has a standard
    # error of 1/sqrt(2n); 5 standard errors is the tolerance
    assert abs(z.std() - 1.0) < 5 / np.sqrt(2 * n)
    assert abs(z.mean()) < 5 / np.sqrt(n)
    # the 3-sigma bound: the share within accuracy_percent of the truth is 99.73 %
    inside = float((np.abs(rel) <= ACCURACY[device] / 100.0).mean())
    p = 2 * norm.cdf(3) - 1
    assert abs(inside - p) < 5 * np.sqrt(p * (1 - p) / n)


def test_sigma_floor_near_zero():
    """Readings near zero keep the floor as sigma, not zero."""
    sc = scenario_from_dict(
        {
            "name": "floor",
            "time": {"start": "2016-06-21T12:00:00+01:00", "duration": "1h"},
            "grid": {"pandapower": "case33bw"},
            "measurements": {"plan": [{"device": "scada", "at": "loads"}]},
        }
    )
    net = load_net(sc.grid)
    plan = resolve_plan(net, sc.measurements, seed=0)
    model = SensorModel(plan, step_s=900, seed=0)
    sigma = model.sigma_of(np.zeros(plan.n_scalars))
    np.testing.assert_array_equal(sigma, np.full(plan.n_scalars, SIGMA_FLOOR["power"]))
