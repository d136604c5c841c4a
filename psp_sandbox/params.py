"""Decode Stripe's form encoding (`a[b][0][c]=v`, `expand[]=x`) into nested dicts and lists, and read
typed parameters from it with Stripe's error messages."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from psp_sandbox.errors import invalid, missing

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if not match:
            raise invalid(f"Invalid parameter name: {key}")
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        _put(root, parts, value)
    return _listify(root)


def _put(node: dict, parts: list[str], value: str) -> None:
    for index, part in enumerate(parts[:-1]):
        following = parts[index + 1]
        if part == "":
            # `a[][b]`: each new `b` under an empty index starts a new element, as in Rails/Stripe.
            part = str(_next_index(node, following))
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise invalid(f"Invalid parameter: {'.'.join(parts)} mixes a value and nested keys")
    last = parts[-1]
    node[str(_next_index(node, None)) if last == "" else last] = value


def _next_index(node: dict, child: str | None) -> int:
    numbered = [int(k) for k in node if k.isdigit()]
    if not numbered:
        return 0
    top = max(numbered)
    return top if child is not None and child not in node[str(top)] else top + 1


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def string(params: dict, name: str, required: bool = False, default: str | None = None) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise missing(name)
        return default
    if not isinstance(value, str):
        raise invalid(f"Invalid string: {name}", name)
    return value


def integer(params: dict, name: str, required: bool = False, minimum: int | None = None) -> int | None:
    raw = string(params, name, required)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"Invalid integer: {raw}", name)
    if minimum is not None and value < minimum:
        raise invalid(f"Invalid {name}: must be at least {minimum}", name)
    return value


def boolean(params: dict, name: str, default: bool = False) -> bool:
    raw = string(params, name)
    if raw is None:
        return default
    if raw not in ("true", "false"):
        raise invalid(f"Invalid boolean: {raw}", name)
    return raw == "true"


def choice(params: dict, name: str, options: Iterable[str], default: str | None = None) -> str | None:
    value = string(params, name, default=default)
    options = tuple(options)
    if value is not None and value not in options:
        raise invalid(f"Invalid {name}: must be one of {', '.join(options)}", name)
    return value


def currency(params: dict, name: str = "currency", required: bool = True) -> str | None:
    value = string(params, name, required)
    if value is not None and not re.fullmatch(r"[a-zA-Z]{3}", value):
        raise invalid(f"Invalid currency: {value}", name)
    return value.lower() if value else None


def metadata(params: dict, name: str = "metadata") -> dict[str, str]:
    value = params.get(name) or {}
    if value == "":
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid("Invalid metadata: must be a hash of string keys to string values", name)
    if len(value) > 50 or any(len(k) > 40 or len(v) > 500 for k, v in value.items()):
        raise invalid("Invalid metadata: at most 50 keys, keys up to 40 and values up to 500 characters", name)
    return dict(value)


def string_list(params: dict, name: str) -> list[str]:
    value = params.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid(f"Invalid array: {name}", name)
    return value


def nested(params: dict, name: str) -> dict:
    value = params.get(name) or {}
    if not isinstance(value, dict):
        raise invalid(f"Invalid hash: {name}", name)
    return value
