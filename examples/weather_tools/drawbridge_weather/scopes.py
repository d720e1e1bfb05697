"""The scopes the weather tools need. Its own module, importing nothing but shared.scopes:
shared/scopes.py loads it while being imported itself."""

from shared.scopes import Scope

READ = "weather:read"
ALERTS = "weather:alerts"
SCOPES = (
    Scope(READ, "See the current weather in a city."),
    Scope(ALERTS, "Set up and remove frost alerts sent by text message to a phone number."),
)
