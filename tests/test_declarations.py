"""What components declare (gridtwin.declarations) and how the central modules gather it."""

from __future__ import annotations

import json
import subprocess
import sys

from gridtwin.declarations import (
    SUMMARY_KEY,
    Row,
    SummarySection,
    declarations,
    taken_sections,
)
from gridtwin.report.summary import all_sections, summary_sections


def _one_figure_per_section() -> dict:
    kpis: dict = {"run": {"steps": 4}, "grid": {"vm_min_pu": 0.95}}
    for section in ("reliability", "realtime", "bus"):
        kpis[section] = {}
    kpis["reliability"]["ens_mwh"] = 1.5
    kpis["realtime"]["step_ms"] = 10.0
    kpis["bus"]["published"] = 3
    kpis["se"] = {"false_alarms": 2}
    kpis["forecast"] = {"intraday": {"picp80": 0.8}}
    kpis["reconfig"] = {"plans": 1}
    kpis["voltage"] = {"tap_changes": 5}
    kpis["flisr"] = {"operations": 2}
    return kpis


def test_sections_keep_their_order_wherever_they_are_declared() -> None:
    kpis = _one_figure_per_section()
    kpis["mine"] = {"x_mw": 1.25}
    kpis[SUMMARY_KEY] = [
        SummarySection("mine", "mine", (Row("x", "mine.x_mw", "MW", 2),)).as_dict()
    ]
    titles = [s.title for s in summary_sections(kpis)]
    assert titles == [
        "run",
        "grid",
        "state estimation",
        "forecasting",
        "reconfiguration",
        "voltage control",
        "reliability",
        "FLISR",
        "real time",
        "process bus (MQTT)",
        "mine",
    ]
    mine = summary_sections(kpis)[-1]
    assert [(r.label, r.text(kpis), r.unit) for r in mine.rows] == [("x", "1.25", "MW")]
    both = all_sections([kpis, {"run": {"steps": 1}, "grid": {}}])
    assert [s.title for s in both] == titles  # compare: the same order


def test_a_stored_section_reads_back_and_a_row_takes_its_functions_section() -> None:
    section = SummarySection("f", "f", (Row("a / b", ("a", "g.b"), "MW", 3, 100.0).within("f"),))
    back = SummarySection.from_dict(json.loads(json.dumps(section.as_dict())))
    assert back == section
    assert back.rows[0].keys == ("f.a", "g.b")
    assert back.shown({"f": {"a": 0.5}}) == back.rows  # one figure present: shown, n/a for b
    assert back.rows[0].text({"f": {"a": 0.5}}) == "50.000 / n/a"
    assert back.shown({"g": {"b": 1}}) == ()  # its section absent


def test_the_five_functions_declare_and_their_names_are_taken() -> None:
    names = {d.name for d in declarations()}
    assert names == {"estimation", "forecasting", "voltage", "reconfig", "flisr"}
    assert {"se", "forecast", "voltage", "reconfig", "flisr", "grid", "run"} <= taken_sections()


def test_declarations_import_nothing_heavy() -> None:
    code = (
        "import sys\nfrom gridtwin.declarations import declarations\n"
        "from gridtwin.report.summary import summary_sections\n"
        "declarations(); summary_sections({'run': {}, 'grid': {}})\n"
        "heavy = ('numpy', 'pandas', 'pyarrow', 'mosaik', 'pandapower', 'bokeh', 'scipy')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
