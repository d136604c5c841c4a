"""Decode Stripe's form encoding (`a[b][0][c]=v`, `expand[]=x`) into nested dicts and lists, and read
typed parameters from it with Stripe's error messages and codes.

Every decoded hash is a `Form`, which knows its own bracket path (`line_items[0][price_data]`), so the
readers below name the full path in `param` (`line_items[0][price_data][unit_amount]`) however deep
the caller reads, without threading prefixes through every call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from psp_sandbox.errors import invalid, missing

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


class Form(dict):
    """A hash of parameters and its bracket path from the top of the request ('' at the top)."""

    def __init__(self, items: dict | None = None, path: str = "") -> None:
        super().__init__(items or {})
        self.path = path


def full_name(params: dict, name: str) -> str:
    """The bracket path of `name` inside `params`: `line_items[0][price_data][currency]`."""
    prefix = getattr(params, "path", "")
    return f"{prefix}[{name}]" if prefix else name


def decode(pairs: Iterable[tuple[str, str]]) -> Form:
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if not match:
            raise invalid(f"Invalid parameter name: {key}", key)
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        _put(root, parts, value)
    converted = _listify(root, "")
    return converted if isinstance(converted, Form) else Form()


def _put(node: dict, parts: list[str], value: str) -> None:
    for index, part in enumerate(parts[:-1]):
        following = parts[index + 1]
        if part == "":
            # `a[][b]`: each new `b` under an empty index starts a new element, as in Rails/Stripe.
            part = str(_next_index(node, following))
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            name = parts[0] + "".join(f"[{p}]" for p in parts[1:index + 1])
            raise invalid(f"Invalid hash: {name} has both a value and nested keys", name)
    last = parts[-1]
    node[str(_next_index(node, None)) if last == "" else last] = value


def _next_index(node: dict, child: str | None) -> int:
    numbered = [int(k) for k in node if k.isdigit()]
    if not numbered:
        return 0
    top = max(numbered)
    return top if child is not None and child not in node[str(top)] else top + 1


def _listify(node: Any, path: str) -> Any:
    if not isinstance(node, dict):
        return node

    def child(key: str) -> str:
        return f"{path}[{key}]" if path else key

    if node and all(k.isdigit() for k in node):
        keys = sorted(node, key=int)
        return [_listify(node[k], child(str(i))) for i, k in enumerate(keys)]
    return Form({k: _listify(v, child(k)) for k, v in node.items()}, path)


def string(params: dict, name: str, required: bool = False, default: str | None = None) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise missing(full_name(params, name))
        return default
    if not isinstance(value, str):
        raise invalid(f"Invalid string: {full_name(params, name)} must be a string", full_name(params, name))
    if required and not value.strip():
        raise invalid(f"Invalid {full_name(params, name)}: it only contains whitespace.", full_name(params, name),
                      "parameter_invalid_string_blank")
    return value


def integer(params: dict, name: str, required: bool = False, minimum: int | None = None) -> int | None:
    raw = string(params, name, required)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"Invalid integer: {raw}", full_name(params, name), "parameter_invalid_integer")
    if minimum is not None and value < minimum:
        kind = "positive" if minimum == 1 else "non-negative" if minimum == 0 else f"at least {minimum}"
        raise invalid(f"Invalid {kind} integer: {raw}", full_name(params, name), "parameter_invalid_integer")
    return value


def boolean(params: dict, name: str, default: bool = False) -> bool:
    raw = string(params, name)
    if raw is None:
        return default
    if raw not in ("true", "false"):
        raise invalid(f"Invalid boolean: {raw}", full_name(params, name))
    return raw == "true"


def choice(params: dict, name: str, options: Iterable[str], default: str | None = None) -> str | None:
    value = string(params, name, default=default)
    options = tuple(options)
    if value is not None and value not in options:
        raise invalid(f"Invalid {full_name(params, name)}: must be one of {', '.join(options)}",
                      full_name(params, name))
    return value


def currency(params: dict, name: str = "currency", required: bool = True) -> str | None:
    value = string(params, name, required)
    if value is not None and not re.fullmatch(r"[a-zA-Z]{3}", value):
        raise invalid(f"Invalid currency: {value}. Stripe currently supports these currencies: see "
                      "https://stripe.com/docs/currencies", full_name(params, name))
    return value.lower() if value else None


def metadata(params: dict, name: str = "metadata") -> dict[str, str]:
    value = params.get(name) or {}
    if value == "":
        return {}
    if isinstance(value, list):  # `metadata[0]=x` decodes as a list; metadata keys are strings
        value = {str(index): item for index, item in enumerate(value)}
    path = full_name(params, name)
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid("Invalid metadata: must be a hash of string keys to string values", path)
    if len(value) > 50:
        raise invalid("Invalid metadata: at most 50 keys", path)
    for key, text in value.items():
        if len(key) > 40 or len(text) > 500:
            raise invalid("Invalid metadata: keys up to 40 and values up to 500 characters", f"{path}[{key}]")
    # An empty value means "unset this key"; updates merge it (resources/metadata.py), creates store it as given.
    return dict(value)


def string_list(params: dict, name: str) -> list[str]:
    value = params.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid(f"Invalid array: {full_name(params, name)}", full_name(params, name))
    return value


def nested(params: dict, name: str) -> dict:
    """The hash `name` (a `Form` carrying its bracket path), or an empty one."""
    value = params.get(name) or {}
    if not isinstance(value, dict):
        raise invalid(f"Invalid hash: {full_name(params, name)}", full_name(params, name))
    return value if isinstance(value, Form) else Form(value, full_name(params, name))
