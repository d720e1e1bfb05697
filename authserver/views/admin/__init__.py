"""The admin console, for people holding the admin role: one module per area, each page calling
the service the `drawbridge` command calls (blueprint.py has the gate every page passes)."""

from authserver.views.admin import clients, grants, home, keys, people, registration_tokens, tools
from authserver.views.admin.blueprint import bp

__all__ = ["bp", "clients", "grants", "home", "keys", "people", "registration_tokens", "tools"]
