"""The 2026-07-28 `requestState` of a multi-round-trip request, sealed with HMAC-SHA256.

The MRTR pattern (basic/patterns/mrtr.mdx, Server Requirements 4 and 5) says servers "MUST treat
`requestState` as an attacker-controlled input ... MUST protect its integrity (e.g. HMAC or AEAD)
and MUST reject state that fails verification", and SHOULD bind it to "the authenticated
principal", "a short expiry (TTL)" and "an identifier for the originating request"; a state that
"must be consumed at most once" is enforced server-side. Ours carries the answers of earlier rounds
(what the client says now is in its `inputResponses`), so each rule holds here:

- sealed: `base64url(payload).base64url(HMAC-SHA256(key, payload))`, the key derived from
  DRAWBRIDGE_SECRET_KEY, which every instance shares, compared in constant time;
- bound to the token's client and subject, and to the request (method, target and arguments);
- valid for STATE_TTL_SECONDS;
- single use: its random id is spent with one Redis SET NX (in process without Redis).
Each refusal is its own -32602 message, so a client and its developer know which rule it broke.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import redis

from mcp_resource.errors import InvalidParams
from shared import redis as drawbridge_redis

STATE_TTL_SECONDS = 600
STATE_VERSION = 1
_KEY_PURPOSE = b"drawbridge mcp requestState v1"


class RequestStateRefused(InvalidParams):
    """A requestState that fails one of the rules above; HTTP 400, as a malformed request is."""

    http_status = 400


@dataclass(frozen=True)
class Binding:
    """Whose request a state belongs to, and which request."""

    client_id: str
    subject: str
    request: str

    @classmethod
    def of(cls, client_id: str, subject: str, method: str, target: Any, arguments: Any) -> Binding:
        salient = json.dumps([method, target, arguments], sort_keys=True, separators=(",", ":"), default=str)
        return cls(client_id, subject, hashlib.sha256(salient.encode()).hexdigest())


class SpentStates(ABC):
    @abstractmethod
    def spend(self, state_id: str, seconds: int) -> bool:
        """True the first time `state_id` is spent within `seconds`, False after."""


class RedisSpentStates(SpentStates):
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def spend(self, state_id: str, seconds: int) -> bool:
        return bool(self.client.set(drawbridge_redis.key("request-state", state_id), 1, nx=True, ex=max(1, seconds)))


class LocalSpentStates(SpentStates):
    def __init__(self) -> None:
        self._spent: dict[str, float] = {}
        self._lock = threading.Lock()

    def spend(self, state_id: str, seconds: int) -> bool:
        now = time.time()
        with self._lock:
            for old in [k for k, until in self._spent.items() if until < now]:
                del self._spent[old]
            if state_id in self._spent:
                return False
            self._spent[state_id] = now + seconds
            return True


class RequestStates:
    def __init__(self, secret_key: str, spent: SpentStates) -> None:
        self._key = hmac.new(secret_key.encode(), _KEY_PURPOSE, hashlib.sha256).digest()
        self.spent = spent

    def seal(self, binding: Binding, answers: dict[str, Any]) -> str:
        payload = {
            "v": STATE_VERSION,
            "id": secrets.token_urlsafe(16),
            "cid": binding.client_id,
            "sub": binding.subject,
            "req": binding.request,
            "exp": int(time.time()) + STATE_TTL_SECONDS,
            "answers": answers,
        }
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{_b64(self._mac(body))}"

    def open(self, state: Any, binding: Binding) -> dict[str, Any]:
        """The answers a state carries, once it passed every rule; it is spent then."""
        payload = self._verified(state)
        if payload["cid"] != binding.client_id or payload["sub"] != binding.subject:
            raise RequestStateRefused("Invalid params: this requestState was issued to another client or person.")
        if payload["req"] != binding.request:
            raise RequestStateRefused("Invalid params: this requestState was issued for another request; retry the original request unchanged.")
        left = payload["exp"] - int(time.time())
        if left <= 0:
            raise RequestStateRefused("Invalid params: this requestState has expired; send the request again without it.")
        if not self.spent.spend(payload["id"], left):
            raise RequestStateRefused("Invalid params: this requestState was used already; each one is good for one retry.")
        return payload["answers"]

    def _verified(self, state: Any) -> dict[str, Any]:
        tampered = RequestStateRefused("Invalid params: requestState failed its integrity check; echo it exactly as it was sent.")
        if not isinstance(state, str) or state.count(".") != 1:
            raise tampered
        body, mac = state.split(".")
        try:
            given = _unb64(mac)
            payload = json.loads(_unb64(body))
        except (binascii.Error, ValueError):
            raise tampered from None
        if not hmac.compare_digest(given, self._mac(body)):
            raise tampered
        if not (isinstance(payload, dict) and payload.get("v") == STATE_VERSION and isinstance(payload.get("answers"), dict)):
            raise tampered  # sealed by us, but by a release that wrote another shape
        return payload

    def _mac(self, body: str) -> bytes:
        return hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def for_client(secret_key: str, client: redis.Redis | None) -> RequestStates:
    return RequestStates(secret_key, RedisSpentStates(client) if client is not None else LocalSpentStates())
