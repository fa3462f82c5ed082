"""Errors the service layer raises. Each says in Dutch what is wrong, and where (field)."""

from __future__ import annotations


class ServiceError(Exception):
    """Base: a request that cannot be carried out. Nothing was changed."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or ({field: message} if field else {}))

    @property
    def field(self) -> str | None:
        return next(iter(self.errors), None)


class NotFound(ServiceError):
    """Unknown object, or one this actor may not know exists (never tell the two apart)."""

    code = "not_found"


class Forbidden(ServiceError):
    """The actor's role does not allow this action on this object."""

    code = "forbidden"


class Conflict(ServiceError):
    """The object changed since the actor read it (optimistic locking)."""

    code = "conflict"

    def __init__(self, message: str, *, current_version: int | None = None, changes: list | None = None):
        super().__init__(message)
        self.current_version = current_version
        self.changes = changes or []


class InvalidTransition(ServiceError):
    """The transition does not exist or cannot be fired from the case's current state."""

    code = "invalid_transition"


class GuardDataError(ServiceError):
    """The data a transition's guard needs is missing or invalid; `errors` per field."""

    code = "guard_data"


class ValidationError(ServiceError):
    """Input data is invalid; `errors` per field."""

    code = "invalid"


class CaseClosed(ServiceError):
    """A closed case accepts nothing but a new signal (which opens a new, linked case)."""

    code = "case_closed"
