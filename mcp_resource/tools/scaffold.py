"""`drawbridge tools new NAME`: the skeleton of a tool package of one's own (docs/integrate.md),
with one scope, one tool and the entry points that make Drawbridge find them."""

from __future__ import annotations

import re
from pathlib import Path

# A Python package name that is also a fine prefix for tool and scope names.
PACKAGE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

PYPROJECT = '''[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "Tools for Drawbridge."
requires-python = ">=3.11"
dependencies = ["mcp-drawbridge"]

[project.entry-points."drawbridge.scopes"]
{name} = "{name}.scopes:SCOPES"

# Each entry point's name is its tool's name.
[project.entry-points."drawbridge.tools"]
{name}_echo = "{name}.tools:Echo"

[tool.setuptools]
packages = ["{name}"]
'''

INIT = '''"""Tools for Drawbridge (docs/integrate.md in Drawbridge's repository says how to grow them)."""
'''

SCOPES = '''"""The scopes of these tools. Import nothing else here: shared/scopes.py loads this module while
being imported itself."""

from shared.scopes import Scope

READ = "{name}:read"
SCOPES = (Scope(READ, "Read from {name}."),)
'''

TOOLS = '''"""The tools: each a Tool subclass named by its entry point in pyproject.toml."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from mcp_resource.errors import ToolError
from mcp_resource.tools import fields as json_fields
from mcp_resource.tools.base import Annotations, Tool, ToolCall, ToolResult

from {name}.scopes import READ


class EchoInput(Schema):
    text = json_fields.String(required=True, validate=validate.Length(min=1, max=1000), metadata={{"description": "What to send back."}})


class EchoOutput(Schema):
    text = fields.String(required=True)


class Echo(Tool):
    name = "{name}_echo"
    description = "Send the text back unchanged."
    scope = READ
    annotations = Annotations(read_only=True, idempotent=True)
    Input = EchoInput
    Output = EchoOutput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        if not args["text"].strip():
            raise ToolError("The text is only white space; send some words.")  # the model reads this (isError)
        return ToolResult.json({{"text": args["text"]}})
'''


class ScaffoldError(Exception):
    """The skeleton cannot be made; the message says why."""


def scaffold(name: str, parent: Path) -> Path:
    """Writes the package skeleton into parent/NAME and returns that directory."""
    if not PACKAGE_NAME.match(name):
        raise ScaffoldError(f"{name!r} is not a package name: 1-40 lower-case letters, digits and '_', starting with a letter.")
    root = parent / name
    if root.exists():
        raise ScaffoldError(f"{root} exists already; choose another name or directory.")
    files = {
        "pyproject.toml": PYPROJECT.format(name=name, dist=name.replace("_", "-")),
        f"{name}/__init__.py": INIT,
        f"{name}/scopes.py": SCOPES.format(name=name),
        f"{name}/tools.py": TOOLS.format(name=name),
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
