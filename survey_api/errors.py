"""Domain errors: raised by the plain domain functions, turned into problem responses by routes."""

from __future__ import annotations


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, errors: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """The request is well-formed but the resource's state forbids it."""

    status = 409


class Invalid(DomainError):
    """Field-level errors: each {"field": ..., "reason": ...}."""

    status = 422
