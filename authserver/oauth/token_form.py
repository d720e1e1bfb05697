"""A token request's form body (RFC 6749 section 3.2: application/x-www-form-urlencoded)."""

from __future__ import annotations

import io
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import InvalidRequestError
from flask import current_app, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def token_request_form() -> MultiDict[str, str]:
    """The request's form fields, as `request.form` gives them. A urlencoded body is read from the
    WSGI input in one step: werkzeug's general parser and its stream wrappers cost a tenth of a
    client_credentials token (bench/README.md), and they cut a chunked body off at the size limit
    without saying so. The body is put back for Authlib's grants, which read `request.form` again.

    A body over MAX_CONTENT_LENGTH, sized or chunked, is 413; one that cannot be read whole
    (malformed chunks, a client gone mid-body) is invalid_request. Other content types go to werkzeug."""
    if request.mimetype != FORM_CONTENT_TYPE:
        return request.form
    environ = request.environ
    limit: int = current_app.config["MAX_CONTENT_LENGTH"]
    length = request.content_length
    if length is None and not environ.get("wsgi.input_terminated"):
        return MultiDict()  # a server that does not end the input stream: read nothing, as werkzeug
    if length is not None and length > limit:
        raise RequestEntityTooLarge()
    try:
        body = environ["wsgi.input"].read(limit + 1 if length is None else length)
    except OSError as error:
        raise InvalidRequestError("The request body could not be read.") from error
    if len(body) > limit:
        raise RequestEntityTooLarge()
    if length is not None and len(body) < length:
        raise InvalidRequestError("The request body ended before its Content-Length.")
    environ["wsgi.input"] = io.BytesIO(body)
    return MultiDict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
