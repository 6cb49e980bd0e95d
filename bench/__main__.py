"""Run every bench/bench_*.py, print the figures and write bench/results.md.

`python -m bench ingest http` runs only the modules whose names contain those words, and
prints without touching bench/results.md.

Each module exposes run() -> list of rows: name, value, unit, baseline, baseline_value, note,
and optionally targets (bench/targets.py Goals) and measures (named figures the goals read).
The ratio is printed beside each figure: ratios hold on a noisy machine, absolute numbers don't.
Whether each target is met is computed from the row, never typed.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time
from pathlib import Path

from .targets import met, ratio_of, target_text

HERE = Path(__file__).parent
COLUMNS = ("benchmark", "target", "figure", "baseline", "ratio", "met", "note")


def table_row(row: dict) -> list[str]:
    figure = f"{row['value']:,.1f} {row['unit']}"
    base = f"{row['baseline_value']:,.1f} {row['unit']} ({row['baseline']})"
    ratio = ratio_of(row)
    return [row["name"], target_text(row), figure, base,
            "—" if ratio is None else f"{ratio:.2f}", met(row), row.get("note", "")]


def main(selected: list[str]) -> int:
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if selected:
        modules = [m for m in modules if any(s in m for s in selected)]
    started = time.perf_counter()
    load = os.getloadavg()[0]
    rows = []
    for name in modules:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}", flush=True)
        module_started = time.perf_counter()
        for row in module.run():
            cells = table_row(row)
            rows.append(cells)
            print(f"   {cells[0]}: {cells[2]} vs {cells[3]} -> ratio {cells[4]}; "
                  f"target {cells[1]}: {cells[5]}", flush=True)
            if row.get("note"):
                print(f"      {row['note']}", flush=True)
        print(f"   ({time.perf_counter() - module_started:,.0f} s)", flush=True)
    minutes = (time.perf_counter() - started) / 60
    if selected:  # a partial run must not replace the whole suite's figures
        print("(a selection: bench/results.md is written only by the whole suite)")
        return 0
    lines = ["# Benchmark results", "",
             f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"{platform.system()} {platform.machine()}; load average {load:.1f} at the start; "
             f"the whole run took {minutes:.0f} min.", "",
             "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    (HERE / "results.md").write_text("\n".join(lines) + "\n")
    print(f"written {HERE / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
