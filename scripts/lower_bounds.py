"""Print a pip constraints file that pins every runtime dependency to the lower bound of its range.

pip has no "lowest" resolution; constraining each dependency to its lower bound makes pip install
exactly the oldest versions pyproject.toml allows (`.ci/deps-matrix lowest`).
"""

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def lower_bounds(pyproject: Path = PYPROJECT) -> list[str]:
    deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    out = []
    for dep in deps:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][^,\s]*)\s*,\s*<\s*[0-9][^,\s]*\s*", dep)
        if m is None:
            sys.exit(f"{pyproject}: dependency {dep!r} is not a range 'name>=low,<high'")
        out.append(f"{m[1]}=={m[2]}")
    return out


if __name__ == "__main__":
    print("\n".join(lower_bounds()))
