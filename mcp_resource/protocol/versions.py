"""The protocol versions we speak, and the `_meta` keys of the 2026-07-28 envelope."""

MODERN_VERSIONS = ("2026-07-28",)
# Newest first: `initialize` answers with the client's version when we speak it, else our newest.
HANDSHAKE_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
SUPPORTED_VERSIONS = MODERN_VERSIONS + HANDSHAKE_VERSIONS
# What a legacy request without MCP-Protocol-Version is taken to speak (2025-11-25 transports).
DEFAULT_LEGACY_VERSION = "2025-03-26"

PROTOCOL_VERSION_META = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES_META = "io.modelcontextprotocol/clientCapabilities"
SERVER_INFO_META = "io.modelcontextprotocol/serverInfo"
SUBSCRIPTION_ID_META = "io.modelcontextprotocol/subscriptionId"
LOG_LEVEL_META = "io.modelcontextprotocol/logLevel"
# RFC 5424 severities, as MCP logging names them, least severe first.
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")


def negotiate(requested: str) -> str:
    """The version `initialize` answers with."""
    return requested if requested in HANDSHAKE_VERSIONS else HANDSHAKE_VERSIONS[0]
