"""Report sections of the automation functions, each present when its tables are.

| section | found from | plots |
| --- | --- | --- |
| estimation | ``estimation``, ``estimate_bus`` | error vs truth over time; chi-square |
| forecasting | ``forecast`` | 10-90 % fan vs actual for a feeder load and PV |
| voltage control | kpis ``voltage`` | violation minutes per bus; taps; DER Q and P; curtailment |
| reconfiguration | ``reconfig`` | losses vs held configuration; switch timeline |
| faults / FLISR | kpis ``reliability`` or ``line_fault`` events | timeline; supply lost |
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd
from bokeh.models import ColumnDataSource, FactorRange, HoverTool

from gridtwin.report.figures import add_series, bin_series, time_figure
from gridtwin.report.page import Context, Section, kv_table
from gridtwin.report.summary import format_figure, lookup
from gridtwin.report.switch_timeline import switch_timeline

__all__ = ["estimation", "faults", "forecasting", "reconfiguration", "voltage"]

FAULT_EVENTS = ("line_fault", "repair")


def estimation(ctx: Context) -> Section | None:
    """Estimate error against the truth, the chi-square test and bad data."""
    run = ctx.run
    if not run.has("estimation"):
        return None
    s = Section("estimation", "State estimation")
    est = run.read("estimation")
    t = est.sim_time_s.to_numpy()
    if run.has("estimate_bus"):
        steps, _, err = run.matrix("estimate_bus", "vm_error_pu")
        err = np.abs(err)
        b = bin_series(
            steps, ctx.start_ms, {"mean": np.nanmean(err, axis=1), "max": np.nanmax(err, axis=1)}
        )
        fig = time_figure("se_error", "|Vm| estimate − truth over buses", "[pu]", ctx.events_ms)
        add_series(fig, b, {"mean |error|": "mean", "max |error|": "max"}, "pu")
        s.plot(fig)
    chi = time_figure(
        "se_chi2", "Chi-square test: objective J and its limit", "J [-]", ctx.events_ms
    )
    b = bin_series(
        t,
        ctx.start_ms,
        {"objective": est.objective.to_numpy(), "limit": est.chi2_limit.to_numpy()},
    )
    add_series(chi, b, {"objective J": "objective", "chi-square limit": "limit"}, "")
    alarms = est[est.bad_data_detected]
    chi.scatter(
        ctx.t_ms(alarms.sim_time_s.to_numpy().astype(float)),
        alarms.objective.to_numpy(),
        marker="x",
        size=9,
        color="red",
        legend_label="bad data detected",
    )
    s.plot(chi)
    rows = [
        (label, format_figure(lookup(run.kpis, f"se.{key}"), None))
        for label, key in (
            ("bad data injected [steps]", "bad_data_injected"),
            ("detected [steps]", "bad_data_detected"),
            ("identified [steps]", "bad_data_identified"),
            ("false alarms [steps]", "false_alarms"),
        )
    ]
    s.text("<h3>Bad data</h3>" + kv_table(rows))
    if run.has("bad_data_removed"):
        removed = run.read("bad_data_removed")
        top = removed.element.astype(str).value_counts().head(20)
        s.text(kv_table([(k, str(v)) for k, v in top.items()], ("measurement removed", "steps")))
    return s


def forecasting(ctx: Context) -> Section | None:
    """Fan charts (10-90 %) against the actual for one feeder load and one PV target."""
    run = ctx.run
    if not run.has("forecast"):
        return None
    fc = run.read("forecast")
    s = Section("forecasting", "Forecasting")
    names = [str(n) for n in fc.element.cat.categories]
    for kind in ("load", "pv"):
        target = next((n for n in names if n.startswith(f"{kind}:feeder")), None)
        target = target or next((n for n in names if n.startswith(f"{kind}:")), None)
        if target is None:
            continue
        s.plot(_fan(ctx, fc[fc.element == target], target, f"forecast_{kind}"))
    rows = []
    for cadence in ("intraday", "day_ahead"):
        sec = lookup(run.kpis, f"forecast.{cadence}") or {}
        if sec:
            rows.append(
                (
                    cadence.replace("_", "-"),
                    format_figure(sec.get("load_mae_mw"), 4),
                    format_figure(sec.get("load_skill_vs_seasonal_naive"), 3),
                    format_figure(sec.get("pv_mae_mw"), 4),
                    format_figure(sec.get("pv_skill_vs_seasonal_naive"), 3),
                    format_figure(sec.get("picp80"), 3),
                )
            )
    if rows:
        header = ("cadence", "load MAE [MW]", "load skill", "PV MAE [MW]", "PV skill", "PICP 10-90")
        s.text("<h3>Skill (vs seasonal naive)</h3>" + kv_table(rows, header))
    return s


def _fan(ctx: Context, df: Any, target: str, name: str) -> Any:
    cadence = "intraday" if df["intraday_p50_mw"].notna().any() else "day_ahead"
    cols = {
        "p10": f"{cadence}_p10_mw",
        "p50": f"{cadence}_p50_mw",
        "p90": f"{cadence}_p90_mw",
        "actual": "actual_mw",
    }
    b = bin_series(
        df.sim_time_s.to_numpy(), ctx.start_ms, {k: df[v].to_numpy() for k, v in cols.items()}
    )
    fig = time_figure(name, f"{target}: {cadence} forecast, 10-90 % band", "P [MW]", ctx.events_ms)
    source = ColumnDataSource(
        {"t": b.t_ms, "lo": b.mean["p10"], "hi": b.mean["p90"], "m": b.mean["p50"]}
    )
    fig.varea(x="t", y1="lo", y2="hi", source=source, alpha=0.3, legend_label="10-90 %")
    fig.line(x="t", y="m", source=source, legend_label="median", line_width=1.5)
    add_series(fig, b, {"actual": "actual"}, "MW")
    return fig


def voltage(ctx: Context) -> Section | None:
    """Violation minutes per bus, the taps, the DERs' Q and P, and curtailment over time."""
    run = ctx.run
    if not run.kpis.get("voltage") or not run.has("bus"):
        return None
    from bokeh.plotting import figure

    s = Section("voltage", "Voltage control")
    vc = run.scenario.get("voltage_control") or {}
    low, high = vc.get("band_mv_pu") or (0.95, 1.05)
    step_s = float(lookup(run.kpis, "run.step_s") or 900)
    _, buses, vm = run.matrix("bus", "vm_pu")
    outside = run.matrix("bus", "energized")[2] & ((vm < low) | (vm > high))
    minutes = pd.Series(outside.sum(axis=0) * step_s / 60, index=buses).sort_values(ascending=False)
    shown = minutes.head(30)
    s.text(
        f'<p class="sub">Band {low}..{high} pu (voltage_control.band_mv_pu) on every bus; '
        f"total {minutes.sum():.0f} bus-minutes outside.</p>"
    )
    names = [str(n) for n in shown.index]
    bar = figure(
        name="vc_violation",
        title="Minutes outside the band per bus (top 30)",
        x_range=FactorRange(factors=names or ["none"]),
        height=300,
        sizing_mode="stretch_width",
        tools="save,reset",
    )
    bar.vbar(x=names or ["none"], top=shown.to_numpy() if names else [0.0], width=0.8)
    bar.xaxis.major_label_orientation = 1.0
    bar.yaxis.axis_label = "[min]"
    bar.add_tools(HoverTool(tooltips=[("bus", "@x"), ("minutes", "@top")]))
    s.plot(bar)
    if run.has("trafo"):
        tap_t, trafos, tap = run.matrix("trafo", "tap_pos")
        taps = time_figure("vc_taps", "Transformer tap positions", "tap [-]", ctx.events_ms)
        b = bin_series(tap_t, ctx.start_ms, {t: tap[:, i] for i, t in enumerate(trafos[:6])})
        add_series(taps, b, {t: t for t in trafos[:6]}, "")
        s.plot(taps)
    if run.has("sgen"):
        sgen_t, _, p = run.matrix("sgen", "p_mw")
        q = run.matrix("sgen", "q_mvar")[2]
        der = time_figure("vc_der", "DER total P and Q (as served)", "[MW] / [MVAr]", ctx.events_ms)
        b = bin_series(sgen_t, ctx.start_ms, {"p": p.sum(axis=1), "q": q.sum(axis=1)})
        add_series(der, b, {"P [MW]": "p", "Q [MVAr]": "q"}, "")
        s.plot(der)
        s.plot(_curtailment(ctx, sgen_t, p.sum(axis=1)))
    rows = [
        ("curtailed energy", format_figure(lookup(run.kpis, "voltage.curtailed_mwh"), 3), "MWh"),
        ("tap changes", format_figure(lookup(run.kpis, "voltage.tap_changes"), None), ""),
        ("|Q| energy", format_figure(lookup(run.kpis, "voltage.q_abs_mvarh"), 1), "MVArh"),
    ]
    s.text(kv_table(rows))
    return s


