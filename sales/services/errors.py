"""The one error type of checkout: field errors in Spanish plus the HTTP status they map to."""

from __future__ import annotations


class CheckoutError(Exception):
    """Bad input or a refused sale. ``errors`` maps a field to Spanish messages.

    ``status`` is 400 for bad input, 409 for a stock-policy refusal or an idempotency key reused
    with a different body or cashier. Raised before or inside the sale's transaction: when it
    propagates, nothing has been written.
    """

    def __init__(self, errors: dict[str, list[str]], status: int = 400) -> None:
        super().__init__(errors)
        self.errors = errors
        self.status = status

    @classmethod
    def single(cls, field: str, message: str, status: int = 400) -> CheckoutError:
        return cls({field: [message]}, status)
