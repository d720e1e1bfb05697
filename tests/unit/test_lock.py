"""requirements.lock, which the Dockerfile installs, agrees with pyproject.toml: every dependency
pinned at a version its specifier allows, with hashes, and the setuptools the build requires."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
PINNED = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", re.M)


def pinned() -> dict[str, Version]:
    return {canonicalize_name(name): Version(version) for name, version in PINNED.findall((REPO / "requirements.lock").read_text())}


def test_every_dependency_and_the_build_backend_are_pinned_within_their_specifiers():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    wanted = [Requirement(text) for text in project["project"]["dependencies"] + project["build-system"]["requires"]]
    lock = pinned()

    unpinned = [str(r) for r in wanted if canonicalize_name(r.name) not in lock]
    outside = [f"{r} (locked {lock[canonicalize_name(r.name)]})" for r in wanted if canonicalize_name(r.name) in lock and lock[canonicalize_name(r.name)] not in r.specifier]
    assert unpinned == [] and outside == [], "run `make lock`"


def test_every_pin_carries_a_hash():
    """pip install --require-hashes refuses a lock with a pin that has none."""
    entries = re.split(r"\n(?=[A-Za-z0-9])", (REPO / "requirements.lock").read_text())
    assert [entry.split()[0] for entry in entries if "==" in entry and "--hash=sha256:" not in entry] == []
