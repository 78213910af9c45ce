"""The HTML report and the comparison page in a real headless Chromium.

    gridtwin run ──► run dir ──► report.html ──► chromium (file://, no network)
                                   │                 └─► console, requests, Bokeh documents
    gridtwin report / compare ─────┘

Each page must load with no console error and no request to anything but
itself (file:, data:), show every expected section and plot, and every plot
must hold data. A screenshot of each page stays in the test's tmp_path.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.browser import chromium_paths, console_errors, requested_urls, start_chromium
from tests.test_cli import gridtwin

ROOTS_JS = """
return Bokeh.documents.flatMap(doc => doc.roots().map(r => [
    r.name,
    (r.renderers || []).filter(g => g.data_source).map(g => g.data_source.get_length() || 0)
]));
"""

MARKS_JS = """
return Bokeh.documents.flatMap(doc => doc.roots().map(r => [r.name, {
    events: (r.center || []).filter(
        a => a.constructor.__name__ === "Span" && a.dimension === "height").length,
    what: (r.renderers || []).filter(g => g.data_source && g.data_source.data.what)
        .flatMap(g => [...g.data_source.data.what]),
    x_range: r.x_range.id,
}]));
"""

FAULT_REPAIR = ("line_fault", "repair")
GRID_PLOTS = {"grid_voltage", "bus_heatmap", "line_loading", "power_balance"}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if chromium_paths() is None:
        pytest.fail("chromium not found: apt-get install -y chromium chromium-driver")
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "mv-rural-day"
    proc = gridtwin("run", "mv-rural-day", "--until", "12h", "--out", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def flisr_runs(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("flisr")
    runs = []
    for name in ("mv-fault-flisr", "mv-fault-no-flisr"):
        proc = gridtwin("run", name, "--out", str(base / name), "-q")
        assert proc.returncode == 0, proc.stderr
        runs.append(base / name)
    return runs[0], runs[1]


@pytest.fixture(scope="module")
def all_functions_run(tmp_path_factory, repo) -> Path:
    """mv-rural-all-functions shortened to 8 h, its fault, repair and bad data inside."""
    import yaml

    base = tmp_path_factory.mktemp("all-functions")
    data = yaml.safe_load((repo / "scenarios" / "mv-rural-all-functions.yaml").read_text())
    data["time"].update(start="2016-04-05T06:00:00+01:00", duration="8h")
    data["events"] = [
        {"at": "2h", "type": "line_fault", "target": "MV1.101 Line 6", "permanent": 1},
        {"at": "4h", "type": "repair", "target": "MV1.101 Line 6"},
        {"at": "5h", "type": "bad_data", "target": "scada:vm_pu:MV1.101 Bus 40", "k_sigma": 20,
         "duration": "1h"},
    ]  # fmt: skip
    scenario = base / "all-functions-8h.yaml"
    scenario.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    proc = gridtwin("run", str(scenario), "--out", str(base / "run"), "-q")
    assert proc.returncode == 0, proc.stderr
    return base / "run"


def load_page(browser, page: Path, shot: Path) -> dict[str, list[int]]:
    """Open ``page``; check console and requests; return plot name -> data lengths."""
    requested_urls(browser)  # drop what the browser asked for before
    console_errors(browser)
    browser.get(page.as_uri())
    for _ in range(100):  # Bokeh renders after the document loads
        if browser.execute_script("return window.Bokeh && Bokeh.documents.length > 0"):
            break
        time.sleep(0.1)
    roots = {name: lengths for name, lengths in browser.execute_script(ROOTS_JS)}
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1300, min(int(height), 12000))
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    urls = requested_urls(browser)
    mine = urls[urls.index(page.as_uri()) :] if page.as_uri() in urls else urls
    assert [u for u in mine if not u.startswith(("file:", "data:"))] == []
    assert console_errors(browser) == []
    return roots


def sections_of(browser) -> set[str]:
    return set(
        browser.execute_script(
            "return [...document.querySelectorAll('section')].map(s => s.dataset.section)"
        )
    )


def assert_plots_hold_data(roots: dict[str, list[int]], expected: set[str]) -> None:
    assert expected <= set(roots), expected - set(roots)
    for name in expected:
        assert roots[name] and max(roots[name]) > 0, (name, roots[name])


def test_demo_report_in_chromium(browser, demo_run, tmp_path):
    report = demo_run / "report.html"  # written by `gridtwin run`
    assert report.is_file()
    text = report.read_text(encoding="utf-8")
    assert "<script src=" not in text and "<link " not in text  # everything inline
    roots = load_page(browser, report, tmp_path / "demo-report.png")
    assert {"summary", "scenario", "events", "grid"} <= sections_of(browser)
    assert_plots_hold_data(roots, GRID_PLOTS)
    body = browser.find_element("tag name", "body").text
    kpis = json.loads((demo_run / "kpis.json").read_text())
    assert f"{kpis['grid']['vm_min_pu']:.4f}" in body  # the summary's figure, as in run
    assert "energy losses" in body and "MWh" in body


def test_flisr_report_has_the_fault_section(browser, flisr_runs, tmp_path):
    flisr, _ = flisr_runs
    roots = load_page(browser, flisr / "report.html", tmp_path / "flisr-report.png")
    assert {"summary", "events", "grid", "faults"} <= sections_of(browser)
    assert_plots_hold_data(roots, GRID_PLOTS | {"fl_timeline", "fl_not_supplied"})
    body = browser.find_element("tag name", "body").text
    assert "line_fault" in body and "repair" in body
    assert "customer minutes lost" in body
    n_events = len(pd.read_parquet(flisr / "events.parquet"))
    marks = dict(browser.execute_script(MARKS_JS))
    for name in GRID_PLOTS | {"fl_timeline", "fl_not_supplied"}:  # every time axis
        assert marks[name]["events"] == n_events, (name, marks[name])
    timeline = marks["fl_timeline"]
    assert timeline["x_range"] == marks["grid_voltage"]["x_range"]  # the grid plots' span
    assert {"trip (protection)", "isolation", "restoration", "return to normal"} <= set(
        timeline["what"]
    )
    assert {"line_fault MV1.101 Line 6", "repair MV1.101 Line 6"} <= set(timeline["what"])
    assert "one row per switch" in body and "trip (protection opens" in body


FUNCTION_PLOTS = {
    "estimation": {"se_error", "se_chi2"},
    "forecasting": {"forecast_load", "forecast_pv"},
    "voltage": {"vc_violation", "vc_taps", "vc_der", "vc_curtailment"},
    "reconfiguration": {"rc_losses", "rc_switches"},
    "faults": {"fl_timeline", "fl_not_supplied"},
}


def test_all_functions_report_in_chromium(browser, all_functions_run, tmp_path):
    """Every function's section and plot, with data, events on every time axis, offline."""
    run = all_functions_run
    roots = load_page(browser, run / "report.html", tmp_path / "all-functions-report.png")
    assert set(FUNCTION_PLOTS) | {"summary", "scenario", "events", "grid"} <= sections_of(browser)
    plots = set().union(*FUNCTION_PLOTS.values())
    assert_plots_hold_data(roots, GRID_PLOTS | plots)
    marks = dict(browser.execute_script(MARKS_JS))
    n_events = len(pd.read_parquet(run / "events.parquet"))
    for name in GRID_PLOTS | plots - {"vc_violation"}:  # every time axis (not the bus bars)
        assert marks[name]["events"] == n_events, (name, marks[name])
    assert {"trip (protection)", "isolation", "return to normal"} <= set(
        marks["fl_timeline"]["what"]
    )
    kpis = json.loads((run / "kpis.json").read_text())
    assert kpis["voltage"]["curtailed_mwh"] > 0  # the curtailment plot is not all zeros
    assert max(roots["vc_curtailment"]) > 0
    body = browser.find_element("tag name", "body").text
    assert "Skill (vs seasonal naive)" in body and "Bad data" in body and "Plans" in body


