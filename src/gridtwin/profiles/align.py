"""Bringing a regular time series to the scenario's start and step (pure, vectorized)."""

from __future__ import annotations

import numpy as np

__all__ = ["align_profile", "covered_until_s"]


def covered_until_s(first_s: int, resolution_s: int, n_points: int, method: str) -> int:
    """Last instant [s] a profile can serve: its last point, plus one interval when held."""
    last = first_s + (n_points - 1) * resolution_s
    return last if method == "linear" else last + resolution_s


def align_profile(
    values: np.ndarray,
    *,
    first_s: int,
    resolution_s: int,
    start_s: int,
    step_s: int,
    n_steps: int,
    method: str = "hold",
) -> np.ndarray:
    """Sample a regular profile at the simulation steps.

    Parameters
    ----------
    values : ndarray, shape (n_points, n_elements)
        Profile values, row ``i`` valid from ``first_s + i * resolution_s``.
    first_s, resolution_s : int
        Time of the first row and spacing of rows [s], same clock as ``start_s``.
    start_s, step_s, n_steps : int
        The simulation's start [s], step [s] and number of steps.
    method : {'hold', 'linear', 'mean'}
        ``hold``: the value of the row whose interval contains the step time.
        ``linear``: linear interpolation between rows.
        ``mean``: the profile's mean over ``[t, t + step)`` (rows held).

    Returns
    -------
    ndarray, shape (n_steps, n_elements)

    Raises
    ------
    ValueError
        If the simulation period is not covered by the profile.
    """
    n_points = values.shape[0]
    t = start_s + step_s * np.arange(n_steps, dtype=np.int64)
    covered = covered_until_s(first_s, resolution_s, n_points, method)
    last = int(t[-1])
    inside = {
        "hold": last < covered,
        "linear": last <= covered,
        "mean": last + step_s <= covered,
    }.get(method, True)
    if start_s < first_s or not inside:
        raise ValueError("the profile does not cover the simulation period")
    offset = (t - first_s).astype(np.float64) / resolution_s
    if method == "hold":
        return values[np.minimum(np.floor(offset).astype(np.int64), n_points - 1)]
    if method == "linear":
        i = np.minimum(np.floor(offset).astype(np.int64), n_points - 1)
        j = np.minimum(i + 1, n_points - 1)
        w = (offset - i)[:, None]
        return values[i] * (1.0 - w) + values[j] * w
    if method == "mean":
        # integral of the held profile, evaluated at step boundaries
        cum = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])

        def integral(x: np.ndarray) -> np.ndarray:
            k = np.minimum(np.floor(x).astype(np.int64), n_points - 1)
            return cum[k] + values[k] * (x - k)[:, None]

        lo = offset
        hi = offset + step_s / resolution_s
        return (integral(hi) - integral(lo)) / (hi - lo)[:, None]
    raise ValueError(f"unknown method {method!r}; expected hold, linear or mean")
