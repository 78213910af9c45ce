"""Report sections every run has: summary, scenario, events, and the grid's plots."""

from __future__ import annotations

import html
from typing import Any

import numpy as np

# bokeh.models re-exports ColorBar by a star import that its stubs do not declare
from bokeh.models import (  # type: ignore[attr-defined]
    ColorBar,
    ColumnDataSource,
    FixedTicker,
    HoverTool,
    LinearColorMapper,
    Range1d,
)
from bokeh.palettes import Viridis256
from bokeh.plotting import figure

from gridtwin.report.figures import (
    BINS_S,
    add_series,
    band,
    bin_series,
    event_lines,
    time_figure,
)
from gridtwin.report.page import Context, Section, kv_table
from gridtwin.report.summary import summary_sections

__all__ = ["events", "grid", "scenario", "summary"]

FUNCTIONS = (
    ("measurements", "sensors (measurement plan)"),
    ("estimation", "state estimation"),
    ("forecasting", "forecasting"),
    ("voltage_control", "voltage control"),
    ("reconfiguration", "reconfiguration"),
    ("flisr", "FLISR"),
)
HEAT_MAX_COLUMNS = 1000
"""Time columns of the bus-by-time heat map; more steps are binned (max per bin of
1, 2, 3, 6, 12 or 24 h, the first that fits)."""


def summary(ctx: Context) -> Section:
    """The figures of the end of ``gridtwin run``, by section, with units."""
    s = Section("summary", "Summary")
    note = ctx.run.incomplete
    if note:
        s.text(f'<p class="note">Incomplete run: {html.escape(note)}.</p>')
    kpis = ctx.run.kpis
    for sec in summary_sections(kpis):
        s.text(f"<h3>{html.escape(sec.title)}</h3>")
        s.text(kv_table([(r.label, r.text(kpis), r.unit) for r in sec.rows]))
    if not kpis:
        rows = [(t, f"{len(ctx.run.read(t, columns=['sim_time_s'])):,}") for t in ctx.run.tables]
        s.text(kv_table(rows, ("table", "rows")))
    return s


def scenario(ctx: Context) -> Section:
    """Name, grid, period and the automation functions of the scenario as run."""
    sc = ctx.run.scenario
    grid = sc.get("grid") or {}
    t = sc.get("time") or {}
    source = grid.get("simbench") or grid.get("pandapower") or grid.get("file") or "?"
    running = [label for key, label in FUNCTIONS if sc.get(key)]
    rows = [
        ("name", str(sc.get("name", ctx.run.path.name))),
        ("description", str(sc.get("description") or "")),
        ("grid", f"{source} ({grid.get('engine', '?')})"),
        ("start", str(t.get("start", "?"))),
        ("duration / step", f"{t.get('duration', '?')} / {t.get('step', '?')}"),
        ("seed", str(sc.get("seed", "?"))),
        ("automation functions", ", ".join(running) or "none"),
        ("run directory", str(ctx.run.path)),
    ]
    s = Section("scenario", "Scenario")
    s.text(kv_table(rows))
    return s


def events(ctx: Context) -> Section:
    """Every event applied, in time order (also dashed lines on every time axis)."""
    s = Section("events", "Events")
    if not ctx.run.has("events"):
        s.text("<p>No events in this run.</p>")
        return s
    ev = ctx.run.read("events")
    rows = [
        (str(time)[:19], str(typ), str(target), str(params))
        for time, typ, target, params in zip(ev.time, ev.type, ev.target, ev.params, strict=True)
    ]
    s.text(kv_table(rows, ("time (UTC)", "type", "target", "parameters")))
    return s


def grid(ctx: Context) -> Section:
    """Voltage extremes with the band, the bus heat map, loading, and the power balance."""
    run = ctx.run
    g = run.read("grid")
    s = Section("grid", "Grid")
    b = bin_series(
        g.sim_time_s.to_numpy(),
        ctx.start_ms,
        {
            "vm_min_pu": g.vm_min_pu.to_numpy(),
            "vm_max_pu": g.vm_max_pu.to_numpy(),
            "line_loading_max_percent": g.line_loading_max_percent.to_numpy(),
            "losses_mw": g.losses_mw.to_numpy(),
            "ext_grid_p_mw": g.ext_grid_p_mw.to_numpy(),
            "sgen_p_mw": g.sgen_p_mw.to_numpy(),
            "load_p_mw": g.load_p_mw.to_numpy(),
        },
    )
    s.text(f'<p class="sub">Time series: {b.label}; dashed lines: events.</p>')
    vm = time_figure(
        "grid_voltage", "Bus voltage, min and max over energized buses", "Vm [pu]", ctx.events_ms
    )
    add_series(vm, b, {"min": "vm_min_pu", "max": "vm_max_pu"}, "pu")
    low, high = _band(ctx)
    band(vm, low, high)
    s.plot(vm)
    ctx.x_range = vm.x_range
    if run.has("bus"):
        s.plot(_heatmap(ctx, vm.x_range))
    loading = time_figure(
        "line_loading", "Line loading", "loading [%]", ctx.events_ms, x_range=vm.x_range
    )
    top = _top_lines(ctx, g.sim_time_s.to_numpy())
    add_series(loading, top[0], {"max over lines": "max", **top[1]}, "%")
    s.plot(loading)
    power = time_figure(
        "power_balance", "Power balance", "P [MW]", ctx.events_ms, x_range=vm.x_range
    )
    add_series(
        power,
        b,
        {
            "import (external grid)": "ext_grid_p_mw",
            "generation": "sgen_p_mw",
            "consumption": "load_p_mw",
            "losses": "losses_mw",
        },
        "MW",
    )
    s.plot(power)
    return s


