"""Valid answer sets for tests: made in bench/data.py, which the benchmarks use as well."""

from bench.data import DATA, builtin, complete_answers, random_answer  # noqa: F401
