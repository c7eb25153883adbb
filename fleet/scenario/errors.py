"""The one exception the scenario package raises."""

from __future__ import annotations


class ScenarioError(ValueError):
    """The scenario file is unreadable or inconsistent; the message names the offending entry."""
