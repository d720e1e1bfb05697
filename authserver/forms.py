"""Flask-WTF forms: every form carries a CSRF token."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)

# New in WTForms 3.3 (tuples are deprecated there); types-wtforms does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from authserver.audit_selection import OUTCOMES, Filters, TimeRange
from authserver.client_specs import MACHINE, PUBLIC_APP, WEB_APP
from authserver.usage import MAX_SERIES_HOURS
from shared import scopes

# Long enough for any passphrase, short enough that hashing it costs nothing unusual.
MAX_PASSWORD_LENGTH = 1024

# The operations pages' recent spans; "custom" is from and to.
RECENT_SPANS = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}
CUSTOM = "custom"
RANGE_CHOICES = (
    SelectChoice("1h", "Last hour"), SelectChoice("24h", "Last 24 hours"), SelectChoice("7d", "Last 7 days"),
    SelectChoice("30d", "Last 30 days"), SelectChoice(CUSTOM, "From … to …"),
)
DEFAULT_RANGE = "24h"
# The longest custom range: the hourly chart's points, with a day to spare for a start mid-hour.
MAX_RANGE = timedelta(days=MAX_SERIES_HOURS // 24 - 1)
# What browsers send for <input type="datetime-local">, with or without seconds.
TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
ANY = SelectChoice("", "Any")



class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=MAX_PASSWORD_LENGTH)])
    next = HiddenField()


class ConsentForm(FlaskForm):
    # Named `granted`, not `scope`: the form posts back to /authorize?<the client's request>, and
    # Authlib reads the request's own `scope` from the same parameters.
    granted = SelectMultipleField("Permissions", choices=[], validate_choice=True)
    decision = HiddenField()


class ChangePasswordForm(FlaskForm):
    """The rules a new password must meet are users.py's; this form only asks for it twice."""

    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password."), Length(max=MAX_PASSWORD_LENGTH)]
    )
    new_password = PasswordField(
        "New password", validators=[DataRequired("Enter a new password."), Length(max=MAX_PASSWORD_LENGTH)]
    )
    new_password_again = PasswordField(
        "New password, again",
        validators=[DataRequired("Enter the new password again."), EqualTo("new_password", "The two new passwords differ.")],
    )


class ConfirmForm(FlaskForm):
    """A button that changes something (sign out, disconnect an app): only its CSRF token."""


AT_LEAST_ONE_CALL = "Enter a whole number of calls, at least 1, or leave it empty for the default."


class RateLimitForm(FlaskForm):
    """A client's own limits, as `drawbridge clients limit` takes them: empty is the deployment's default."""

    per_minute = IntegerField(
        "Tool calls per minute", validators=[Optional(), NumberRange(min=1, message=AT_LEAST_ONE_CALL)]
    )
    person = IntegerField(
        "A person's calls per minute (across all their clients)",
        validators=[Optional(), NumberRange(min=1, message=AT_LEAST_ONE_CALL)],
    )
    tools = TextAreaField("Per tool: one a line, its name and calls per minute", validators=[Length(max=4000)])

    def validate_tools(self, field: TextAreaField) -> None:
        self.tool_limits()  # raises ValidationError on a line that is not `name N`

    def tool_limits(self) -> dict[str, int]:
        """The tool limits written in `tools`, by name."""
        limits: dict[str, int] = {}
        for number, line in enumerate((self.tools.data or "").splitlines(), start=1):
            words = line.split()
            if not words:
                continue
            if len(words) != 2 or not words[1].isdigit() or int(words[1]) < 1:
                raise ValidationError(f"Line {number}: write a tool's name and its calls per minute (at least 1), e.g. get_customer 5.")
            limits[words[0]] = int(words[1])
        return limits


