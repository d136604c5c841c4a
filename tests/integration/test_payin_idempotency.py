"""`POST /v1/payments` with an Idempotency-Key, on both databases. On PostgreSQL a new keyed checkout is one
statement outside the session that claims the key and stores its answer (webapp.services.payment_writes); these
tests hold it to the rules the session path keeps (webapp.services.idempotency)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import event, func, select

from tests.support import payments as pay
from webapp.dbtypes import utcnow
from webapp.domain.payment_requests import request_hash
from webapp.extensions import db
from webapp.models import IdempotencyKey, PaymentEvent
from webapp.services.idempotency import ABANDONED_AFTER, KEY_TTL

PATH = "/v1/payments"


@pytest.fixture
def shop(client):
    merchant, sellers, key = pay.merchant_with_sellers()
    return merchant, sellers, pay.Api(client, key)


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def _key_row(key: str) -> IdempotencyKey:
    db.session.rollback()
    return db.session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == key)).one()


def _left(merchant, key: str, payload: dict, *, age=ABANDONED_AFTER / 2, **columns) -> None:
    """A key row as an earlier request left it (by default: in flight for half the takeover delay)."""
    db.session.add(IdempotencyKey(merchant_id=merchant.id, key=key, method_path="POST /v1/payments",
                                  request_hash=request_hash(payload), created_at=utcnow() - age, **columns))
    db.session.commit()


def test_a_keyed_checkout_stores_its_answer_and_replays_it(shop):
    _, sellers, api = shop
    payload = pay.body(sellers)
    first = api.create(payload, idempotency_key="k-new")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    row = _key_row("k-new")
    assert (row.state, row.response_status, row.method_path) == ("done", 201, "POST /v1/payments")
    replay = api.create(payload, idempotency_key="k-new")
    assert (replay.status_code, replay.headers["Idempotent-Replayed"]) == (201, "true")
    assert replay.json == first.json
    assert _count(PaymentEvent) == 1


def test_on_postgresql_a_keyed_checkout_and_its_replay_send_nothing_through_the_session(shop, backend):
    """The one-statement path is taken (the session path would show here): its statement goes straight to a
    pooled connection, the session sends no statement (the API key is cached by the first request)."""
    if backend != "postgresql":
        pytest.skip("SQLite takes the session path")
    _, sellers, api = shop
    assert api.get(PATH).status_code == 200
    payload = pay.body(sellers)
    seen: list[str] = []
    listener = lambda _conn, _cursor, statement, *_: seen.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        first = api.create(payload, idempotency_key="k-direct")
        replay = api.create(payload, idempotency_key="k-direct")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert (first.status_code, replay.status_code) == (201, 201) and replay.json == first.json
    assert seen == []


def test_a_seller_named_by_iban_is_stored_and_replayed_as_its_id(client):
    api, payload, seller = pay.seller_by_iban(client)
    first = api.create(payload, idempotency_key="k-iban")
    assert first.status_code == 201 and first.json["payment_orders"][0]["seller_account"] == seller.id
    replay = api.create(payload, idempotency_key="k-iban")
    assert replay.json == first.json and replay.headers["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_is_refused_and_creates_nothing(shop):
    _, sellers, api = shop
    assert api.create(pay.body(sellers), idempotency_key="k-other").status_code == 201
    changed = api.create(pay.body(sellers), idempotency_key="k-other")  # another checkout_id
    assert changed.status_code == 409
    error = changed.json["error"]
    assert (error["type"], error["param"]) == ("idempotency_error", "Idempotency-Key")
    assert "only be used with the same parameters" in error["message"]
    assert _count(PaymentEvent) == 1


def test_a_key_in_flight_is_409_until_it_counts_as_abandoned(shop):
    merchant, sellers, api = shop
    payload = pay.body(sellers)
    _left(merchant, "k-flight", payload)
    busy = api.create(payload, idempotency_key="k-flight")
    assert busy.status_code == 409 and "still in flight" in busy.json["error"]["message"]
    assert busy.json["error"]["param"] == "Idempotency-Key"
    other = api.create(pay.body(sellers), idempotency_key="k-flight")  # another body: refused as such
    assert other.status_code == 409 and "same parameters" in other.json["error"]["message"]
    assert _count(PaymentEvent) == 0 and _key_row("k-flight").state == "in_flight"


@pytest.mark.parametrize("state", ["in_flight", "done"])
def test_an_abandoned_or_expired_key_is_taken_afresh(shop, state):
    merchant, sellers, api = shop
    payload = pay.body(sellers)
    age = ABANDONED_AFTER * 2 if state == "in_flight" else KEY_TTL * 2
    _left(merchant, "k-old", pay.body(sellers), age=age, state=state, response_status=201, response_body="{}")
    created = api.create(payload, idempotency_key="k-old")  # another body than the old row's: a new request
    assert created.status_code == 201, created.json
    replay = api.create(payload, idempotency_key="k-old")
    assert replay.json == created.json and replay.headers["Idempotent-Replayed"] == "true"
    assert _count(PaymentEvent) == 1 and _count(IdempotencyKey) == 1


def test_keys_are_per_merchant(shop, client):
    _, sellers, api = shop
    _, other_sellers, other_key = pay.merchant_with_sellers()
    other = pay.Api(client, other_key)
    mine = api.create(pay.body(sellers, checkout_id="same"), idempotency_key="k-shared")
    theirs = other.create(pay.body(other_sellers, checkout_id="same"), idempotency_key="k-shared")
    assert (mine.status_code, theirs.status_code) == (201, 201) and mine.json["id"] != theirs.json["id"]
    assert _count(PaymentEvent) == 2 and _count(IdempotencyKey) == 2


def test_a_refused_request_stores_nothing_and_its_key_can_be_used_again(shop):
    _, sellers, api = shop
    payload = pay.body(sellers)
    sellers[1].status = "disabled"
    db.session.commit()
    refused = api.create(payload, idempotency_key="k-refused")
    assert refused.status_code == 400 and refused.json["error"]["code"] == "seller_account_disabled"
    assert _count(IdempotencyKey) == 0
    sellers[1].status = "active"
    db.session.commit()
    assert api.create(payload, idempotency_key="k-refused").status_code == 201


def test_a_repeated_checkout_id_under_a_new_key_is_200_and_stored_so(shop):
    _, sellers, api = shop
    payload = pay.body(sellers, checkout_id="again")
    first = api.create(payload, idempotency_key="k-1")
    repeat = api.create(payload, idempotency_key="k-2")
    assert (first.status_code, repeat.status_code) == (201, 200) and repeat.json["id"] == first.json["id"]
    replay = api.create(payload, idempotency_key="k-2")
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    conflict = api.create(pay.body(sellers, checkout_id="again", amounts=("9.99",)), idempotency_key="k-3")
    assert conflict.status_code == 409 and conflict.json["error"]["code"] == "checkout_id_conflict"
    assert _count(IdempotencyKey) == 2


def test_concurrent_requests_for_one_checkout_under_different_keys_create_it_once(shop, gateway_server):
    """Each key's statement may miss the checkout another is inserting at the same moment: the loser's INSERT
    fails whole (its claim too) and the session path answers it as a repeat, stored under its key."""
    _, sellers, api = shop
    payload = pay.body(sellers)
    db.session.rollback()
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda n: requests.post(
            f"{gateway_server}{PATH}", json=payload, timeout=60,
            headers={"Authorization": f"Bearer {api.key}", "Idempotency-Key": f"k-race-{n}"}), range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 19 + [201], statuses
    assert len({r.json()["id"] for r in responses}) == 1
    assert _count(PaymentEvent) == 1 and _count(IdempotencyKey) == 20
    for n, response in enumerate(responses):
        replay = api.create(payload, idempotency_key=f"k-race-{n}")
        assert (replay.status_code, replay.json) == (response.status_code, response.json())
