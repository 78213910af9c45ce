"""The gridtwin dashboards: the testbed's own (overview, voltages, control actions) and
the functions' (:func:`boards` gathers them from :mod:`gridtwin.declarations`).

Each builder returns one dashboard as a dict (Grafana JSON model). Series
are simulated quantities with units in their field names (``vm_pu``,
``loading_percent``, ``p_mw``); the panels carry the matching Grafana unit.
The control board holds the taps, DER reactive power and switch states; voltage
control and reconfiguration add their panels to it (:class:`BoardPart`).
"""

from __future__ import annotations

from collections.abc import Callable

from gridtwin.dashboards.panels import (
    BUS,
    FEEDER,
    LINE,
    G,
    dashboard,
    heatmap,
    query,
    run_filter,
    stat,
    state_timeline,
    timeseries,
)
from gridtwin.dashboards.panels import bus_var as _bus_var
from gridtwin.dashboards.panels import feeder_var as _feeder_var
from gridtwin.dashboards.panels import line_var as _line_var
from gridtwin.dashboards.panels import run_var as _run_var
from gridtwin.declarations import BoardPart

__all__ = [
    "boards",
    "control",
    "overview",
    "parts_of",
    "voltages",
]


def _kpi(field: str, section: str, label: str) -> dict:
    return query(
        f'SELECT last("{field}") AS "{label}" FROM "kpi" '
        f'WHERE "run_id" =~ /^$run$/ AND "section" = \'{section}\'',
        fmt="table",
    )


def overview() -> dict:
    """Grid overview: voltage envelope, line loading, losses, generation and consumption."""
    panels = [
        stat("Energy losses", [_kpi("losses_mwh", "grid", "losses")], (0, 0, 6, 4), unit="MWh"),
        stat(
            "Energy consumed",
            [_kpi("energy_consumed_mwh", "grid", "consumed")],
            (6, 0, 6, 4),
            unit="MWh",
        ),
        stat(
            "Energy generated",
            [_kpi("energy_generated_mwh", "grid", "generated")],
            (12, 0, 6, 4),
            unit="MWh",
        ),
        stat(
            "Power flows not converged",
            [_kpi("pf_nonconverged_steps", "grid", "steps")],
            (18, 0, 6, 4),
            unit="none",
        ),
        timeseries(
            "Voltage envelope",
            [
                query(
                    'SELECT min("vm_min_pu") AS "min", max("vm_max_pu") AS "max" FROM "grid" '
                    f"{run_filter()} {G} fill(none)"
                ),
                query(
                    'SELECT mean("vm_pu") AS "mean" FROM "bus" '
                    f'{run_filter(""""energized" = true""")} {G} fill(none)',
                    ref="B",
                ),
            ],
            (0, 4, 12, 9),
            unit="none",
            description="Lowest, highest and mean voltage of the energized buses [pu].",
            overrides=[
                {
                    "matcher": {"id": "byName", "options": "max"},
                    "properties": [{"id": "custom.fillBelowTo", "value": "min"}],
                }
            ],
        ),
        timeseries(
            "Line loading, highest",
            [
                query(
                    'SELECT max("line_loading_max_percent") AS "grid" FROM "grid" '
                    f"{run_filter()} {G} fill(none)"
                ),
                query(
                    'SELECT max("loading_percent") FROM "line" '
                    f'{run_filter(FEEDER)} {G}, "feeder" fill(none)',
                    ref="B",
                    alias="$tag_feeder",
                ),
            ],
            (12, 4, 12, 9),
            unit="percent",
            description="Highest line loading in the grid and per feeder [%].",
        ),
        timeseries(
            "Losses",
            [
                query(
                    'SELECT mean("losses_mw") AS "losses" FROM "grid" '
                    f"{run_filter()} {G} fill(none)"
                )
            ],
            (0, 13, 12, 8),
            unit="megawatt",
            description="Active power losses [MW].",
        ),
        timeseries(
            "Generation and consumption",
            [
                query(
                    'SELECT mean("load_p_mw") AS "consumption", '
                    'mean("load_demand_p_mw") AS "demand", mean("sgen_p_mw") AS "generation", '
                    'mean("ext_grid_p_mw") AS "import" FROM "grid" '
                    f"{run_filter()} {G} fill(none)"
                )
            ],
            (12, 13, 12, 8),
            unit="megawatt",
            description="Served load, demand, distributed generation and import from the "
            "external grid [MW].",
        ),
        timeseries(
            "Mean voltage per feeder",
            [
                query(
                    'SELECT mean("vm_pu") FROM "bus" '
                    f'{run_filter(FEEDER)} {G}, "feeder" fill(none)',
                    alias="$tag_feeder",
                )
            ],
            (0, 21, 24, 8),
            unit="none",
            description="Mean bus voltage of each feeder [pu].",
        ),
    ]
    return dashboard(
        "gridtwin-overview",
        "gridtwin: grid overview",
        "Voltage envelope, line loading, losses, generation and consumption of one run.",
        panels,
        [_run_var(), _feeder_var()],
    )


