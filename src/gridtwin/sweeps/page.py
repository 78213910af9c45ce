"""sweep.html: distributions per KPI, the worst runs (linked to their reports), axes vs KPIs.

Self-contained (Bokeh inlined, see :func:`gridtwin.report.page.page`); links
to the variants' report.html are relative, so the sweep folder can be moved.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from gridtwin.report.page import Section, kv_table, page

__all__ = ["build_page", "interval_95", "wilson_95", "worst_runs", "write_page"]

Z95 = 1.959964
MAX_HISTOGRAMS = 40
MAX_ROWS = 1000


def interval_95(values: Any) -> tuple[float, float, float]:
    """Mean and its 95 % interval (normal approximation, sample standard deviation)."""
    import numpy as np

    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if x.size < 2:
        return mean, mean, mean
    half = Z95 * float(x.std(ddof=1)) / math.sqrt(x.size)
    return mean, mean - half, mean + half


def wilson_95(successes: float, trials: float) -> tuple[float, float, float]:
    """A proportion and its Wilson 95 % interval."""
    if trials <= 0:
        return math.nan, math.nan, math.nan
    p = successes / trials
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = Z95 * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return p, max(0.0, centre - half), min(1.0, centre + half)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.6g}"
    return str(value)


def _link_table(frame: Any, columns: list[str]) -> str:
    head = "<tr><th>variant</th>" + "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    rows = []
    for _, row in frame.iterrows():
        report = Path(str(row["run_dir"])) / "report.html"
        rid = html.escape(str(row["variant"]))
        cells = "".join(f"<td>{html.escape(_fmt(row[c]))}</td>" for c in columns)
        rows.append(
            f'<tr><td><a href="{html.escape(report.as_posix())}">{rid}</a></td>{cells}</tr>'
        )
    return f'<table class="kv">{head}</tr>{"".join(rows)}</table>'


def worst_runs(frame: Any, kpi: str, count: int, highest: bool) -> Any:
    """The ``count`` finished runs worst by ``kpi`` (ties broken by variant id)."""
    ok = frame[(frame["status"] == "ok") & frame[kpi].notna()]
    return ok.sort_values([kpi, "variant"], ascending=[not highest, True]).head(count)


def _summary(frame: Any, kpis: list[str]) -> Section:
    sec = Section("summary", "Summary")
    n_ok = int((frame["status"] == "ok").sum())
    sec.text(
        kv_table(
            [
                ["variants", str(len(frame))],
                ["finished", str(n_ok)],
                ["failed", str(int((frame["status"] == "failed").sum()))],
                ["wall time, sum over variants [s]", _fmt(float(frame["wall_s"].sum()))],
            ]
        )
    )
    rows = []
    for kpi in kpis:
        values = frame.loc[frame["status"] == "ok", kpi]
        mean, low, high = interval_95(values)
        rows.append(
            [
                kpi,
                str(int(values.notna().sum())),
                _fmt(mean),
                f"{_fmt(low)} .. {_fmt(high)}",
                _fmt(values.min()),
                _fmt(values.median()),
                _fmt(values.max()),
            ]
        )
    header = ["KPI", "n", "mean", "95 % interval of the mean", "min", "median", "max"]
    sec.text(kv_table(rows, header))
    return sec


def _rates(frame: Any, rates: dict[str, Any]) -> Section:
    sec = Section("rates", "Rates over all runs")
    rows = []
    ok = frame[frame["status"] == "ok"]
    for name, rate in rates.items():
        if rate.num not in ok or rate.den not in ok:
            rows.append([name, f"{rate.num} / {rate.den}", "-", "-", "not collected"])
            continue
        num, den = float(ok[rate.num].sum()), float(ok[rate.den].sum())
        p, low, high = wilson_95(num, den)
        rows.append(
            [name, f"{_fmt(num)} / {_fmt(den)}", _fmt(p), f"{_fmt(low)} .. {_fmt(high)}", ""]
        )
    sec.text(kv_table(rows, ["rate", "sum / sum", "rate", "95 % interval (Wilson)", ""]))
    return sec


def _distributions(frame: Any, kpis: list[str]) -> Section:
    import numpy as np
    from bokeh.plotting import figure

    sec = Section("distributions", "Distributions")
    ok = frame[frame["status"] == "ok"]
    for i, kpi in enumerate(kpis[:MAX_HISTOGRAMS]):
        x = ok[kpi].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        if x.size == 0:
            continue
        counts, edges = np.histogram(x, bins=min(30, max(1, len(np.unique(x)))))
        fig = figure(
            name=f"hist{i}",
            title=kpi,
            height=220,
            sizing_mode="stretch_width",
            tools="save,reset,box_zoom",
            output_backend="canvas",
        )
        fig.quad(top=counts, bottom=0, left=edges[:-1], right=edges[1:], fill_alpha=0.6)
        fig.xaxis.axis_label = kpi
        fig.yaxis.axis_label = "runs"
        sec.plot(fig)
    return sec


def _worst(frame: Any, plan: Any, kpis: list[str], axes: list[str]) -> Section:
    from gridtwin.sweeps.table import worst_kpi

    spec = plan.spec
    sec = Section("worst", "Worst runs")
    kpi = worst_kpi(plan, frame)
    if kpi is None:
        sec.text("<p>No KPI to rank the runs by.</p>")
        return sec
    order = "highest" if spec.worst.highest else "lowest"
    sec.text(
        f"<p>The {spec.worst.count} runs with the {order} {html.escape(kpi)} "
        "(each links to its report.html):</p>"
    )
    worst = worst_runs(frame, kpi, spec.worst.count, spec.worst.highest)
    sec.text(_link_table(worst, [*axes, kpi, *[k for k in kpis if k != kpi][:6]]))
    failed = frame[frame["status"] != "ok"]
    if len(failed):
        sec.text(f"<h3>Failed or incomplete runs ({len(failed)})</h3>")
        sec.text(_link_table(failed.head(MAX_ROWS), [*axes, "status", "error"]))
    return sec


def _axes(frame: Any, kpis: list[str], axes: list[str]) -> Section:
    sec = Section("axes", "Axes against KPIs")
    ok = frame[frame["status"] == "ok"]
    shown = kpis[:8]
    for axis in axes:
        if frame[axis].nunique(dropna=False) < 2 or frame[axis].nunique() > MAX_ROWS:
            continue
        groups = ok.groupby(axis, sort=True, dropna=False)[shown].mean()
        rows = [
            [_fmt(v), *[_fmt(x) for x in r]]
            for v, r in zip(groups.index, groups.to_numpy(), strict=True)
        ]
        sec.text(f"<h3>{html.escape(axis)} (mean over the other axes)</h3>")
        sec.text(kv_table(rows, [axis, *shown]))
    sec.text(f"<h3>Every run (first {MAX_ROWS})</h3>")
    sec.text(_link_table(frame.head(MAX_ROWS), [*axes, "status", *kpis[:8]]))
    return sec


def build_page(frame: Any, plan: Any) -> str:
    """The sweep's HTML page."""
    kpis = list(frame.attrs.get("kpis", []))
    axes = list(frame.attrs.get("axes", []))
    sections = [_summary(frame, kpis)]
    if plan.spec.rates:
        sections.append(_rates(frame, plan.spec.rates))
    sections += [
        _worst(frame, plan, kpis, axes),
        _distributions(frame, kpis),
        _axes(frame, kpis, axes),
    ]
    subtitle = (
        f"{plan.path.name}: {len(frame)} variants of {plan.spec.base}. {plan.spec.description}"
    )
    return page(f"Sweep {plan.name}", subtitle, sections)


def write_page(frame: Any, plan: Any, path: Path) -> Path:
    """Write sweep.html."""
    import warnings

    with warnings.catch_warnings():  # a KPI with no finished value: '-' in the tables
        warnings.simplefilter("ignore", RuntimeWarning)
        text = build_page(frame, plan)
    path.write_text(text, encoding="utf-8")
    return path
