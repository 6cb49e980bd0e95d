"""The scoring engine: pure functions from per-cell counters to a report (no Flask, no store)."""
