"""Editing (OGC API – Features Part 4): create, replace, patch, delete; merge, split, undo and history.

Every write needs the planner role. A write to an existing feature names the version the editor read, and a
stale one is refused (412) so the newer edit is kept:

- ``If-Match`` with the item's ``ETag`` (the /edit page, scripts): held to exactly that version.
- Otherwise the ``version`` property the client read and sends back, as QGIS does: it PUTs every attribute it
  loaded, ``version`` included, and sends no ``If-Match``. It is refused when anyone else changed the feature
  since that version; its own later saves do not count against it, because QGIS does not re-read the version after
  saving and would otherwise refuse a second edit of the same feature in one session.
- Neither: PUT and PATCH are 428 (the server cannot know what the client saw); DELETE applies to the version
  current when it arrives (QGIS deletes without a precondition; a delete overwrites no one's values, and the history
  keeps the deleted feature's last state with who deleted it).

``OPTIONS`` answers ``Allow`` with the methods the caller's role may use. On a single feature it offers PUT and
DELETE but not PATCH, although PATCH is served: QGIS ≥ 3.32 PATCHes only the changed attributes (no ``version``)
when PATCH is offered, and PUTs the whole feature, ``version`` included, when it is not.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from api.crs_params import resolve
from api.deps import FeatureId, Planner, StoreDep, Viewer
from api.routes_features import check_collection
from geo import editing
from geo.auth import User
from geo.stores import Store

router = APIRouter(tags=["Editing"])
GEOJSON = "application/geo+json"


def _version(if_match: str | None) -> int:
    """The version named by ``If-Match`` (``"3"``, ``W/"3"`` or ``3``); 428 when missing."""
    if if_match is None or not if_match.strip():
        raise HTTPException(428, "需要 If-Match 请求头（要素的 ETag） / If-Match with the feature's ETag is required")
    text = if_match.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit() and len(text) <= 18):  # a version, not "²" or 10^30
        raise HTTPException(412, f"If-Match 不是有效版本 / If-Match is not a version: {if_match[:40]}")
    return int(text)


def _seen_version(store: Store, cid: str, fid: int, if_match: str | None, properties: Any, user: User) -> int:
    """The version a PUT/PATCH is held to: ``If-Match``, else the ``version`` property sent back (see module doc)."""
    if if_match is not None and if_match.strip():
        return _version(if_match)
    sent = properties.get("version") if isinstance(properties, dict) else None
    if sent is None:
        raise HTTPException(
            428,
            "需要 If-Match 请求头或读取时的 version 属性 / If-Match or the version property you read is required",
        )
    if isinstance(sent, bool) or not isinstance(sent, int) or not 1 <= sent < 2**62:
        raise HTTPException(422, f"version 应为正整数 / version must be a positive integer: {str(sent)[:40]}")
    current = int(editing.read_feature(store, layer=cid, fid=fid)["properties"]["version"])
    if sent == current or sent > current or not _only_own_edits(store, cid, fid, sent, current, user):
        return sent
    return current


def _only_own_edits(store: Store, cid: str, fid: int, seen: int, current: int, user: User) -> bool:
    """Whether every version after ``seen`` up to ``current`` was written by ``user`` (their own saves)."""
    feature_id = editing.read_feature(store, layer=cid, fid=fid)["properties"]["id"]
    edits = store.tables["edits"]
    stmt = select(func.count(), func.count().filter(edits.c.actor == user.name)).where(
        edits.c.layer == cid, edits.c.feature_id == feature_id, edits.c.version > seen, edits.c.version <= current
    )
    with store.engine.connect() as conn:
        total, own = conn.execute(stmt).one()
    return total == own == current - seen


def _input_crs(request: Request, store: Store, content_crs: str | None) -> str:
    value = content_crs or request.query_params.get("crs")
    return resolve(value, store)[1].crs.to_string() if value else "CRS84"


def _force(request: Request, body: dict[str, Any]) -> tuple[bool, str | None]:
    force = str(request.query_params.get("force", body.get("force", False))).lower() in ("true", "1", "yes")
    reason = request.query_params.get("reason") or body.get("reason")
    return force, reason


def _feature_response(saved: editing.Saved, status: int, request: Request) -> JSONResponse:
    headers = {"ETag": f'"{saved.version}"'}
    if status == 201:
        headers["Location"] = str(request.base_url).rstrip("/") + f"/collections/{saved.layer}/items/{saved.fid}"
    return JSONResponse(saved.feature, status_code=status, headers=headers, media_type=GEOJSON)


def _feature_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("type") != "Feature":
        raise HTTPException(422, "请求体应为 GeoJSON Feature / the body must be a GeoJSON Feature")
    if not isinstance(body.get("properties") or {}, dict):
        raise HTTPException(422, "properties 应为对象 / properties must be a JSON object")
    editing.refuse_crs_member(body)
    return body


@router.post("/collections/{cid}/items", status_code=201, summary="Create a feature")
def create(
    *,
    cid: str,
    request: Request,
    body: Annotated[Any, Body()],
    content_crs: Annotated[str | None, Header(alias="Content-Crs")] = None,
    store: StoreDep,
    user: Planner,
) -> JSONResponse:
    editing.check_editable(cid)
    feature = _feature_body(body)
    force, reason = _force(request, feature)
    geom = editing.geometry_in(feature.get("geometry"), crs=_input_crs(request, store, content_crs))
    saved = editing.create_feature(
        store,
        layer=cid,
        properties=feature.get("properties") or {},
        geometry=geom,
        actor=user.name,
        force=force,
        reason=reason,
    )
    return _feature_response(saved, 201, request)


def _write(
    cid: str,
    fid: int,
    request: Request,
    body: Any,
    if_match: str | None,
    content_crs: str | None,
    store: Store,
    user: User,
    *,
    replace: bool,
) -> JSONResponse:
    editing.check_editable(cid)
    feature = _feature_body(body)
    version = _seen_version(store, cid, fid, if_match, feature.get("properties"), user)
    force, reason = _force(request, feature)
    raw = feature.get("geometry")
    if replace and raw is None:
        raise HTTPException(422, "PUT 需要完整的要素（含几何） / PUT needs the whole feature, geometry included")
    geom = None if raw is None else editing.geometry_in(raw, crs=_input_crs(request, store, content_crs))
    saved = editing.update_feature(
        store,
        layer=cid,
        fid=fid,
        version=version,
        properties=feature.get("properties"),
        geometry=geom,
        actor=user.name,
        replace=replace,
        force=force,
        reason=reason,
    )
    return _feature_response(saved, 200, request)


@router.put("/collections/{cid}/items/{fid}", summary="Replace a feature")
def replace(
    *,
    cid: str,
    fid: FeatureId,
    request: Request,
    body: Annotated[Any, Body()],
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
    content_crs: Annotated[str | None, Header(alias="Content-Crs")] = None,
    store: StoreDep,
    user: Planner,
) -> JSONResponse:
    return _write(cid, fid, request, body, if_match, content_crs, store, user, replace=True)


@router.patch("/collections/{cid}/items/{fid}", summary="Change some properties or the geometry of a feature")
def patch(
    *,
    cid: str,
    fid: FeatureId,
    request: Request,
    body: Annotated[Any, Body()],
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
    content_crs: Annotated[str | None, Header(alias="Content-Crs")] = None,
    store: StoreDep,
    user: Planner,
) -> JSONResponse:
    if isinstance(body, dict) and "type" not in body:
        body = {"type": "Feature", **body}
    return _write(cid, fid, request, body, if_match, content_crs, store, user, replace=False)


@router.delete("/collections/{cid}/items/{fid}", status_code=204, summary="Delete a feature")
def remove(
    *,
    cid: str,
    fid: FeatureId,
    request: Request,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
    store: StoreDep,
    user: Planner,
) -> Response:
    if if_match is not None and if_match.strip():
        version = _version(if_match)
    else:
        version = int(editing.read_feature(store, layer=cid, fid=fid)["properties"]["version"])
    editing.delete_feature(
        store, layer=cid, fid=fid, version=version, actor=user.name, reason=request.query_params.get("reason")
    )
    return Response(status_code=204)


def _allow(user: User, cid: str, *, item: bool) -> Response:
    methods = ["GET", "HEAD", "OPTIONS"]
    if user.can("planner") and cid in editing.EDITABLE_LAYERS:
        methods += ["PUT", "DELETE"] if item else ["POST"]
    return Response(status_code=204, headers={"Allow": ", ".join(methods)})


@router.options("/collections/{cid}/items", status_code=204, summary="Methods the caller may use on the features")
def items_options(cid: str, user: Viewer) -> Response:
    check_collection(cid)
    return _allow(user, cid, item=False)


@router.options("/collections/{cid}/items/{fid}", status_code=204, summary="Methods the caller may use on a feature")
def item_options(cid: str, fid: str, user: Viewer) -> Response:
    check_collection(cid)
    return _allow(user, cid, item=True)


class MergeRequest(BaseModel):
    """Communities to merge (their ``id`` values) and the merged community's name (and optional id)."""

    ids: list[str] = Field(min_length=2)
    name: str = Field(min_length=1)
    id: str | None = None
    reason: str | None = None


