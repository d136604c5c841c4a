"""Connect accounts as a marketplace manages them: the fields Stripe always includes, updates with their
events, bank accounts added, replaced and deleted, requirements that disable payouts, deleting an account."""

from __future__ import annotations

import pytest
import requests
import stripe

from tests.integration.psp_sandbox.connect_support import (
    PAYS_IBAN,
    available,
    control,
    events_for,
    paid_seller,
    seller,
    wait_event,
)
from tests.support.stripe_schema import assert_valid

OTHER_IBAN = "FR1420041010050500013M02606"


def test_account_has_the_fields_stripe_always_includes(psp):
    created = psp.v1.accounts.create(params={"type": "custom", "country": "DE", "external_account": {
        "object": "bank_account", "account_number": PAYS_IBAN}})
    assert_valid(created)
    account = psp.v1.accounts.retrieve(created.id)
    assert_valid(account)
    assert account.requirements.to_dict() == {
        "alternatives": [], "current_deadline": None, "currently_due": [], "disabled_reason": None, "errors": [],
        "eventually_due": [], "past_due": [], "pending_verification": []}
    assert account.future_requirements.currently_due == []
    assert (account.payouts_enabled, account.charges_enabled, account.capabilities.transfers) == (True, True, "active")
    # Stripe's default for a new account: automatic daily payouts.
    assert account.settings.payouts.schedule.to_dict() == {"delay_days": 2, "interval": "daily"}
    assert account.settings.payouts.debit_negative_balances is True
    assert account.tos_acceptance.service_agreement == "full"
    assert account.external_accounts.data[0].default_for_currency is True


def test_update_profile_schedule_and_metadata_emits_account_updated(psp, receiver):
    account = seller(psp, metadata={"seller": "1", "tier": "gold"})
    updated = psp.v1.accounts.update(account.id, params={
        "business_profile": {"name": "Seller Two GmbH", "url": "https://seller.example.com"},
        "email": "two@example.com", "metadata": {"tier": "", "region": "eu"},
        "settings": {"payouts": {"schedule": {"interval": "weekly", "weekly_anchor": "friday", "delay_days": 3},
                                 "debit_negative_balances": False}}})
    assert_valid(updated)
    assert (updated.business_profile.name, updated.business_profile.url, updated.email) == (
        "Seller Two GmbH", "https://seller.example.com", "two@example.com")
    assert updated.metadata.to_dict() == {"seller": "1", "region": "eu"}
    assert updated.settings.payouts.schedule.to_dict() == {"delay_days": 3, "interval": "weekly",
                                                           "weekly_anchor": "friday"}
    assert updated.settings.payouts.debit_negative_balances is False
    event = wait_event(receiver, account.id, "account.updated")[-1]
    assert_valid(event)
    previous = event["data"]["previous_attributes"]
    assert previous["email"] == "seller@example.com"
    assert previous["business_profile"]["name"] == "Seller GmbH"
    assert previous["settings"]["payouts"]["schedule"]["interval"] == "manual"
    monthly = psp.v1.accounts.update(account.id, params={
        "settings": {"payouts": {"schedule": {"interval": "monthly", "monthly_anchor": 31}}}})
    assert monthly.settings.payouts.schedule.to_dict() == {"delay_days": 3, "interval": "monthly",
                                                           "monthly_anchor": 31}


@pytest.mark.parametrize(("schedule", "param", "code"), [
    ({"interval": "weekly"}, "settings[payouts][schedule][weekly_anchor]", "parameter_missing"),
    ({"interval": "monthly", "monthly_anchor": 32}, "settings[payouts][schedule][monthly_anchor]", None),
    ({"interval": "hourly"}, "settings[payouts][schedule][interval]", None),
    ({"interval": "daily", "delay_days": 1}, "settings[payouts][schedule][delay_days]", None),
])
def test_invalid_schedules_are_refused(psp, schedule, param, code):
    account = seller(psp)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        psp.v1.accounts.update(account.id, params={"settings": {"payouts": {"schedule": schedule}}})
    assert (raised.value.param, raised.value.code) == (param, code)
    assert psp.v1.accounts.retrieve(account.id).settings.payouts.schedule.interval == "manual"


