"""Comparing runs: the summary's figures side by side with their differences, and an
HTML page that overlays the runs' main curves.

The differences are those of the numbers in kpis.json (run minus the first
run), per figure of a row, rounded only for display.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridtwin.report.rundir import RunDir
from gridtwin.report.summary import all_sections, format_figure

__all__ = ["ComparisonRow", "comparison_rows", "write_comparison"]

CURVES = (
    ("cmp_vm_min", "Min bus voltage", "vm_min_pu", "Vm [pu]"),
    ("cmp_vm_max", "Max bus voltage", "vm_max_pu", "Vm [pu]"),
    ("cmp_loading", "Max line loading", "line_loading_max_percent", "loading [%]"),
    ("cmp_losses", "Losses", "losses_mw", "P [MW]"),
    ("cmp_import", "Import from the external grid", "ext_grid_p_mw", "P [MW]"),
    ("cmp_generation", "Generation", "sgen_p_mw", "P [MW]"),
    ("cmp_not_supplied", "Demand not supplied", "not_supplied_mw", "P [MW]"),
)
"""The overlaid curves: plot name, title, ``grid`` table column, axis label."""


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One figure across runs.

    Attributes
    ----------
    label, unit : str
        As in the summary.
    values : list of str
        Each run's figures as shown (``n/a`` where absent).
    differences : list of str
        Each later run minus the first, per figure (``n/a`` if either is absent).
    numbers : list of list of float or None
        The raw figures per run, for machine use.
    section_start : bool
        The row opens a new section (``grid``, ``state estimation`` ...).
    """

    label: str
    unit: str
    values: list[str]
    differences: list[str]
    numbers: list[list[float | int | None]]
    section_start: bool


def comparison_rows(kpis_list: list[dict[str, Any]]) -> list[ComparisonRow]:
    """Rows of every summary figure any of the runs has, first run as the reference."""
    rows: list[ComparisonRow] = []
    for section in all_sections(kpis_list):
        for i, row in enumerate(section.rows):
            numbers = [row.values(k) for k in kpis_list]
            digits = row.digits
            diffs = []
            for other in numbers[1:]:
                parts = [
                    format_figure(None if a is None or b is None else b - a, digits)
                    for a, b in zip(numbers[0], other, strict=True)
                ]
                diffs.append(" / ".join(_signed(p) for p in parts))
            rows.append(
                ComparisonRow(
                    label=f"{section.title}: {row.label}" if i == 0 else row.label,
                    unit=row.unit,
                    values=[row.text(k) for k in kpis_list],
                    differences=diffs,
                    numbers=numbers,
                    section_start=i == 0 and bool(rows),
                )
            )
    return rows


def _signed(text: str) -> str:
    return text if text == "n/a" or text.startswith("-") else f"+{text}"


def write_comparison(runs: list[RunDir], out: Path) -> Path:
    """Write the comparison page: the table and the overlaid curves of ``runs``."""
    from bokeh.plotting import figure

    from gridtwin.report.figures import PALETTE, bin_series
    from gridtwin.report.page import Section, kv_table, page

    labels = [r.path.name for r in runs]
    table = Section("table", "KPIs")
    header = ("figure", *labels, *(f"{x} − {labels[0]}" for x in labels[1:]), "unit")
    table.text(
        kv_table(
            [(r.label, *r.values, *r.differences, r.unit) for r in comparison_rows(
                [run.kpis for run in runs])],
            header,
        )
    )  # fmt: skip
    curves = Section("curves", "Curves")
    curves.text('<p class="sub">Runs are aligned on their start (hours after it).</p>')
    grids = [r.read("grid") if r.has("grid") else None for r in runs]
    for name, title, column, axis in CURVES:
        fig = figure(
            name=name,
            title=title,
            height=260,
            sizing_mode="stretch_width",
            tools="xpan,xwheel_zoom,box_zoom,reset,save,hover",
            active_scroll="xwheel_zoom",
            x_axis_label="hours after the start",
            y_axis_label=axis,
        )
        for i, (label, g) in enumerate(zip(labels, grids, strict=True)):
            if g is None:
                continue
            values = (
                (g.load_demand_p_mw - g.load_p_mw).clip(lower=0).to_numpy()
                if column == "not_supplied_mw"
                else g[column].to_numpy()
            )
            b = bin_series(g.sim_time_s.to_numpy(), 0.0, {"v": values})
            hours = b.t_ms / 3.6e6
            fig.line(hours, b.mean["v"], color=PALETTE[i % 10], legend_label=label, line_width=1.5)
        fig.legend.click_policy = "hide"
        curves.plot(fig)
    out = Path(out)
    out.write_text(
        page("gridtwin comparison", ", ".join(labels), [table, curves]), encoding="utf-8"
    )
    return out
