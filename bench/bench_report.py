"""The run report: file size, build time and first render in headless Chromium.

    python bench/bench_report.py [--year-dir DIR] [--keep DIR]

Runs `mv-rural-day` (the demo day) and `mv-rural-year` with `--no-report`
(or takes an existing year run with ``--year-dir``), then for each:
builds report.html in-process (median of 3 builds for the day, 1 for the
year; imports already done), records its size, and opens it in Debian's
headless Chromium (Selenium + chromium-driver) to time the first render:
``performance.now()`` in the page (ms since navigation start) at the moment
every Bokeh root has its view. Last, the whole ``gridtwin report RUN_DIR``
command per run (a new process: imports, reading the tables, building and
writing), its wall time and peak memory (max RSS).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

READY_JS = """
if (!window.Bokeh || Bokeh.documents.length === 0) return null;
const roots = Bokeh.documents.flatMap(d => d.roots());
const views = roots.filter(r => Bokeh.index.get_by_id ? Bokeh.index.get_by_id(r.id)
                                   : Bokeh.index[r.id]);
return views.length === roots.length ? performance.now() : null;
"""


def run(name: str, out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    subprocess.run(
        [sys.executable, "-m", "gridtwin", "run", name, "--out", str(out), "-q", "--no-report"],
        env=env,
        check=True,
        capture_output=True,
    )


def build(run_dir: Path, times: int) -> tuple[float, int]:
    from gridtwin.report.html import write_report

    walls = []
    for _ in range(times):
        t0 = time.perf_counter()
        path = write_report(run_dir)
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls), path.stat().st_size


REPORT_COMMAND = """
import atexit, sys
def peak():
    with open("/proc/self/status") as f:
        kib = next(int(x.split()[1]) for x in f if x.startswith("VmHWM:"))
    sys.stderr.write(f"peak_rss_kib {kib}\\n")
atexit.register(peak)
sys.argv = ["gridtwin", "report", sys.argv[1]]
from gridtwin.cli import app
app()
"""


def report_command(run_dir: Path) -> tuple[float, float]:
    """Wall time [s] and peak RSS [MB] of ``gridtwin report RUN_DIR`` in a new process.

    The peak is the child's own high-water mark (``VmHWM``, read at its exit):
    ``wait4``'s ``ru_maxrss`` would count this process's memory the child
    shared between fork and exec.
    """
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", REPORT_COMMAND, str(run_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"gridtwin report {run_dir}: exit status {proc.returncode}")
    kib = int(proc.stderr.rsplit("peak_rss_kib ", 1)[1].split()[0])
    return wall, kib / 1024


def first_render_ms(driver, page: Path) -> float:
    driver.get("about:blank")
    driver.get(page.as_uri())
    for _ in range(600):
        ready = driver.execute_script(READY_JS)
        if ready is not None:
            return float(ready)
        time.sleep(0.05)
    raise SystemExit(f"{page}: Bokeh did not render within 30 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year-dir", type=Path, help="an existing mv-rural-year run directory")
    parser.add_argument("--keep", type=Path, help="keep the run directories here")
    args = parser.parse_args()
    from tests.browser import start_chromium

    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        day = base / "mv-rural-day"
        run("mv-rural-day", day)
        year = args.year_dir
        if year is None:
            year = base / "mv-rural-year"
            run("mv-rural-year", year)
        import gridtwin.report.html  # noqa: F401  (imports are not part of the build time)

        print(f"load average before: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
        driver = start_chromium(Path(tmp) / "profile")
        try:
            print("| run | report size [MB] | build [s] | first render in Chromium [ms] |")
            print("| --- | ---: | ---: | ---: |")
            for label, folder, times in (("demo day", day, 3), ("mv-rural-year", year, 1)):
                wall, size = build(folder, times)
                renders = [first_render_ms(driver, folder / "report.html") for _ in range(3)]
                print(
                    f"| {label} | {size / 1e6:.2f} | {wall:.2f} | "
                    f"{statistics.median(renders):.0f} |"
                )
        finally:
            driver.quit()
        print()
        print("| run | `gridtwin report` command [s] | peak memory [MB] |")
        print("| --- | ---: | ---: |")
        for label, folder in (("demo day", day), ("mv-rural-year", year)):
            wall, rss_mb = report_command(folder)
            print(f"| {label} | {wall:.2f} | {rss_mb:.0f} |")
        print(f"load average after: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
