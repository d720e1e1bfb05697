"""A token request's form body (RFC 6749 section 3.2: application/x-www-form-urlencoded)."""

from __future__ import annotations

import io
from urllib.parse import parse_qsl

from flask import request
from werkzeug.datastructures import MultiDict

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# A token request is a few hundred bytes; anything larger takes werkzeug's parser and its limits.
ONE_STEP_MAX_BYTES = 16 * 1024


def token_request_form() -> MultiDict[str, str]:
    """The request's form fields, as `request.form` gives them. A sized urlencoded body is read from
    the WSGI input in one step: werkzeug's general parser and its stream wrappers cost a tenth of a
    client_credentials token (bench/README.md). The body is put back for Authlib's grants, which
    read `request.form` again. Chunked, large or other bodies go through werkzeug as before."""
    length = request.content_length
    if request.mimetype != FORM_CONTENT_TYPE or length is None or length > ONE_STEP_MAX_BYTES:
        return request.form
    body = request.environ["wsgi.input"].read(length)
    request.environ["wsgi.input"] = io.BytesIO(body)
    return MultiDict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