def test_requesting_a_capability_emits_capability_updated(psp, receiver):
    account = seller(psp)
    updated = psp.v1.accounts.update(account.id, params={"capabilities": {"card_payments": {"requested": True}}})
    assert updated.capabilities.card_payments == "active"
    event = wait_event(receiver, account.id, "capability.updated")[-1]
    assert event["data"]["object"]["id"] == "card_payments"
    assert (event["data"]["object"]["status"], event["data"]["previous_attributes"]) == ("active",
                                                                                         {"status": "inactive"})


def test_add_make_default_and_delete_bank_accounts(psp, receiver):
    account = seller(psp)
    first = account.external_accounts.data[0]
    second = psp.v1.accounts.external_accounts.create(account.id, params={
        "external_account": {"object": "bank_account", "country": "FR", "currency": "eur",
                             "account_number": OTHER_IBAN, "account_holder_name": "Seller"},
        "metadata": {"label": "new"}})
    assert_valid(second, "bank_account")
    assert (second.default_for_currency, second.last4, second.metadata.to_dict()) == (False, "2606", {"label": "new"})
    listed = psp.v1.accounts.external_accounts.list(account.id)
    assert {bank.id for bank in listed.data} == {first.id, second.id}
    with pytest.raises(stripe.InvalidRequestError) as refused:
        psp.v1.accounts.external_accounts.delete(account.id, first.id)
    assert "default" in refused.value.user_message
    made_default = psp.v1.accounts.external_accounts.update(account.id, second.id,
                                                            params={"default_for_currency": True})
    assert made_default.default_for_currency is True
    assert psp.v1.accounts.external_accounts.retrieve(account.id, first.id).default_for_currency is False
    deleted = psp.v1.accounts.external_accounts.delete(account.id, first.id)
    assert (deleted.id, deleted.deleted) == (first.id, True)
    with pytest.raises(stripe.InvalidRequestError):
        psp.v1.accounts.external_accounts.retrieve(account.id, first.id)
    assert [bank.id for bank in psp.v1.accounts.retrieve(account.id).external_accounts.data] == [second.id]
    wait_event(receiver, account.id, "account.external_account.deleted")
    types = [e["type"] for e in events_for(receiver, account.id) if e["type"].startswith("account.external_account")]
    assert types == ["account.external_account.created", "account.external_account.created",
                     "account.external_account.updated", "account.external_account.updated",
                     "account.external_account.deleted"]


def test_external_account_on_update_replaces_the_default(psp):
    account = seller(psp)
    old = account.external_accounts.data[0]
    updated = psp.v1.accounts.update(account.id, params={"external_account": {
        "object": "bank_account", "country": "FR", "currency": "eur", "account_number": OTHER_IBAN}})
    banks = updated.external_accounts.data
    assert [(bank.last4, bank.default_for_currency) for bank in banks] == [("2606", True)]
    assert banks[0].id != old.id


def test_a_token_or_a_bad_iban_is_refused(psp):
    account = seller(psp)
    with pytest.raises(stripe.InvalidRequestError) as token:
        psp.v1.accounts.external_accounts.create(account.id, params={"external_account": "btok_123"})
    assert token.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as bad:
        psp.v1.accounts.external_accounts.create(account.id, params={"external_account": {
            "object": "bank_account", "account_number": "DE00370400440532013000"}})
    assert (bad.value.param, bad.value.code) == ("external_account[account_number]", "account_number_invalid")


