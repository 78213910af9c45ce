"""gridtwin reconfigure / assess as a user runs them (CliRunner, real files)."""

from __future__ import annotations

import json

import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

from gridtwin.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def case33_json(tmp_path_factory):
    path = tmp_path_factory.mktemp("nets") / "case33bw.json"
    pp.to_json(pn.case33bw(), str(path))
    return path


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


def test_reconfigure_and_assess(case33_json, tmp_path):
    out = tmp_path / "solution.json"
    result = runner.invoke(
        app,
        [
            "reconfigure",
            str(case33_json),
            "--all-lines-switchable",
            "--time-limit",
            "20",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    for text in ("202.68", "139.55", "min voltage", "max line loading", "interruption cost"):
        assert text in result.output
    assert "open lines [6, 8, 13, 31]; close lines [32, 33, 34, 35]" in result.output
    data = json.loads(out.read_text())
    assert data["periods"][0]["open_lines"] == [6, 8, 13, 31, 36]
    assert len(data["periods"][0]["line_in_service"]) == 37
    assert data["assessment"]["feasible"] is True
    assert data["assessment"]["losses_mwh"] * 1e3 == pytest.approx(139.55, abs=0.05)

    shown = runner.invoke(app, ["assess", str(case33_json), "--solution", str(out)])
    assert shown.exit_code == 0, shown.output
    assert "139.55" in shown.output and "feasible" in shown.output
    assert "6, 8, 13, 31, 36" in shown.output


def test_reconfigure_with_periods_and_weights(case33_json, tmp_path):
    csv = tmp_path / "loads.csv"
    csv.write_text(
        "time,0 [MW],1 [pu]\n2024-06-01T00:00:00+02:00,0.1,1.0\n2024-06-01T01:00:00+02:00,0.3,2.0\n"
    )
    out = tmp_path / "plan.json"
    result = runner.invoke(
        app,
        [
            "reconfigure",
            str(case33_json),
            "--all-lines-switchable",
            "--periods",
            str(csv),
            "--objective",
            "weighted",
            "--weights",
            "switching=1000,reliability=0",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert len(data["periods"]) == 2
    assert data["weights"]["switching_cost"] == 1000.0
    assert data["periods"][0]["open_lines"] == data["periods"][1]["open_lines"]


def test_no_source(tmp_path):
    net = pn.case33bw()
    net.ext_grid = net.ext_grid.iloc[0:0]
    path = tmp_path / "nosource.json"
    pp.to_json(net, str(path))
    line = one_line_error(runner.invoke(app, ["reconfigure", str(path), "--all-lines-switchable"]))
    assert "ext_grid" in line


def test_switchable_set_cannot_supply_every_load(tmp_path):
    net = pn.simple_mv_open_ring_net()
    bus = pp.create_bus(net, 10.0)
    far = pp.create_bus(net, 10.0)
    pp.create_line(net, bus, far, 1.0, "NA2XS2Y 1x185 RM/25 12/20 kV", in_service=True)
    pp.create_load(net, far, 0.1)
    path = tmp_path / "island.json"
    pp.to_json(net, str(path))
    line = one_line_error(runner.invoke(app, ["reconfigure", str(path)]))
    assert "cannot be supplied by any radial configuration" in line


def test_no_switches_without_option(case33_json):
    line = one_line_error(runner.invoke(app, ["reconfigure", str(case33_json)]))
    assert "all-lines-switchable" in line


def test_periods_naming_unknown_load(case33_json, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("Load X [MW]\n0.1\n")
    line = one_line_error(
        runner.invoke(
            app,
            ["reconfigure", str(case33_json), "--all-lines-switchable", "--periods", str(csv)],
        )
    )
    assert "bad.csv: Load X [MW]: no load named 'Load X'" in line


def test_bad_weights(case33_json):
    line = one_line_error(
        runner.invoke(
            app,
            ["reconfigure", str(case33_json), "--all-lines-switchable", "--weights", "speed=3"],
        )
    )
    assert "--weights" in line


def test_solution_naming_unknown_line(case33_json, tmp_path):
    sol = tmp_path / "sol.json"
    sol.write_text(json.dumps({"all_lines_switchable": True, "periods": [{"open_lines": [99]}]}))
    line = one_line_error(runner.invoke(app, ["assess", str(case33_json), "--solution", str(sol)]))
    assert "periods[0].open_lines" in line and "99" in line


def test_assess_reports_infeasible_plan(case33_json, tmp_path):
    sol = tmp_path / "meshed.json"
    sol.write_text(json.dumps({"all_lines_switchable": True, "periods": [{"open_lines": []}]}))
    result = runner.invoke(app, ["assess", str(case33_json), "--solution", str(sol)])
    assert result.exit_code == 0, result.output
    assert "not feasible: period 0: meshed: 5 loop(s)" in result.output
