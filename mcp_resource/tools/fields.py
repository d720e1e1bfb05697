"""Marshmallow fields for arguments that arrive as JSON: numbers, booleans and text as JSON has
them, within what the database can hold (RFC 8259 §6 and §8.2 leave both to the receiver)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from shared.unstorable import storable

# A JSON number may have any number of digits (RFC 8259 §6); every integer column is signed 64-bit.
# A Range validator, so the inputSchema shows the bound as minimum/maximum (apispec reads it).
INT64 = validate.Range(min=-(2**63), max=2**63 - 1, error="Must be between {min} and {max}, a signed 64-bit integer.")


class Integer(fields.Integer):
    """A JSON number with no fraction, within signed 64 bits: 3 and 3.0 are 3; 3.5, "3", true and
    2**63 are refused."""

    default_error_messages = {"invalid": "Not a whole number; send a JSON integer such as 3."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.insert(0, INT64)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._deserialize(int(value), attr, data, **kwargs)


class String(fields.String):
    """JSON text without a NUL or an unpaired surrogate: RFC 8259 §8.2 calls the latter not
    interoperable, and neither can be stored (PostgreSQL text refuses NUL, UTF-8 the surrogates)."""

    default_error_messages = {
        "unstorable": "Contains a NUL character or an unpaired UTF-16 surrogate; send ordinary Unicode text."
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not storable(text):
            raise self.make_error("unstorable")
        return text


class Boolean(fields.Boolean):
    """JSON true or false only, not "yes", 1 or "on"."""

    default_error_messages = {"invalid": "Not a boolean; send true or false."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value