class GrantFilterForm(FlaskForm):
    """The grants list's filters: a GET form, so no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    person = StringField("Person (email)", validators=[Optional(), Length(max=320)])
    client = SelectField("Client", choices=[], validate_choice=True, default="")
    revoked = BooleanField("Revoked grants too")


class RegistrationTokenForm(FlaskForm):
    """What `drawbridge registration-tokens create` takes: scopes, a lifetime, a number of uses."""

    scopes = SelectMultipleField(
        "Scopes a client registered with it may hold", choices=[], validate_choice=True,
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
    )
    expires_in = SelectField(
        "Usable for",
        choices=[(3600, "1 hour"), (86400, "1 day"), (7 * 86400, "7 days"), (30 * 86400, "30 days"), (365 * 86400, "365 days")],
        coerce=int, default=86400,
    )
    uses = IntegerField(
        "How many clients it may register (empty: any number)",
        validators=[Optional(), NumberRange(min=1, message="Enter a whole number, at least 1, or leave it empty.")],
    )


class TimeRangeForm(FlaskForm):
    """The operations pages' time range: a recent span, or from and to (UTC). Sent by GET, so it
    carries no CSRF token: it changes nothing."""

    class Meta:
        csrf = False

    range = SelectField("Time range", choices=list(RANGE_CHOICES), default=DEFAULT_RANGE, validate_choice=True)
    start = DateTimeLocalField("From (UTC)", format=TIME_FORMATS, validators=[Optional()])
    end = DateTimeLocalField("To (UTC)", format=TIME_FORMATS, validators=[Optional()])

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        """Each field's own checks, then the custom range's: both ends, in order, not too long."""
        if not super().validate(extra_validators) or self.range.data != CUSTOM:
            return not self.errors
        start, end = self.start.data, self.end.data  # each field is valid here: no errors to keep
        if start is None:
            self.start.errors = ["Enter when the range starts."]
        if end is None:
            self.end.errors = ["Enter when the range ends."]
        elif start is not None and end <= start:
            self.end.errors = ["The end must be after the start."]
        elif start is not None and end - start > MAX_RANGE:
            self.end.errors = [f"A range covers at most {MAX_RANGE.days} days."]
        return not (self.start.errors or self.end.errors)

    def period(self, now: datetime) -> TimeRange:
        """The range chosen, once validated: a recent span ends `now`."""
        if self.range.data == CUSTOM and self.start.data and self.end.data:
            return TimeRange(self.start.data.replace(tzinfo=timezone.utc), self.end.data.replace(tzinfo=timezone.utc))
        return TimeRange.last(RECENT_SPANS[self.range.data or DEFAULT_RANGE], now)


class AuditFilterForm(TimeRangeForm):
    """The audit-log browser's filters; the client, tool and outcome are chosen from lists."""

    client = SelectField("Client", choices=[], default="", validate_choice=True)
    person = StringField("Person (the token's subject)", validators=[Optional(), Length(max=255, message="At most 255 characters.")])
    tool = SelectField("Tool", choices=[], default="", validate_choice=True)
    outcome = SelectField("Outcome", choices=[ANY, *(SelectChoice(name) for name in OUTCOMES)], default="", validate_choice=True)
    after = HiddenField()

    def filters(self) -> Filters:
        """The filters chosen, once validated."""
        return Filters(
            client_id=self.client.data or None, subject=self.person.data or None, tool=self.tool.data or None, outcome=self.outcome.data or None
        )


# The words the developer portal offers each kind of client in.
KIND_CHOICES = [
    SelectChoice(WEB_APP.name, "Web app: its server keeps a secret; people sign in through it"),
    SelectChoice(PUBLIC_APP.name, "Public app: desktop, mobile or in-browser, no secret, PKCE; people sign in through it"),
    SelectChoice(MACHINE.name, "Machine: acts on its own with its secret (client credentials), no person involved"),
]
# A rotation's grace, in seconds, as the portal offers it (secret_rotation.rotate_secret).
GRACE_CHOICES = [
    SelectChoice(str(seconds), label) for seconds, label in ((0, "None: the old secret stops now"), (3600, "1 hour"), (86400, "1 day"), (7 * 86400, "7 days"))
]


class ClientForm(FlaskForm):
    """A client a developer registers; what each part may be is client_specs.py's (through
    developer_clients.problems), so this form checks only that a kind was chosen and the name fits."""

    name = StringField("Name", validators=[Length(max=200, message="A name has at most 200 characters.")])
    kind = RadioField("Kind", choices=KIND_CHOICES, default=WEB_APP.name, validators=[DataRequired("Choose a kind.")])
    redirect_uris = TextAreaField("Redirect URIs, one per line (apps only)")
    # Any value comes through, so that an unknown scope is named by client_specs.checked_scopes.
    scopes = SelectMultipleField("Scopes", choices=[SelectChoice(s.name, s.description) for s in scopes.SCOPES], validate_choice=False)

    def redirect_uri_list(self) -> list[str]:
        return [line.strip() for line in (self.redirect_uris.data or "").splitlines() if line.strip()]


class RotateSecretForm(FlaskForm):
    grace_seconds = SelectField("The old secret keeps working for", choices=GRACE_CHOICES, coerce=int, default="86400")
