"""How a buyer tried to pay: per attempt (PSP session), every try with its method (brand and last four digits of a
card, never the number) and the reason of a decline; and the bank transfer instructions of a pending transfer.

Read from the PSP through its port when a page needs them (the portal's payment page, the buyer's paid or
pending page), not stored: the PSP keeps them. A PSP that cannot be reached leaves the page without them
(`unavailable`), never broken.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.models import PaymentEvent, PspSession
from webapp.psp import PaymentTry, Psp, PspError, SessionPayments, TryResult, call_each, get_psp


@dataclass(frozen=True)
class Attempt:
    number: int
    session: PspSession
    payments: SessionPayments | None  # None: the PSP did not answer


@dataclass(frozen=True)
class Methods:
    attempts: list[Attempt]
    unavailable: bool

    @property
    def paid_with(self) -> PaymentTry | None:
        """The try that took the money, if any."""
        for attempt in reversed(self.attempts):
            for found in attempt.payments.tries if attempt.payments else ():
                if found.result is TryResult.SUCCEEDED:
                    return found
        return None


def _read(psp: Psp, session_id: str) -> SessionPayments | None:
    try:
        return psp.session_payments(session_id)
    except PspError:
        return None


def of_sessions(sessions: list[PspSession]) -> Methods:
    psp = get_psp()  # here, in the app context: the calls run on worker threads
    found = call_each([s.id for s in sessions], lambda session_id: _read(psp, session_id))
    attempts = [Attempt(s.attempt, s, payments) for s, payments in zip(sessions, found, strict=True)]
    return Methods(attempts, any(a.payments is None for a in attempts))


def of_checkout(event: PaymentEvent) -> Methods:
    """Every attempt of the checkout, oldest first."""
    return of_sessions(sorted(event.sessions, key=lambda s: s.attempt))


def of_current_attempt(event: PaymentEvent) -> Methods:
    """Only the session the buyer is on (the buyer's page needs no history)."""
    current = [s for s in event.sessions if s.id == event.psp_session_id]
    return of_sessions(current)