def test_a_user_functions_section_in_chromium(browser, repo, tmp_path):
    """The peak-shaving example's Output fields plotted with data, its KPIs listed."""
    from gridtwin.scenario import load_scenario
    from gridtwin.world import run_scenario

    sc = load_scenario(repo / "scenarios" / "mv-rural-peak-shaving.yaml")
    sc.time.duration = 12 * 3600
    run = run_scenario(sc, out_dir=tmp_path / "peak").run_dir
    from gridtwin.report.html import write_report

    roots = load_page(browser, write_report(run), tmp_path / "peak-shaving-report.png")
    name = sc.functions[0].name or "PeakShaving"
    assert f"function-{name}" in sections_of(browser)
    assert_plots_hold_data(roots, {f"fn_{name}_export_estimate_mw", f"fn_{name}_limit_active"})
    body = browser.find_element("tag name", "body").text
    kpis = json.loads((run / "kpis.json").read_text())[name]
    assert kpis and all(str(k) in body for k in kpis)


def test_switch_actions_follow_the_commands_and_events(flisr_runs):
    """Trip and isolation/restoration from the recorded tables; no FLISR: reclose at repair."""
    from gridtwin.report.switch_timeline import switch_actions

    for run, flisr in zip(flisr_runs, (True, False), strict=True):
        sw = pd.read_parquet(run / "switch.parquet")
        changes = sw[sw.sim_time_s > 0].sort_values("sim_time_s", kind="stable")
        events = pd.read_parquet(run / "events.parquet")
        commands = pd.read_parquet(run / "command.parquet")
        step_s = json.loads((run / "kpis.json").read_text())["run"]["step_s"]
        labels = switch_actions(changes, commands, events, step_s)
        fault_s, repair_s = (events.sim_time_s[events.type == k].iloc[0] for k in FAULT_REPAIR)
        arrivals = set(commands.arrival_s[commands.source == "flisr"])
        for t, closed, label in zip(changes.sim_time_s, changes.closed, labels, strict=True):
            if label == "trip (protection)":
                assert t == fault_s and not closed
            elif label in ("isolation", "restoration", "reclose (FLISR)"):
                assert flisr and fault_s < t < repair_s and t in arrivals
                assert closed == (label != "isolation")
            elif label == "return to normal":
                assert flisr and t > repair_s and t in arrivals
            else:
                assert label == "reclose at repair" and not flisr and t == repair_s and closed
        assert labels.count("trip (protection)") >= 1
        assert ("isolation" in labels) == flisr and ("reclose at repair" in labels) != flisr


