"""The zone-failure tests import their helpers from zonegraphs.py, beside this file (importlib mode)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
