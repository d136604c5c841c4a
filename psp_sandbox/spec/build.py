"""Build `parameters.json`, the request parameters of every operation in Stripe's OpenAPI description,
reduced to what the strict parameter check needs: for each name, which JSON kinds it may take
(object, array, string, integer, number, boolean), its keys or item type, whether it has free keys
(metadata), and whether an empty string is allowed (Stripe's way of unsetting a parameter).

    python -m psp_sandbox.spec.build tests/data/stripe/openapi-subset.json > psp_sandbox/spec/parameters.json

A unit test rebuilds it from the copy of the spec in `tests/data/stripe/` and compares, so the two
cannot drift apart.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

_KINDS = ("object", "array", "string", "integer", "number", "boolean")


def build(spec: dict) -> dict[str, dict]:
    """`{"POST /v1/refunds": {"amount": node, ...}, ...}`: body and query parameters of each operation."""
    operations: dict[str, dict] = {}
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if method not in ("get", "post", "delete"):
                continue
            fields: dict[str, Any] = {}
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    fields[parameter["name"]] = _node(spec, parameter.get("schema", {}))
            body = operation.get("requestBody", {}).get("content", {})
            form = body.get("application/x-www-form-urlencoded") or body.get("multipart/form-data") or {}
            for name, schema in form.get("schema", {}).get("properties", {}).items():
                fields[name] = _node(spec, schema)
            operations[f"{method.upper()} {path}"] = dict(sorted(fields.items()))
    return dict(sorted(operations.items()))


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _branches(spec: dict, schema: dict) -> list[dict]:
    schema = _resolve(spec, schema)
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return [branch for alt in alternatives for branch in _branches(spec, alt)]
    return [schema]


def _node(spec: dict, schema: dict) -> dict:
    """Merge the branches of an `anyOf`: the union of their kinds, keys and item types."""
    kinds: set[str] = set()
    keys: dict[str, list[dict]] = {}
    items: list[dict] = []
    free: list[dict] = []
    empty = False
    for branch in _branches(spec, schema):
        kind = branch.get("type") or ("object" if "properties" in branch else "string")
        if kind == "string" and branch.get("enum") == [""]:
            empty = True  # `anyOf: [..., {enum: [""]}]`: posting "" unsets the parameter
            continue
        kinds.add(kind)
        for name, sub in branch.get("properties", {}).items():
            keys.setdefault(name, []).append(sub)
        extra = branch.get("additionalProperties")
        if isinstance(extra, dict):
            free.append(extra)
        elif kind == "object" and extra is None and not branch.get("properties"):
            free.append({"type": "string"})  # an object without a declared shape takes any keys
        if kind == "array" and "items" in branch:
            items.append(branch["items"])
    node: dict[str, Any] = {"kinds": sorted(kinds & set(_KINDS)) or ["string"]}
    if empty:
        node["empty"] = True
    if keys:
        node["keys"] = {name: _node(spec, {"anyOf": subs}) for name, subs in sorted(keys.items())}
    if free:
        # Free keys (metadata) can each be unset by posting an empty value to them.
        node["free"] = {**_node(spec, {"anyOf": free}), "empty": True}
    if items:
        node["items"] = _node(spec, {"anyOf": items})
    return node


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    json.dump(build(spec), sys.stdout, indent=None, separators=(",", ":"), sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
