"""Fixtures of the integration tests that use the web app in-process."""

from tests.integration.web_app import app, broker_settings, client, db, redis, settings  # noqa: F401
