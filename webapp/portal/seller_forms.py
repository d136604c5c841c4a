"""The portal's seller and payout-settings forms, and how their fields become the domain's values.

Parsing stays in the domain (webapp.domain.sellers, Schedule): a form only gathers strings and numbers, and a
ValidationError's `param` (e.g. `payout_schedule[weekly_anchor]`) is shown under the field it names.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from webapp.domain.errors import DomainError
from webapp.domain.money import CURRENCY_EXPONENTS, Money, currency_code
from webapp.domain.payouts import MAX_DELAY_DAYS, WEEKDAYS, Interval, Schedule
from webapp.domain.sellers import NewSeller, SellerChanges, country_of, display_name_of, email_of, iban_of, minimum_of

INTERVALS = [SelectChoice(Interval.DAILY.value, "Every day"), SelectChoice(Interval.WEEKLY.value, "Every week"),
             SelectChoice(Interval.MONTHLY.value, "Every month"),
             SelectChoice(Interval.MANUAL.value, "Manual: only with Pay out now")]


class ScheduleForm(FlaskForm):
    """A payout schedule and minimum; the anchor fields only count for their own interval."""

    interval = SelectField("Payout schedule", choices=INTERVALS, default=Interval.DAILY.value)
    weekly_anchor = SelectField("Day of the week", choices=[SelectChoice(d, d.capitalize()) for d in WEEKDAYS],
                                default="monday")
    monthly_anchor = IntegerField("Day of the month", validators=[Optional(), NumberRange(1, 31)], default=1)
    delay_days = IntegerField("Delay (days)",
                              validators=[Optional(), NumberRange(0, MAX_DELAY_DAYS)], default=0)
    minimum_payout_amount = StringField("Minimum payout amount", validators=[Optional(), Length(max=20)])

    def schedule(self) -> Schedule:
        interval = Interval(self.interval.data)
        return Schedule(interval, self.weekly_anchor.data if interval is Interval.WEEKLY else None,
                        (self.monthly_anchor.data or 1) if interval is Interval.MONTHLY else None,
                        self.delay_days.data or 0)

    def minimum_minor(self, currency: str) -> int:
        """The minimum in minor units of `currency`; empty means no minimum."""
        raw = (self.minimum_payout_amount.data or "").strip()
        return minimum_of(raw, currency) if raw else 0

    def show(self, schedule: Schedule, minimum_minor: int, currency: str) -> None:
        """Fill the fields from a schedule and minimum (the page's current values)."""
        self.interval.data = schedule.interval.value
        self.weekly_anchor.data = schedule.weekly_anchor or "monday"
        self.monthly_anchor.data = schedule.monthly_anchor or 1
        self.delay_days.data = schedule.delay_days
        self.minimum_payout_amount.data = Money(minimum_minor, currency).decimal_string if minimum_minor else ""


class NewSellerForm(ScheduleForm):
    display_name = StringField("Display name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[Optional(), Length(max=254)])
    country = StringField("Country", validators=[Optional(), Length(min=2, max=2)])
    iban = StringField("IBAN", validators=[DataRequired(), Length(max=50)])
    currency = SelectField("Currency", choices=sorted(CURRENCY_EXPONENTS), default="USD")

    def command(self) -> NewSeller:
        currency = currency_code(self.currency.data)
        return NewSeller(display_name_of(self.display_name.data), iban_of(self.iban.data), currency,
                         email=email_of(self.email.data) if self.email.data else None,
                         country=country_of(self.country.data) if self.country.data else None,
                         schedule=self.schedule(), minimum_payout_minor=self.minimum_minor(currency))


class SellerEditForm(ScheduleForm):
    display_name = StringField("Display name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[Optional(), Length(max=254)])

    def changes(self, currency: str) -> SellerChanges:
        return SellerChanges(display_name=display_name_of(self.display_name.data),
                             email=email_of(self.email.data) if self.email.data else None,
                             schedule=self.schedule(), minimum_payout_minor=self.minimum_minor(currency))


class BankAccountForm(FlaskForm):
    iban = StringField("New IBAN", validators=[DataRequired(), Length(max=50)])

    def changes(self) -> SellerChanges:
        return SellerChanges(iban=iban_of(self.iban.data))


def show_error(form: FlaskForm, exc: DomainError) -> None:
    """Put a domain error under the field its `param` names (`payout_schedule[delay_days]` → delay_days), or on
    top of the form."""
    name = (exc.param or "").removeprefix("payout_schedule[").rstrip("]")
    field = form._fields.get(name) if name else None
    (field.errors if field is not None else form.form_errors).append(exc.message)  # lists once validated
