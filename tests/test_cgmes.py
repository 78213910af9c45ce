"""CGMES import against pypowsybl's own AC load flow on the same generated files.

pypowsybl builds the networks (IEEE 9-bus, IEEE 57-bus, the Eurostag tutorial
example) and exports them as CGMES 2.4.15 and as CGMES 3.0;
gridtwin reads each zip with :func:`gridtwin.grid.cgmes.read_cgmes`, solves
it with its pandapower engine and compares every bus voltage with pypowsybl's
load flow of the same zip, run with the same slack and the same physics
(no distributed slack, no reactive limits, no regulating transformers).
Buses are matched through the CGMES terminals both sides keep (pypowsybl
reads a 3.0 export node-breaker, with bus ids of its own).

Tolerance 1e-6 pu and 1e-4 degree: both solvers converge to mismatches below
1e-9 pu, so anything above the tolerance is a modelling difference of the
conversion, not solver noise.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gridtwin.errors import InputError
from gridtwin.grid.cgmes import read_cgmes
from gridtwin.grid.factory import make_engine
from gridtwin.grid.sources import normalize_net
from gridtwin.grid.state import GridState

pypowsybl = pytest.importorskip("pypowsybl")

CASES = {
    "ieee9": ("create_ieee9", "2.4.15"),
    "ieee57": ("create_ieee57", "2.4.15"),
    "eurostag": ("create_eurostag_tutorial_example1_network", "2.4.15"),
    "ieee9_cgmes3": ("create_ieee9", "3.0"),
    "ieee57_cgmes3": ("create_ieee57", "3.0"),
    "eurostag_cgmes3": ("create_eurostag_tutorial_example1_network", "3.0"),
}
VM_TOL_PU = 1e-6
VA_TOL_DEGREE = 1e-4


def _export(tmp: Path, name: str, func: str, version: str) -> Path:
    import pypowsybl.network as pn

    net = getattr(pn, func)()
    params = {"iidm.export.cgmes.cim-version": "100"} if version == "3.0" else {}
    out = tmp / f"{name}.zip"
    net.save(str(out), format="CGMES", parameters=params)
    return out


@pytest.fixture(scope="module")
def zips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("cgmes")
    return {name: _export(tmp, name, func, v) for name, (func, v) in CASES.items()}


def _terminal_buses(n: Any) -> dict[str, str]:
    """pypowsybl's bus (bus view) at each CGMES terminal, from the terminal aliases."""
    sides: dict[tuple[str, int], str] = {}
    for frame in (n.get_lines(), n.get_2_windings_transformers()):
        for eid, row in frame.iterrows():
            sides[(str(eid), 1)] = str(row["bus1_id"])
            sides[(str(eid), 2)] = str(row["bus2_id"])
    for frame in (n.get_loads(), n.get_generators(), n.get_shunt_compensators()):
        for eid, row in frame.iterrows():
            sides[(str(eid), 1)] = str(row["bus_id"])
    aliases = n.get_aliases()
    out = {}
    for eid, row in aliases.iterrows():
        kind = str(row["alias_type"])
        if kind.startswith("CGMES.Terminal") and (str(eid), int(kind[-1])) in sides:
            out[str(row["alias"])] = sides[(str(eid), int(kind[-1]))]
    return out


_TERMINALS = {
    "line": (("terminal_from", "from_bus"), ("terminal_to", "to_bus")),
    "trafo": (("terminal_hv", "hv_bus"), ("terminal_lv", "lv_bus")),
    "load": (("terminal", "bus"),),
    "gen": (("terminal", "bus"),),
    "shunt": (("terminal", "bus"),),
}


def _bus_map(net: Any, n: Any) -> dict[int, str]:
    """Each pandapower bus to pypowsybl's bus, through the CGMES terminals both keep."""
    term_bus = _terminal_buses(n)
    out: dict[int, str] = {}
    for table, pairs in _TERMINALS.items():
        frame = net[table]
        for term_col, bus_col in pairs:
            if term_col not in frame:
                continue
            for term, bus in zip(frame[term_col], frame[bus_col], strict=True):
                ref = term_bus[_origin(str(term))]
                if not ref:  # a disconnected terminal is on no bus in pypowsybl
                    continue
                assert out.setdefault(int(bus), ref) == ref  # one pypowsybl bus per bus
    return out


def _pypowsybl_voltages(zip_path: Path, net: Any) -> tuple[np.ndarray, np.ndarray]:
    """pypowsybl's AC load flow of the zip: vm (pu) and va (degree) in ``net.bus`` order."""
    import pypowsybl.loadflow as lf
    import pypowsybl.network as pn

    n = pn.load(str(zip_path))
    bus_map = _bus_map(net, n)
    buses = n.get_buses()
    assert sorted(bus_map) == sorted(net.bus.index)
    assert sorted(set(bus_map.values())) == sorted(buses.index)  # a one-to-one match
    slack = bus_map[int(net.ext_grid["bus"].iloc[0])]
    params = lf.Parameters(
        distributed_slack=False,
        use_reactive_limits=False,
        transformer_voltage_control_on=False,
        phase_shifter_regulation_on=False,
        shunt_compensator_voltage_control_on=False,
        provider_parameters={
            "slackBusSelectionMode": "NAME",
            "slackBusesIds": slack,
            "newtonRaphsonConvEpsPerEq": "1e-10",
        },
    )
    result = lf.run_ac(n, params)
    assert str(result[0].status).endswith("CONVERGED")
    buses = n.get_buses()
    nominal = n.get_voltage_levels()["nominal_v"]
    ids = [bus_map[int(b)] for b in net.bus.index]
    vm = np.array([buses.loc[i, "v_mag"] / nominal[buses.loc[i, "voltage_level_id"]] for i in ids])
    va = np.array([buses.loc[i, "v_angle"] for i in ids])
    return vm, va