def _band(ctx: Context) -> tuple[float, float]:
    vc = ctx.run.scenario.get("voltage_control") or {}
    low, high = vc.get("band_mv_pu") or (0.95, 1.05)
    return float(low), float(high)


def _top_lines(ctx: Context, steps_s: np.ndarray, n: int = 5) -> tuple[Any, dict[str, str]]:
    """Max loading over lines per step and the ``n`` lines with the highest peak."""
    series = {"max": ctx.run.read("grid").line_loading_max_percent.to_numpy()}
    names: dict[str, str] = {}
    if ctx.run.has("line"):
        steps, lines, loading = ctx.run.matrix("line", "loading_percent")
        k = min(len(steps), len(steps_s))  # a stopped run may lack a table's last step
        steps_s, loading, series["max"] = steps_s[:k], loading[:k], series["max"][:k]
        with np.errstate(all="ignore"):
            peak = np.nanmax(np.where(np.isfinite(loading), loading, -np.inf), axis=0)
        for i, j in enumerate(np.argsort(-peak)[:n]):
            series[f"l{i}"] = loading[:, j]
            names[lines[j]] = f"l{i}"
    return bin_series(steps_s, ctx.start_ms, series), names


def _heatmap(ctx: Context, x_range: Any) -> Any:
    """Bus by time, Vm [pu] (NaN where a bus is de-energized); max per bin for long runs.

    Events are red dashed lines.
    """
    steps, names, vm = ctx.run.matrix("bus", "vm_pu")
    energized = ctx.run.matrix("bus", "energized")[2]
    vm = np.where(energized, vm, np.nan)
    n_bus = len(names)
    label = "every step"
    if len(steps) > HEAT_MAX_COLUMNS:
        step = int(steps[1] - steps[0])
        k = next(
            (
                b // step
                for b in BINS_S
                if b % step == 0 and len(steps) * step / b <= HEAT_MAX_COLUMNS
            ),
            int(np.ceil(len(steps) / HEAT_MAX_COLUMNS)),
        )
        pad = (-len(steps)) % k
        padded = np.vstack([vm, np.full((pad, n_bus), np.nan)])
        with np.errstate(all="ignore"):
            vm = np.nanmax(padded.reshape(-1, k, n_bus), axis=1)
        steps = steps[::k]
        label = f"max per {k * step / 3600:g} h"
    step_s = float(steps[1] - steps[0]) if len(steps) > 1 else 1.0
    image = vm.T.astype(np.float32)  # rows: buses, columns: time
    finite = image[np.isfinite(image)]
    mapper = LinearColorMapper(
        palette=Viridis256,
        low=float(finite.min()) if finite.size else 0.9,
        high=float(finite.max()) if finite.size else 1.1,
        nan_color="#d9d9d9",
    )
    fig = figure(
        name="bus_heatmap",
        title=(
            f"Bus voltage by bus and time, Vm [pu] ({label}; grey: de-energized; "
            "red dashed: events)"
        ),
        x_axis_type="datetime",
        x_range=x_range,
        y_range=Range1d(start=0, end=n_bus),
        height=max(260, min(700, 8 * n_bus)),
        sizing_mode="stretch_width",
        tools="xpan,xwheel_zoom,box_zoom,reset,save",
        active_scroll="xwheel_zoom",
    )
    source = ColumnDataSource(
        {"image": [image], "x": [ctx.t_ms(float(steps[0]) if len(steps) else 0.0)]}
    )
    # bokeh's stubs for figure.image lack the color_mapper keyword its ImageGlyph takes
    fig.image(
        image="image", x="x", y=0, dw=step_s * len(steps) * 1e3, dh=n_bus, color_mapper=mapper,
        source=source,
    )  # type: ignore[call-arg]  # fmt: skip
    every = max(1, n_bus // 20)
    ticks = list(range(0, n_bus, every))
    fig.yaxis.ticker = FixedTicker(ticks=[t + 0.5 for t in ticks])
    fig.yaxis.major_label_overrides = {t + 0.5: names[t] for t in ticks}
    fig.add_layout(ColorBar(color_mapper=mapper, title="Vm [pu]"), "right")
    event_lines(fig, ctx.events_ms, color="red", width=2)  # black is lost on Viridis' dark end
    fig.add_tools(
        HoverTool(tooltips=[("time", "$x{%F %H:%M}"), ("Vm [pu]", "@image{0.0000}")],
                  formatters={"$x": "datetime"})
    )  # fmt: skip
    return fig
