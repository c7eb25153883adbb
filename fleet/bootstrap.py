"""Steps shared by `fleet up`, `fleet migrate` and `fleet seed`."""

from __future__ import annotations

from fleet.config import Settings
from fleet.db import connect
from fleet.migrate import migrate


async def migrate_database(database_url: str) -> list[str]:
    conn = await connect(database_url)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


async def seed_database(settings: Settings, database_url: str) -> dict[str, int]:
    """Load the scenario; demo accounts only in demo mode."""
    from fleet.scenario.load import load_scenario
    from fleet.seed import seed_scenario

    scenario = load_scenario(settings.scenario_path)
    password = settings.demo_password.get_secret_value() if settings.demo else None
    conn = await connect(database_url)
    try:
        return await seed_scenario(conn, scenario, demo_password=password)
    finally:
        await conn.close()


async def seed_demo_work(settings: Settings, database_url: str) -> dict[str, int]:
    """Demo mode, first start: last month for the reports and the coming hours' requests and
    orders for the demo accounts (fleet/demo_dispatch.py)."""
    from datetime import UTC, datetime

    from fleet.demo_dispatch import seed_demo_dispatch
    from fleet.scenario.load import load_scenario

    conn = await connect(database_url)
    try:
        return await seed_demo_dispatch(conn, load_scenario(settings.scenario_path), datetime.now(UTC))
    finally:
        await conn.close()
