"""Bokeh figures for the report and the comparison, with data reduced for long runs.

A time series longer than :data:`MAX_POINTS` is shown as the mean per bin
with a min..max envelope (bins of 1, 2, 3, 6 or 12 h or a day, the first that
fits: a year at 15 min shows 12-hour bins), so a year stays a few megabytes
and renders in about a second; hovering shows the values, the wheel zooms the
time axis. Times are shown on the scenario's clock (its UTC offset).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# bokeh.models re-exports these by star imports that its stubs do not declare
from bokeh.models import (  # type: ignore[attr-defined]
    BoxAnnotation,
    ColumnDataSource,
    HoverTool,
    Span,
)
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

__all__ = [
    "BINS_S",
    "MAX_POINTS",
    "PALETTE",
    "Binned",
    "bin_series",
    "event_lines",
    "time_figure",
]

MAX_POINTS = 1000
"""Time points per series shown as they are; longer series are binned."""

PALETTE = list(Category10_10)
BINS_S = tuple(h * 3600 for h in (1, 2, 3, 6, 12, 24, 168))


@dataclass(slots=True)
class Binned:
    """A time axis and series on it, maybe reduced.

    Attributes
    ----------
    t_ms : ndarray
        Bin start (or step) times [ms since the epoch, on the scenario's clock].
    mean, low, high : dict of str to ndarray
        Per series: the mean per bin and its min and max (all equal when not binned).
    bin_s : int or None
        Bin width [s]; None when the series are shown as recorded.
    """

    t_ms: np.ndarray
    mean: dict[str, np.ndarray]
    low: dict[str, np.ndarray]
    high: dict[str, np.ndarray]
    bin_s: int | None

    @property
    def label(self) -> str:
        """How the data is shown, for a plot's subtitle."""
        if self.bin_s is None:
            return "every step"
        hours = self.bin_s / 3600
        unit = f"{hours:g} h" if hours < 24 else f"{hours / 24:g} d"
        return f"mean per {unit} with min..max envelope"


def bin_series(sim_time_s: np.ndarray, start_ms: float, series: dict[str, np.ndarray]) -> Binned:
    """Bin series that share one time axis when they are longer than :data:`MAX_POINTS`.

    Parameters
    ----------
    sim_time_s : ndarray
        Seconds after the start, one per value, ascending.
    start_ms : float
        The start on the scenario's clock [ms since the epoch].
    series : dict of str to ndarray
        Values per name, as long as ``sim_time_s``.
    """
    t = np.asarray(sim_time_s, dtype=np.int64)
    if len(t) <= MAX_POINTS:
        plain = {k: np.asarray(v, dtype=np.float64) for k, v in series.items()}
        return Binned(start_ms + t * 1e3, plain, plain, plain, None)
    span = int(t[-1] - t[0]) + 1
    bin_s = next((b for b in BINS_S if span / b <= MAX_POINTS), BINS_S[-1])
    frame = pd.DataFrame({k: np.asarray(v, dtype=np.float64) for k, v in series.items()})
    groups = frame.groupby(t // bin_s)
    keys = groups.mean().index.to_numpy()
    return Binned(
        start_ms + keys * bin_s * 1e3,
        {str(k): v.to_numpy() for k, v in groups.mean().items()},
        {str(k): v.to_numpy() for k, v in groups.min().items()},
        {str(k): v.to_numpy() for k, v in groups.max().items()},
        bin_s,
    )


def time_figure(
    name: str,
    title: str,
    y_label: str,
    events_ms: list[tuple[float, str]],
    *,
    height: int = 280,
    x_range: Any = None,
) -> Any:
    """A figure over time: zoom and pan on the time axis, hover, events as dashed lines."""
    kwargs: dict[str, Any] = {"x_range": x_range} if x_range is not None else {}
    fig = figure(
        name=name,
        title=title,
        x_axis_type="datetime",
        height=height,
        sizing_mode="stretch_width",
        tools="xpan,xwheel_zoom,box_zoom,reset,save",
        active_scroll="xwheel_zoom",
        output_backend="canvas",
        **kwargs,
    )
    fig.yaxis.axis_label = y_label
    event_lines(fig, events_ms)
    return fig


def event_lines(
    fig: Any, events_ms: list[tuple[float, str]], color: str = "black", width: float = 1.0
) -> None:
    """Mark every event as a dashed vertical line at its time [ms, scenario clock]."""
    for at_ms, _ in events_ms:
        fig.add_layout(
            Span(
                location=at_ms,
                dimension="height",
                line_dash="dashed",
                line_alpha=0.6 if width <= 1 else 0.9,
                line_color=color,
                line_width=width,
            )
        )


def add_series(fig: Any, binned: Binned, names: dict[str, str], unit: str) -> None:
    """One line per series (label -> key), with the envelope when binned, and a hover."""
    data: dict[str, Any] = {"t": binned.t_ms}
    for i, key in enumerate(names.values()):
        data[f"m{i}"] = binned.mean[key].astype(np.float32)
        if binned.bin_s is not None:
            data[f"lo{i}"] = binned.low[key].astype(np.float32)
            data[f"hi{i}"] = binned.high[key].astype(np.float32)
    source = ColumnDataSource(data)
    renderers = []
    for i, label in enumerate(names):
        color = PALETTE[i % len(PALETTE)]
        if binned.bin_s is not None:
            fig.varea(x="t", y1=f"lo{i}", y2=f"hi{i}", source=source, color=color, alpha=0.2)
        renderers.append(
            fig.line(
                x="t", y=f"m{i}", source=source, color=color, legend_label=label, line_width=1.5
            )
        )
    tips = [("time", "@t{%F %H:%M}")] + [
        (label, f"@m{i}{{0.[0000]}} {unit}") for i, label in enumerate(names)
    ]
    fig.add_tools(
        HoverTool(
            renderers=renderers[:1], tooltips=tips, formatters={"@t": "datetime"}, mode="vline"
        )
    )
    fig.legend.click_policy = "hide"
    fig.legend.location = "top_left"


def band(fig: Any, low: float, high: float) -> None:
    """Shade outside the allowed band ``low``..``high``."""
    fig.add_layout(BoxAnnotation(top=low, fill_alpha=0.08, fill_color="red"))
    fig.add_layout(BoxAnnotation(bottom=high, fill_alpha=0.08, fill_color="red"))
    for y in (low, high):
        fig.add_layout(Span(location=y, dimension="width", line_color="red", line_alpha=0.5))
