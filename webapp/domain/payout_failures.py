"""Why a payout failed, in plain words for merchants and admins.

The codes are Stripe's payout `failure_code` values, plus our own for a payout the PSP refused before it reached
a bank (`refused`) and one stopped before it was sent (`canceled`). An unknown code falls back to the PSP's own
message."""

from __future__ import annotations

FAILURE_WORDS = {
    "no_account": "The bank could not find an account with these details. The IBAN is probably wrong: replace the "
                  "seller's bank account.",
    "account_closed": "The bank account has been closed. Replace the seller's bank account.",
    "account_frozen": "The bank account is frozen. The seller must sort it out with the bank, or give another one.",
    "bank_account_restricted": "The bank account does not accept this kind of payment. Replace the seller's bank "
                               "account.",
    "bank_ownership_changed": "The bank branch changed owner, so these account details are no longer valid. "
                              "Replace the seller's bank account.",
    "could_not_process": "The bank could not process the payout. It can be tried again.",
    "debit_not_authorized": "The bank account does not allow this transfer. Replace the seller's bank account.",
    "declined": "The bank declined the payout. Check the bank account with the seller.",
    "incorrect_account_holder_name": "The account holder's name does not match the bank's records.",
    "incorrect_account_holder_address": "The account holder's address does not match the bank's records.",
    "incorrect_account_holder_tax_id": "The account holder's tax id does not match the bank's records.",
    "insufficient_funds": "The platform's balance at the payment provider did not cover the payout. It can be "
                          "tried again.",
    "invalid_account_number": "The account number is not valid. Replace the seller's bank account.",
    "invalid_currency": "The bank account cannot receive this currency. Replace the seller's bank account.",
    "refused": "The payment provider refused the payout before it was sent; the money is back in the wallet.",
    "canceled": "The payout was canceled before it was sent; the money is back in the wallet.",
}


def failure_words(code: str | None, message: str | None = None) -> str:
    """What went wrong, in plain words (the PSP's message when we do not know the code)."""
    if code in FAILURE_WORDS:
        return FAILURE_WORDS[code]
    return message or "The payout failed; the money is back in the seller's wallet."
