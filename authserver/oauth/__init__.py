"""OAuth 2.0 machinery of the authorization server, one concept per module."""
