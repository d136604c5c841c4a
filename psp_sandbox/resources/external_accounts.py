"""Connected accounts' bank accounts (external accounts), given as IBANs, and the test IBANs whose payouts fail.

Stripe's documented test IBANs keep their meaning in any EU country ("by specifying the appropriate country
code you can use these test IBANs for any EU country"), so a test number is recognised by the part after the
country code and check digits. Stripe documents five failing numbers (…3001 to …3005); the sandbox adds one
for each other payout failure code and one whose payout is paid and then fails a day later, as a bank return
does. Only the IBAN's last four digits and its outcome are kept, never the whole number.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from psp_sandbox import params as p
from psp_sandbox.context import Sandbox
from psp_sandbox.errors import invalid, no_such
from psp_sandbox.ids import PLATFORM_ACCOUNT, new_id
from psp_sandbox.resources import events, metadata
from psp_sandbox.store import Row


class PayoutFailure(NamedTuple):
    code: str
    message: str
    late: bool = False  # paid first, then returned by the bank a day later


_BANK = "370400440532013"
FAILURES_BY_BBAN = {
    # Stripe's documented test IBANs (docs: Connect testing, "Payouts").
    f"{_BANK}001": PayoutFailure("no_account", "The bank account details on file are probably incorrect. No bank "
                                 "account could be located with those details."),
    f"{_BANK}002": PayoutFailure("account_closed", "The bank account has been closed."),
    f"{_BANK}003": PayoutFailure("insufficient_funds", "Your Stripe account has insufficient funds to cover the "
                                 "payout."),
    f"{_BANK}004": PayoutFailure("debit_not_authorized", "Debit transactions are not approved on the bank account. "
                                 "(Stripe requires bank accounts to be set up for both credit and debit payouts.)"),
    f"{_BANK}005": PayoutFailure("invalid_currency", "The bank was unable to process this payout because of its "
                                 "currency. This is probably because the bank account cannot accept payments in that "
                                 "currency."),
    # Sandbox additions, one per other failure code Stripe documents for payouts.
    f"{_BANK}006": PayoutFailure("invalid_account_number", "The routing number seems correct, but the account "
                                 "number is invalid."),
    f"{_BANK}007": PayoutFailure("bank_account_restricted", "The bank account has restrictions on either the type, "
                                 "or the number, of payouts allowed. This normally indicates that the bank account is "
                                 "a savings or other non-checking account."),
    f"{_BANK}008": PayoutFailure("account_frozen", "The bank account has been frozen."),
    f"{_BANK}009": PayoutFailure("could_not_process", "The bank could not process this payout."),
    f"{_BANK}010": PayoutFailure("declined", "The bank has declined this transfer. Please contact the bank before "
                                 "retrying."),
    f"{_BANK}011": PayoutFailure("incorrect_account_holder_name", "Your bank notified us that the bank account "
                                 "holder name on file is incorrect."),
    f"{_BANK}012": PayoutFailure("bank_ownership_changed", "The destination bank account is no longer valid because "
                                 "its branch has changed ownership."),
    # Paid, then returned by the bank one (sandbox) day later.
    f"{_BANK}099": PayoutFailure("account_closed", "The bank account has been closed.", late=True),
}
PLATFORM_IBAN = "DE89370400440532013000"


def iban_valid(iban: str) -> bool:
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def german_test_iban(suffix: str) -> str:
    """The DE test IBAN ending in `suffix` (e.g. "006"), with its check digits."""
    bban = f"{_BANK}{suffix}"
    digits = int("".join(str(int(char, 36)) for char in bban + "DE00"))
    return f"DE{98 - digits % 97:02d}{bban}"


def payout_failure(bank: Row) -> PayoutFailure | None:
    stored = bank.private.get("payout_failure")
    return PayoutFailure(*stored) if stored else None


def add(sb: Sandbox, account_id: str, external: dict, country: str, currency: str, *,
        default: bool | None = None, param: str = "external_account") -> Row:
    """Attach a bank account; it becomes the default for its currency if asked, or if it is the first one."""
    if p.string(external, "object", default="bank_account") != "bank_account":
        raise invalid("The sandbox supports bank accounts only.", f"{param}[object]")
    iban = re.sub(r"\s", "", p.string(external, "account_number", required=True) or "").upper()
    if not iban_valid(iban):
        raise invalid("The IBAN you provided is invalid.", f"{param}[account_number]", "account_number_invalid")
    bank_currency = (p.string(external, "currency") or currency).lower()
    first = not _banks(sb, account_id, bank_currency)
    bank: dict[str, object] = {
        "id": new_id("ba"), "object": "bank_account", "account": account_id,
        "account_holder_name": p.string(external, "account_holder_name"),
        "account_holder_type": p.choice(external, "account_holder_type", ["company", "individual"]),
        "account_type": None, "available_payout_methods": ["standard"], "bank_name": "STRIPE TEST BANK",
        "country": (p.string(external, "country") or iban[:2] or country).upper(), "currency": bank_currency,
        "default_for_currency": False, "fingerprint": f"sbx{iban[-8:]}", "last4": iban[-4:],
        "metadata": p.metadata(external), "routing_number": None, "status": "new",
    }
    failure = FAILURES_BY_BBAN.get(iban[4:])
    row = sb.store.insert(bank, account_id, {"payout_failure": list(failure) if failure else None})
    if first or default:
        make_default(sb, row)
    if account_id != PLATFORM_ACCOUNT:
        events.emit(sb, "account.external_account.created", row, account_id)
    return row


def make_default(sb: Sandbox, bank: Row) -> None:
    """`bank` becomes the default for its currency; the previous default loses the flag (and says so)."""
    for other in _banks(sb, bank.account, bank["currency"]):
        if other["id"] != bank["id"] and other["default_for_currency"]:
            other["default_for_currency"] = False
            sb.store.save(other)
            if bank.account != PLATFORM_ACCOUNT:
                events.emit(sb, "account.external_account.updated", other, bank.account,
                            previous={"default_for_currency": True})
    bank["default_for_currency"] = True
    sb.store.save(bank)


def update(sb: Sandbox, bank: Row, params: dict) -> Row:
    for name in ("account_type", "address_city", "address_country", "address_line1", "address_line2",
                 "address_state", "address_zip", "documents", "exp_month", "exp_year", "name"):
        if name in params:
            raise invalid(f"The sandbox's bank accounts (IBANs) do not take `{name}`.", name)
    previous: dict = {}
    for name in ("account_holder_name", "account_holder_type"):
        if name in params:
            value = p.choice(params, name, ["company", "individual"]) if name == "account_holder_type" \
                else p.string(params, name)
            previous[name] = bank[name]
            bank[name] = value
    if "metadata" in params:
        previous["metadata"] = bank["metadata"]
        bank["metadata"] = metadata.merged(bank["metadata"], params)
    if bank["status"] == "errored" and previous:
        # Stripe resumes payouts to an errored bank account once its details are updated.
        previous["status"] = "errored"
        bank["status"] = "new"
    sb.store.save(bank)
    if p.boolean(params, "default_for_currency") and not bank["default_for_currency"]:
        previous["default_for_currency"] = False
        make_default(sb, bank)
    events.emit(sb, "account.external_account.updated", bank, bank.account, previous=previous or None)
    return bank


def delete(sb: Sandbox, bank: Row) -> dict:
    if bank["default_for_currency"]:
        raise invalid("You cannot delete the default bank account for your default currency. Please make another "
                      "bank account the default using the `default_for_currency` param, and then delete this one.")
    return _remove(sb, bank)


def replace_all(sb: Sandbox, account_id: str, external: dict, country: str, currency: str) -> Row:
    """`external_account` on an account update: the new bank account replaces the default for its currency."""
    added = add(sb, account_id, external, country, currency, default=True)
    for other in _banks(sb, account_id, added["currency"]):
        if other["id"] != added["id"]:
            _remove(sb, other)
    return added


def _remove(sb: Sandbox, bank: Row) -> dict:
    sb.store.conn().execute("DELETE FROM objects WHERE id = ?", (bank["id"],))
    events.emit(sb, "account.external_account.deleted", bank, bank.account)
    return {"id": bank["id"], "object": "bank_account", "currency": bank["currency"], "deleted": True}


def mark_errored(sb: Sandbox, bank_id: str, account_id: str) -> None:
    """A payout to this bank account failed: Stripe stops scheduled payouts to it until its details change."""
    bank = sb.store.get(bank_id, account_id, "bank_account")
    if bank is None or bank["status"] == "errored":
        return
    previous = {"status": bank["status"]}
    bank["status"] = "errored"
    sb.store.save(bank)
    events.emit(sb, "account.external_account.updated", bank, account_id, previous=previous)


def _banks(sb: Sandbox, account_id: str, currency: str | None = None) -> list[Row]:
    rows = sb.store.select("type = 'bank_account' AND account = ?", [account_id], "seq ASC")
    return [row for row in rows if currency is None or row["currency"] == currency]


def all_of(sb: Sandbox, account_id: str) -> list[Row]:
    return _banks(sb, account_id)


def get(sb: Sandbox, account_id: str, bank_id: str) -> Row:
    bank = sb.store.get(bank_id, account_id, "bank_account")
    if bank is None:
        raise no_such("external account", bank_id)
    return bank


def default_for(sb: Sandbox, account_id: str, currency: str) -> Row | None:
    banks = _banks(sb, account_id, currency)
    return next((bank for bank in banks if bank["default_for_currency"]), banks[0] if banks else None)


def default(sb: Sandbox, account_id: str) -> Row | None:
    banks = _banks(sb, account_id)
    return next((bank for bank in banks if bank["default_for_currency"]), banks[0] if banks else None)


def ensure_platform_bank_account(sb: Sandbox) -> None:
    """The platform's own payouts go to a bank account that always pays."""
    if not _banks(sb, PLATFORM_ACCOUNT):
        add(sb, PLATFORM_ACCOUNT, {"account_number": PLATFORM_IBAN}, sb.settings.platform_country,
            sb.settings.platform_currency)
