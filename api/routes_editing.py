"""Editing (OGC API – Features Part 4): create, replace, patch, delete; merge, split, undo and history.

Every write needs the planner role and, on an existing feature, ``If-Match`` with the version the editor read
(the item's ``ETag``): without it 428, with an old one 412 and the newer edit is kept.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.crs_params import resolve
from api.deps import FeatureId, Planner, StoreDep, Viewer
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
    if not text.isdigit():
        raise HTTPException(412, f"If-Match 不是有效版本 / If-Match is not a version: {if_match}")
    return int(text)


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
    version = _version(if_match)
    feature = _feature_body(body)
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
    editing.delete_feature(
        store,
        layer=cid,
        fid=fid,
        version=_version(if_match),
        actor=user.name,
        reason=request.query_params.get("reason"),
    )
    return Response(status_code=204)


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
