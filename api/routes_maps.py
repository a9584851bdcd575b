"""Maps for leaders: the plan and progress maps as complete offline HTML pages, of the saved plan."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import StoreDep, Viewer
from api.errors import request_lang
from geo.plan_store import check_plan_profile, find_plan
from geo.settings import policy_settings
from geo.stores import Store
from maps.service import map_profile, render_map

router = APIRouter(tags=["Maps"])
Basemap = Literal["none", "osm", "tianditu", "amap"]
PlanParam = Annotated[
    int | None, Query(ge=1, le=2**63 - 1, description="Saved plan number; default: the profile's latest plan")
]


def map_html(
    request: Request,
    store: Store,
    *,
    kind: str,
    profile: str | None,
    plan_id: int | None,
    street: str | None,
    lang: str,
    basemap: str = "none",
    as_of: dt.date | None = None,
) -> str:
    """A map page from the app's cache, rebuilt when the data, the stage events or the plan shown changed
    (``as_of`` is today unless given)."""
    prof = map_profile(store, profile=profile, plan_id=plan_id, default=policy_settings().profile)
    saved = find_plan(store, profile=prof.id, plan_id=plan_id)
    check_plan_profile(saved, prof)
    shown = saved.plan_id if saved is not None else None
    cache = request.app.state.analysis
    day = as_of or dt.date.today()

    def build() -> str:
        return render_map(
            store,
            kind=kind,
            profile=prof,
            plan_id=shown,
            street=street,
            basemap=basemap,
            as_of=day,
            lang=lang,
            city=cache.city(),
            analysis=cache.get(profile=prof.id, lang=lang),
        )

    return cache.page((kind, prof.id, shown, street, basemap, day, lang), build)


@router.get("/maps/plan.html", response_class=HTMLResponse, summary="Plan map of the saved plan (offline HTML)")
def plan_map(
    request: Request,
    user: Viewer,
    store: StoreDep,
    profile: str | None = None,
    plan: PlanParam = None,
    street: str | None = None,
    basemap: Basemap = "none",
) -> HTMLResponse:
    html = map_html(
        request,
        store,
        kind="plan",
        profile=profile,
        plan_id=plan,
        street=street,
        lang=request_lang(request),
        basemap=basemap,
    )
    return HTMLResponse(html)


@router.get("/maps/progress.html", response_class=HTMLResponse, summary="Progress map (offline HTML)")
def progress_map(
    request: Request,
    user: Viewer,
    store: StoreDep,
    profile: str | None = None,
    plan: PlanParam = None,
    street: str | None = None,
    basemap: Basemap = "none",
    as_of: dt.date | None = None,
) -> HTMLResponse:
    html = map_html(
        request,
        store,
        kind="progress",
        profile=profile,
        plan_id=plan,
        street=street,
        lang=request_lang(request),
        basemap=basemap,
        as_of=as_of,
    )
    return HTMLResponse(html)
