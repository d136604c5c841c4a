from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class ApiKeyForm(FlaskForm):
    name = StringField("Key name", validators=[DataRequired(), Length(max=100)])


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change state."""
