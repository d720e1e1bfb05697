"""A token request's form body (RFC 6749 section 3.2: application/x-www-form-urlencoded)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import InvalidRequestError
from flask import request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import ClientDisconnected

from authserver.unstorable_input import NUL, nul_in_form, nul_in_urlencoded
from serving.request_body import read_body

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def token_request_form() -> MultiDict[str, str]:
    """The request's form fields, with a urlencoded body read in one step (serving/request_body.py):
    over the size limit it is 413; one that cannot be read whole, or whose bytes or %-escapes are not
    UTF-8, or that holds a NUL (which no client id, code or scope can), is invalid_request. Other
    content types go to werkzeug's parser (`request.form`)."""
    if request.mimetype != FORM_CONTENT_TYPE:
        if nul_in_form(request.form):
            raise InvalidRequestError(NUL)
        return request.form
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