def _curtailment(ctx: Context, sgen_t: np.ndarray, p_mw: np.ndarray) -> Any:
    """Curtailed DER power over time: available minus served P, summed over the sgens [MW]."""
    available = ctx.run.matrix("sgen", "available_p_mw")[2].sum(axis=1)
    curtailed = np.clip(available - p_mw, 0.0, None)  # as voltage.curtailed_mwh counts it
    fig = time_figure(
        "vc_curtailment",
        "DER curtailment: available minus served P, over all DERs",
        "[MW]",
        ctx.events_ms,
    )
    b = bin_series(sgen_t, ctx.start_ms, {"curtailed": curtailed})
    add_series(fig, b, {"curtailed P": "curtailed"}, "MW")
    return fig


def reconfiguration(ctx: Context) -> Section | None:
    """Losses against the held starting configuration, and when switches moved."""
    run = ctx.run
    if not run.has("reconfig"):
        return None
    s = Section("reconfiguration", "Reconfiguration")
    rc = run.read("reconfig")
    b = bin_series(
        rc.sim_time_s.to_numpy(),
        ctx.start_ms,
        {"ctl": rc.losses_mw.to_numpy(), "static": rc.losses_static_mw.to_numpy()},
    )
    fig = time_figure(
        "rc_losses", "Losses: controller vs held configuration", "[MW]", ctx.events_ms
    )
    add_series(fig, b, {"with controller": "ctl", "starting configuration": "static"}, "MW")
    s.plot(fig)
    s.plot(switch_timeline(ctx, "rc_switches", "Switch operations", classify=False))
    if run.has("reconfig_plans"):
        plans = run.read("reconfig_plans")
        rows = [
            (str(t)[:16], str(tr), str(st), format_figure(o, 0))
            for t, tr, st, o in zip(
                plans.time, plans.trigger, plans.status, plans.operations, strict=True
            )
        ][:50]
        s.text("<h3>Plans</h3>" + kv_table(rows, ("time (UTC)", "trigger", "status", "operations")))
    return s


