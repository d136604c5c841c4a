"""The one parameter check every `/v1` route goes through, as Stripe does it, before any handler runs:

1. a parameter Stripe's API does not have for this operation is refused (`parameter_unknown`, with the
   full bracket path, e.g. `line_items[0][price_data][unit_amunt]`);
2. a value of the wrong kind is refused (`parameter_invalid_integer`, "Invalid boolean", a hash where a
   string belongs…), and an empty string where the parameter cannot be unset (`parameter_invalid_empty`);
3. a parameter Stripe has but the sandbox does not implement is refused too, never silently ignored
   (see `implemented.py`).

Which parameters exist comes from Stripe's OpenAPI description (`parameters.json`, built by
`spec/build.py`); which ones the sandbox implements comes from `implemented.py`.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from psp_sandbox.errors import StripeError, invalid
from psp_sandbox.spec.implemented import EXTENSIONS, IMPLEMENTED

_PARAMETERS = Path(__file__).with_name("parameters.json")
_PLACEHOLDER = re.compile(r"\{[^}]*\}|<[^>]*>")


def operation_key(method: str, path: str) -> str:
    """`POST /v1/transfers/<transfer_id>/reversals` and `POST /v1/transfers/{id}/reversals` → one key."""
    return f"{method.upper()} {_PLACEHOLDER.sub('{}', path)}"


@functools.cache
def _spec() -> dict[str, dict]:
    raw = json.loads(_PARAMETERS.read_text())
    spec = {operation_key(*name.split(" ", 1)): fields for name, fields in raw.items()}
    for name, extra in EXTENSIONS.items():
        spec.setdefault(operation_key(*name.split(" ", 1)), {}).update(extra)
    return spec


@functools.cache
def _implemented() -> dict[str, tuple[str, ...]]:
    return {operation_key(*name.split(" ", 1)): tuple(paths) for name, paths in IMPLEMENTED.items()}


def known(method: str, path: str) -> bool:
    """Whether the operation is in Stripe's description (or a declared sandbox extension)."""
    return operation_key(method, path) in _spec()


def implemented(method: str, path: str) -> tuple[str, ...]:
    """The implemented parameter paths of an operation; `expand` comes with every operation that has it."""
    key = operation_key(method, path)
    declared = _implemented().get(key, ())
    return (*declared, "expand") if "expand" in _spec().get(key, {}) else declared


@functools.cache
def _plan(method: str, path: str) -> tuple[dict, frozenset[str], frozenset[str]]:
    """An operation's parameters, its implemented entries, and every proper prefix of those entries
    (`line_items`, `line_items[]`, `line_items[][price_data]`…): the check then needs set lookups only."""
    entries = frozenset(implemented(method, path))
    prefixes = {entry[:index] for entry in entries for index, char in enumerate(entry) if char == "["}
    fields = _spec().get(operation_key(method, path), {})
    return {"kinds": ["object"], "keys": fields}, entries, frozenset(prefixes)


def check(method: str, path: str, params: dict[str, Any]) -> None:
    """Raise Stripe's error for the first parameter that is unknown, malformed or not implemented."""
    root, entries, prefixes = _plan(method, path)
    _walk_object(params, root, "", "", entries, prefixes, False)


def _walk_object(value: dict, node: dict, path: str, pattern: str, entries: frozenset[str],
                 prefixes: frozenset[str], covered: bool) -> None:
    keys, free = node.get("keys", {}), node.get("free")
    for key, child in value.items():
        child_path = f"{path}[{key}]" if path else key
        if key in keys:
            child_node, child_pattern = keys[key], f"{pattern}[{key}]" if pattern else key
        elif free is not None:
            child_node, child_pattern = free, f"{pattern}[*]"
        else:
            raise invalid(f"Received unknown parameter: {child_path}", child_path, "parameter_unknown")
        _walk(child, child_node, child_path, child_pattern, entries, prefixes, covered)


def _walk(value: Any, node: dict, path: str, pattern: str, entries: frozenset[str], prefixes: frozenset[str],
          covered: bool) -> None:
    _kind_of(value, node, path)
    nested = isinstance(value, dict | list) and bool(value)
    if not covered:
        if pattern in entries:
            covered = True  # an entry covers everything under it
        elif not (nested and pattern in prefixes):
            raise unsupported(path)  # the outermost unsupported name: `payment_intent_data[transfer_data]`
    if isinstance(value, dict):
        _walk_object(value, node, path, pattern, entries, prefixes, covered)
    elif isinstance(value, list):
        items = node.get("items") or node.get("free") or {"kinds": ["string"]}
        for index, item in enumerate(value):
            _walk(item, items, f"{path}[{index}]", f"{pattern}[]", entries, prefixes, covered)


def _kind_of(value: Any, node: dict, path: str) -> None:
    kinds = node["kinds"]
    if isinstance(value, dict):
        if "object" not in kinds:
            raise invalid(f"Invalid {_expected(kinds)}: {path} is not a hash", path, _code(kinds))
    elif isinstance(value, list):
        # `a[0]=x` decodes as a list; an object with free keys (metadata) may have numeric keys.
        if "array" not in kinds and "free" not in node:
            raise invalid(f"Invalid {_expected(kinds)}: {path} is not an array", path, _code(kinds))
    elif value == "":
        if not node.get("empty"):
            raise _empty(path)
    elif "string" not in kinds:
        if "integer" in kinds and re.fullmatch(r"-?\d+", value):
            return
        if "number" in kinds and re.fullmatch(r"-?\d+(\.\d+)?", value):
            return
        if "boolean" in kinds and value in ("true", "false"):
            return
        if set(kinds) & {"integer", "number", "boolean"}:
            raise invalid(f"Invalid {_expected(kinds)}: {value}", path, _code(kinds))
        raise invalid(f"Invalid {_expected(kinds)}: {path} must be a {_expected(kinds)}", path, _code(kinds))


def _expected(kinds: list[str]) -> str:
    for kind, word in (("integer", "integer"), ("number", "number"), ("boolean", "boolean"), ("array", "array"),
                       ("object", "hash")):
        if kind in kinds:
            return word
    return "string"


def _code(kinds: list[str]) -> str | None:
    return "parameter_invalid_integer" if "integer" in kinds else None


def _empty(path: str) -> StripeError:
    return invalid(f"You passed an empty string for '{path}'. We assume empty values are an attempt to unset a "
                   f"parameter; however '{path}' cannot be unset. You should remove '{path}' from your request or "
                   "supply a non-empty value.", path, "parameter_invalid_empty")


def unsupported(path: str) -> StripeError:
    """A parameter of Stripe's API that the sandbox does not implement: refused, so nobody relies on it."""
    return StripeError(400, "invalid_request_error", f"The sandbox does not support the parameter {path} (it is "
                       "part of Stripe's API, but the sandbox does not implement it). Remove it, or test this request "
                       "against Stripe's test mode.", param=path)
