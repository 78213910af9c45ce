"""Start-up of the command line: wall time of `--help`, `show`, `scenarios`, `validate`.

    python bench/bench_cli.py [--before REV] [--repeat 5]

Runs each command as a user does (a new Python process, `python -m gridtwin`)
``--repeat`` times after one warm-up (the SimBench net cache is filled, files
are in the page cache: "after the first run") and prints the median wall
time. With ``--before REV`` the same commands run on the source of git
revision REV too (extracted with `git archive` into a temporary folder),
alternating with the current source run by run, so before and after see the
same machine load.
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


def commands(run_dir: Path) -> dict[str, list[str]]:
    return {
        "--help": ["--help"],
        "scenarios": ["scenarios"],
        "show RUN_DIR": ["show", str(run_dir)],
        "validate mv-rural-day": ["validate", str(REPO / "scenarios" / "mv-rural-day.yaml")],
        "validate case33bw-outage": [
            "validate",
            str(REPO / "scenarios" / "case33bw-outage.yaml"),
        ],
        "validate mv-rural-all-functions": [
            "validate",
            str(REPO / "scenarios" / "mv-rural-all-functions.yaml"),
        ],
    }


def wall_s(src: Path, args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(src), "COLUMNS": "120"}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "gridtwin", *args], env=env, capture_output=True, check=False
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{args}: exit {proc.returncode}: {proc.stderr.decode()[-300:]}")
    return elapsed


def measure(sources: dict[str, Path], run_dir: Path, repeat: int) -> dict[str, dict[str, float]]:
    """Median wall time per source and command; sources alternate run by run (fair under load)."""
    out: dict[str, dict[str, float]] = {label: {} for label in sources}
    for name, args in commands(run_dir).items():
        samples: dict[str, list[float]] = {label: [] for label in sources}
        for src in sources.values():
            wall_s(src, args)  # warm-up: caches filled
        for _ in range(repeat):
            for label, src in sources.items():
                samples[label].append(wall_s(src, args))
        for label in sources:
            out[label][name] = statistics.median(samples[label])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="git revision to compare with (e.g. main)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        subprocess.run(
            [sys.executable, "-m", "gridtwin", "run", "mv-rural-day", "--until", "2h", "-q",
             "--out", str(run_dir)],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        sources = {"after": REPO / "src"}
        if args.before:
            old = Path(tmp) / "before"
            old.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(REPO), "archive", args.before, "src"],
                check=True,
                capture_output=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
            sources["before"] = old / "src"
        results = measure(sources, run_dir, args.repeat)
    names = list(results["after"])
    print(f"| command | {' | '.join(f'{k} [s]' for k in results)} |")
    print(f"| --- | {' | '.join('---:' for _ in results)} |")
    for name in names:
        print(f"| `gridtwin {name}` | {' | '.join(f'{r[name]:.2f}' for r in results.values())} |")


if __name__ == "__main__":
    main()
