"""Real components the tests run from Debian's packages: skipped on a machine without them, a failure in
CI, which must install them (.ci/run does)."""

from __future__ import annotations

import os
import shutil

import pytest


def require_binary(binary: str, package: str) -> str:
    """The path of `binary`; skip without it, fail under CI=true."""
    found = shutil.which(binary)
    if found:
        return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{binary} binary not found; CI must install Debian's {package} (.ci/run does)")
    pytest.skip(f"{binary} binary not found (apt-get install -y {package})")
