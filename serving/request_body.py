"""A request's body, read whole from the WSGI input within the app's MAX_CONTENT_LENGTH and its
deadline (the stream itself: serving/request_stream.py)."""

from __future__ import annotations

import io

from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge, RequestTimeout

from serving.context import current_flask_app, current_request


def read_body() -> bytes:
    """The whole body, sized or chunked, in one read. werkzeug's `get_data` and form parser go
    through stream wrappers that cost more than the read (a tenth of a token, bench/README.md),
    and they cut a chunked body off at the size limit without a word.

    Over MAX_CONTENT_LENGTH (both services set it): 413. Not complete by its deadline: 408.
    Unreadable (malformed chunks, a client gone mid-body) or shorter than its Content-Length: 400,
    werkzeug's ClientDisconnected. The body is put back, so `request.form` and `get_data` still
    work afterwards."""
    this_request = current_request()
    environ = this_request.environ
    limit: int = current_flask_app().config["MAX_CONTENT_LENGTH"]
    length = this_request.content_length
    if length is None and not environ.get("wsgi.input_terminated"):
        return b""  # no length, and a server that does not end the stream itself: read nothing
    if length is not None and length > limit:
        raise RequestEntityTooLarge()
    try:
        body = environ["wsgi.input"].read(limit + 1 if length is None else length)
    except TimeoutError as error:
        # RFC 9110 section 15.5.9: 408 when the server "did not receive a complete request
        # message within the time that it was prepared to wait".
        raise RequestTimeout() from error
    except OSError as error:
        raise ClientDisconnected() from error
    if len(body) > limit:
        raise RequestEntityTooLarge()
    if length is not None and len(body) < length:
        raise ClientDisconnected()
    environ["wsgi.input"] = io.BytesIO(body)
    return body

