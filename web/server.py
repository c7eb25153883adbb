"""`fleet web`: serve the web app with uvicorn."""

from __future__ import annotations

import uvicorn

from fleet.config import Settings
from web.app import create_app


def run_web(settings: Settings) -> None:
    """Runs the web app on settings.http_host:http_port until interrupted."""
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
    )
