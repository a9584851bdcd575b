"""Progress: record a community's stage with its evidence (checked against the profile), and read its history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from api.deps import FeatureId, Planner, StoreDep, Viewer
from api.errors import request_lang
from geo.errors import NotFoundError
from geo.policy.profiles import load_profile
from geo.progress.rules import stage_advisories
from geo.progress.store import record_stage, stage_history
from geo.settings import policy_settings
from geo.stores import Store

router = APIRouter(tags=["Progress"])


class StageIn(BaseModel):
    """A stage reached on a date; evidence fields as in ``renewal stage set`` (CONTRACT.md)."""

    model_config = ConfigDict(extra="forbid")

    stage: str
    date: dt.date
    households_agree: int | None = None
    households_total: int | None = None
    area_agree_m2: float | None = None
    area_total_m2: float | None = None
    publicity_start: dt.date | None = None
    publicity_end: dt.date | None = None
    funds_collected_yuan: int | None = None
    funds_required_yuan: int | None = None
    corrects: int | None = None
    note: str | None = None


def _community_id(store: Store, fid: int) -> str:
    """The community's ``id`` for its feature number (the ``fid`` of ``/collections/communities/items/{fid}``)."""
    table = store.tables["communities"]
    with store.engine.connect() as conn:
        found = conn.execute(select(table.c.id).where(table.c.fid == fid)).scalar()
    if found is None:
        raise NotFoundError(f"没有这个小区：{fid}", f"no such community: {fid}")
    return found


@router.post("/communities/{fid}/stages", status_code=201, summary="Record a stage (refused with rule and source)")
def post_stage(
    fid: FeatureId, body: StageIn, request: Request, user: Planner, store: StoreDep, profile: str | None = None
) -> JSONResponse:
    """The stored event, with ``advisories``: advice where the policy sets no figure (recorded, never refused)."""
    evidence = body.model_dump(exclude={"stage", "date", "corrects", "note"}, exclude_none=True, mode="json")
    prof = load_profile(profile or policy_settings().profile)
    event = record_stage(
        store,
        community_id=_community_id(store, fid),
        stage=body.stage,
        date=body.date,
        evidence=evidence,
        actor=user.name,
        profile=prof,
        corrects=body.corrects,
        note=body.note,
    )
    advice = stage_advisories(prof, stage=body.stage, evidence=event["evidence"], lang=request_lang(request))
    return JSONResponse({**_jsonable(event), "advisories": advice}, status_code=201)


@router.get("/communities/{fid}/stages", summary="A community's stage events, corrections included")
def get_stages(fid: FeatureId, user: Viewer, store: StoreDep) -> JSONResponse:
    community_id = _community_id(store, fid)
    events = [_jsonable(e) for e in stage_history(store, community_id)]
    return JSONResponse({"fid": fid, "community_id": community_id, "events": events})


def _jsonable(event: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v) for k, v in event.items()}
