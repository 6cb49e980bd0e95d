"""Rendering executive briefs (pure functions: a report in, PDF bytes out)."""
