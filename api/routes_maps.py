"""Maps for leaders: the plan and progress maps as complete offline HTML pages."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import StoreDep, Viewer
from api.errors import request_lang
from geo.policy.profiles import load_profile
from geo.settings import policy_settings
from maps.service import render_map

router = APIRouter(tags=["Maps"])
Basemap = Literal["none", "osm", "tianditu", "amap"]


def _page(
    kind: str,
    request: Request,
    store: StoreDep,
    *,
    profile: str | None,
    street: str | None,
    basemap: Basemap,
    as_of: dt.date | None,
) -> HTMLResponse:
    lang = request_lang(request)
    prof = load_profile(profile or policy_settings().profile)
    cache = request.app.state.analysis
    day = as_of or dt.date.today()

    def build() -> str:
        return render_map(
            store,
            kind=kind,
            profile=prof,
            street=street,
            basemap=basemap,
            as_of=day,
            lang=lang,
            city=cache.city(),
            analysis=cache.get(profile=prof.id, lang=lang),
        )

    html = cache.page((kind, prof.id, street, basemap, day, lang), build)
    return HTMLResponse(html)


@router.get("/maps/plan.html", response_class=HTMLResponse, summary="Plan map (offline HTML)")
def plan_map(
    request: Request,
    user: Viewer,
    store: StoreDep,
    profile: str | None = None,
    street: str | None = None,
    basemap: Basemap = "none",
) -> HTMLResponse:
    return _page("plan", request, store, profile=profile, street=street, basemap=basemap, as_of=None)


@router.get("/maps/progress.html", response_class=HTMLResponse, summary="Progress map (offline HTML)")
def progress_map(
    request: Request,
    user: Viewer,
    store: StoreDep,
    profile: str | None = None,
    street: str | None = None,
    basemap: Basemap = "none",
    as_of: dt.date | None = None,
) -> HTMLResponse:
    return _page("progress", request, store, profile=profile, street=street, basemap=basemap, as_of=as_of)
