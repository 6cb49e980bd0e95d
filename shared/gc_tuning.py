"""Garbage-collector settings for long-running service processes.

A batch of 1,000 responses allocates tens of thousands of small containers. With CPython's
default thresholds (a young collection every 700 allocations, a full one every 100 young ones)
the collector would walk the whole application heap - modules, the Flask app, compiled
validators - again and again while a batch is being checked. Freezing the heap that exists once
the app is loaded takes it out of every later collection (it lives as long as the process
anyway), and a larger first threshold makes young collections rarer; garbage without cycles
is still freed at once by reference counting, so memory stays flat (bench/bench_memory.py).

Called by each gunicorn worker after loading the app (shared/gunicorn_conf.py), and by the
ingest benchmark, which measures what a worker does. Not in tests or one-off commands: there
the heap is short-lived and freezing it would only keep garbage alive.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def settle_heap() -> None:
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
