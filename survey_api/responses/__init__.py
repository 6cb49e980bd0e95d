"""Responses: ingestion (single and batch, idempotent), listing and export."""
