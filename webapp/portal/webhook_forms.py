"""Forms of the portal's webhooks pages."""

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from webapp.domain.webhooks import ALL_EVENTS, EventType

EVENT_CHOICES = [SelectChoice(ALL_EVENTS, "All events, including types added later")] + [
    SelectChoice(t.value, t.value) for t in EventType]


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class WebhookEndpointForm(FlaskForm):
    url = StringField("Endpoint URL", validators=[DataRequired(), Length(max=2048)])
    description = StringField("Description", validators=[Length(max=200)])
    enabled_events = CheckboxesField("Events to send", choices=EVENT_CHOICES,
                                     validators=[DataRequired(message="Choose at least one event type.")])
