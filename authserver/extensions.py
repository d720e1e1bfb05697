"""Extensions created unbound; `create_app` binds them with `init_app`."""

from flask_wtf.csrf import CSRFProtect

from authserver.oauth.server import AuthorizationServer

authorization = AuthorizationServer()
csrf = CSRFProtect()