def _merge_body(result: editing.MergeResult) -> dict[str, Any]:
    return {
        "group_id": result.group_id,
        "merged": result.merged.feature,
        "members": [m.feature for m in result.members],
    }


@router.post("/communities/merge", status_code=201, summary="Merge communities (拆墙并院)")
def merge(request: MergeRequest, store: StoreDep, user: Planner) -> JSONResponse:
    result = editing.merge_communities(
        store, ids=request.ids, name=request.name, actor=user.name, new_id=request.id, reason=request.reason
    )
    return JSONResponse(_merge_body(result), status_code=201, headers={"ETag": f'"{result.merged.version}"'})


class MergeCheck(BaseModel):
    """Communities a planner means to merge."""

    ids: list[str] = Field(min_length=2)


@router.post("/communities/merge/check", summary="The gaps a merge would bridge (read-only; warn before merging)")
def merge_check(body: MergeCheck, store: StoreDep, user: Planner) -> dict[str, Any]:
    gaps = editing.check_merge(store, ids=body.ids)
    return {"gaps": gaps, "touching": all(g["distance_m"] == 0 for g in gaps), "max_gap_m": editing.MERGE_GAP_M}


@router.post("/communities/merge/{group_id}/undo", summary="Undo a merge or a split")
def undo(group_id: str, request: Request, store: StoreDep, user: Planner) -> dict[str, Any]:
    restored = editing.undo_merge(
        store, group_id=group_id, actor=user.name, reason=request.query_params.get("reason")
    )
    return {"group_id": group_id, "restored": [s.feature for s in restored]}


