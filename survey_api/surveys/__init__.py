"""Surveys: one campaign of an organization, from draft to open to closed."""
