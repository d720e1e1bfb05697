"""Every file the services read at run time reaches an installed copy: `pip install .` (not editable,
as a wheel) takes a package's non-Python files only where pyproject.toml's package-data names them
(templates, styles and scripts, the Lua script). The Docker image installs editable, from its own
copy of the tree, so it never missed them."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("authserver", "mcp_resource", "serving", "shared")


def test_every_non_python_file_of_the_packages_is_package_data():
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    missing = []
    for package in PACKAGES:
        root = REPO / package
        included = {path for pattern in declared.get(package, []) for path in root.glob(pattern)}
        for path in root.rglob("*"):
            if path.is_file() and path.suffix not in (".py", ".pyc") and path not in included:
                missing.append(str(path.relative_to(REPO)))
    assert missing == [], "add them to [tool.setuptools.package-data] in pyproject.toml"
