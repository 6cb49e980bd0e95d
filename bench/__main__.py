"""Run every bench/bench_*.py, print the figures and write bench/results.md.

`python -m bench ingest http` runs only the modules whose names contain those words, and
prints without touching bench/results.md.

Each module exposes run() -> list of (name, value, unit, baseline name, baseline value, note).
The ratio is printed beside each figure: ratios hold on a noisy machine, absolute numbers don't.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(selected: list[str]) -> int:
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if selected:
        modules = [m for m in modules if any(s in m for s in selected)]
    lines = ["# Benchmark results", "",
             f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"{platform.system()} {platform.machine()}", "",
             "| benchmark | figure | baseline | ratio | note |", "|---|---|---|---|---|"]
    for name in modules:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}", flush=True)
        for row in module.run():
            figure = f"{row['value']:,.1f} {row['unit']}"
            base = f"{row['baseline_value']:,.1f} {row['unit']} ({row['baseline']})"
            ratio = row["value"] / row["baseline_value"] if row["baseline_value"] else float("nan")
            print(f"   {row['name']}: {figure} vs {base} -> ratio {ratio:.2f}", flush=True)
            if row.get("note"):
                print(f"      {row['note']}", flush=True)
            lines.append(f"| {row['name']} | {figure} | {base} | {ratio:.2f} | "
                         f"{row.get('note', '')} |")
    if selected:  # a partial run must not replace the whole suite's figures
        print("(a selection: bench/results.md is written only by the whole suite)")
        return 0
    (HERE / "results.md").write_text("\n".join(lines) + "\n")
    print(f"written {HERE / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
