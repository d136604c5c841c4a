"""Domain errors become API error responses as they are: their HTTP status and `code` are the contract."""

import pytest

from webapp.domain.errors import Conflict, DomainError, InvalidMoney, NotFound, UnknownCurrency, ValidationError


@pytest.mark.parametrize(("error", "status", "code"), [
    (DomainError, 400, "invalid_request"),
    (ValidationError, 400, "parameter_invalid"),
    (NotFound, 404, "resource_missing"),
    (Conflict, 409, "conflict"),
    (InvalidMoney, 400, "amount_invalid"),
    (UnknownCurrency, 400, "currency_invalid"),
])
def test_each_error_answers_with_its_status_and_code(error, status, code):
    raised = error("Something is wrong.")
    assert (raised.http_status, raised.code, raised.param) == (status, code, None)
    assert raised.message == str(raised) == "Something is wrong."
    named = error("Bad.", param="amount", code="amount_too_small")
    assert (named.http_status, named.code, named.param) == (status, "amount_too_small", "amount")


def test_a_specific_code_does_not_change_the_class_default():
    NotFound("No such refund.", code="refund_missing")
    assert NotFound("No such order.").code == "resource_missing"
