"""A token request (RFC 6749 section 3.2): its form body, read once, and Authlib's request over it."""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Payload, OAuth2Request
from flask import request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import ClientDisconnected

from authserver.unstorable_input import NUL, nul_in_form, nul_in_urlencoded
from serving.context import current_request
from serving.request_body import read_body

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def token_request_form() -> MultiDict[str, str]:
    """The request's form fields, with a urlencoded body read in one step (serving/request_body.py):
    over the size limit it is 413; one that cannot be read whole, or whose bytes or %-escapes are not
    UTF-8, or that holds a NUL (which no client id, code or scope can), is invalid_request. Other
    content types go to werkzeug's parser (`request.form`)."""
    this_request = current_request()
    if this_request.mimetype != FORM_CONTENT_TYPE:
        if nul_in_form(this_request.form):
            raise InvalidRequestError(NUL)
        return this_request.form
    try:
        body = read_body()
    except ClientDisconnected as error:
        raise InvalidRequestError("The request body could not be read whole.") from error
    if nul_in_urlencoded(body):  # on the raw bytes: the hot path parses the form once
        raise InvalidRequestError(NUL)
    try:
        return MultiDict(parse_qsl(body.decode(), keep_blank_values=True, errors="strict"))
    except UnicodeDecodeError as error:
        raise InvalidRequestError("The request body is not UTF-8 form data.") from error


def urlencoded_form() -> MultiDict[str, str]:
    """The form of a revocation or introspection request, which RFC 7009 section 2.1 and RFC 7662
    section 2.1 send as application/x-www-form-urlencoded only, read as the token endpoint's is."""
    if request.mimetype != FORM_CONTENT_TYPE:
        raise InvalidRequestError(f"The request body must be {FORM_CONTENT_TYPE}.")
    return token_request_form()


class TokenPayload(OAuth2Payload):
    """The request's parameters as the grants read them: the form body's only, as RFC 6749 sends
    them (sections 3.2, 4.1.3, 4.4.2, 6), where Authlib's Flask payload would put the query
    string's first."""

    def __init__(self, form: MultiDict[str, str]) -> None:
        self._data = form

    @property
    def data(self) -> MultiDict[str, str]:
        return self._data

    @cached_property
    def datalist(self) -> defaultdict[str, list[str]]:
        values: defaultdict[str, list[str]] = defaultdict(list)
        for key in self._data:
            values[key].extend(self._data.getlist(key))
        return values


class TokenRequest(OAuth2Request):
    """Authlib's request for the token endpoint over `token_request_form()`, so its grants read the
    form parsed once rather than werkzeug's form parser again (bench/README.md: a tenth of a token).

    It leaves out OAuth2Request.__init__, which builds the request URL only to check the transport:
    the token view has checked it already (transport.py, kept per host). It sets the same attributes.
    """

    def __init__(self, form: MultiDict[str, str]) -> None:
        this_request = current_request()
        self.method = this_request.method
        self.headers = this_request.headers  # type: ignore[assignment]  # werkzeug Headers: a mapping the stubs do not name
        self.payload = TokenPayload(form)
        self._form = form
        self._body = None
        self.client = None
        self.auth_method = None
        self.user = None
        self.authorization_code = None
        self.refresh_token = None
        self.credential = None
        self._scope = None

    @property
    def uri(self) -> str:  # type: ignore[override]  # an attribute in the stubs, computed here only when read
        return request.url

    @property
    def form(self) -> MultiDict[str, str]:
        return self._form
