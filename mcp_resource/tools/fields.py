"""Marshmallow fields for arguments that arrive as JSON: numbers and booleans as JSON has them."""

from __future__ import annotations

from typing import Any

from marshmallow import fields


class Integer(fields.Integer):
    """A JSON number with no fraction: 3 and 3.0 are 3; 3.5, "3" and true are refused."""

    default_error_messages = {"invalid": "Not a whole number; send a JSON integer such as 3."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._deserialize(int(value), attr, data, **kwargs)


class Boolean(fields.Boolean):
    """JSON true or false only, not "yes", 1 or "on"."""

    default_error_messages = {"invalid": "Not a boolean; send true or false."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value
