"""The lock files pin every dependency pyproject.toml asks for, at versions it allows, and
the same version wherever a package appears (what `make run`, `make test` and the image
install)."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
LOCKS = {
    "requirements.lock": (),
    "requirements-test.lock": ("test",),
    "requirements-dev.lock": ("test", "bench"),
}
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;#]+)")
# The lock files are for the machine the service runs on: Python 3.11 on Linux.
ENVIRONMENT = {**default_environment(), "python_version": "3.11", "sys_platform": "linux"}


def pins(name: str) -> dict[str, Version]:
    """The pinned versions of a lock file, by canonical package name."""
    found = {}
    for line in (ROOT / name).read_text("utf-8").splitlines():
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match[1])] = Version(match[2])
    return found


def required(extras: tuple[str, ...]) -> list[Requirement]:
    """The direct requirements of the project with these extras."""
    lines = list(PYPROJECT["dependencies"])
    for extra in extras:
        lines += PYPROJECT["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize("lock", LOCKS)
def test_every_requirement_is_pinned_at_an_allowed_version(lock):
    pinned = pins(lock)
    for requirement in required(LOCKS[lock]):
        if requirement.marker and not requirement.marker.evaluate(ENVIRONMENT):
            continue
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{lock} does not pin {requirement.name}"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{lock} pins {requirement.name}=={pinned[name]}, outside {requirement.specifier}"
        )


def test_a_package_has_one_version_in_every_lock():
    versions: dict[str, set[Version]] = {}
    for lock in LOCKS:
        for name, version in pins(lock).items():
            versions.setdefault(name, set()).add(version)
    assert {name: v for name, v in versions.items() if len(v) > 1} == {}


def test_each_lock_holds_the_one_before_it():
    service, test, dev = (set(pins(lock)) for lock in LOCKS)
    assert service < test < dev


def test_the_scripts_and_the_image_install_the_locks():
    dev_sh = (ROOT / "scripts/dev.sh").read_text("utf-8")
    assert all(lock in dev_sh for lock in LOCKS)
    assert "install --no-deps -e ." in dev_sh
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    assert "requirements.lock" in dockerfile
