"""Flask-WTF forms: every form carries a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectMultipleField
from wtforms.validators import DataRequired, EqualTo, Length

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
