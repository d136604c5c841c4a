"""The strict parameter check: Stripe's description decides what exists, `implemented.py` what the sandbox
does; errors name the full bracket path and carry Stripe's codes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from psp_sandbox import params as p
from psp_sandbox.errors import StripeError
from psp_sandbox.money import major
from psp_sandbox.reporting.generate import major as fast_major
from psp_sandbox.spec import build, strict
from psp_sandbox.spec.implemented import IMPLEMENTED

SPEC = Path(__file__).resolve().parents[2] / "data" / "stripe" / "openapi-subset.json"


def _error(method: str, path: str, pairs: list[tuple[str, str]]) -> dict:
    with pytest.raises(StripeError) as raised:
        strict.check(method, path, p.decode(pairs))
    return raised.value.body


def test_parameters_json_is_built_from_the_spec_copy():
    built = build.build(json.loads(SPEC.read_text()))
    shipped = json.loads((Path(strict.__file__).with_name("parameters.json")).read_text())
    assert built == shipped, "rebuild: python -m psp_sandbox.spec.build tests/data/stripe/openapi-subset.json"


def test_every_implemented_parameter_exists_in_stripes_description():
    spec = strict._spec()
    for operation, paths in IMPLEMENTED.items():
        fields = spec[strict.operation_key(*operation.split(" ", 1))]
        for entry in paths:
            node: dict = {"kinds": ["object"], "keys": fields}
            for part in entry.replace("]", "").split("["):
                if part == "":
                    node = node["items"]
                else:
                    assert part in node.get("keys", {}), f"{operation}: {entry} is not in Stripe's description"
                    node = node["keys"][part]


def test_every_sandbox_route_declares_its_parameters(tmp_path):
    from psp_sandbox.app import create_app
    from psp_sandbox.context import Sandbox
    from psp_sandbox.settings import Settings

    app = create_app(Sandbox.open(Settings(db_path=tmp_path / "s.db")))
    declared = set(strict._implemented())
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/v1/"):
            for method in rule.methods & {"GET", "POST", "DELETE"}:
                assert strict.operation_key(method, rule.rule) in declared, f"{method} {rule.rule} declares nothing"


def test_unknown_parameters_name_their_full_path():
    body = _error("POST", "/v1/refunds", [("payment_intent", "pi_1"), ("amout", "5")])
    assert body == {**body, "code": "parameter_unknown", "param": "amout",
                    "message": "Received unknown parameter: amout"}
    body = _error("POST", "/v1/checkout/sessions", [("success_url", "x"),
                                                    ("line_items[0][price_data][currency]", "eur"),
                                                    ("line_items[0][price_data][unit_amunt]", "5")])
    assert body["param"] == "line_items[0][price_data][unit_amunt]"
    assert body["code"] == "parameter_unknown"
    assert _error("GET", "/v1/refunds", [("chrage", "ch_1")])["param"] == "chrage"
    assert _error("GET", "/v1/events", [("created[gtee]", "1")])["param"] == "created[gtee]"


def test_parameters_stripe_has_but_the_sandbox_does_not_are_refused_not_ignored():
    for name in ("payment_intent_data[application_fee_amount]", "payment_intent_data[transfer_data][destination]",
                 "payment_intent_data[on_behalf_of]", "line_items[0][price]", "customer"):
        body = _error("POST", "/v1/checkout/sessions", [("success_url", "x"), (name, "5")])
        # The outermost name the sandbox does not support: the whole `transfer_data` hash.
        assert body["param"] == name.removesuffix("[destination]")
        assert "code" not in body and "does not support" in body["message"]
    assert _error("POST", "/v1/refunds", [("reverse_transfer", "true")])["param"] == "reverse_transfer"


def test_metadata_and_expand_take_any_key_and_index():
    strict.check("POST", "/v1/refunds", p.decode([("metadata[order]", "1"), ("metadata[x y]", ""),
                                                  ("expand[]", "charge"), ("expand[1]", "payment_intent")]))
    strict.check("POST", "/v1/refunds", p.decode([("metadata", "")]))  # "" unsets all metadata
    assert "not a hash" in _error("POST", "/v1/refunds", [("metadata[a][b]", "1")])["message"]


def test_kinds_and_empty_strings():
    assert _error("POST", "/v1/refunds", [("amount", "ten")]) == {
        **_error("POST", "/v1/refunds", [("amount", "ten")]), "code": "parameter_invalid_integer", "param": "amount"}
    assert _error("GET", "/v1/refunds", [("limit", "abc")])["code"] == "parameter_invalid_integer"
    assert _error("POST", "/v1/webhook_endpoints", [("connect", "yes")])["param"] == "connect"
    assert _error("POST", "/v1/refunds", [("amount[x]", "1")])["param"] == "amount"
    empty = _error("POST", "/v1/checkout/sessions", [("success_url", "")])
    assert (empty["code"], empty["param"]) == ("parameter_invalid_empty", "success_url")
    strict.check("GET", "/v1/events", p.decode([("created[gte]", "1"), ("created[lt]", "2"), ("limit", "3")]))


def test_typed_readers_name_the_full_path():
    form = p.decode([("line_items[0][price_data][unit_amount]", "-5"), ("line_items[0][price_data][currency]", "e"),
                     ("line_items[1][quantity]", "x")])
    price_data = p.nested(form["line_items"][0], "price_data")
    with pytest.raises(StripeError) as raised:
        p.integer(price_data, "unit_amount", minimum=0)
    assert raised.value.body["param"] == "line_items[0][price_data][unit_amount]"
    assert raised.value.body["code"] == "parameter_invalid_integer"
    with pytest.raises(StripeError) as raised:
        p.string(p.nested(price_data, "product_data"), "name", required=True)
    assert raised.value.body["param"] == "line_items[0][price_data][product_data][name]"
    assert raised.value.body["code"] == "parameter_missing"
    with pytest.raises(StripeError) as raised:
        p.integer(form["line_items"][1], "quantity")
    assert raised.value.body["param"] == "line_items[1][quantity]"


def test_report_amounts_match_money_major():
    generator = random.Random(7)
    for currency in ("eur", "jpy", "kwd", "usd"):
        for amount in [0, 1, -1, 99, -100, 123456789, *(generator.randint(-10**9, 10**9) for _ in range(200))]:
            assert fast_major(amount, currency) == major(amount, currency)
