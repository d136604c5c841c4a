"""Domain exceptions. Each carries a stable `code` and, when a request field is at fault, its `param`."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a rule of the business was broken by the caller's input or the current state."""

    code = "invalid_request"
    http_status = 400

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code


class ValidationError(DomainError):
    code = "parameter_invalid"


class NotFound(DomainError):
    code = "resource_missing"
    http_status = 404


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class InvalidMoney(ValidationError):
    code = "amount_invalid"


class UnknownCurrency(ValidationError):
    code = "currency_invalid"
