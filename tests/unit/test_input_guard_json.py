"""The input guard's JSON check decides on all of a document's texts at once; it must refuse exactly what a check
of each key and value on its own refuses, and name the same field."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.domain.cards import CARD_FIELD_NAMES, contains_card_number
from webapp.domain.errors import ValidationError
from webapp.domain.payment_requests import CardDataRefused
from webapp.input_guard import MAX_JSON_DEPTH, check_json

VISA = "4242424242424242"
# Pieces that join into card numbers, IBANs, ids, dates; NUL and a lone surrogate; separators between them.
_PIECES = ["4242", "4242 ", "42424242", "-", ".", " ", "_", "|", "\x00", "\ud800", "GB82 WEST 1234 5698 7654 32",
           "evt_1Abc", "2026-11-30", "1796059773", "card", "\u00e9", "\uff38", "\uff14\uff12\uff14\uff12"]
_texts = st.lists(st.sampled_from(_PIECES), max_size=6).map("".join)
_scalars = st.one_of(_texts, st.integers(min_value=-10**20, max_value=10**20), st.floats(allow_nan=False),
                     st.booleans(), st.none())
_documents = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(_texts, inner, max_size=4)), max_leaves=12)


def _texts_one_by_one(document: object, depth: int = 0) -> list[tuple[str, bool]]:
    """Every key and scalar as text, the way the guard reads them (is_key with each)."""
    assert depth <= MAX_JSON_DEPTH
    if isinstance(document, dict):
        found = [(str(key), True) for key in document]
        for value in document.values():
            found += _texts_one_by_one(value, depth + 1)
        return found
    if isinstance(document, list):
        return [text for value in document for text in _texts_one_by_one(value, depth + 1)]
    if isinstance(document, str | int | float) and not isinstance(document, bool):
        return [(str(document), False)]
    return []


def _refused_one_by_one(document: object, card_field_names: bool) -> bool:
    return any("\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text) or contains_card_number(text)
               or (card_field_names and is_key and text.lower() in CARD_FIELD_NAMES)
               for text, is_key in _texts_one_by_one(document))


@settings(deadline=None)  # a busy machine must not fail it on time
@given(_documents, st.booleans())
def test_the_check_at_once_refuses_what_a_check_one_by_one_refuses(document, card_field_names):
    expected = _refused_one_by_one(document, card_field_names)
    try:
        check_json(document, card_field_names=card_field_names)
    except ValidationError:
        assert expected, document
    else:
        assert not expected, document


@pytest.mark.parametrize(("document", "param", "refusal"), [
    ({"orders": [{"description": "ok"}, {"description": f"x {VISA}"}]}, "orders[1][description]", CardDataRefused),
    ({"a": "1234 5678", "b": "9012 3456 7890"}, None, None),  # two texts that make no card unless glued together
    ({"metadata": {"note": "a\x00b"}}, "metadata[note]", ValidationError),
    ({"name": "\ud800"}, "name", ValidationError),
    ({"card": {"last4": "4242"}}, "card", CardDataRefused),
])
def test_a_refusal_names_the_field(document, param, refusal):
    if refusal is None:
        check_json(document)
        return
    with pytest.raises(refusal) as raised:
        check_json(document)
    assert raised.value.param == param


def test_nesting_past_the_limit_is_refused_with_its_path():
    document: object = "x"
    for _ in range(MAX_JSON_DEPTH + 1):
        document = [document]
    with pytest.raises(ValidationError, match="nested more than"):
        check_json(document)
    check_json(document[0])