def test_report_command_rebuilds_from_the_run_directory(flisr_runs, tmp_path):
    flisr, _ = flisr_runs
    out = tmp_path / "again.html"
    proc = gridtwin("report", str(flisr), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"report: {out}"
    assert 'data-section="faults"' in out.read_text(encoding="utf-8")


def test_compare_differences_equal_the_kpi_differences(browser, flisr_runs, tmp_path):
    from gridtwin.report.summary import all_sections

    a, b = flisr_runs[1], flisr_runs[0]  # no FLISR first: the reference
    page = tmp_path / "compare.html"
    proc = subprocess.run(
        [sys.executable, "-m", "gridtwin", "compare", str(a), str(b), "--out", str(page)],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "COLUMNS": "200"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    ka = json.loads((a / "kpis.json").read_text())
    kb = json.loads((b / "kpis.json").read_text())
    table = {}
    for line in proc.stdout.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) == 6:
            table[cells[0].split(": ")[-1]] = cells
    checked = 0
    for section in all_sections([ka, kb]):
        for row in section.rows:
            cells = table[row.label]
            assert cells[1] == row.text(ka) and cells[2] == row.text(kb)
            for got, rel, x, y in zip(
                cells[3].split(" / "),
                cells[4].split(" / "),
                row.values(ka),
                row.values(kb),
                strict=True,
            ):
                if x is None or y is None:
                    assert got == rel == "n/a"
                    continue
                digits = 0 if row.digits is None else row.digits
                assert float(got) == pytest.approx(round(y - x, digits), abs=10 ** (-digits))
                if x == 0:
                    assert rel == "n/a"
                else:
                    assert rel.endswith(" %")
                    percent = (y - x) / abs(x) * 100
                    assert float(rel.removesuffix(" %")) == pytest.approx(percent, abs=0.051)
                checked += 1
    assert checked >= 15
    assert table["energy not supplied"][3].startswith("-")  # FLISR supplies more
    assert table["energy not supplied"][4].startswith("-9")  # by over 90 %
    markdown = gridtwin("compare", str(a), str(b), "--markdown", "--no-html")
    assert markdown.returncode == 0, markdown.stderr
    lines = markdown.stdout.splitlines()
    assert (
        lines[0]
        == f"| figure | {a.name} | {b.name} | {b.name} − {a.name} | {b.name} vs {a.name} | unit |"
    )
    assert lines[1] == "| --- | ---: | ---: | ---: | ---: | --- |"
    md = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        md[cells[0].split(": ")[-1]] = cells
    assert md == table  # the same figures as the terminal's table
    only = gridtwin(
        "compare", str(a), str(b), "--markdown", "--no-html", "--section", "reliability"
    )
    assert only.returncode == 0, only.stderr
    kept = only.stdout.splitlines()[2:]
    assert kept and kept[0].startswith("| reliability: ") and set(kept) < set(lines[2:])
    bad = gridtwin("compare", str(a), str(b), "--no-html", "--section", "nope")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "reliability" in bad.stderr
    roots = load_page(browser, page, tmp_path / "compare.png")
    for name in ("cmp_vm_min", "cmp_losses", "cmp_not_supplied"):
        assert len(roots[name]) == 2 and min(roots[name]) > 0  # one curve per run


def test_ctrl_c_leaves_a_report_and_show_says_incomplete(tmp_path):
    out = tmp_path / "year"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gridtwin", "run", "mv-rural-year", "--out", str(out), "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first_part = out / "grid.parquet" / "part-00000.parquet"
    while not first_part.exists() and proc.poll() is None:
        time.sleep(0.05)  # the first flush: the run is stepping, far from its end
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["run"]["completed"] is False and 0 < kpis["run"]["steps"] < 35136
    assert 'class="note">Incomplete run' in (out / "report.html").read_text(encoding="utf-8")
    shown = gridtwin("show", str(out))
    assert shown.returncode == 0 and "incomplete: run.completed is false" in shown.stderr
    assert str(kpis["run"]["steps"]) in shown.stdout


def test_show_without_kpis_lists_the_tables(demo_run, tmp_path):
    import shutil

    copy = tmp_path / "killed"
    shutil.copytree(demo_run, copy)
    (copy / "kpis.json").unlink()  # as after a kill -9
    shown = gridtwin("show", str(copy))
    assert shown.returncode == 0, shown.stderr
    assert "incomplete: no kpis.json" in shown.stderr
    assert "bus" in shown.stdout and f"{48 * 97:,}" in shown.stdout
    rebuilt = gridtwin("report", str(copy))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Incomplete run" in (copy / "report.html").read_text(encoding="utf-8")


def test_readme_plot_example_works(repo, tmp_path, monkeypatch):
    """The README's "Original vs Estimate" example runs as written on a real estimation run."""
    import re

    from gridtwin.scenario import load_scenario
    from gridtwin.world import run_scenario

    sc = load_scenario(repo / "scenarios" / "mv-rural-estimation.yaml")
    sc.time.duration = 8 * sc.time.step
    sc.events = [e for e in sc.events if str(e.at) in ("0h", "0")]
    run_dir = run_scenario(sc, out_dir=tmp_path / "est").run_dir
    text = (repo / "README.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "estimate_bus" in b]
    code = re.sub(r'run = Path\("[^"]*"\)', f"run = Path({str(run_dir)!r})", block)
    assert code != block
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    page = (tmp_path / "vm-bus-40.html").read_text(encoding="utf-8")
    assert "MV1.101 Bus 40" in page and "<script src=" not in page
