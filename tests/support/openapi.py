"""Validate API responses against the gateway's own OpenAPI description (webapp/api/openapi.json)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

DOCUMENT = Path(__file__).resolve().parents[2] / "webapp" / "api" / "openapi.json"


def _convert(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` becomes a JSON Schema branch that also accepts null."""
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _convert(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@lru_cache(maxsize=1)
def document() -> dict:
    return json.loads(DOCUMENT.read_text())


def response_schema(path: str, method: str, status: int) -> dict:
    operation = document()["paths"][path][method.lower()]
    content = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    return {**_convert(content), "components": _convert(document()["components"])}


def assert_response(response, path: str, method: str = "GET") -> Any:
    """Assert that a Flask or requests response matches the documented schema for its status."""
    body = response.json() if callable(getattr(response, "json", None)) else response.json
    jsonschema.validate(body, response_schema(path, method, response.status_code))
    return body
