"""The pytest harness the suites share: datasets, warehouses, dbt runs, comparison.

The suites import it as `harness` (pyproject.toml puts tests/ on pytest's path).
"""

import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
# demo_data and ensure_postgres live in scripts/, which is not a package.
sys.path.insert(0, str(PROJECT_DIR / "scripts"))
