"""Valid answer sets for the tests: the same generator the benchmarks use (bench/data.py)."""

from bench.data import DATA, builtin, complete_answers, random_answer  # noqa: F401
