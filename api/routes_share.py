"""Share links: planners make, list and revoke them; anyone holding one opens that one map page, without a token.

The link's secret is its own small authentication (:func:`shared_link`), separate from the bearer-token users of
:mod:`api.deps`: it opens ``/s/{secret}`` and nothing else, so a leader's phone never holds a token that could
read or edit anything. Answers to a browser are HTML (an expired link says so in words, not JSON).
"""

from __future__ import annotations

import html
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from api.deps import FeatureId, Planner, StoreDep
from api.errors import request_lang
from api.routes_maps import map_html
from geo.errors import NotFoundError
from geo.share_links import DEFAULT_DAYS, MAX_DAYS, LinkGoneError, ShareLink, create_share, list_shares, revoke_share
from geo.share_links import share_for_secret as find_share

router = APIRouter(tags=["Share links"])

#: A shared page runs its own inline scripts and styles and loads nothing else (basemap tiles excepted);
#: 'unsafe-eval' because folium's measure plugin (leaflet-measure) compiles its lodash templates at run time.
SHARED_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
}


class ShareRequest(BaseModel):
    """Which map page to share, for how long."""

    kind: Literal["plan", "progress"]
    street: str | None = None
    days: int = Field(default=DEFAULT_DAYS, ge=1, le=MAX_DAYS)
    profile: str | None = None
    plan: int | None = Field(default=None, ge=1, le=2**63 - 1)
    lang: Literal["zh", "en"] = "zh"


def _message_page(status: int, zh: str, en: str) -> HTMLResponse:
    body = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>分享链接 / Share link</title>'
        "<style>body{font-family:sans-serif;margin:3em auto;max-width:32em;padding:0 1em;line-height:1.6}</style>"
        f"</head><body><h1>{html.escape(zh)}</h1><p>{html.escape(en)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status, headers=SHARED_HEADERS)


class _LinkProblem(HTTPException):
    def __init__(self, status: int, error: NotFoundError) -> None:
        super().__init__(status, error.zh)
        self.error = error


def shared_link(
    store: StoreDep, secret: Annotated[str, Path(min_length=8, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]
) -> ShareLink:
    """The active share link of the secret in the URL; 410 when it expired or was revoked, 404 when unknown."""
    try:
        return find_share(store, secret)
    except LinkGoneError as exc:
        raise _LinkProblem(410, exc) from None
    except NotFoundError as exc:
        raise _LinkProblem(404, exc) from None


SharedLink = Annotated[ShareLink, Depends(shared_link)]


def _url(request: Request, path: str) -> str:
    """The absolute URL of ``path`` on this service, as the request reached it."""
    return str(request.base_url).rstrip("/") + path


@router.get("/s/{secret}", response_class=HTMLResponse, summary="A shared map page (no token needed)")
def open_shared(request: Request, store: StoreDep, link: SharedLink) -> HTMLResponse:
    page = map_html(
        request, store, kind=link.kind, profile=link.profile, plan_id=link.plan_id, street=link.street, lang=link.lang
    )
    return HTMLResponse(page, headers=SHARED_HEADERS)


@router.post("/shares", status_code=201, summary="Make a read-only share link to a map page")
def make_share(body: ShareRequest, request: Request, store: StoreDep, user: Planner) -> JSONResponse:
    link, secret = create_share(
        store,
        kind=body.kind,
        actor=user.name,
        street=body.street,
        days=body.days,
        profile=body.profile,
        plan_id=body.plan,
        lang=body.lang,
    )
    return JSONResponse(
        {**link.record(), "url": _url(request, f"/s/{secret}")},
        status_code=201,
        headers={"Location": _url(request, f"/shares/{link.link_id}")},
    )


@router.get("/shares", summary="Every share link (never its secret)")
def shares(store: StoreDep, user: Planner) -> dict[str, Any]:
    return {"shares": [link.record() for link in list_shares(store)]}


@router.delete("/shares/{link_id}", summary="Revoke a share link at once")
def revoke(link_id: FeatureId, store: StoreDep, user: Planner) -> dict[str, Any]:
    return revoke_share(store, link_id, actor=user.name).record()


def install(app: Any) -> None:
    """Answer a bad share link with a page a browser shows, in the reader's language first."""

    async def problem(request: Request, exc: Exception) -> HTMLResponse:
        assert isinstance(exc, _LinkProblem)
        first, second = exc.error.zh, exc.error.en
        if request_lang(request) == "en":
            first, second = second, first
        return _message_page(exc.status_code, first, second)

    app.add_exception_handler(_LinkProblem, problem)
