"""Forecast scores: MAE, skill, interval coverage and pinball loss (pure; no mosaik).

References
----------
.. [1] T. Gneiting, A. E. Raftery, "Strictly Proper Scoring Rules,
   Prediction, and Estimation", Journal of the American Statistical
   Association 102(477), 2007, pp. 359-378 (the pinball / quantile score).
.. [2] A. Khosravi, S. Nahavandi, D. Creighton, A. F. Atiya, "Lower Upper
   Bound Estimation Method for Construction of Neural Network-Based
   Prediction Intervals", IEEE Transactions on Neural Networks 22(3), 2011,
   pp. 337-346 (prediction interval coverage probability, PICP).
.. [3] R. J. Hyndman, A. B. Koehler, "Another look at measures of forecast
   accuracy", International Journal of Forecasting 22(4), 2006, pp. 679-688
   (skill relative to a naive benchmark).
"""

from __future__ import annotations

import numpy as np

__all__ = ["mae", "picp", "pinball_loss", "skill"]


def mae(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute error over finite pairs [unit of the data]; NaN if none."""
    err = np.abs(np.asarray(actual, dtype=float) - np.asarray(forecast, dtype=float))
    err = err[np.isfinite(err)]
    return float(err.mean()) if err.size else float("nan")


def skill(mae_model: float, mae_reference: float) -> float:
    """Skill score ``1 - MAE / MAE_reference`` [-] (1 perfect, 0 as good as the reference)."""
    if not np.isfinite(mae_reference) or mae_reference <= 0:
        return float("nan")
    return 1.0 - mae_model / mae_reference


def picp(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Prediction interval coverage probability: share of actuals in ``[lower, upper]`` [-]."""
    a, lo, hi = (np.asarray(x, dtype=float) for x in (actual, lower, upper))
    ok = np.isfinite(a) & np.isfinite(lo) & np.isfinite(hi)
    return float(((lo <= a) & (a <= hi))[ok].mean()) if ok.any() else float("nan")


def pinball_loss(actual: np.ndarray, q: np.ndarray, levels: np.ndarray) -> float:
    """Mean pinball loss over quantile levels and points [unit of the data].

    ``L_tau(y, q) = max(tau (y - q), (tau - 1) (y - q))``, averaged over the
    levels ``tau`` (axis 0 of ``q``) and all finite points.

    Parameters
    ----------
    actual : ndarray, shape (...)
    q : ndarray, shape (n_levels, ...)
    levels : ndarray, shape (n_levels,)
    """
    y = np.asarray(actual, dtype=float)[None]
    q = np.asarray(q, dtype=float)
    tau = np.asarray(levels, dtype=float).reshape((-1,) + (1,) * (q.ndim - 1))
    d = y - q
    loss = np.maximum(tau * d, (tau - 1.0) * d)
    loss = loss[np.isfinite(loss)]
    return float(loss.mean()) if loss.size else float("nan")
