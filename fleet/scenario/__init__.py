"""The scenario: cities, organisations, depots, vehicles, drivers, rental companies, zones,
places and roads, read from YAML (the bundled Wuhan-circle reference scenario by default)."""

from fleet.scenario.errors import ScenarioError
from fleet.scenario.model import Scenario

__all__ = ["Scenario", "ScenarioError"]
