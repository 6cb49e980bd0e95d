"""Invitations: single-use links that carry what the vendor already knows about a respondent."""
