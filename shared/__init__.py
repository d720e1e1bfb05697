"""Code both Drawbridge services import: settings, database, scopes, logging, Redis."""
