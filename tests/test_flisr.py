"""Faults, protection, FLISR and replay on a small hand-drawn grid and on SimBench.

The hand-drawn grid (``_net``)::

    ext grid
       │
      HV ══ trafo ══ BB (20 kV busbar)
                     │                       │
                  [A0] CB                  [B0] CB
                     │ L0                    │ L3
                     A1 (load)               B1 (load)
                  [s2] LBS                   │ L4
                     │ L1                    B2 (load)
                  [s3] LBS                   │
                     A2 (load)               │
                  [s4] LBS                   │
                     │ L2                    │
                     A3 (load) ── [s5] tie ── L5 ──┘   (s5 normally open, at A3)

Sections (parts no switch separates): {HV, trafo, BB}, {L0, A1}, {L1},
{A2}, {L2, A3}, {L3, B1, L4, B2, L5}.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandapower as pp
import pandas as pd
import pytest
import yaml

from gridtwin.controllers.flisr import locate, restoration_ties, sections
from gridtwin.errors import InputError
from gridtwin.events import EVENT_TYPES
from gridtwin.grid.protection import DeviceGraph, trip_for_fault
from gridtwin.scenario import load_scenario, scenario_from_dict
from gridtwin.world import prepare, run_scenario

BUSES = ["HV", "BB", "A1", "A2", "A3", "B1", "B2"]
SWITCHES = ["A0", "B0", "s2", "s3", "s4", "s5"]
LINES = ["L0", "L1", "L2", "L3", "L4", "L5"]
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _net() -> pp.pandapowerNet:
    net = pp.create_empty_network()
    b = {n: pp.create_bus(net, vn_kv=110.0 if n == "HV" else 20.0, name=n) for n in BUSES}
    pp.create_ext_grid(net, b["HV"])
    pp.create_transformer(net, b["HV"], b["BB"], "25 MVA 110/20 kV", name="T1")
    std = "NA2XS2Y 1x185 RM/25 12/20 kV"

    def line(name: str, fb: str, tb: str) -> int:
        return pp.create_line(net, b[fb], b[tb], 2.0, std, name=name)

    lines = {
        "L0": line("L0", "BB", "A1"),
        "L1": line("L1", "A1", "A2"),
        "L2": line("L2", "A2", "A3"),
        "L3": line("L3", "BB", "B1"),
        "L4": line("L4", "B1", "B2"),
        "L5": line("L5", "A3", "B2"),
    }
    for name, bus, ln, closed, kind in [
        ("A0", "BB", "L0", True, "CB"),
        ("B0", "BB", "L3", True, "CB"),
        ("s2", "A1", "L1", True, "LBS"),
        ("s3", "A2", "L1", True, "LBS"),
        ("s4", "A2", "L2", True, "LBS"),
        ("s5", "A3", "L5", False, "LBS"),
    ]:
        pp.create_switch(net, b[bus], lines[ln], et="l", closed=closed, type=kind, name=name)
    for n in ("A1", "A2", "A3", "B1", "B2"):
        pp.create_load(net, b[n], p_mw=1.0, q_mvar=0.2, name=f"load {n}")
    return net


def _run(tmp_path: Path, events: list[dict], *, flisr: bool = True, name: str = "hand") -> Path:
    path = tmp_path / "net.json"
    pp.to_json(_net(), str(path))
    data = {
        "name": name,
        "time": {"start": "2016-01-01T00:00:00+00:00", "duration": "4h", "step": "5min"},
        "grid": {"file": str(path)},
        "events": events,
        "recording": {"tables": ["grid", "bus", "line", "switch", "load"]},
    }
    if flisr:
        data["flisr"] = {"remote_time": "30s"}
    out = tmp_path / f"run-{name}"
    run_scenario(scenario_from_dict(data, source="hand.yaml"), out_dir=out)
    return out


def _pivot(run: Path, table: str, field: str) -> pd.DataFrame:
    """Per 5 min step and element; tables recorded on change (switches) carried forward."""
    df = pd.read_parquet(run / f"{table}.parquet")
    step = (df["sim_time_s"] // 300).astype(int)
    wide = df.assign(step=step).pivot_table(
        index="step", columns="element", values=field, aggfunc="last"
    )
    n = int(pd.read_parquet(run / "bus.parquet")["sim_time_s"].max()) // 300 + 1
    return wide.reindex(range(n)).ffill()


def test_protection_trips_the_feeder_breaker_and_indicators_show_the_path():
    net = _net()
    g = DeviceGraph.from_net(net)
    closed = net.switch["closed"].to_numpy(bool)
    trip = trip_for_fault(g, closed, np.ones(6, bool), LINES.index("L2"))
    assert [SWITCHES[s] for s in trip.breakers] == ["A0"]
    assert sorted(SWITCHES[s] for s in trip.passed) == ["A0", "s2", "s3", "s4"]
    fp = np.zeros(6, bool)
    fp[list(trip.passed)] = True
    sec = sections(g)
    (found,) = locate(g, sec, fp)
    line_sec = sec[g.n_bus : g.n_bus + g.n_line]
    assert [LINES[i] for i in np.flatnonzero(line_sec == found)] == ["L2"]
    # not fed: nothing trips
    open_a0 = closed.copy()
    open_a0[0] = False
    assert trip_for_fault(g, open_a0, np.ones(6, bool), 1).breakers == ()


def test_flisr_isolates_and_restores_through_the_tie(tmp_path):
    """Fault on L1 at step 12 (1 h), repair at step 36 (3 h)."""
    run = _run(
        tmp_path,
        [
            {"at": "1h", "type": "line_fault", "target": "L1"},
            {"at": "3h", "type": "repair", "target": "L1"},
        ],
    )
    live = _pivot(run, "bus", "energized")
    sw = _pivot(run, "switch", "closed")
    assert live.loc[11].all()
    assert sorted(live.columns[~live.loc[12].astype(bool)]) == ["A1", "A2", "A3"]
    assert sorted(sw.columns[~sw.loc[12].astype(bool)]) == ["A0", "s5"]  # tripped
    # one step later: L1 isolated (s2, s3 open), A0 reclosed, tie s5 closed
    assert sorted(sw.columns[~sw.loc[13].astype(bool)]) == ["s2", "s3"]
    assert live.loc[13].all()
    # repair at step 36: FLISR closes s2, s3 and opens the tie again
    assert sorted(sw.columns[~sw.loc[37].astype(bool)]) == ["s5"]
    assert live.loc[37:].all().all()
    kpis = json.loads((run / "kpis.json").read_text())
    assert kpis["flisr"]["faults_located_correctly"] == 1
    assert kpis["flisr"]["restored_share"] == pytest.approx(1.0)
    assert kpis["reliability"]["customers_interrupted"] == 3
    assert kpis["reliability"]["customer_minutes_lost"] == pytest.approx(3 * 5)
    assert kpis["grid"]["pf_nonconverged_steps"] == 0


def test_fault_without_alternative_supply_restores_nothing(tmp_path):
    """Fault on L3: its section holds all of feeder B; the tie leads only into it."""
    run = _run(tmp_path, [{"at": "1h", "type": "line_fault", "target": "L3"}])
    live = _pivot(run, "bus", "energized")
    sw = _pivot(run, "switch", "closed")
    dead = sorted(live.columns[~live.loc[47].astype(bool)])
    assert dead == ["B1", "B2"]
    assert sorted(sw.columns[~sw.loc[47].astype(bool)]) == ["B0", "s5"]
    kpis = json.loads((run / "kpis.json").read_text())
    assert kpis["flisr"]["restored_share"] == 0.0
    assert kpis["reliability"]["ens_mwh"] == pytest.approx(2 * 1.0 * 3.0)  # 2 loads, 3 h


def test_two_overlapping_faults(tmp_path):
    """L1 faults at 1 h (restored through the tie), L2 at 1.5 h: fed from feeder B now, so B0
    trips; FLISR isolates L2 (s4, s5 open) and recloses B0; A2 stays dark between the two
    faults. Repairs at 2.5 h (L1) and 3.5 h (L2) bring back the normal configuration."""
    run = _run(
        tmp_path,
        [
            {"at": "1h", "type": "line_fault", "target": "L1"},
            {"at": "90min", "type": "line_fault", "target": "L2"},
            {"at": "150min", "type": "repair", "target": "L1"},
            {"at": "210min", "type": "repair", "target": "L2"},
        ],
    )
    live = _pivot(run, "bus", "energized")
    sw = _pivot(run, "switch", "closed")
    assert sorted(live.columns[~live.loc[18].astype(bool)]) == ["A2", "A3", "B1", "B2"]
    assert sorted(sw.columns[~sw.loc[19].astype(bool)]) == ["s2", "s3", "s4", "s5"]
    assert sorted(live.columns[~live.loc[19].astype(bool)]) == ["A2", "A3"]
    assert sorted(live.columns[~live.loc[31].astype(bool)]) == ["A3"]  # L1 repaired
    assert live.loc[43:].all().all()
    assert sorted(sw.columns[~sw.loc[47].astype(bool)]) == ["s5"]
    kpis = json.loads((run / "kpis.json").read_text())
    assert kpis["flisr"]["faults_located_correctly"] == 2


def test_without_flisr_the_feeder_stays_dark_until_repair(tmp_path):
    run = _run(
        tmp_path,
        [
            {"at": "1h", "type": "line_fault", "target": "L1"},
            {"at": "3h", "type": "repair", "target": "L1"},
        ],
        flisr=False,
    )
    live = _pivot(run, "bus", "energized")
    for k in (12, 20, 35):
        assert sorted(live.columns[~live.loc[k].astype(bool)]) == ["A1", "A2", "A3"]
    assert live.loc[36:].all().all()
    kpis = json.loads((run / "kpis.json").read_text())
    assert kpis["reliability"]["ens_mwh"] == pytest.approx(3 * 1.0 * 2.0)
    assert "flisr" not in kpis


def test_every_new_event_type_applies_at_its_step(tmp_path):
    """Temporary fault (reclose after the dead time), sgen trip/reconnect, comms loss."""
    net = _net()
    pp.create_sgen(net, 3, p_mw=0.5, name="pv A2")
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    data = {
        "name": "types",
        "time": {"start": "2016-01-01T00:00:00+00:00", "duration": "2h", "step": "5min"},
        "grid": {"file": str(path)},
        "events": [
            {"at": "10min", "type": "line_fault", "target": "L4", "permanent": 0},
            {"at": "20min", "type": "sgen_trip", "target": "pv A2", "duration": "10min"},
            {"at": "40min", "type": "comms_loss", "target": "all", "duration": "15min"},
            {"at": "40min", "type": "line_fault", "target": "L1"},
            {"at": "90min", "type": "repair", "target": "L1"},
        ],
        "recording": {"tables": ["bus", "sgen", "switch", "line"]},
        "flisr": {"remote_time": "30s"},
    }
    run = tmp_path / "run"
    run_scenario(scenario_from_dict(data, source="types.yaml"), out_dir=run)
    live = _pivot(run, "bus", "energized")
    sw = _pivot(run, "switch", "closed")
    ln = _pivot(run, "line", "in_service")
    sg = _pivot(run, "sgen", "p_mw")
    # temporary fault at step 2: B0 open for one step, reclosed at step 3, nothing else
    assert not sw.loc[2, "B0"] and sw.loc[3, "B0"] and sw.loc[1, "B0"]
    assert ln["L4"].all()
    # sgen trip at step 4 for 10 min
    assert sg.loc[3, "pv A2"] > 0 and sg.loc[4, "pv A2"] == 0 and sg.loc[5, "pv A2"] == 0
    assert sg.loc[6, "pv A2"] > 0
    # fault at step 8 during a comms loss until step 11: FLISR's orders get through at 11
    assert not ln.loc[8, "L1"] and ln.loc[7, "L1"]
    for k in (8, 9, 10):
        assert not sw.loc[k, "A0"], k
        assert sorted(live.columns[~live.loc[k].astype(bool)]) == ["A1", "A2", "A3"]
    assert live.loc[12].all()
    assert ln.loc[18, "L1"] and not ln.loc[17, "L1"]
    ev = pd.read_parquet(run / "events.parquet")
    assert list(ev["type"]) == [
        "line_fault",
        "sgen_trip",
        "sgen_reconnect",
        "comms_loss",
        "line_fault",
        "comms_restore",
        "repair",
    ]
    assert set(EVENT_TYPES) >= {
        "line_fault",
        "repair",
        "sgen_trip",
        "sgen_reconnect",
        "measurement_outage",
        "comms_loss",
    }


def test_measurement_outage_silences_a_measurement(tmp_path):
    from gridtwin.simulators.sensors import SensorModel

    sc = load_scenario(SCENARIOS / "mv-rural-estimation.yaml")
    prep = prepare(sc)
    model = SensorModel(prep.plan, sc.time.step, 0)
    from gridtwin.grid.state import GridState

    state = GridState.from_net(prep.net)
    from gridtwin.grid.engine import make_engine

    result = make_engine(str(sc.grid.engine), prep.net).solve(state)
    before = model.measure(0, result).valid.copy()
    i = int(np.flatnonzero(before)[0])
    model.inject(i, "silent")
    after = model.measure(sc.time.step, result).valid
    assert not after[i]
    model.clear(i)
    assert model.measure(2 * sc.time.step, result).valid[i]


def test_replay_from_event_log_is_exact(tmp_path):
    sc = load_scenario(SCENARIOS / "mv-fault-replay.yaml")
    assert [e.type for e in sc.events][:3] == ["line_fault", "line_fault", "sgen_trip"]
    runs = [
        run_scenario(load_scenario(SCENARIOS / "mv-fault-replay.yaml"), out_dir=tmp_path / r)
        for r in ("a", "b")
    ]
    a, b = (r.run_dir for r in runs)
    files = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file())
    files = [f for f in files if f.endswith(".parquet")]
    assert any(f.startswith("events.parquet") for f in files)
    assert any(f.startswith("switch.parquet") for f in files)
    assert files == sorted(str(p.relative_to(b)) for p in b.rglob("*.parquet") if p.is_file())
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    ka, kb = (json.loads((d / "kpis.json").read_text()) for d in (a, b))
    assert ka["flisr"] == kb["flisr"] and ka["reliability"] == kb["reliability"]
    assert ka["flisr"]["faults_located_correctly"] == 2


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            "at,type,target\n1h,line_flt,L1\n",
            "event 1.type: unknown event type (did you mean 'line_fault'?)",
        ),
        ("at,type,target\n1h,line_fault\n", "event 1.target: missing"),
        ("at,type,target,permanent\n1h,line_fault,L1,2\n", "event 1.permanent: got 2.0"),
        ("at,type,target\n9h,line_fault,L1\n", "event 1.at: got '9h', outside the run"),
        ("at,type,target\n1h,line_fault,L9\n", "event 1.target: got 'L9'; no line of that name"),
    ],
)
def test_event_log_errors_are_one_line(tmp_path, text, needle):
    pp.to_json(_net(), str(tmp_path / "net.json"))
    (tmp_path / "log.csv").write_text(text)
    data = {
        "name": "bad",
        "time": {"start": "2016-01-01T00:00:00+00:00", "duration": "4h", "step": "5min"},
        "grid": {"file": "net.json"},
        "events_file": "log.csv",
        "flisr": {},
    }
    with pytest.raises(InputError) as err:
        prepare(scenario_from_dict(data, source="s.yaml", base_dir=tmp_path))
    msg = str(err.value)
    assert "\n" not in msg and needle in msg and "log.csv" in msg


def test_scenario_input_errors_are_one_line(tmp_path):
    pp.to_json(_net(), str(tmp_path / "net.json"))
    base = {
        "name": "bad",
        "time": {"start": "2016-01-01T00:00:00+00:00", "duration": "4h", "step": "5min"},
        "grid": {"file": "net.json"},
    }
    cases = [
        ({"events": [{"at": "1h", "type": "comms_loss", "target": "L1"}]}, "expected all"),
        ({"events_file": "nope.csv"}, "no such file"),
        ({"flisr": {"remote": "some"}}, "flisr.remote"),
        (
            {"events": [{"at": "1h", "type": "repair", "target": "L1", "duration": "1h"}]},
            "cannot be undone",
        ),
    ]
    for extra, needle in cases:
        with pytest.raises(InputError) as err:
            prepare(scenario_from_dict({**base, **extra}, source="s.yaml", base_dir=tmp_path))
        assert "\n" not in str(err.value) and needle in str(err.value), str(err.value)


def test_partial_restoration_splits_the_dead_area_when_the_whole_is_infeasible():
    """Fault on L0: A0 bounds its section, s2 isolates it; A2, A3 are dead. Say feeding A2
    through the tie breaks a limit: FLISR opens s4 and closes the tie, restoring A3 only."""
    net = _net()
    g = DeviceGraph.from_net(net)
    sec = sections(g)
    closed = net.switch["closed"].to_numpy(bool).copy()
    closed[[SWITCHES.index("A0"), SWITCHES.index("s2")]] = False
    a2 = BUSES.index("A2")

    def feasible(candidate: np.ndarray) -> bool:  # stands for "A2's voltage would be too low"
        return bool(g.search(g.live(candidate, np.ones(6, bool)))[a2] == -2)

    plan = restoration_ties(
        g,
        sec,
        closed,
        np.ones(6, bool),
        blocked={SWITCHES.index("s2"), SWITCHES.index("A0")},
        faulted={int(sec[g.line_node(0)])},
        feasible=feasible,
    )
    assert [(SWITCHES[s], c) for s, c in plan] == [("s4", False), ("s5", True)]
    assert (
        restoration_ties(
            g,
            sec,
            closed,
            np.ones(6, bool),
            blocked={SWITCHES.index("s2"), SWITCHES.index("A0")},
            faulted={int(sec[g.line_node(0)])},
            feasible=feasible,
            split=False,
        )
        == []
    )


def test_measurement_outage_of_a_device_class_in_a_run(tmp_path):
    """Every SCADA measurement silent from 1 h for 30 min (steps 4 and 5 of 15 min)."""
    data = yaml.safe_load((SCENARIOS / "mv-rural-estimation.yaml").read_text())
    data["time"]["duration"] = "3h"
    data.pop("estimation")
    data["events"] = [
        {"at": "1h", "type": "measurement_outage", "target": "scada", "duration": "30min"}
    ]
    data["recording"] = {"tables": ["grid"]}
    run = run_scenario(
        scenario_from_dict(data, source="est.yaml", base_dir=SCENARIOS), out_dir=tmp_path / "r"
    ).run_dir
    m = pd.read_parquet(run / "measurement.parquet")
    m["step"] = m["sim_time_s"] // 900
    scada = m["element"].str.startswith("scada:")
    assert m.loc[scada & m["step"].isin([4, 5]), "valid"].eq(False).all()
    assert m.loc[scada & m["step"].isin([3, 6]), "valid"].any()
    assert m.loc[~scada & m["step"].isin([4, 5]), "valid"].any()
    with pytest.raises(InputError, match="no pmu device"):
        data["events"][0]["target"] = "pmu"
        prepare(scenario_from_dict(data, source="est.yaml", base_dir=SCENARIOS))


def test_fewer_indicators_locate_coarser(tmp_path):
    """Fault on L2. With an indicator at every switch FLISR isolates {L2, A3} (s4 opens) and
    A2 comes back; with indicators only at the breakers and s2, s3 and s4 carry none, so the
    located zone is {L1, A2, L2, A3}: s2 opens and A2 stays dark with A3."""
    events = [{"at": "1h", "type": "line_fault", "target": "L2"}]
    fine = _pivot(_run(tmp_path, events, name="fine"), "bus", "energized")
    assert sorted(fine.columns[~fine.loc[13].astype(bool)]) == ["A3"]
    path = tmp_path / "net.json"
    data = {
        "name": "coarse",
        "time": {"start": "2016-01-01T00:00:00+00:00", "duration": "2h", "step": "5min"},
        "grid": {"file": str(path)},
        "events": events,
        "recording": {"tables": ["bus", "switch"]},
        "flisr": {"remote_time": "30s", "indicators": ["s2"]},
    }
    run = run_scenario(scenario_from_dict(data, source="c.yaml"), out_dir=tmp_path / "c")
    coarse = _pivot(run.run_dir, "bus", "energized")
    sw = _pivot(run.run_dir, "switch", "closed")
    assert sorted(coarse.columns[~coarse.loc[13].astype(bool)]) == ["A2", "A3"]
    assert sorted(sw.columns[~sw.loc[13].astype(bool)]) == ["s2", "s5"]
    assert run.kpis["flisr"]["faults_located_correctly"] == 1
    data["flisr"]["indicators"] = ["s9"]
    with pytest.raises(InputError, match=r"flisr.indicators\[0\]: got 's9'"):
        prepare(scenario_from_dict(data, source="c.yaml"))
