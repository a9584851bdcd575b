"""The planners' editing page ``/edit`` and the browser libraries it needs, served locally (never from a CDN).

Leaflet comes from the installed ``xstatic-leaflet`` package; the drawing tools (Leaflet-Geoman, with its Chinese
hints) from the npm package installed by ``npm ci --prefix api/web`` (see ``api/web/package.json``). The page
itself asks for the token and keeps it in ``sessionStorage``, so loading it needs no login. Its attribute form is
built from the layer's columns (``/edit/fields.json``), its basemap choices from the server's configuration
(``/edit/basemaps.json``: none by default, so the page works offline).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xstatic.pkg.leaflet as xstatic_leaflet
from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from geo.editing import MERGE_GAP_M
from geo.errors import DataError
from geo.model import LAYERS
from maps._assets import NODE_MODULES
from maps.basemaps import basemap

STATIC = Path(__file__).with_name("static")
#: Where ``npm ci --prefix api/web`` puts Leaflet-Geoman.
GEOMAN = NODE_MODULES / "@geoman-io" / "leaflet-geoman-free" / "dist"
#: Basemaps the editor may show: their tiles are in the coordinates the edits are saved in (not AMap's GCJ-02).
EDIT_BASEMAPS = ("osm", "tianditu")

router = APIRouter(tags=["Editing page"])


@router.get("/edit", summary="Editing page for planners", response_class=FileResponse, include_in_schema=False)
def edit_page() -> FileResponse:
    return FileResponse(STATIC / "edit.html", media_type="text/html; charset=utf-8")


@router.get("/edit/fields.json", summary="The attribute form of the editing page", include_in_schema=False)
def edit_fields() -> dict[str, Any]:
    columns = LAYERS["communities"].columns
    return {
        "fields": [{"name": c.name, "type": c.type, "label": c.zh, "required": c.required} for c in columns],
        "merge_gap_m": MERGE_GAP_M,
    }


@router.get("/edit/basemaps.json", summary="Basemaps the editing page may offer", include_in_schema=False)
def edit_basemaps() -> dict[str, Any]:
    offered = []
    for name in EDIT_BASEMAPS:
        try:
            offered.append({"name": name, "tiles": basemap(name).tiles})
        except DataError:  # tianditu without TIANDITU_KEY: not offered
            continue
    return {"basemaps": offered}


def mount_static(app: FastAPI) -> None:
    """Serve Leaflet, Leaflet-Geoman (when installed) and the page's own script under ``/static``."""
    app.mount("/static/leaflet", StaticFiles(directory=xstatic_leaflet.BASE_DIR), name="leaflet")
    if GEOMAN.is_dir():
        app.mount("/static/vendor/geoman", StaticFiles(directory=GEOMAN), name="geoman")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
