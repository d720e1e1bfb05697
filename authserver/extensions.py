"""Extensions created unbound; `create_app` binds them with `init_app`."""

from authserver.oauth.server import AuthorizationServer

authorization = AuthorizationServer()
