"""Blueprints of the authorization server, one per area."""
