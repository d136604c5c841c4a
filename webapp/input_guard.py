"""One guard in front of every route: what no handler can store or parse safely is refused with a 400 here.

It runs before any other request hook and looks at every text a client sends: the path, the query string,
form fields, JSON bodies (keys and values, at any depth) and the headers the gateway stores. Refused:
- NUL characters (PostgreSQL cannot store them) and lone UTF-16 surrogates (`"\\ud800"` in JSON: not text);
- JSON nested deeper than MAX_JSON_DEPTH (Python's parser would otherwise recurse until it fails);
- card numbers, in any encoding the detector knows (webapp.domain.cards): the buyer types them only on the PSP's
  hosted page, so one here is a mistake that must not be stored or logged. Password fields are exempt (never
  stored in clear nor logged), so nobody is locked out by the password they chose.
Bounded integers for query strings are read with `query_int`, so a 30-digit "page number" is a 400 too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache

from flask import Flask, request

from webapp.domain.cards import CARD_FIELD_NAMES, TEXT_JOINER, contains_card_number
from webapp.domain.errors import NotFound, ValidationError
from webapp.domain.payment_requests import CARD_DATA_MESSAGE, CardDataRefused

MAX_JSON_DEPTH = 32
STORED_HEADERS = ("Idempotency-Key",)
_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_PREFIXES = ("/v1/", "/webhooks/")


def _check(text: str, param: str, *, cards: bool = True) -> None:
    if "\x00" in text:
        raise ValidationError("Text must not contain NUL characters.", param=param[:100] or None)
    if _SURROGATE.search(text):
        raise ValidationError("Text must be valid Unicode (no lone surrogates).", param=param[:100] or None)
    if cards and contains_card_number(text):
        raise CardDataRefused(CARD_DATA_MESSAGE, param=param[:100] or None)


def _json_texts(document: object) -> Iterator[tuple[str, str, bool]]:
    """(path, text, is_key) of every key and scalar, without recursion; ValidationError past the depth limit."""
    stack: list[tuple[object, str, int]] = [(document, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValidationError(f"JSON is nested more than {MAX_JSON_DEPTH} levels deep.", param=path[:100] or None)
        if isinstance(node, dict):
            for key, value in node.items():
                child = f"{path}[{key}]" if path else str(key)  # Stripe's bracket style, as the API names params
                yield child, str(key), True
                stack.append((value, child, depth + 1))
        elif isinstance(node, list):
            stack.extend((value, f"{path}[{index}]", depth + 1) for index, value in enumerate(node))
        elif isinstance(node, str | int | float) and not isinstance(node, bool):
            yield path, str(node), False


def _parse_json(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValidationError(f"JSON is nested more than {MAX_JSON_DEPTH} levels deep.")
    except (UnicodeDecodeError, ValueError):
        return NOT_CHECKED  # not JSON: the handler answers for its own body format


NOT_CHECKED = object()
_CHECKED_KEY = "webapp.input_guard.checked_json"


def checked_json() -> object:
    """The request's JSON body as the guard parsed and passed it (no NUL, no lone surrogate, no card data, not
    too deep), so a handler need not parse and walk it again; NOT_CHECKED when the guard parsed none (an empty
    body, not JSON, a form)."""
    return request.environ.get(_CHECKED_KEY, NOT_CHECKED)


def _all_texts(document: object) -> tuple[list[str], list[str]] | None:
    """(every key and scalar as text, the keys), level by level; None past the depth limit."""
    texts: list[str] = []
    keys: list[str] = []
    level = [document]
    for _depth in range(MAX_JSON_DEPTH + 1):
        deeper: list[object] = []
        for node in level:
            if isinstance(node, str):
                texts.append(node)
            elif isinstance(node, dict):
                keys.extend(map(str, node))
                deeper.extend(node.values())
            elif isinstance(node, list):
                deeper.extend(node)
            elif isinstance(node, int | float) and not isinstance(node, bool):
                texts.append(str(node))
        if not deeper:
            texts.extend(keys)
            return texts, keys
        level = deeper
    return None


def _passes_at_once(document: object, card_field_names: bool) -> bool:
    """True when nothing in the document is to be refused, decided in one pass over all its texts joined."""
    found = _all_texts(document)
    if found is None:
        return False
    texts, keys = found
    joined = TEXT_JOINER.join(texts)
    return not ("\x00" in joined or (not joined.isascii() and _SURROGATE.search(joined)) or contains_card_number(joined)
                or (card_field_names and any(key.lower() in CARD_FIELD_NAMES for key in keys)))


def check_json(document: object, *, card_field_names: bool = True) -> None:
    """Refuse a parsed JSON document with NUL, surrogates, over-deep nesting or card data (by content, and by
    field name unless `card_field_names` is off: the PSP's own events name objects "card")."""
    if _passes_at_once(document, card_field_names):
        return
    # Something is refused: found text by text, so the answer names the field that holds it.
    for path, text, is_key in _json_texts(document):
        if card_field_names and is_key and text.lower() in CARD_FIELD_NAMES:
            raise CardDataRefused(CARD_DATA_MESSAGE, param=path[:100])
        _check(text, path)


@cache
def _route_limits() -> tuple[tuple[str, int], ...]:
    """Body limits of the routes that have their own (imported on first use: the guard is registered first)."""
    from webapp.api import MAX_BODY_BYTES as API_LIMIT
    from webapp.webhooks.views import MAX_BODY_BYTES as WEBHOOK_LIMIT

    return ("/v1/", API_LIMIT), ("/webhooks/", WEBHOOK_LIMIT)


def _body_limit(app: Flask, path: str) -> int | None:
    return next((limit for prefix, limit in _route_limits() if path.startswith(prefix)),
                app.config.get("MAX_CONTENT_LENGTH"))


# The stored headers as the WSGI environ names them (werkzeug's header lookup raises and catches a KeyError for
# every header a request does not carry).
_STORED_HEADER_KEYS = tuple((header, "HTTP_" + header.upper().replace("-", "_")) for header in STORED_HEADERS)


def guard(app: Flask) -> None:
    path = request.path
    if "\x00" in path:  # a path holding NUL names nothing, as a malformed id names nothing
        raise NotFound("No such page: the path holds a NUL character.")
    _check(path, "path")
    if request.query_string:
        for name, value in request.args.items(multi=True):
            _check(name, name)
            _check(value, name)
    for header, key in _STORED_HEADER_KEYS:
        sent = request.environ.get(key)
        if sent is not None:
            _check(sent, header)
            # HTTP servers decode header bytes as Latin-1; a client may have sent UTF-8 (full-width digits).
            _check(sent.encode("latin-1", "replace").decode("utf-8", "replace"), header)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    request.max_content_length = _body_limit(app, path)  # read once here, within the route's own limit
    mimetype = request.mimetype
    if mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            _check(name, name)
            _check(value, name, cards="password" not in name.lower())
        for name, upload in request.files.items(multi=True):
            _check(name, name)
            _check(upload.filename or "", name)
    elif path.startswith(_JSON_PREFIXES) or request.is_json:
        raw = request.get_data(cache=True)
        document = _parse_json(raw) if raw else NOT_CHECKED
        if document is not NOT_CHECKED:
            check_json(document, card_field_names=not path.startswith("/webhooks/"))
            request.environ[_CHECKED_KEY] = document


def query_int(name: str, *, low: int, high: int) -> int | None:
    """A whole number from the query string (ASCII digits only, within [low, high]), None when absent;
    ValidationError otherwise, so an overflowing or full-width number never reaches the database."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18) or not low <= int(raw) <= high:
        raise ValidationError(f"{name} must be a whole number from {low} to {high}.", param=name)
    return int(raw)


def register(app: Flask) -> None:
    """Run the guard before every other request hook of the app and its blueprints."""
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: guard(app))
