"""Validate objects returned by the PSP (sandbox or Stripe) against Stripe's OpenAPI schemas.

The mapping from OpenAPI 3.0 to JSON Schema is the one of `shared/stripe/check_schema.py`:
`nullable` adds a null type or branch, `x-*` keys are dropped, and enums that Stripe marks
`x-stripeBypassValidation` (open-ended) are relaxed.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "stripe" / "openapi-subset.json"


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    bypass = node.get("x-stripeBypassValidation") is True
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-") or key == "nullable" or (key == "enum" and bypass):
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {name: _convert(sub) for name, sub in value.items()}
        else:
            out[key] = _convert(value)
    return _nullable(node, out) if node.get("nullable") is True else out


def _nullable(node: dict, out: dict) -> dict:
    if "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    if "anyOf" in out and "$ref" not in out:
        out["anyOf"] = [*out["anyOf"], {"type": "null"}]
        return out
    return {"anyOf": [out, {"type": "null"}]}


@functools.cache
def _spec() -> dict:
    return json.loads(SPEC_PATH.read_text())


@functools.cache
def _components() -> dict:
    return {"schemas": {name: _convert(schema) for name, schema in _spec()["components"]["schemas"].items()}}


def _errors(schema: dict, instance: Any) -> list[str]:
    validator = jsonschema.Draft4Validator({**schema, "components": _components()})
    return [_describe(error) for error in validator.iter_errors(instance)]


def _describe(error: jsonschema.ValidationError) -> str:
    """For anyOf failures, follow the closest branch down to the real reason (skipping the null branch)."""
    while error.context:
        branches = [e for e in error.context if not (e.validator == "type" and e.validator_value == "null")]
        closest = best_match(branches or error.context)
        if closest is None:
            break
        error = closest
    return f"$.{'.'.join(map(str, error.absolute_path))}: {error.message[:300]}"


def object_errors(obj: Any, schema_name: str | None = None) -> list[str]:
    """Errors of `obj` against the named schema (default: its `object` field); events also check data.object."""
    obj = _plain(obj)
    name = schema_name or obj["object"]
    errors = _errors({"$ref": f"#/components/schemas/{name}"}, obj)
    if name == "event":
        inner = obj["data"]["object"]
        errors += [f"data.object {e}" for e in object_errors(inner, inner["object"])]
    return errors


def response_errors(body: Any, operation: str, status: str = "200") -> list[str]:
    """Errors of a response body against an operation's response schema, e.g. 'GET /v1/refunds'."""
    method, path = operation.split(" ", 1)
    response = _spec()["paths"][path]["post" if method == "POST" else method.lower()]["responses"][status]
    return _errors({"allOf": [_convert(response["content"]["application/json"]["schema"])]}, _plain(body))


def assert_valid(obj: Any, schema_name: str | None = None) -> None:
    errors = object_errors(obj, schema_name)
    assert not errors, "\n".join(errors)


def assert_valid_response(body: Any, operation: str, status: str = "200") -> None:
    errors = response_errors(body, operation, status)
    assert not errors, "\n".join(errors)


def _plain(obj: Any) -> Any:
    """The SDK's StripeObject as the plain JSON data it came from."""
    to_dict = getattr(obj, "to_dict", None)
    # The SDK turns decimal-string fields (e.g. unit_amount_decimal) into Decimal; on the wire they are strings.
    return json.loads(json.dumps(to_dict() if callable(to_dict) else obj, default=str))
