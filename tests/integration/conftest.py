"""Fixtures of the integration tests that use the web app in-process."""

from tests.integration.web_app import app, client, db, redis, settings  # noqa: F401
