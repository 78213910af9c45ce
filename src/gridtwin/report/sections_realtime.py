"""The report's real-time section: lateness of each step over time, compute per simulator.

Present when the run was paced (``kpis.json`` has ``realtime``) and recorded
its ``timing`` table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from bokeh.models import Span  # type: ignore[attr-defined]  # a star re-export

from gridtwin.report.figures import MAX_POINTS, PALETTE, time_figure
from gridtwin.report.page import Context, Section, kv_table
from gridtwin.report.summary import format_figure, lookup

__all__ = ["realtime"]


def realtime(ctx: Context) -> Section | None:
    """Lateness over time (median and max per point when thinned) and compute per simulator."""
    run = ctx.run
    if not isinstance(run.kpis.get("realtime"), dict) or not run.has("timing"):
        return None
    s = Section("realtime", "Real time")
    timing = run.read("timing")
    steps = timing[timing["element"] == "step"].sort_values("sim_time_s")
    t = steps["sim_time_s"].to_numpy(dtype=np.int64)
    late = steps["lateness_ms"].to_numpy(dtype=float)
    chunk = max(1, -(-len(t) // MAX_POINTS))  # steps per point, so at most MAX_POINTS points
    keys = np.arange(len(t)) // chunk
    grouped = pd.DataFrame({"t": t, "late": late}).groupby(keys)
    label = "every step" if chunk == 1 else f"per {chunk} steps"
    fig = time_figure(
        "rt_lateness", f"Step start lateness against the schedule ({label})", "[ms]", ctx.events_ms
    )
    x = ctx.t_ms(grouped["t"].first().to_numpy(dtype=float))
    fig.line(x, grouped["late"].max().to_numpy(), color=PALETTE[1], legend_label="max")
    if chunk > 1:
        fig.line(x, grouped["late"].median().to_numpy(), color=PALETTE[0], legend_label="median")
    step_ms = lookup(run.kpis, "realtime.step_ms")
    if isinstance(step_ms, int | float):
        fig.add_layout(
            Span(location=step_ms, dimension="width", line_dash="dashed", line_color="red")
        )
    fig.legend.location = "top_left"
    s.plot(fig)
    rows = [
        (name, format_figure(lookup(run.kpis, f"realtime.{key}"), digits))
        for name, key, digits in (
            ("step in wall time [ms]", "step_ms", 0),
            ("lateness p50 [ms]", "lateness_ms_p50", 2),
            ("lateness p99 [ms]", "lateness_ms_p99", 2),
            ("lateness max [ms]", "lateness_ms_max", 2),
            ("overruns [steps]", "overruns", None),
            ("skipped function steps", "skipped_steps", None),
        )
        if lookup(run.kpis, f"realtime.{key}") is not None
    ]
    s.text(kv_table(rows))
    sims = timing[timing["element"] != "step"]
    per = sims.groupby("element", observed=True)["compute_ms"]
    table = [
        (str(name), f"{g.mean():.2f}", f"{np.nanpercentile(g, 99):.2f}")
        for name, g in per
        if g.notna().any()
    ]
    s.text(kv_table(table, ("simulator", "compute mean [ms]", "compute p99 [ms]")))
    return s
