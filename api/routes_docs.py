"""``/docs``: Swagger UI served from the ``swagger-ui-bundle`` package, so the page works with no internet.

FastAPI's own docs page loads Swagger UI from a CDN and is blank on a government intranet. The assets come from
the installed pip package (never pasted into this repository), as the maps take Leaflet from ``xstatic-leaflet``;
the validator badge, which would call an external service, is switched off.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

router = APIRouter(include_in_schema=False)
ASSETS = "/docs/assets"


@router.get("/docs")
def docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="城镇老旧小区改造 API 文档 / API docs",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},
    )


def mount_assets(app: FastAPI) -> None:
    """Serve the package's Swagger UI files under `ASSETS`."""
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="swagger-ui")
