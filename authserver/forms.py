"""Flask-WTF forms: every form carries a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectMultipleField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class ConsentForm(FlaskForm):
    # Named `granted`, not `scope`: the form posts back to /authorize?<the client's request>, and
    # Authlib reads the request's own `scope` from the same parameters.
    granted = SelectMultipleField("Permissions", choices=[], validate_choice=True)
    decision = HiddenField()
