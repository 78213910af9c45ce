"""The run summary as sections of rows (pure; no heavy imports).

One description of the summary serves the end of ``gridtwin run``, ``gridtwin
show``, the HTML report and ``gridtwin compare``: each :class:`Row` names
the ``kpis.json`` keys it shows, so a comparison can subtract the numbers
behind a row instead of parsing text. A row whose figures are all absent is
left out; a single absent figure in a row shows as ``n/a``.

This module holds the testbed's own sections (run, grid, reliability, real
time, process bus); each built-in function declares its section in
:mod:`gridtwin.declarations`, a user's function carries its own in
``kpis.json`` (``summary``); :func:`declared_sections` gathers them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridtwin.declarations import (
    SUMMARY_KEY,
    Kpis,
    Row,
    SummarySection,
    format_figure,
    lookup,
)

__all__ = [
    "Row",
    "Section",
    "SummarySection",
    "all_sections",
    "format_figure",
    "lookup",
    "summary_sections",
]


@dataclass(frozen=True, slots=True)
class Section:
    """A titled group of rows as shown (``run``, ``grid``, ``state estimation`` ...)."""

    title: str
    rows: tuple[Row, ...]


R = Row
_SECTIONS: tuple[SummarySection, ...] = (
    SummarySection(
        "run",
        None,
        (
            R("steps", ("run.steps",), "", None),
            R("wall time", ("run.wall_s",), "s", 2),
            R("simulated time", ("run.sim_seconds",), "h", 1, 1 / 3600),
        ),
        0,
    ),
    SummarySection(
        "grid",
        None,
        (
            R("power flows not converged", ("grid.pf_nonconverged_steps",), "steps"),
            R("min bus voltage", ("grid.vm_min_pu",), "pu", 4),
            R("max bus voltage", ("grid.vm_max_pu",), "pu", 4),
            R("max line loading", ("grid.line_loading_max_percent",), "%", 1),
            R("max transformer loading", ("grid.trafo_loading_max_percent",), "%", 1),
            R("energy losses", ("grid.losses_mwh",), "MWh", 3),
            R("energy consumed", ("grid.energy_consumed_mwh",), "MWh", 3),
            R("energy generated", ("grid.energy_generated_mwh",), "MWh", 3),
            R("energy imported", ("grid.energy_imported_mwh",), "MWh", 3),
            R("energy not supplied", ("grid.energy_not_supplied_mwh",), "MWh", 3),
        ),
        10,
    ),
    SummarySection(
        "reliability",
        "reliability",
        (
            R("energy not supplied (reliability)", ("reliability.ens_mwh",), "MWh", 3),
            R("customers interrupted", ("reliability.customers_interrupted",)),
            R("customer minutes lost", ("reliability.customer_minutes_lost",), "min", 0),
            R("SAIDI / SAIFI", ("reliability.saidi_min", "reliability.saifi"), "min / -", 3),
        ),
        60,
    ),
    SummarySection(
        "real time",
        "realtime",
        (
            R("step in wall time", ("realtime.step_ms",), "ms", 0),
            R(
                "lateness p50 / p99 / max",
                (
                    "realtime.lateness_ms_p50",
                    "realtime.lateness_ms_p99",
                    "realtime.lateness_ms_max",
                ),
                "ms",
                2,
            ),
            R("overruns (later than one step)", ("realtime.overruns",), "steps"),
            R("skipped function steps", ("realtime.skipped_steps",), "steps"),
        ),
        80,
    ),
    SummarySection(
        "process bus (MQTT)",
        "bus",
        (
            R("messages published / dropped", ("bus.published", "bus.dropped"), "", None),
            R("commands accepted / rejected", ("bus.accepted", "bus.rejected"), "", None),
            R("reconnections", ("bus.reconnects",)),
            R(
                "command round trip p50 / p99",
                ("bus.command_roundtrip_ms_p50", "bus.command_roundtrip_ms_p99"),
                "ms",
                1,
            ),
        ),
        90,
    ),
)


def declared_sections(kpis: Kpis | None = None) -> list[SummarySection]:
    """Every summary section: the testbed's, the built-in functions' and ``kpis``'s own.

    The built-in functions declare theirs (:func:`gridtwin.registry.declarations`);
    the functions of a user carry theirs in ``kpis[SUMMARY_KEY]``.
    """
    from gridtwin.declarations import declarations

    out = list(_SECTIONS)
    for declaration in declarations():
        out += declaration.summary
    stored = (kpis or {}).get(SUMMARY_KEY)
    if isinstance(stored, list):
        out += [SummarySection.from_dict(d) for d in stored if isinstance(d, dict)]
    return sorted(out, key=lambda s: s.order)  # stable: equal orders keep their places


def summary_sections(kpis: Kpis) -> list[Section]:
    """The sections of the summary that ``kpis`` (one run's kpis.json) has figures for.

    Parameters
    ----------
    kpis : dict
        The run's ``kpis.json`` as loaded.

    Returns
    -------
    list of Section
        In a fixed order; a section whose key is missing from ``kpis`` is left
        out, and so is a function's row none of whose figures is present (the
        ``run`` and ``grid`` rows are always there, ``n/a`` where absent).
    """
    out: list[Section] = []
    for declared in declared_sections(kpis):
        rows = declared.shown(kpis)
        if rows:
            out.append(Section(declared.title, rows))
    return out


def all_sections(kpis_list: list[Kpis]) -> list[Section]:
    """Sections of several runs at once: a row is kept if any run has a figure for it."""
    titles: dict[str, list[Row]] = {}
    order: dict[str, int] = {}
    for kpis in kpis_list:
        for declared in declared_sections(kpis):
            order.setdefault(declared.title, declared.order)
        for section in summary_sections(kpis):
            rows = titles.setdefault(section.title, [])
            rows += [r for r in section.rows if r not in rows]
    ordered = sorted(titles, key=lambda t: order[t])
    return [Section(t, tuple(titles[t])) for t in ordered]
