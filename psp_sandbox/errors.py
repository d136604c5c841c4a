"""Stripe's error objects: `{"error": {"type", "code", "message", "param", ...}}` with its HTTP statuses."""

from __future__ import annotations

DOC_URL = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """An error answered to an API client in Stripe's shape; absent fields are left out, not null."""

    def __init__(self, status: int, type_: str, message: str, **fields: object) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"type": type_, "message": message, **{k: v for k, v in fields.items() if v is not None}}
        if "code" in self.body:
            self.body["doc_url"] = DOC_URL + str(self.body["code"]).replace("_", "-")

    def as_json(self) -> dict:
        return {"error": self.body}


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    return StripeError(400, "invalid_request_error", message, param=param, code=code)


def missing(param: str) -> StripeError:
    return invalid(f"Missing required param: {param}.", param, "parameter_missing")


def no_such(kind: str, object_id: str, param: str | None = None) -> StripeError:
    status = 400 if param else 404
    return StripeError(
        status, "invalid_request_error", f"No such {kind}: '{object_id}'", param=param or "id", code="resource_missing"
    )


def unauthorized(message: str) -> StripeError:
    return StripeError(401, "invalid_request_error", message)


def api_error(status: int, message: str) -> StripeError:
    return StripeError(status, "api_error", message)


def idempotency_in_use(key: str) -> StripeError:
    """Stripe's answer to a request whose idempotency key another request is still using (409; retry later)."""
    return StripeError(409, "idempotency_error", "There is currently another in-progress request using this "
                       f"idempotency key (that probably means you submitted twice, and the other request is still "
                       f"going through): {key}. Please try again later.", code="idempotency_key_in_use")
