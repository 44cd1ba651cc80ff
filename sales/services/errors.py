"""The till's one error type: field errors in Spanish plus the HTTP status they map to."""

from __future__ import annotations

from django.db import IntegrityError


class TillError(Exception):
    """Bad input or a refused action at the till. ``errors`` maps a field to Spanish messages.

    ``status`` is 400 for bad input; 404 for an object outside the user's stores; 409 for a state
    conflict (stock policy, an idempotency key reused with another body, no open cash session, a
    closed session, a quantity over what is left to return); 403/429 for approvals. Raised before
    or inside the action's transaction: when it propagates, nothing has been written.
    """

    def __init__(self, errors: dict[str, list[str]], status: int = 400, *, retry_after: int | None = None) -> None:
        super().__init__(errors)
        self.errors = errors
        self.status = status
        self.retry_after = retry_after

    @classmethod
    def single(cls, field: str, message: str, status: int = 400) -> TillError:
        return cls({field: [message]}, status)


def constraint_violated(exc: IntegrityError) -> str | None:
    """The name of the constraint an ``IntegrityError`` broke (from the server's error fields,
    never from the message text), or None."""
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    return getattr(diag, "constraint_name", None)