def test_requirements_control_disables_payouts_until_released(psp, sandbox, receiver):
    account, _ = paid_seller(psp, sandbox.url, 1000)
    status, restricted = control(sandbox.url, f"{account.id}/requirements", {
        "currently_due": ["external_account", "individual.verification.document"],
        "disabled_reason": "requirements.past_due"})
    assert (status, restricted["payouts_enabled"]) == (200, False)
    fetched = psp.v1.accounts.retrieve(account.id)
    assert_valid(fetched)
    assert fetched.payouts_enabled is False
    assert fetched.requirements.currently_due == ["external_account", "individual.verification.document"]
    assert fetched.requirements.disabled_reason == "requirements.past_due"
    event = wait_event(receiver, account.id, "account.updated")[-1]
    assert event["data"]["previous_attributes"]["payouts_enabled"] is True
    with pytest.raises(stripe.InvalidRequestError) as refused:
        psp.v1.payouts.create(params={"amount": 500, "currency": "eur"}, options={"stripe_account": account.id})
    assert refused.value.code == "payouts_not_allowed"
    status, released = control(sandbox.url, f"{account.id}/requirements/release")
    assert (status, released["payouts_enabled"], released["requirements"]["currently_due"]) == (200, True, [])
    payout = psp.v1.payouts.create(params={"amount": 500, "currency": "eur"}, options={"stripe_account": account.id})
    assert payout.status == "pending"
    assert control(sandbox.url, f"{account.id}/requirements", {"disabled_reason": "nonsense"})[0] == 400
    assert control(sandbox.url, "acct_missing/requirements")[0] == 404


def test_restricted_test_name_on_create_and_update(psp):
    restricted = seller(psp, business_profile={"name": "Shady Seller +restricted"})
    assert restricted.payouts_enabled is False
    assert restricted.requirements.past_due == restricted.requirements.currently_due != []
    assert restricted.requirements.disabled_reason == "requirements.past_due"
    fixed = psp.v1.accounts.update(restricted.id, params={"business_profile": {"name": "Fine Seller"}})
    assert (fixed.payouts_enabled, fixed.requirements.currently_due) == (True, [])
    again = psp.v1.accounts.update(restricted.id, params={"business_profile": {"name": "Seller +restricted"}})
    assert again.payouts_enabled is False


def test_delete_needs_a_zero_balance(psp, sandbox):
    account, _ = paid_seller(psp, sandbox.url, 700)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        psp.v1.accounts.delete(account.id)
    assert "balance" in refused.value.user_message
    psp.v1.payouts.create(params={"amount": 700, "currency": "eur"}, options={"stripe_account": account.id})
    assert available(psp, account.id) == {"eur": 0}
    deleted = psp.v1.accounts.delete(account.id)
    assert (deleted.id, deleted.deleted) == (account.id, True)
    with pytest.raises(stripe.InvalidRequestError):
        psp.v1.accounts.retrieve(account.id)
    gone = requests.get(f"{sandbox.url}/v1/balance", headers={"Authorization": "Bearer sk_test_x",
                                                               "Stripe-Account": account.id}, timeout=10)
    assert gone.status_code == 403
    empty = seller(psp)
    assert psp.v1.accounts.delete(empty.id).deleted is True


def test_other_settings_and_unsupported_parameters(psp):
    account = seller(psp)
    updated = psp.v1.accounts.update(account.id, params={
        "business_type": "company", "default_currency": "eur",
        "settings": {"payments": {"statement_descriptor": "SELLER GMBH"},
                     "card_payments": {"decline_on": {"cvc_failure": True}}}})
    assert_valid(updated)
    assert updated.settings.payments.statement_descriptor == "SELLER GMBH"
    assert updated.settings.card_payments.decline_on.cvc_failure is True
    assert updated.business_type == "company"
    for params, param in (({"individual": {"first_name": "Ada"}}, "individual"),
                          ({"settings": {"treasury": {"tos_acceptance": {"ip": "1.2.3.4"}}}}, "settings[treasury]")):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            psp.v1.accounts.update(account.id, params=params)
        assert refused.value.param == param
