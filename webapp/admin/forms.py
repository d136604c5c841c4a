"""Forms of the admin console."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional


class ActionForm(FlaskForm):
    """Nothing but the CSRF token: what to act on is in the URL."""


class NewMerchantForm(FlaskForm):
    name = StringField("Business name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("First user's email", validators=[DataRequired(), Email(check_deliverability=False)])
    password = PasswordField("First user's password", validators=[DataRequired(), Length(min=12, max=200)])


class RenameForm(FlaskForm):
    name = StringField("Business name", validators=[DataRequired(), Length(max=200)])


class FeesForm(FlaskForm):
    bps = IntegerField("Percentage, in basis points", validators=[Optional(), NumberRange(min=0, max=10_000)],
                       description="250 = 2.5 % of each payment order")
    fixed_minor = IntegerField("Fixed fee, in minor units", validators=[Optional(), NumberRange(min=0)],
                               description="30 = 0.30 in a two-decimal currency")
    use_default = BooleanField("Use the platform default")

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not self.use_default.data and self.bps.data is None and self.fixed_minor.data is None:
            self.bps.errors = [*self.bps.errors, "Give a percentage and/or a fixed fee, or use the platform default."]
            return False
        return True


class DisableForm(FlaskForm):
    reason = StringField("Reason", validators=[DataRequired(message="Say why the merchant is disabled."),
                                               Length(max=500)])
