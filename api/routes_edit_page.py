"""The planners' editing page ``/edit`` and the browser libraries it needs, served locally (never from a CDN).

Leaflet comes from the installed ``xstatic-leaflet`` package; the drawing tools (Leaflet-Geoman) from the npm
package installed by ``npm ci --prefix api/web`` (see ``api/web/package.json``). The page itself asks for the
token and keeps it in ``sessionStorage``, so loading it needs no login.
"""

from __future__ import annotations

from pathlib import Path

import xstatic.pkg.leaflet as xstatic_leaflet
from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).with_name("static")
#: Where ``npm ci --prefix api/web`` puts Leaflet-Geoman.
GEOMAN = Path(__file__).with_name("web") / "node_modules" / "@geoman-io" / "leaflet-geoman-free" / "dist"

router = APIRouter(tags=["Editing page"])


@router.get("/edit", summary="Editing page for planners", response_class=FileResponse, include_in_schema=False)
def edit_page() -> FileResponse:
    return FileResponse(STATIC / "edit.html", media_type="text/html; charset=utf-8")


def mount_static(app: FastAPI) -> None:
    """Serve Leaflet, Leaflet-Geoman (when installed) and the page's own script under ``/static``."""
    app.mount("/static/leaflet", StaticFiles(directory=xstatic_leaflet.BASE_DIR), name="leaflet")
    if GEOMAN.is_dir():
        app.mount("/static/vendor/geoman", StaticFiles(directory=GEOMAN), name="geoman")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
