"""Domain errors: raised by the plain domain functions of every service, answered as problem
documents by the handler the shared app factory registers (shared.web), and shown as messages
where no HTTP is involved (the CLI, the console)."""

from __future__ import annotations


class DomainError(Exception):
    """status: the HTTP status it stands for; errors: field-level errors, each {"field": ...,
    "reason": ...}. location, if given, is filled in on the errors that name none (where the
    fields were: "json", "query")."""

    def __init__(self, status: int, message: str, errors: list[dict] | None = None,
                 location: str | None = None):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors or []
        self.location = location


class _FixedStatus(DomainError):
    status = 400

    def __init__(self, message: str, errors: list[dict] | None = None,
                 location: str | None = "json"):
        super().__init__(self.status, message, errors, location)


class NotFound(_FixedStatus):
    status = 404


class Conflict(_FixedStatus):
    """The request is well-formed but the resource's state forbids it."""

    status = 409


class Invalid(_FixedStatus):
    """Field-level errors: each {"field": ..., "reason": ...}."""

    status = 422
