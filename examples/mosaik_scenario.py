"""A stock mosaik scenario with gridtwin's grid as a simulator of its own.

No gridtwin world, no scenario file: a plain mosaik script as a mosaik user
writes it. mosaik starts the grid simulator as a separate process with its
``cmd:`` starter (``python -m gridtwin.simulators.grid_sim %(addr)s``; mosaik
puts the interpreter running this script in for ``%(python)s``) and creates
the ``Grid`` from a SimBench code. mosaik-csv replays a household load profile
(``data/household_load.csv``: one SimBench household profile, 15 min) into
the first load of the grid; mosaik-pv turns a direct normal irradiance series
(``data/dni.csv``: pvlib's Ineichen clear-sky DNI at 52.3° N, 9.7° E) into PV
power, fed in at that load's bus, which the script finds in mosaik's entity
graph. mosaik-csv's ``CSVWriter`` records every bus voltage, the load's powers
and the PV power to a CSV file; the script prints the voltage range.

Run it from the repository::

    python examples/mosaik_scenario.py --steps 8 --out voltages.csv

    ┌─────────────┐ P[MW], Q[MVar]  ┌───────────────────────────┐
    │ CSV (load)  │ ──────────────► │ Load load-0  (Grid, cmd:) │
    └─────────────┘                 │        │ rel              │
    ┌─────────┐ DNI ┌────┐ P[MW]    │        ▼                  │  Vm[pu], P[MW]  ┌───────────┐
    │ CSV DNI │ ──► │ PV │ ───────► │ Bus (P_gen[MW])           │ ──────────────► │ CSVWriter │
    └─────────┘     └────┘          └───────────────────────────┘                 └───────────┘
"""

from __future__ import annotations

import argparse
from pathlib import Path

import mosaik
import pandas as pd

HERE = Path(__file__).resolve().parent
STEP_S = 900  # the profiles' resolution [s]

SIM_CONFIG = {
    "Grid": {"cmd": "%(python)s -m gridtwin.simulators.grid_sim %(addr)s"},
    "CSV": {"python": "mosaik_csv:CSV"},
    "PV": {"python": "mosaik_components.pv.pvsimulator:PVSimulator"},
    "Writer": {"python": "mosaik_csv_writer:CSVWriter"},
}


def bus_of(world: mosaik.World, entity: mosaik.scenario.Entity) -> str:
    """The full id of the bus ``entity`` is related to in the entity graph."""
    graph = world.entity_graph
    buses = [n for n in graph.neighbors(entity.full_id) if graph.nodes[n]["type"] == "Bus"]
    return buses[0]


def run(grid_code: str, start: str, steps: int, out: Path, pv_area_m2: float) -> pd.DataFrame:
    """Run the scenario for ``steps`` steps of 15 min from ``start``; record to ``out``.

    Returns
    -------
    DataFrame
        The recorded table (one row per step; bus voltages [pu], powers [MW, MVAr]).
    """
    world = mosaik.World(SIM_CONFIG, mosaik_config={"start_timeout": 120}, skip_greetings=True)
    try:
        grid = world.start("Grid", step_size=STEP_S).Grid(simbench=grid_code)
        by_type: dict[str, list] = {}
        for child in grid.children:
            by_type.setdefault(child.type, []).append(child)
        load = by_type["Load"][0]
        bus_id = bus_of(world, load)
        bus = next(b for b in by_type["Bus"] if b.full_id == bus_id)

        household = world.start(
            "CSV", sim_start=start, datafile=str(HERE / "data/household_load.csv")
        ).Household()
        dni = world.start("CSV", sim_start=start, datafile=str(HERE / "data/dni.csv")).DNI()
        pv = world.start("PV", start_date=start, step_size=STEP_S).PV(
            latitude=52.3, area=pv_area_m2, efficiency=0.2, el_tilt=30.0, az_tilt=0.0
        )
        writer = world.start("Writer", start_date=start, output_file=str(out)).CSVWriter()

        world.connect(household, load, "P[MW]", "Q[MVar]")
        world.connect(dni, pv, "DNI[W/m2]")
        world.connect(pv, bus, ("P[MW]", "P_gen[MW]"))
        for each in by_type["Bus"]:
            world.connect(each, writer, "Vm[pu]")
        world.connect(load, writer, "P[MW]", "Q[MVar]")
        world.connect(pv, writer, "P[MW]")
        world.run(until=steps * STEP_S)
    finally:
        world.shutdown()
    return pd.read_csv(out, index_col=0)


def main() -> None:
    """Command line of the example."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", default="1-LV-rural1--0-sw", help="SimBench code")
    parser.add_argument("--start", default="2016-06-01 10:00:00", help="start (UTC)")
    parser.add_argument("--steps", type=int, default=8, help="steps of 15 min")
    parser.add_argument("--out", type=Path, default=Path("voltages.csv"), help="CSV to write")
    parser.add_argument("--pv-area", type=float, default=60.0, help="PV panel area [m2]")
    args = parser.parse_args()
    table = run(args.grid, args.start, args.steps, args.out, args.pv_area)
    vm = table[[c for c in table.columns if c.endswith("Vm[pu]")]]
    print(f"{len(table)} steps recorded to {args.out}")
    print(f"bus voltages: min {vm.min().min():.4f} pu, max {vm.max().max():.4f} pu")


if __name__ == "__main__":
    main()
