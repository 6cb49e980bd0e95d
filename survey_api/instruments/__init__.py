"""Instruments: versioned questionnaires held as data. The two that ship live in
shared/instrument_data (scoring_service needs them too)."""

from shared.instruments import builtin_instruments, install_builtin  # noqa: F401