def faults(ctx: Context) -> Section | None:
    """Fault, trip, isolation, restoration and repair on one time line; supply lost."""
    run = ctx.run
    ev = run.read("events") if run.has("events") else None
    has_fault = ev is not None and ev.type.isin(FAULT_EVENTS).any()
    if not run.kpis.get("reliability") and not has_fault:
        return None
    s = Section("faults", "Faults and FLISR")
    s.text(
        '<p class="sub">Timeline: one row per switch that moved, a marker per switching, '
        "told apart from the recorded commands and events: trip (protection opens the "
        "feeder breaker at the fault), isolation (FLISR opens the faulted section), "
        "reclose (FLISR, the protection after a temporary fault, or at the repair), "
        "restoration (FLISR closes a tie), return to normal (after the repair); the top "
        "row and the dashed lines mark the events (fault, repair). Hover a marker for its "
        "time and switch.</p>"
    )
    s.plot(switch_timeline(ctx, "fl_timeline", "Timeline of switchings", classify=True))
    g = run.read("grid")
    lost = (g.load_demand_p_mw - g.load_p_mw).clip(lower=0).to_numpy()
    b = bin_series(
        g.sim_time_s.to_numpy(),
        ctx.start_ms,
        {"lost": lost, "dead": g.deenergized_buses.to_numpy()},
    )
    fig = time_figure(
        "fl_not_supplied", "Demand not supplied", "[MW]", ctx.events_ms, x_range=ctx.x_range
    )
    add_series(fig, b, {"demand not supplied [MW]": "lost"}, "MW")
    s.plot(fig)
    rows = []
    for label, key, digits, unit in (
        ("customers interrupted", "reliability.customers_interrupted", None, ""),
        ("customer minutes lost", "reliability.customer_minutes_lost", 0, "min"),
        ("energy not supplied", "reliability.ens_mwh", 3, "MWh"),
        ("SAIDI", "reliability.saidi_min", 3, "min"),
        ("faults located correctly", "flisr.faults_located_correctly", None, ""),
        ("restored share", "flisr.restored_share", 3, ""),
        ("restoration time, mean", "flisr.restoration_time_s_mean", 0, "s"),
    ):
        value = lookup(run.kpis, key)
        if value is not None:
            rows.append((label, format_figure(value, digits), unit))
    if rows:
        s.text(kv_table(rows))
    if ev is not None:
        kinds = ev[ev.type.isin((*FAULT_EVENTS, "sgen_trip", "comms_loss"))]
        items = "".join(
            f"<li>{html.escape(str(t)[:16])} UTC: {html.escape(str(ty))} "
            f"{html.escape(str(ta))}</li>"
            for t, ty, ta in zip(kinds.time, kinds.type, kinds.target, strict=True)
        )
        if items:
            s.text(f"<ul>{items}</ul>")
    return s
