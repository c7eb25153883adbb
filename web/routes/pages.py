"""The HTML pages (plain HTML + JS modules under web/static): login, and every page of
web/navigation.PAGES, each open to its roles only."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter
from starlette.responses import HTMLResponse, RedirectResponse, Response

from web.deps import OptionalUser, SettingsDep
from web.navigation import PAGES, Page, landing_path

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def _page(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def _tile_origin(tile_url: str) -> str:
    """The CSP source for a tile URL template; "https://t{s}.example.cn/..." → "https://*.example.cn"."""
    parts = urlsplit(tile_url)
    if not (parts.scheme and parts.netloc):
        return ""  # relative: served by this app
    host = parts.netloc
    first, _, rest = host.partition(".")
    if "{" in first and rest:
        host = f"*.{rest}"
    return f"{parts.scheme}://{host}"


def _html(name: str, tile_url: str) -> HTMLResponse:
    img_src = " ".join(filter(None, ("'self' data: blob:", _tile_origin(tile_url))))
    csp = (
        "default-src 'self'; script-src 'self'; connect-src 'self'; "
        # Leaflet positions its panes with inline style attributes.
        f"style-src 'self' 'unsafe-inline'; img-src {img_src}; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }
    return HTMLResponse(_page(name), headers=headers)


@router.get("/")
async def index(user: OptionalUser) -> Response:
    return RedirectResponse(landing_path(user.roles) if user else "/login", status_code=303)


@router.get("/login")
async def login_page(user: OptionalUser, settings: SettingsDep) -> Response:
    if user is not None:
        return RedirectResponse(landing_path(user.roles), status_code=303)
    return _html("login.html", settings.tile_url)


def _page_route(page: Page):  # type: ignore[no-untyped-def]
    async def show(user: OptionalUser, settings: SettingsDep) -> Response:
        if user is None:
            return RedirectResponse("/login", status_code=303)
        if page.roles.isdisjoint(user.roles):  # not theirs: their own first page instead
            return RedirectResponse(landing_path(user.roles), status_code=303)
        return _html(page.file, settings.tile_url)

    show.__name__ = f"page_{page.key}"
    return show


for _entry in PAGES:
    router.add_api_route(_entry.path, _page_route(_entry), methods=["GET"])


@router.get("/driver/manifest.webmanifest")
async def driver_manifest() -> Response:
    """The driver page installs as a PWA (its service worker is /driver/sw.js)."""
    return Response(_page("driver.webmanifest"), media_type="application/manifest+json",
                    headers={"Cache-Control": "no-cache"})


@router.get("/driver/sw.js")
async def driver_service_worker() -> Response:
    # Served under /driver/ so that its scope is the driver page.
    return Response(_page("js/driver_sw.js"), media_type="text/javascript",
                    headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/driver"})


@router.get("/favicon.ico")
async def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)
