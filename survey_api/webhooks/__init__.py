"""Webhooks: signed, retried notifications of new responses."""
