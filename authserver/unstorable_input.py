"""Requests holding text the database cannot store (shared/unstorable.py) get their endpoint's own
error before any view reads them: RFC 6749 §5.2 invalid_request ("includes an unsupported parameter
value"), RFC 7591 §3.2.2 invalid_client_metadata, or our error page for a person's browser.

One check per input kind: the path, the query string and a page's form here, before every view;
the token endpoint's form where it reads its body (oauth/token_form.py), and registration JSON where
it is parsed (views/oauth.py). Query strings and urlencoded bodies are tested raw, as bytes,
so the token endpoint parses nothing twice. Their bytes are decoded with replacement or strictly,
so only a NUL can reach a query; JSON's `\\uXXXX` escapes can also give an unpaired surrogate.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6750 import InvalidTokenError
from flask import Flask, Response
from werkzeug.datastructures import MultiDict

from authserver.extensions import authorization
from authserver.views.pages import error_page
from serving.context import current_request
from shared.unstorable import storable

NUL = "The request holds a NUL character, which no value here may contain."
UNSTORABLE_JSON = "The client metadata holds a NUL character or an unpaired surrogate, which no value may contain."


def init_app(app: Flask, api_blueprint: str, registration_endpoint: str) -> None:
    """Check every request. `api_blueprint`'s endpoints answer OAuth JSON and read their own bodies;
    the others are pages. `registration_endpoint` is RFC 7592's, whose path names a client."""

    def refuse_unstorable_input() -> Response | tuple[str, int] | None:
        this_request = current_request()
        in_path = "\x00" in this_request.path
        page = this_request.blueprint != api_blueprint
        page_form = page and this_request.method == "POST" and nul_in_form(this_request.form)
        if not (in_path or nul_in_urlencoded(this_request.query_string) or page_form):
            return None
        if page:
            return error_page("This request is not valid", NUL)
        if in_path and this_request.endpoint == registration_endpoint:
            # RFC 7592 §2.1: a client that does not exist is answered 401, as a bad token is.
            return authorization.handle_error_response(None, InvalidTokenError("The registration access token is not valid."))
        return authorization.handle_error_response(None, InvalidRequestError(NUL))

    app.before_request(refuse_unstorable_input)


def nul_in_urlencoded(raw: bytes) -> bool:
    """Whether urlencoded bytes decode to a NUL: `%00`, or a NUL byte sent as is."""
    return b"%00" in raw or b"\x00" in raw


def nul_in_form(form: MultiDict[str, str]) -> bool:
    """Whether a parsed form holds a NUL in a name or a value (werkzeug decodes with replacement)."""
    return any(not storable(name) or not storable(value) for name, value in form.items(multi=True))
