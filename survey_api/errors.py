"""The domain errors now live in shared.errors; this name stays for the modules that still
import it from here (survey_api/forms)."""

from shared.errors import Conflict, DomainError, Invalid, NotFound

__all__ = ["Conflict", "DomainError", "Invalid", "NotFound"]
