"""Property-based tests of the input edge: the scenario schema and the file readers.

::

    hypothesis ──► scenario dict / YAML text / CSV / network ──► schema or reader
                                                                  └──► InputError, one line

Each property is over a whole class of input (every numeric field the schema
has, every mapping of a scenario file, every cell of a CSV file, every
network parameter rule), not a list of examples.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridtwin.errors import InputError
from gridtwin.grid.checks import NOT_IN_PGM, RULES, check_engine_domain, check_physical
from gridtwin.grid.sources import normalize_net
from gridtwin.measurement_log import read_measurement_log
from gridtwin.profiles.csv import read_profile_csv
from gridtwin.scenario import load_scenario, measurement_plan, scenario_from_dict
from gridtwin.scenario.base import MAX_SEED
from tests.conftest import base_scenario
from tests.malformed import (
    BAD_NUMBERS,
    every_element_net,
    field_text,
    full_scenario,
    mapping_paths,
    net_mutations,
    numeric_paths,
    set_path,
    yaml_with_duplicate,
)

SOURCE = "full.yaml"
PATHS = numeric_paths()
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _refused(data, *fragments: str) -> str:
    with pytest.raises(InputError) as info:
        scenario_from_dict(data, source=SOURCE)
    text = str(info.value)
    assert text.startswith(f"{SOURCE}: ") and "\n" not in text, text
    for fragment in fragments:
        assert fragment in text, text
    return text


def test_the_schema_walk_finds_every_section():
    sections = {p[0] for p in PATHS}
    assert {
        "seed",
        "time",
        "profiles",
        "events",
        "recording",
        "measurements",
        "estimation",
        "voltage_control",
        "reconfiguration",
        "forecasting",
        "flisr",
        "limits",
    } <= sections
    scenario_from_dict(full_scenario(), source=SOURCE)  # the base itself is valid


@SETTINGS
@given(path=st.sampled_from(PATHS), bad=st.sampled_from(BAD_NUMBERS))
def test_every_numeric_field_refuses_non_finite_and_booleans(path, bad):
    _refused(set_path(full_scenario(), path, bad), field_text(path))


@SETTINGS
@given(
    path=st.sampled_from(PATHS),
    text=st.sampled_from([".inf", "-.inf", ".nan", ".NaN", "+.inf", "true", "false", "1e999"]),
)
def test_non_finite_yaml_spellings_are_refused_from_the_file(tmp_path_factory, path, text):
    if text == "1e999" and path[-1] in ("at", "target"):
        return  # YAML 1.1 reads 1e999 as a string, which these fields take (checked later)
    marker = "__BAD__"
    data = set_path(full_scenario(), path, marker)
    yaml_text = yaml_with_duplicate(data, ("no-such-key",)).replace(f"'{marker}'", text)
    yaml_text = yaml_text.replace(marker, text)
    file = tmp_path_factory.mktemp("yaml") / "s.yaml"
    file.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenario(file)
    assert str(info.value).startswith(f"{file}: {field_text(path)}"), str(info.value)


@SETTINGS
@given(key=st.sampled_from(mapping_paths(full_scenario())))
def test_a_key_given_twice_is_refused_anywhere(tmp_path_factory, key):
    file = tmp_path_factory.mktemp("dup") / "s.yaml"
    file.write_text(yaml_with_duplicate(full_scenario(), key), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenario(file)
    assert str(info.value).startswith(f"{file}: {key[-1]}: given twice"), str(info.value)


def test_the_same_text_without_duplicates_loads(tmp_path):
    file = tmp_path / "s.yaml"
    file.write_text(yaml_with_duplicate(full_scenario(), ("none",)), encoding="utf-8")
    assert load_scenario(file).limits.max_steps == 1000


SEED_PATHS = [
    ("seed",),
    *[(s, "seed") for s in ("measurements", "forecasting", "reconfiguration", "commands", "scada")],
]


@SETTINGS
@given(path=st.sampled_from(SEED_PATHS), seed=st.integers(0, 2**70))
def test_seeds_must_fit_numpy_and_scikit_learn(path, seed):
    data = set_path(full_scenario(), path, seed)
    if seed <= MAX_SEED:
        assert scenario_from_dict(data, source=SOURCE)
    else:
        _refused(data, field_text(path), "less than or equal to 4294967295")


@SETTINGS
@given(a=st.integers(0, 7), b=st.integers(0, 7))
def test_active_until_after_active_from(a, b):
    plan = full_scenario()["measurements"]["plan"]
    entry = {**plan[0], "active_from": a * 900, "active_until": b * 900}
    data = set_path(full_scenario(), ("measurements", "plan", 0), entry)
    if b > a:
        assert scenario_from_dict(data, source=SOURCE)
    else:
        _refused(data, "measurements.plan[0].active_until", "expected later than active_from")


@SETTINGS
@given(
    kind=st.sampled_from(["line_outage", "load_scale", "switch_open"]),
    seconds=st.integers(-3600, 0),
)
def test_events_undone_after_zero_or_negative_time_are_refused(kind, seconds):
    event = {"at": "30min", "type": kind, "target": 0, "duration": seconds}
    if kind == "load_scale":
        event["factor"] = 2
    _refused(set_path(full_scenario(), ("events", 0), event), "events[0].duration")


@SETTINGS
@given(
    path=st.sampled_from(
        [
            ("voltage_control", "central", "interval"),
            ("time", "step"),
            ("reconfiguration", "every"),
            ("reconfiguration", "period"),
        ]
    ),
    seconds=st.integers(-(10**6), 0),
)
def test_intervals_a_library_divides_by_must_be_positive(path, seconds):
    _refused(set_path(full_scenario(), path, seconds), field_text(path))


@SETTINGS
@given(years=st.integers(300, 10**5))
def test_runs_past_the_parquet_time_range_are_refused(years):
    data = set_path(full_scenario(), ("time", "duration"), f"{years * 365}d")
    _refused(data, "time.duration", "2262")


# --- file readers ---------------------------------------------------------------------------

NON_FINITE_CELLS = ["inf", "-inf", "nan", "NaN", "Infinity", "-Infinity", "1e999", "+inf"]


@pytest.fixture(scope="module")
def case33():
    return normalize_net(pn.case33bw())


@SETTINGS
@given(
    values=st.lists(
        st.lists(st.floats(0, 10, allow_nan=False), min_size=3, max_size=3),
        min_size=2,
        max_size=6,
    ),
    bad=st.sampled_from(NON_FINITE_CELLS),
    data=st.data(),
)
def test_profile_csv_refuses_non_finite_cells(tmp_path_factory, case33, values, bad, data):
    row = data.draw(st.integers(0, len(values) - 1))
    col = data.draw(st.integers(0, 2))
    lines = ["time,1 [MW],2 [MW],3 [MW]"]
    for i, vals in enumerate(values):
        cells = [repr(v) for v in vals]
        if i == row:
            cells[col] = bad
        lines.append(f"2016-06-21T{i // 4:02d}:{i % 4 * 15:02d}:00+01:00," + ",".join(cells))
    file = tmp_path_factory.mktemp("csv") / "p.csv"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_profile_csv(file, element="load", quantity="p_mw", net=case33, utc_offset_s=3600)
    assert str(info.value).startswith(f"{file}: {col + 1} [MW], row {row + 2}: got {bad!r}")


@SETTINGS
@given(
    values=st.lists(st.floats(-10, 10, allow_nan=False), min_size=2, max_size=6),
)
def test_profile_csv_keeps_every_finite_value(tmp_path_factory, case33, values):
    lines = ["time,1 [MW]"] + [
        f"2016-06-21T{i // 4:02d}:{i % 4 * 15:02d}:00+01:00,{v!r}" for i, v in enumerate(values)
    ]
    file = tmp_path_factory.mktemp("csv") / "p.csv"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = read_profile_csv(file, element="load", quantity="p_mw", net=case33, utc_offset_s=3600)
    assert got.values[:, 0].tolist() == values


@pytest.fixture(scope="module")
def with_plan(case33):
    sc = scenario_from_dict(
        base_scenario(measurements={"plan": [{"device": "scada", "at": "all_buses"}]})
    )
    return sc, measurement_plan(sc, case33)


@SETTINGS
@given(
    column=st.sampled_from(["value", "sigma"]),
    bad=st.sampled_from([*NON_FINITE_CELLS, "0", "-1"]),
    n_rows=st.integers(1, 5),
    data=st.data(),
)
def test_measurement_log_refuses_non_finite_values(
    tmp_path_factory, with_plan, column, bad, n_rows, data
):
    sc, plan = with_plan
    if column == "value" and bad in ("0", "-1"):
        bad = "nan"  # zero and negative values are legal readings
    row = data.draw(st.integers(1, n_rows))
    lines = ["at,measurement,value,sigma"]
    for n in range(1, n_rows + 1):
        cells = {"value": "1.01", "sigma": "0.01"}
        if n == row:
            cells[column] = bad
        lines.append(f"{(n - 1) * 15}min,{plan.sc_name[1]},{cells['value']},{cells['sigma']}")
    file = tmp_path_factory.mktemp("log") / "m.csv"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_measurement_log(file, sc, plan)
    assert str(info.value).startswith(f"{file}: row {row}.{column}: got {bad!r}"), str(info.value)


def _violation(rule: str, draw) -> float:
    if rule == "pos":
        return draw(st.sampled_from([0.0, -1e-9, -1.0, -1e6, math.inf, -math.inf]))
    if rule == "nonneg":
        return draw(st.sampled_from([-1e-9, -1.0, -1e6, math.inf, -math.inf]))
    if rule == "ge1":
        return draw(st.sampled_from([0.0, -1.0, 1.5, math.inf]))
    return draw(st.sampled_from([math.inf, -math.inf]))


@pytest.fixture(scope="module")
def every_net():
    return every_element_net()


def test_every_rule_table_is_in_the_test_network(every_net):
    assert all(len(every_net[table]) for table, *_ in RULES)
    check_physical(every_net, "net.json", engine="pandapower")  # valid as a whole


@settings(max_examples=150, deadline=None)
@given(rule=st.sampled_from(RULES), data=st.data())
def test_every_network_parameter_rule_refuses_its_violations(every_net, rule, data):
    import copy

    table, column, kind, _ = rule
    base = every_net
    net = copy.copy(base)  # shallow: only the table under test is copied
    frame = base[table].copy()
    net[table] = frame
    if column not in frame:
        frame[column] = np.nan
    index = data.draw(st.sampled_from(list(frame.index)))
    value = _violation(kind, data.draw)
    frame[column] = frame[column].astype(float)
    frame.loc[index, column] = value
    with pytest.raises(InputError) as info:
        check_physical(net, "net.json", engine="pandapower")
    assert str(info.value).startswith(f"net.json: {table}[{index}].{column}: got "), str(info.value)


def test_shipped_networks_pass_the_parameter_rules():
    for make in (pn.case33bw, pn.create_cigre_network_mv):
        check_physical(make(), "shipped")
    check_physical(pn.example_simple(), "shipped", engine="pandapower")  # it has a gen


@pytest.mark.parametrize("table", sorted(NOT_IN_PGM))
def test_elements_power_grid_model_cannot_solve_are_refused_for_it(every_net, table):
    import copy

    net = copy.copy(every_net)
    for other in NOT_IN_PGM:
        if other != table:
            net[other] = every_net[other].iloc[0:0]
    with pytest.raises(InputError) as info:
        check_engine_domain(net, "net.json", "power-grid-model")
    field = f"{table}[{net[table].index[0]}]" + (".in_service" if table == "gen" else "")
    assert str(info.value).startswith(f"net.json: {field}: "), str(info.value)
    assert str(info.value).endswith("expected grid.engine: pandapower")
    check_engine_domain(net, "net.json", "pandapower")
    if table == "gen":  # a generator out of service is no PV bus
        net.gen = every_net.gen.assign(in_service=False)
        check_engine_domain(net, "net.json", "power-grid-model")


def test_every_network_check_refuses_its_case(every_net):
    """Every parameter rule, bus reference and engine domain, through the loader's checks
    (what ``validate`` and ``run`` call after reading a network: ``load_net``)."""
    import copy

    cases = net_mutations(every_net)
    assert len(cases) >= len(RULES) + len(NOT_IN_PGM)
    for name, net, where, engine in cases:
        engine = engine or "power-grid-model"
        with pytest.raises(InputError) as info:
            check_engine_domain(
                normalize_net(copy.deepcopy(net), "net.json", engine), "net.json", engine
            )
        assert str(info.value).startswith(f"net.json: {where}"), (name, str(info.value))


def _gen_on_pgm(net):
    pp.create_gen(net, 5, p_mw=0.1, vm_pu=1.0)


def _shunt_q_nan(net):
    pp.create_shunt(net, 5, q_mvar=0.1)
    net.shunt.loc[net.shunt.index[0], "q_mvar"] = math.nan


def _shunt_bus_missing(net):
    pp.create_shunt(net, 5, q_mvar=0.1)
    net.shunt.loc[net.shunt.index[0], "bus"] = 999


@pytest.mark.parametrize(
    ("change", "bad_file", "fragment"),
    [
        (_gen_on_pgm, "s.yaml", "gen[0].in_service: a voltage-controlled generator (PV bus)"),
        (_shunt_q_nan, "net.json", "shunt[0].q_mvar: got nan; expected a finite number"),
        (_shunt_bus_missing, "net.json", "shunt[0].bus: refers to bus 999, which does not exist"),
    ],
    ids=["gen-on-power-grid-model", "shunt-q-nan", "shunt-bus-missing"],
)
def test_validate_refuses_what_run_refuses(tmp_path, change, bad_file, fragment):
    """The network cases ``run`` used to refuse (or crash on) after ``validate`` said ok."""
    from typer.testing import CliRunner

    from gridtwin.cli import app

    net = pn.case33bw()
    change(net)
    (tmp_path / "net.json").write_text(pp.to_json(net), encoding="utf-8")
    (tmp_path / "s.yaml").write_text(
        yaml.safe_dump(base_scenario(grid={"file": "net.json"})), encoding="utf-8"
    )
    runner = CliRunner()
    for args in (["validate"], ["run", "--out", str(tmp_path / "r")]):
        result = runner.invoke(app, [args[0], str(tmp_path / "s.yaml"), *args[1:]])
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.strip() == (
            result.stderr.strip().splitlines()[0]
        ) and result.stderr.startswith(f"error: {tmp_path / bad_file}: {fragment}"), result.stderr
    assert not (tmp_path / "r").exists()


def test_a_line_of_negative_length_in_a_json_file_is_refused(tmp_path):
    import pandapower as pp

    from gridtwin.grid.sources import read_net_json

    net = pn.case33bw()
    net.line.loc[3, "length_km"] = -1.0
    file = tmp_path / "net.json"
    pp.to_json(net, str(file))
    with pytest.raises(InputError, match=r"net.json: line\[3\].length_km: got -1; expected"):
        read_net_json(file)


def test_zero_voltage_bus_refused_before_power_grid_model_sees_it(tmp_path):
    import pandapower as pp

    from gridtwin.grid.sources import read_net_json

    net = pn.case33bw()
    net.bus.loc[5, "vn_kv"] = 0.0
    file = Path(tmp_path) / "net.json"
    pp.to_json(net, str(file))
    with pytest.raises(InputError, match=r"bus\[5\].vn_kv: got 0; expected a finite value above 0"):
        read_net_json(file)
    assert np.isfinite(net.bus.vn_kv.drop(5)).all()