def _origin(value: str) -> str:
    return value[1:] if value.startswith("_") else value


def _assert_same_voltages(zip_path: Path, net: Any) -> np.ndarray:
    engine = make_engine("pandapower", net)
    result = engine.solve(GridState.from_net(net))
    assert result.converged
    vm_ref, va_ref = _pypowsybl_voltages(zip_path, net)
    assert np.abs(result.bus_vm_pu - vm_ref).max() < VM_TOL_PU
    assert np.abs(result.bus_va_degree - va_ref).max() < VA_TOL_DEGREE
    return vm_ref


@pytest.mark.parametrize("case", list(CASES))
def test_bus_voltages_match_pypowsybl(zips: dict[str, Path], case: str) -> None:
    net = normalize_net(read_cgmes(zips[case]), engine="pandapower")  # ieee57: vk > 100 %
    for table in ("line", "trafo", "load", "gen"):  # CGMES 3.0: inService filled, not dropped
        assert net[table]["in_service"].all(), table
    vm_ref = _assert_same_voltages(zips[case], net)
    assert np.ptp(vm_ref) > 1e-3  # not a trivially flat grid


@pytest.mark.parametrize("version", ["2.4.15", "3.0"])
def test_disconnected_line_stays_out(tmp_path: Path, version: str) -> None:
    """A line pypowsybl disconnected (terminals, and SvStatus in 3.0) is out of service."""
    import pypowsybl.network as pn

    source = pn.create_ieee57()
    line_id = str(source.get_lines().index[5])
    source.disconnect(line_id)
    params = {"iidm.export.cgmes.cim-version": "100"} if version == "3.0" else {}
    zip_path = tmp_path / "ieee57_open.zip"
    source.save(str(zip_path), format="CGMES", parameters=params)
    net = normalize_net(read_cgmes(zip_path), engine="pandapower")
    out = net.line[~net.line["in_service"].astype(bool)]
    assert [_origin(str(o)) for o in out["origin_id"]] == [line_id]
    _assert_same_voltages(zip_path, net)


def test_malformed_zip_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(InputError) as err:
        read_cgmes(bad)
    assert str(err.value).startswith(f"{bad}: not a zip file")
    assert "\n" not in str(err.value)


def test_unsupported_profile_is_one_line(zips: dict[str, Path], tmp_path: Path) -> None:
    with_dy = tmp_path / "with_dy.zip"
    with zipfile.ZipFile(zips["ieee9"]) as src, zipfile.ZipFile(with_dy, "w") as dst:
        for member in src.namelist():
            dst.writestr(member, src.read(member))
        dst.writestr(
            "grid_DY.xml",
            '<?xml version="1.0"?><rdf:RDF xmlns:md="http://iec.ch/TC57/61970-552/ModelDescription/1#">'
            "<md:FullModel><md:Model.profile>http://entsoe.eu/CIM/Dynamics/3/1</md:Model.profile>"
            "</md:FullModel></rdf:RDF>",
        )
    with pytest.raises(InputError) as err:
        read_cgmes(with_dy)
    assert str(err.value) == (
        f"{with_dy}: grid_DY.xml: profile DY is not supported; "
        "expected one of EQ, SSH, TP, SV, EQ_BD, TP_BD"
    )


def test_unsupported_class_is_one_line(tmp_path: Path) -> None:
    zip_path = _export(tmp_path, "hvdc", "create_four_substations_node_breaker_network", "2.4.15")
    with pytest.raises(InputError) as err:
        read_cgmes(zip_path)
    assert "class VsConverter is not supported" in str(err.value)
    assert str(err.value).startswith(f"{zip_path}: hvdc_EQ.xml: ")


def test_scenario_grid_cgmes(zips: dict[str, Path], tmp_path: Path) -> None:
    """`grid: {cgmes: ...}` in a scenario, relative to the file; a broken zip stops `validate`."""
    (tmp_path / "nets").mkdir()
    (tmp_path / "nets" / "ieee9.zip").write_bytes(zips["ieee9"].read_bytes())
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: cgmes\ntime: {start: '2024-01-01T00:00:00+00:00', duration: 1h, step: 1h}\n"
        "grid: {cgmes: nets/ieee9.zip, engine: pandapower}\n",
        encoding="utf-8",
    )
    from gridtwin.grid.sources import load_net
    from gridtwin.scenario import load_scenario

    spec = load_scenario(scenario).grid
    net = load_net(spec, source=str(scenario))
    assert len(net.bus) == 9
    broken = tmp_path / "nets" / "ieee9.zip"
    broken.write_bytes(b"nope")
    proc = subprocess.run(
        [sys.executable, "-m", "gridtwin", "validate", str(scenario)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: ")
    assert "not a zip file" in proc.stderr and "Traceback" not in proc.stderr
