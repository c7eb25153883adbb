"""Composition root of the platform: settings, the CLI, the embedded servers, migrations and the scenario."""
