"""CGMES import against pypowsybl's own AC load flow on the same generated files.

pypowsybl builds the networks (IEEE 9-bus, IEEE 57-bus, the Eurostag tutorial
example) and exports them as CGMES 2.4.15;
gridtwin reads each zip with :func:`gridtwin.grid.cgmes.read_cgmes`, solves
it with its pandapower engine and compares every bus voltage with pypowsybl's
load flow of the same zip, run with the same slack and the same physics
(no distributed slack, no reactive limits, no regulating transformers).

Tolerance 1e-6 pu and 1e-4 degree: both solvers converge to mismatches below
1e-9 pu, so anything above the tolerance is a modelling difference of the
conversion, not solver noise.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

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


def _pypowsybl_voltages(zip_path: Path, slack_origin: str) -> dict[str, tuple[float, float]]:
    import pypowsybl.loadflow as lf
    import pypowsybl.network as pn

    n = pn.load(str(zip_path))
    bbv = n.get_bus_breaker_view_buses()
    params = lf.Parameters(
        distributed_slack=False,
        use_reactive_limits=False,
        transformer_voltage_control_on=False,
        phase_shifter_regulation_on=False,
        shunt_compensator_voltage_control_on=False,
        provider_parameters={
            "slackBusSelectionMode": "NAME",
            "slackBusesIds": str(bbv.loc[slack_origin, "bus_id"]),
            "newtonRaphsonConvEpsPerEq": "1e-10",
        },
    )
    result = lf.run_ac(n, params)
    assert str(result[0].status).endswith("CONVERGED")
    buses = n.get_buses()
    nominal = n.get_voltage_levels()["nominal_v"]
    out = {}
    for node, row in bbv.iterrows():
        b = buses.loc[row["bus_id"]]
        out[str(node)] = (b["v_mag"] / nominal[b["voltage_level_id"]], b["v_angle"])
    return out


def _origin(value: str) -> str:
    return value[1:] if value.startswith("_") else value


@pytest.mark.parametrize("case", list(CASES))
def test_bus_voltages_match_pypowsybl(zips: dict[str, Path], case: str) -> None:
    net = normalize_net(read_cgmes(zips[case]), engine="pandapower")  # ieee57: vk > 100 %
    engine = make_engine("pandapower", net)
    result = engine.solve(GridState.from_net(net))
    assert result.converged
    slack_bus = int(net.ext_grid["bus"].iloc[0])
    ref = _pypowsybl_voltages(zips[case], _origin(str(net.bus.loc[slack_bus, "origin_id"])))
    origins = [_origin(str(o)) for o in net.bus["origin_id"]]
    assert set(origins) == set(ref)
    vm_ref = np.array([ref[o][0] for o in origins])
    va_ref = np.array([ref[o][1] for o in origins])
    assert np.abs(result.bus_vm_pu - vm_ref).max() < VM_TOL_PU
    assert np.abs(result.bus_va_degree - va_ref).max() < VA_TOL_DEGREE
    # not a trivially flat grid
    assert np.ptp(vm_ref) > 1e-3


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
