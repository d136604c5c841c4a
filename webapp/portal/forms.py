from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from webapp.domain.money import CURRENCY_EXPONENTS


class SellerAccountForm(FlaskForm):
    display_name = StringField("Display name", validators=[DataRequired(), Length(max=200)])
    iban = StringField("IBAN", validators=[DataRequired(), Length(max=50)])
    currency = SelectField("Currency", choices=sorted(CURRENCY_EXPONENTS), default="USD")


class ApiKeyForm(FlaskForm):
    name = StringField("Key name", validators=[DataRequired(), Length(max=100)])


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change state."""