class SplitRequest(BaseModel):
    """A GeoJSON LineString crossing the community once, and optional names of the two parts."""

    line: dict[str, Any]
    names: list[str] | None = Field(default=None, max_length=2)
    reason: str | None = None


@router.post("/communities/{fid}/split", status_code=201, summary="Split a community in two along a line")
def split(
    *,
    fid: FeatureId,
    body: SplitRequest,
    request: Request,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
    content_crs: Annotated[str | None, Header(alias="Content-Crs")] = None,
    store: StoreDep,
    user: Planner,
) -> JSONResponse:
    result = editing.split_community(
        store,
        fid=fid,
        version=_version(if_match),
        line=body.line,
        actor=user.name,
        crs=_input_crs(request, store, content_crs),
        names=body.names,
        reason=body.reason,
    )
    return JSONResponse(
        {"group_id": result.group_id, "retired": result.merged.feature, "parts": [p.feature for p in result.members]},
        status_code=201,
    )


@router.get("/communities/{ref}/history", summary="Every recorded change of a community (by its id, e.g. C0070)")
def community_history(ref: str, store: StoreDep, user: Viewer) -> dict[str, Any]:
    fid, feature_id = editing.community_ref(store, ref)
    return {"fid": fid, "id": feature_id, "edits": editing.history(store, layer="communities", feature_id=feature_id)}
