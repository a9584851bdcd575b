"""The HTTP service: ``create_app`` builds the FastAPI application around one store.

Routers live in ``api/routes_*.py``, one per endpoint group, and are included here; a new group (stages, maps) is
a new module and one more line in `ROUTERS`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from api import (
    errors,
    routes_docs,
    routes_edit_page,
    routes_editing,
    routes_features,
    routes_maps,
    routes_planning,
    routes_share,
    routes_stages,
    routes_users,
)
from api.analysis_cache import AnalysisCache
from api.head import HeadAsGet
from api.input_guard import InputGuard
from api.limits import BodySizeLimit
from api.openapi_doc import as_oas30, describe_items
from geo.policy.profiles import list_profiles
from geo.settings import APISettings, api_settings
from geo.stores import Store, open_store

#: Routers in the order their routes are matched (fixed paths such as /communities/merge before /{fid} ones).
ROUTERS = (
    routes_features.router,
    routes_editing.router,
    routes_planning.router,
    routes_users.router,
    routes_stages.router,
    routes_maps.router,
    routes_share.router,
    routes_edit_page.router,
    routes_docs.router,
)
#: Responses smaller than this are sent uncompressed (gzip would not pay for its header).
GZIP_MIN_BYTES = 1024


def create_app(store: Store | None = None, *, settings: APISettings | None = None) -> FastAPI:
    """The API over ``store`` (the configured one when None), configured by ``settings`` (environment when None)."""
    settings = settings or api_settings()
    app = FastAPI(
        title="城镇老旧小区改造 API / Old residential community renewal API",
        version="0.1.0",
        description="OGC API – Features (Parts 1–4), candidate lists and plans. "
        "Send `Authorization: Bearer TOKEN`, or HTTP Basic with your user name and the token as password; "
        "tokens come from `renewal user add NAME --role ROLE`.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = store or open_store()
    app.state.settings = settings
    app.state.analysis = AnalysisCache(app.state.store)
    errors.install(app)
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = as_oas30(errors.document_errors(default_openapi()))
            units = routes_features.unit_collections()
            app.openapi_schema = describe_items(
                doc,
                settings,
                {cid: routes_features.kinds_of(cid) for cid in routes_features.collection_ids()},
                profiles={cid: list_profiles() for cid in units},
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    for router in ROUTERS:
        app.include_router(router)
    routes_share.install(app)
    routes_edit_page.mount_static(app)
    routes_docs.mount_assets(app)
    app.add_middleware(InputGuard)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "Content-Crs", "Accept-Language"],
            expose_headers=["ETag", "Content-Crs", "Location"],
        )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES)
    app.add_middleware(HeadAsGet)
    return app
