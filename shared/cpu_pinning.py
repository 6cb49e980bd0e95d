"""Keeping each gunicorn worker on one CPU core (GUNICORN_PIN_WORKERS).

A worker's threads take turns holding the GIL, and every turn that starts on another core than
the last finds the interpreter's objects (types, dicts, reference counts) in the other core's
cache. Held to one core, a worker's threads hand the GIL over without that: on the 2-core
benchmark machine a single-response POST needed about a fifth less CPU (bench/bench_http.py).
The cost is that the kernel can no longer move a busy worker to an idle core, so this is for a
host, or a cpuset, that runs this one service; it is off by default.

Workers take the cores round robin by slot: a worker that gunicorn starts again (after a crash
or a timeout) takes the slot of the one it replaces, so workers stay spread over the cores.
"""

from __future__ import annotations

import os

SLOT = "pinned_slot"  # the attribute the master sets on each Worker before forking it


def choose_slot(worker, siblings) -> int:
    """The lowest slot no live sibling holds (called in the master, before the fork)."""
    taken = {getattr(other, SLOT, None) for other in siblings if other is not worker}
    slot = next(n for n in range(len(taken) + 1) if n not in taken)
    setattr(worker, SLOT, slot)
    return slot


def core_for(slot: int, allowed: set[int]) -> int:
    cores = sorted(allowed)
    return cores[slot % len(cores)]


def pin_this_process(slot: int) -> int:
    """Restrict the calling process (a freshly forked worker) to the core of its slot."""
    core = core_for(slot, os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core
