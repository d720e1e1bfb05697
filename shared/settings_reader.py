"""Typed values read from environment variables, each problem remembered with its variable's name
first, so that start-up can name every wrong setting at once (shared/settings.py)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from shared import secret_strength

# AES-256-GCM key-encryption keys (DRAWBRIDGE_KEY_ENCRYPTION_KEYS).
KEY_ENCRYPTION_KEY_BYTES = 32
# A host name or IPv4 address as a URL's host spells it (no scheme, port or path); IPv6 is parsed.
_HOST_NAME = re.compile(r"[a-z0-9.-]+")


class EnvironmentReader:
    """Parses environment variables and remembers what was wrong with them."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def text(self, name: str, default: str) -> str:
        return self.env.get(name, "").strip() or default

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.text(name, default)
        if value not in allowed:
            self.problems.append(f"{name}={value!r} must be one of: {', '.join(allowed)}.")
            return default
        return value

    def integer(self, name: str, default: int, minimum: int, maximum: int) -> int:
        raw = self.text(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            self.problems.append(f"{name}={raw!r} is not a whole number.")
            return default
        if not minimum <= value <= maximum:
            self.problems.append(f"{name}={value} must be between {minimum} and {maximum}.")
            return default
        return value

    def url(self, name: str, default: str) -> str:
        value = self.text(name, default)
        if value and not _is_absolute_http_url(value):
            self.problems.append(f"{name}={value!r} must be an absolute http(s) URL without query or fragment.")
            return default
        return value

    def key_encryption_keys(self, name: str, default: tuple[bytes, ...]) -> tuple[bytes, ...]:
        # Never quote a value here: these are secrets, and the message reaches logs.
        texts = self.text(name, "").replace(",", " ").split()
        keys = [decode_key(text) for text in texts]
        bad = [str(number) for number, key in enumerate(keys, start=1) if key is None]
        if bad:
            what = (
                "still holds the example file's placeholder" if secret_strength.PLACEHOLDER.search(" ".join(texts))
                else f"key(s) {', '.join(bad)} are not {KEY_ENCRYPTION_KEY_BYTES} bytes in base64url"
            )
            self.problems.append(f"{name} {what}; generate one with: {secret_strength.GENERATE_COMMAND}")
            return default
        return tuple(key for key in keys if key is not None) or default

    def host_list(self, name: str) -> list[str]:
        """Host names or IP addresses, as a URL's host reads them (lower case, IPv6 without brackets)."""
        values = [v.lower().removeprefix("[").removesuffix("]") for v in self.text(name, "").replace(",", " ").split()]
        bad = [v for v in values if not _is_host(v)]
        if bad:
            self.problems.append(f"{name} holds values that are not host names or IP addresses: {', '.join(bad)}.")
            return []
        return values

    def scope_list(self, name: str) -> list[str]:
        """Scopes of the catalogue (shared/scopes.py), sorted, without repeats."""
        # Here, not at the top: the catalogue loads tool packages' scopes, which may import the apps, which import this module.
        from shared import scopes

        values = scopes.parse(self.text(name, "").replace(",", " "))
        if unknown := scopes.unknown(values):
            self.problems.append(f"{name} holds scopes the catalogue lacks: {', '.join(unknown)}; known: {' '.join(sorted(scopes.SCOPE_NAMES))}.")
            return []
        return values

    def url_list(self, name: str) -> list[str]:
        values = self.text(name, "").split()
        bad = [v for v in values if not _is_absolute_http_url(v)]
        if bad:
            self.problems.append(f"{name} holds values that are not absolute http(s) URLs: {', '.join(bad)}.")
            return []
        return values


def encode_key(key: bytes) -> str:
    """A key as DRAWBRIDGE_KEY_ENCRYPTION_KEYS spells it: base64url without padding."""
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode()


def decode_key(text: str) -> bytes | None:
    """The key `text` spells in base64url (padding optional), or None if it is not one."""
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except binascii.Error:
        return None
    return key if len(key) == KEY_ENCRYPTION_KEY_BYTES else None


def _is_host(value: str) -> bool:
    if ":" not in value:
        return _HOST_NAME.fullmatch(value) is not None
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def _is_absolute_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.query and not parts.fragment