def voltages() -> dict:
    """Voltages per bus: time series and a bus-by-time heat map; line loading per line."""
    panels = [
        timeseries(
            "Bus voltage",
            [
                query(
                    f'SELECT mean("vm_pu") FROM "bus" {run_filter(FEEDER, BUS)} '
                    f'{G}, "element" fill(none)',
                    alias="$tag_element",
                )
            ],
            (0, 0, 24, 9),
            unit="none",
            description="Voltage magnitude of the chosen buses [pu].",
        ),
        heatmap(
            "Bus voltage, bus by time",
            query(
                f'SELECT mean("vm_pu") FROM "bus" {run_filter(FEEDER)} {G}, "element" fill(none)',
                alias="$tag_element",
            ),
            (0, 9, 24, 12),
            unit="none",
            description="One row per bus of the chosen feeders; colour = voltage [pu].",
        ),
        timeseries(
            "Voltage angle",
            [
                query(
                    f'SELECT mean("va_degree") FROM "bus" {run_filter(FEEDER, BUS)} '
                    f'{G}, "element" fill(none)',
                    alias="$tag_element",
                )
            ],
            (0, 21, 12, 8),
            unit="degree",
            description="Voltage angle of the chosen buses [degree].",
        ),
        timeseries(
            "Line loading",
            [
                query(
                    f'SELECT max("loading_percent") FROM "line" {run_filter(FEEDER, LINE)} '
                    f'{G}, "element" fill(none)',
                    alias="$tag_element",
                )
            ],
            (12, 21, 12, 8),
            unit="percent",
            description="Loading of the chosen lines [%].",
        ),
    ]
    return dashboard(
        "gridtwin-voltages",
        "gridtwin: voltages per bus",
        "Bus voltages over time, a bus-by-time heat map and line loadings.",
        panels,
        [_run_var(), _feeder_var(), _bus_var(), _line_var()],
    )


def _taps_and_q() -> list[dict]:
    return [
        timeseries(
            "Transformer tap position",
            [
                query(
                    f'SELECT last("tap_pos") FROM "trafo" {run_filter()} '
                    f'{G}, "element" fill(previous)',
                    alias="$tag_element",
                )
            ],
            (0, 0, 12, 8),
            unit="none",
            interpolation="stepAfter",
        ),
        timeseries(
            "DER reactive power",
            [
                query(
                    f'SELECT mean("q_mvar") FROM "sgen" {run_filter(FEEDER)} '
                    f'{G}, "element" fill(none)',
                    alias="$tag_element",
                )
            ],
            (12, 0, 12, 8),
            unit="none",
            description="Reactive power of each generator of the chosen feeders [MVAr].",
        ),
    ]


def _switch_states() -> list[dict]:
    return [
        state_timeline(
            "Switch states",
            [
                query(
                    f'SELECT last("closed") FROM "switch" {run_filter(FEEDER)} '
                    f'{G}, "element" fill(previous)',
                    alias="$tag_element",
                )
            ],
            (12, 8, 12, 16),
        )
    ]


_CONTROL_PARTS = (
    BoardPart("control", 0, _taps_and_q),
    BoardPart("control", 30, _switch_states),
)
"""The control board's own panels; voltage control and reconfiguration add theirs."""


def parts_of(board: str, own: tuple[BoardPart, ...] = ()) -> list[dict]:
    """The panels of ``board``: ``own`` and the functions' (their declarations), in order."""
    from gridtwin.declarations import declarations

    parts = [*own, *(p for d in declarations() for p in d.panels if p.board == board)]
    return [panel for part in sorted(parts, key=lambda p: p.order) for panel in part.panels()]


def control() -> dict:
    """Control actions: taps, DER reactive power, curtailment, switch states, reconfiguration."""
    return dashboard(
        "gridtwin-control",
        "gridtwin: control actions",
        "Tap positions, DER reactive power, curtailment, switch states and switch reconfiguration.",
        parts_of("control", _CONTROL_PARTS),
        [_run_var(), _feeder_var()],
    )


_OWN_BOARDS: dict[str, tuple[int, Callable[[], dict]]] = {
    "overview": (0, overview),
    "voltages": (10, voltages),
    "control": (90, control),
}


def boards() -> dict[str, Callable[[], dict]]:
    """File stem -> dashboard builder: the testbed's boards and the functions' own, in order."""
    from gridtwin.declarations import declarations

    found = dict(_OWN_BOARDS)
    for declaration in declarations():
        found.update(declaration.boards)
    return {name: make for name, (_, make) in sorted(found.items(), key=lambda kv: kv[1][0])}
