"""Parsing of the till's JSON bodies into typed input for the services (structure and formats
only; business rules live in the services). Messages are Spanish and keyed by field."""

from .checkout import CartLine, CheckoutInput, CustomerIn, PaymentIn, checkout_body_parse, checkout_input_parse

__all__ = ["CartLine", "CheckoutInput", "CustomerIn", "PaymentIn", "checkout_body_parse", "checkout_input_parse"]
