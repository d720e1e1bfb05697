"""Flask-WTF forms: every form carries a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

# Long enough for any passphrase, short enough that hashing it costs nothing unusual.
MAX_PASSWORD_LENGTH = 1024


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
