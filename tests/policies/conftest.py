"""The policy tests import their helpers from policytest.py, beside this file.

pytest runs with --import-mode=importlib, which does not put test directories on sys.path; only
tests/program is on the configured pythonpath (pyproject.toml), so this directory adds itself.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
