"""FLISR's recorded ``flisr_incidents`` rows: its incidents as the run ended.

One row per incident (a tripped breaker FLISR acted on): ``sim_time_s`` when
it was detected [s], ``lines`` the lines of the section it located and
``breakers`` the tripped breakers (JSON lists of element names), the number
of switchings it ordered to isolate (``isolation``), reclose (``reclosed``)
and restore over ties (``ties``), and ``restored_s`` / ``returned_s`` (null
while not done) [s]. The testbed's ``flisr`` KPIs compare these with the true
faults (:func:`gridtwin.report.recompute.recompute_kpis` reads them back).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

__all__ = ["TABLE", "incident_rows", "lines_of"]

TABLE = "flisr_incidents"


def incident_rows(
    incidents: list[Any], line_names: list[str], switch_names: list[str], start_s: int
) -> list[dict[str, Any]]:
    """The rows of ``incidents`` (line and switch positions named by ``*_names``).

    ``start_s`` is the epoch of the run's start [s] (for the ``time`` column).
    """
    return [
        {
            "time": datetime.fromtimestamp(start_s + inc.detected_s, tz=UTC),
            "sim_time_s": int(inc.detected_s),
            "lines": json.dumps([line_names[k] for k in inc.lines]),
            "breakers": json.dumps([switch_names[k] for k in inc.breakers]),
            "isolation": len(inc.isolation),
            "reclosed": len(inc.reclosed),
            "ties": len(inc.ties),
            "restored_s": inc.restored_s,
            "returned_s": inc.returned_s,
        }
        for inc in incidents
    ]


def lines_of(row: Any, line_names: list[str]) -> tuple[int, ...]:
    """The line positions of a recorded row's ``lines``."""
    index = {name: k for k, name in enumerate(line_names)}
    return tuple(index[name] for name in json.loads(row))
