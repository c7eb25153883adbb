"""The HTML pages: login, the live console and the admins' dead letters (plain HTML + JS modules
under web/static)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter
from starlette.responses import HTMLResponse, RedirectResponse, Response

from web.deps import OptionalUser, SettingsDep

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
    return RedirectResponse("/console" if user else "/login", status_code=303)


@router.get("/login")
async def login_page(user: OptionalUser, settings: SettingsDep) -> Response:
    if user is not None:
        return RedirectResponse("/console", status_code=303)
    return _html("login.html", settings.tile_url)


@router.get("/console")
async def console_page(user: OptionalUser, settings: SettingsDep) -> Response:
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return _html("console.html", settings.tile_url)


@router.get("/admin/dead-letters")
async def dead_letters_page(user: OptionalUser, settings: SettingsDep) -> Response:
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if "admin" not in user.roles:
        return RedirectResponse("/console", status_code=303)
    return _html("admin_dead_letters.html", settings.tile_url)


@router.get("/favicon.ico")
async def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)
