"""Switch timelines of the report: what each switching was, from the run directory alone.

The run records switch positions (``switch``), the commands that arrived at the
grid (``command``: source, arrival time, status) and the events (``events``).
:func:`switch_actions` tells each change of position apart from these:

| change | by an applied command of | label |
| --- | --- | --- |
| opened at a ``line_fault`` step | none | trip (protection) |
| closed at a ``repair`` step | none | reclose at repair |
| closed, earlier tripped | none | reclose (protection) |
| opened | ``flisr`` | isolation |
| closed, earlier tripped | ``flisr`` | reclose (FLISR) |
| closed | ``flisr`` | restoration |
| any, after the repair | ``flisr`` | return to normal |
| other | another source or none | opened / closed |

A change is "by a command" when an applied ``switch_closed`` command of that
source arrived within the step before it (the grid applies a command at the first step at or
after its arrival).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gridtwin.report.figures import PALETTE, event_lines
from gridtwin.report.page import Context

__all__ = ["ACTIONS", "switch_actions", "switch_timeline"]

ACTIONS = {  # label -> (colour, marker)
    "trip (protection)": ("#d62728", "inverted_triangle"),
    "isolation": (PALETTE[1], "square"),
    "reclose (protection)": (PALETTE[0], "triangle"),
    "reclose at repair": (PALETTE[0], "triangle"),
    "reclose (FLISR)": (PALETTE[9], "triangle"),
    "restoration": (PALETTE[2], "square"),
    "return to normal": (PALETTE[4], "diamond"),
    "opened": (PALETTE[3], "square"),
    "closed": (PALETTE[2], "square"),
}
EVENT_ROW = "events"
FAULT_EVENTS = ("line_fault", "repair")


def _command_source(t_s: np.ndarray, commands: pd.DataFrame | None, step_s: float) -> list[str]:
    """Per change time: the source of an applied switch command that arrived in the step before."""
    out = [""] * len(t_s)
    if commands is None or commands.empty:
        return out
    applied = commands[
        (commands["target"].astype(str) == "switch_closed")
        & (commands["status"].astype(str) == "applied")
    ]
    arrival = applied["arrival_s"].to_numpy(dtype=float)
    source = applied["source"].astype(str).to_numpy()
    for i, t in enumerate(t_s):
        hit = np.flatnonzero((arrival <= t) & (arrival > t - step_s))
        if hit.size:
            out[i] = str(source[hit[-1]])
    return out


def _near(t: float, times: np.ndarray, step_s: float) -> bool:
    """Whether an event happened in the step ending at ``t``."""
    return bool(np.any((times <= t) & (times > t - step_s)))


def switch_actions(
    changes: pd.DataFrame,
    commands: pd.DataFrame | None,
    events: pd.DataFrame | None,
    step_s: float,
) -> list[str]:
    """Label each switch change (trip, isolation, reclose, restoration, ...), in order.

    Parameters
    ----------
    changes : DataFrame
        ``sim_time_s`` [s], ``element``, ``closed``: changes of position, in time order.
    commands : DataFrame or None
        The ``command`` table (``source``, ``target``, ``arrival_s`` [s], ``status``).
    events : DataFrame or None
        The ``events`` table (``sim_time_s`` [s], ``type``).
    step_s : float
        The run's step [s].
    """
    t_s = changes["sim_time_s"].to_numpy(dtype=float)
    by = _command_source(t_s, commands, step_s)
    ev = events if events is not None else pd.DataFrame({"sim_time_s": [], "type": []})
    types = ev["type"].astype(str).to_numpy()
    ev_t = ev["sim_time_s"].to_numpy(dtype=float)
    faults, repairs = ev_t[types == "line_fault"], ev_t[types == "repair"]
    tripped: set[str] = set()
    labels = []
    for t, element, closed, source in zip(
        t_s, changes["element"].astype(str), changes["closed"], by, strict=True
    ):
        last_fault = faults[faults <= t].max(initial=-np.inf)
        after_repair = repairs[repairs <= t].max(initial=-np.inf) >= last_fault > -np.inf
        if source == "flisr":
            label = _flisr_label(bool(closed), element in tripped, after_repair)
        elif source == "" and not closed and _near(t, faults, step_s):
            label = "trip (protection)"
        elif source == "" and closed and element in tripped:
            label = "reclose at repair" if _near(t, repairs, step_s) else "reclose (protection)"
        else:
            label = "closed" if closed else "opened"
        if label == "trip (protection)":
            tripped.add(element)
        elif closed:
            tripped.discard(element)
        labels.append(label)
    return labels


def _flisr_label(closed: bool, tripped: bool, after_repair: bool) -> str:
    if after_repair:
        return "return to normal"
    if not closed:
        return "isolation"
    return "reclose (FLISR)" if tripped else "restoration"


def switch_timeline(ctx: Context, name: str, title: str, *, classify: bool) -> Any:
    """Switch changes after the start, one row per switch, on the grid plots' time axis.

    With ``classify`` each marker says what the switching was (:func:`switch_actions`)
    and a top row marks the fault and repair events; without, opened or closed.
    Every event is also a dashed line.
    """
    # bokeh.models re-exports Legend and LegendItem by a star import its stubs do not declare
    from bokeh.models import (  # type: ignore[attr-defined]
        ColumnDataSource,
        FactorRange,
        HoverTool,
        Legend,
        LegendItem,
    )
    from bokeh.plotting import figure

    run = ctx.run
    sw = run.read("switch") if run.has("switch") else None
    if sw is not None:
        changes = sw[sw.sim_time_s > 0].sort_values("sim_time_s", kind="stable")
    else:
        changes = pd.DataFrame({"sim_time_s": [], "element": [], "closed": []})
    events = run.read("events") if run.has("events") else None
    if classify:
        step_s = float((run.kpis.get("run") or {}).get("step_s") or 1.0)
        commands = run.read("command") if run.has("command") else None
        labels = switch_actions(changes, commands, events, step_s)
    else:
        labels = ["closed" if c else "opened" for c in changes["closed"]]
    names = sorted({str(e) for e in changes["element"]})
    marks = None
    if classify and events is not None:
        marks = events[events["type"].astype(str).isin(FAULT_EVENTS)]
    rows = ([EVENT_ROW] if marks is not None and len(marks) else []) + names
    kwargs: dict[str, Any] = {"x_range": ctx.x_range} if ctx.x_range is not None else {}
    fig = figure(
        name=name,
        title=title + ("" if names else " (none after the start)"),
        x_axis_type="datetime",
        y_range=FactorRange(factors=list(reversed(rows)) or ["none"]),
        height=max(200, 30 * len(rows) + 100),
        sizing_mode="stretch_width",
        tools="xpan,xwheel_zoom,box_zoom,reset,save",
        active_scroll="xwheel_zoom",
        **kwargs,
    )
    frame = pd.DataFrame(
        {
            "t": ctx.t_ms(changes["sim_time_s"].to_numpy(dtype=float)),
            "y": changes["element"].astype(str).to_numpy(),
            "what": labels,
        }
    )
    renderers: list[Any] = []
    legend: list[Any] = []
    for label, (color, marker) in ACTIONS.items():
        part = frame[frame["what"] == label]
        if len(part):
            glyph = fig.scatter(
                "t", "y", source=ColumnDataSource(part), size=11, color=color, marker=marker
            )
            renderers.append(glyph)
            legend.append(LegendItem(label=label, renderers=[glyph]))
    if marks is not None and len(marks):
        src = {
            "t": ctx.t_ms(marks["sim_time_s"].to_numpy(dtype=float)),
            "y": [EVENT_ROW] * len(marks),
            "what": [f"{ty} {ta}" for ty, ta in zip(marks["type"], marks["target"], strict=True)],
        }
        glyph = fig.scatter(
            "t", "y", source=ColumnDataSource(src), size=13, color="black", marker="star"
        )
        renderers.append(glyph)
        legend.append(LegendItem(label="fault / repair (event)", renderers=[glyph]))
    event_lines(fig, ctx.events_ms)
    fig.add_tools(
        HoverTool(
            renderers=renderers,
            tooltips=[("time", "@t{%F %H:%M:%S}"), ("", "@y"), ("what", "@what")],
            formatters={"@t": "datetime"},
        )
    )
    if legend:
        fig.add_layout(Legend(items=legend, click_policy="hide"), "right")
    return fig
