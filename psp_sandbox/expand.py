"""`expand[]`: replace object ids in a response with the objects, along dotted paths up to four levels."""

from __future__ import annotations

from psp_sandbox.context import Sandbox
from psp_sandbox.errors import invalid
from psp_sandbox.lists import page_of

MAX_DEPTH = 4


def expand(sb: Sandbox, obj: dict, paths: list[str]) -> dict:
    for path in paths:
        parts = path.split(".")
        if len(parts) > MAX_DEPTH + (1 if obj.get("object") == "list" else 0):
            raise invalid(f"You cannot expand more than {MAX_DEPTH} levels of a property. Property: {path}",
                          "expand")
        _expand(sb, obj, parts, path)
    return obj


def _expand(sb: Sandbox, node: object, parts: list[str], path: str) -> None:
    if isinstance(node, list):
        for item in node:
            _expand(sb, item, parts, path)
        return
    if not isinstance(node, dict) or not parts:
        return
    key, rest = parts[0], parts[1:]
    if key == "line_items" and node.get("object") == "checkout.session":
        node["line_items"] = _line_items(sb, node["id"])
    elif key == "refunds" and node.get("object") == "charge":
        # Since API 2022-11-15 a charge's refunds are included only when expanded.
        node["refunds"] = _refunds(sb, node["id"])
    elif key not in node:
        raise invalid(f"This property cannot be expanded ({path}).", "expand")
    elif isinstance(node[key], str):
        target = sb.store.get(node[key])
        if target is None:
            raise invalid(f"This property cannot be expanded ({path}).", "expand")
        node[key] = dict(target)
    _expand(sb, node[key], rest, path)


def _line_items(sb: Sandbox, session_id: str) -> dict:
    session = sb.store.get(session_id)
    items = session.private.get("line_items", []) if session else []
    return page_of(items, {"limit": "100"}, f"/v1/checkout/sessions/{session_id}/line_items")


def _refunds(sb: Sandbox, charge_id: str) -> dict:
    rows = sb.store.select("type = 'refund' AND json_extract(data, '$.charge') = ?", [charge_id], "seq DESC", 100)
    return {"object": "list", "data": [dict(row) for row in rows], "has_more": len(rows) == 100,
            "url": f"/v1/refunds?charge={charge_id}"}
