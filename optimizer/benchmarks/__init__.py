"""Readers for the published benchmarks (Cordeau 2006 DARP, Li & Lim PDPTW) into Problems.

The instance files stay where they are (../shared/benchmarks next to the repository, or
FLEET_BENCHMARKS_DIR); nothing is copied into the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def benchmarks_dir() -> Path:
    """FLEET_BENCHMARKS_DIR, else <repo>/../shared/benchmarks (where CI keeps them)."""
    configured = os.environ.get("FLEET_BENCHMARKS_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "benchmarks"
