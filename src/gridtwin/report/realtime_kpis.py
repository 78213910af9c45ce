"""Real-time KPIs: lateness of the steps against the wall-clock schedule (pure; no mosaik)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["realtime_kpis"]


def realtime_kpis(
    lateness_ms: np.ndarray,
    *,
    period_ms: float,
    on_overrun: str,
    skipped_steps: int = 0,
    steps: int | None = None,
) -> dict[str, Any]:
    """The ``realtime`` section of ``kpis.json``.

    Parameters
    ----------
    lateness_ms : ndarray
        Per step that started: its start minus its scheduled wall time [ms].
    period_ms : float
        One step in wall time (``factor * time.step``) [ms]; a step later
        than that is an overrun.
    on_overrun : str
        The run's ``realtime.on_overrun``.
    skipped_steps : int
        Steps whose automation-function work was dropped (``skip``).
    steps : int, optional
        Steps recorded (``run.steps``); default the steps that started.

    Returns
    -------
    dict
        ``step_ms``, ``steps``, ``lateness_ms_p50``,
        ``lateness_ms_p99``, ``lateness_ms_max`` (absent without a step),
        ``overruns``, ``on_overrun`` and ``skipped_steps`` (with ``skip``).
    """
    late = np.asarray(lateness_ms, dtype=float)
    out: dict[str, Any] = {
        "step_ms": float(period_ms),
        "steps": int(late.size if steps is None else steps),
        "steps_started": int(late.size),
        "on_overrun": on_overrun,
    }
    if late.size:
        p50, p99 = np.percentile(late, [50, 99])
        out |= {
            "lateness_ms_p50": float(p50),
            "lateness_ms_p99": float(p99),
            "lateness_ms_max": float(late.max()),
        }
    out["overruns"] = int(np.count_nonzero(late > period_ms))
    if on_overrun == "skip":
        out["skipped_steps"] = int(skipped_steps)
    return out
