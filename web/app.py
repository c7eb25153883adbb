"""The web app's composition root: `create_app(settings)`.

Nothing connects at import time: the lifespan opens the PostgreSQL pool, the Redis client
and the live-feed subscription, and closes them on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import swagger_ui_bundle
import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from fleet.config import Settings
from web import proposal_service
from web.errors import install_error_handlers
from web.jobs import JobRunner, platform_jobs
from web.resources import Resources
from web.routes import (
    approval_policies,
    attachments,
    auth,
    dead_letters,
    dispatch_console,
    dispatch_orders,
    dispatch_proposals,
    driver,
    geofences,
    health,
    live,
    map_config,
    notifications,
    pages,
    places,
    public_reports,
    rental,
    reports,
    rule_params,
    seals,
    tiles,
    trip_requests,
    vehicle_documents,
    vehicle_groups,
    vehicles,
    violation_review,
    violations,
)

STATIC_DIR = Path(__file__).resolve().parent / "static"


class RevalidatedStaticFiles(StaticFiles):
    """Static files the browser must revalidate (ETag) before use, so a deploy shows at once."""

    def file_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().file_response(*args, **kwargs)
        response.headers.setdefault("Cache-Control", "no-cache")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = await Resources.open(settings)
        app.state.resources = resources
        jobs = JobRunner(resources.pool, platform_jobs())
        jobs.start()
        try:
            yield
        finally:
            await jobs.stop()
            await proposal_service.cancel_background()
            await resources.close()

    app = FastAPI(
        title="公务用车服务平台 API",
        description="Fleet dispatch and telematics for official vehicles (Wuhan metropolitan circle).",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served below from the swagger-ui-bundle wheel: no CDN, works offline
        redoc_url=None,
    )

    @app.get("/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="公务用车服务平台 API",
            swagger_js_url="/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    app.state.settings = settings
    install_error_handlers(app)
    for router in (
        auth.router,
        vehicles.router,
        dead_letters.router,
        map_config.router,
        health.router,
        tiles.router,
        live.router,
        pages.router,
        trip_requests.router,
        attachments.router,
        dispatch_orders.router,
        dispatch_console.router,
        dispatch_proposals.router,
        approval_policies.router,
        places.router,
        rental.router,
        driver.router,
        reports.router,
        vehicle_documents.router,
        notifications.router,
        geofences.router,
        vehicle_groups.router,
        violations.router,
        violation_review.router,
        public_reports.router,
        rule_params.router,
        seals.router,
    ):
        app.include_router(router)
    app.mount("/static", RevalidatedStaticFiles(directory=STATIC_DIR), name="static")
    app.mount(
        "/vendor/leaflet",
        RevalidatedStaticFiles(directory=xstatic.pkg.leaflet.BASE_DIR),
        name="leaflet",
    )
    app.mount(
        "/vendor/leaflet-markercluster",
        RevalidatedStaticFiles(directory=xstatic.pkg.leaflet_markercluster.BASE_DIR),
        name="leaflet-markercluster",
    )
    app.mount(
        "/vendor/swagger-ui",
        RevalidatedStaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
        name="swagger-ui",
    )
    return app
