"""The locks install what pyproject.toml allows: every range is met by the pinned version."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", re.MULTILINE)


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / f"{lock}.lock").read_text()
    assert "--hash=sha256:" in text
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


def _requirements(extra: str | None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])
    return [Requirement(r) for r in listed]


@pytest.mark.parametrize(("lock", "extra"), [("runtime", None), ("dev", "dev")])
def test_every_dependency_is_pinned_within_its_range(lock: str, extra: str | None) -> None:
    pins = _pins(lock)
    for requirement in _requirements(extra):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is missing from {lock}.lock: run make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{name}=={pins[name]} in {lock}.lock is outside {requirement.specifier}"
        )


def test_the_lock_names_no_local_index() -> None:
    for lock in ("runtime", "dev"):
        text = (ROOT / "requirements" / f"{lock}.lock").read_text()
        assert "file://" not in text and "--find-links" not in text.replace("--no-emit-find", "")
