"""URI templates of RFC 6570 level 1 (simple string expansion, `{var}` only): expanding one, and
telling which values a URI was expanded from.

Level 1 is what a resource template needs and all it may use here: a variable's value is
percent-encoded except for the unreserved characters (RFC 6570 section 3.2.2, RFC 3986 section 2.3),
so an expansion never holds a `/`, `?` or `#` of its own and matching is exact. Operators (`{+var}`,
`{/var}`, `{?var}`...), prefixes and explode modifiers (level 2 and up) are refused at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

_EXPRESSION = re.compile(r"\{([^{}]*)\}")
_VARIABLE_NAME = re.compile(r"^[A-Za-z0-9_]+$")
# One variable's expansion: unreserved characters and percent-encoded octets, at least one.
_EXPANDED_VALUE = r"(?:[A-Za-z0-9\-._~]|%[0-9A-Fa-f]{2})+"
# What may stand between expressions (RFC 6570 section 2.1 literals; no brace, no space).
_LITERAL = re.compile(r"^[^{}\s\"'<>\\^`|]*$")


class UriTemplateError(ValueError):
    """A template this server does not take; the message says why."""


@dataclass(frozen=True)
class UriTemplate:
    template: str
    variables: tuple[str, ...] = field(init=False)
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names: list[str] = []
        pattern = ""
        position = 0
        for expression in _EXPRESSION.finditer(self.template):
            pattern += self._literal(self.template[position : expression.start()])
            name = expression.group(1)
            if not _VARIABLE_NAME.match(name):
                raise UriTemplateError(f"{self.template!r}: {{{name}}} is not a level 1 expression; use {{name}} with letters, digits and _.")
            if name in names:
                raise UriTemplateError(f"{self.template!r}: the variable {name} appears twice.")
            names.append(name)
            pattern += f"(?P<{name}>{_EXPANDED_VALUE})"
            position = expression.end()
        pattern += self._literal(self.template[position:])
        object.__setattr__(self, "variables", tuple(names))
        object.__setattr__(self, "_pattern", re.compile(pattern))

    def _literal(self, text: str) -> str:
        if not _LITERAL.match(text):
            raise UriTemplateError(f"{self.template!r}: {text!r} holds a brace or a character a URI cannot.")
        return re.escape(text)

    def expand(self, values: dict[str, str]) -> str:
        """The URI these values make (every variable needs one)."""
        return _EXPRESSION.sub(lambda m: quote(values[m.group(1)], safe=""), self.template)

    def match(self, uri: str) -> dict[str, str] | None:
        """The decoded values `uri` was expanded from, or None when this template cannot make it
        (or an encoded value is not UTF-8)."""
        found = self._pattern.fullmatch(uri)
        if found is None:
            return None
        try:
            return {name: unquote(value, errors="strict") for name, value in found.groupdict().items()}
        except UnicodeDecodeError:
            return None
