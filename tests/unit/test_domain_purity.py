"""The domain stays free of I/O: no database, web, cache, broker or solver imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"asyncpg", "fastapi", "starlette", "redis", "paho", "ortools", "uvicorn", "websockets"}
DOMAIN_MODULES = [
    "telemetry/model.py",
    "telemetry/contract.py",
    "telemetry/encode.py",
    "telemetry/devices.py",
    "telemetry/filters.py",
    "telemetry/motion.py",
    "telemetry/timeline.py",
    "fleet/geodesy.py",
    "fleet/scenario/model.py",
    "fleet/scenario/load.py",
    "fleet/scenario/validate.py",
    "fleet/scenario/geo.py",
    "simulator/clock.py",
    "simulator/route.py",
    "simulator/script.py",
    "simulator/plan.py",
    "simulator/vehicle.py",
    "simulator/world.py",
]
DOMAIN_PACKAGES = ["dispatch", "optimizer", "supervision"]
# The process that runs the rules (its composition root) does I/O by design.
IO_MODULES = {"supervision/runner.py"}
# A package's PostgreSQL side is named *store.py (dispatch/store.py, dispatch/rental_store.py…):
# an exception. The other: the optimizer's solver, the one module that may import OR-Tools.
ORTOOLS_MODULE = "optimizer/ortools_solver.py"


def domain_files() -> list[Path]:
    files = [ROOT / name for name in DOMAIN_MODULES]
    for package in DOMAIN_PACKAGES:
        files += sorted((ROOT / package).glob("**/*.py")) if (ROOT / package).is_dir() else []
    return [f for f in files if f.exists() and not f.name.endswith("store.py")
            and str(f.relative_to(ROOT)) not in IO_MODULES]


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", domain_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_module_imports_no_io(path):
    allowed = {"ortools"} if str(path.relative_to(ROOT)) == ORTOOLS_MODULE else set()
    assert imported_roots(path) & (FORBIDDEN - allowed) == set()


def test_the_check_looks_at_real_files():
    missing = [name for name in DOMAIN_MODULES if not (ROOT / name).exists()]
    assert missing == []  # a renamed module must not drop out of the check unnoticed
    checked = {str(p.relative_to(ROOT)) for p in domain_files()}
    assert {"dispatch/trip_requests.py", "dispatch/orders.py", "optimizer/__init__.py"} <= checked
    assert "asyncpg" in imported_roots(ROOT / "telemetry" / "store.py")  # the adapter, for contrast
