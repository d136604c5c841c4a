"""The payments list's search box and filters, read from the query string, and what they mean as a query."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import DateField, SearchField, SelectField, StringField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from webapp.domain.payment_words import LABELS, MerchantStatus
from webapp.models import Merchant
from webapp.services.payment_search import PaymentQuery


def _amount(form: FlaskForm, field: StringField) -> None:
    raw = (field.data or "").strip()
    if not raw:
        return
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValidationError("Write an amount such as 25 or 25.00.") from None
    if not value.is_finite() or value < 0 or value > Decimal("1e15"):
        raise ValidationError("Write an amount such as 25 or 25.00.")


class PaymentFilterForm(FlaskForm):
    """A GET form: it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField("Search", validators=[Optional(), Length(max=255)],
                    render_kw={"placeholder": "Payment id, checkout id, order id or buyer email"})
    status = SelectField("Status", choices=[SelectChoice("", "Any status")]
                         + [SelectChoice(s.value, LABELS[s]) for s in MerchantStatus], default="")
    seller = SelectField("Seller", choices=[SelectChoice("", "Every seller")], default="")
    created_from = DateField("Created from", validators=[Optional()])
    created_to = DateField("Created until", validators=[Optional()])
    amount_min = StringField("Amount from", validators=[Optional(), Length(max=20), _amount],
                             render_kw={"inputmode": "decimal"})
    amount_max = StringField("Amount up to", validators=[Optional(), Length(max=20), _amount],
                             render_kw={"inputmode": "decimal"})

    def for_merchant(self, merchant: Merchant) -> PaymentFilterForm:
        self.seller.choices = [SelectChoice("", "Every seller")] + [
            SelectChoice(s.id, s.display_name) for s in merchant.seller_accounts]
        return self

    def validate_created_to(self, field: DateField) -> None:
        if field.data and self.created_from.data and field.data < self.created_from.data:
            raise ValidationError("The end date is before the start date.")

    def query(self, merchant_id: str) -> PaymentQuery:
        def amount(raw: str | None) -> Decimal | None:
            return Decimal(raw.strip()) if raw and raw.strip() else None

        return PaymentQuery(
            merchant_id=merchant_id, text=(self.q.data or "").strip() or None,
            status=MerchantStatus(self.status.data) if self.status.data else None,
            created_from=self.created_from.data, created_to=self.created_to.data,
            seller_account_id=self.seller.data or None, amount_min=amount(self.amount_min.data),
            amount_max=amount(self.amount_max.data),
            abandoned_after=timedelta(seconds=current_app.config["CHECKOUT_ABANDONED_AFTER_SECONDS"]))
