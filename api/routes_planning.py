"""Planning: a street's candidate list (JSON or a download), and yearly plans stored as versions."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select

from api.deps import FeatureId, Planner, StoreDep, Viewer
from api.errors import request_lang
from geo.analysis import plan_streets, save_plan, street_candidates
from geo.reports.candidates import write_candidates
from geo.settings import policy_settings
from geo.stores import Store

router = APIRouter(tags=["Planning"])

_MEDIA = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records", force_ascii=False, default_handler=str))


@router.get("/streets/{name}/candidates", summary="A street's candidate communities, ranked")
def candidates(
    name: str,
    request: Request,
    user: Viewer,
    profile: str | None = None,
    format: Literal["json", "csv", "xlsx", "geojson"] = "json",
) -> Response:
    lang = request_lang(request)
    analysis = request.app.state.analysis.get(profile=profile or policy_settings().profile, lang=lang)
    cands = street_candidates(analysis, name)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_candidates(
            cands, Path(tmp) / f"candidates.{format}", format=format, profile=analysis.profile, lang=lang
        )
        content = path.read_bytes()
    if format == "json":
        return Response(content, media_type=_MEDIA["json"])
    filename = f"candidates-{name}.{format}"
    disposition = f"attachment; filename=\"candidates.{format}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=_MEDIA[format], headers={"Content-Disposition": disposition})


class PlanRequest(BaseModel):
    """What to plan: some streets or all of them, under which profile, from which year, with which budget."""

    name: str = Field(min_length=1)
    streets: list[str] | None = None
    all: bool = False
    profile: str | None = None
    year_from: int = Field(default_factory=lambda: date.today().year, ge=2000, le=2100)
    budget_per_year: int | None = Field(default=None, ge=0)
    include_conditional: bool = Field(
        default=True,
        description="Merge and plan communities admitted by an extension rule (marked as conditional; within the "
        "profile's annual share); false plans eligible communities only.",
    )

    @model_validator(mode="after")
    def one_scope(self) -> PlanRequest:
        if self.all == bool(self.streets):
            raise ValueError("give either streets or all=true / 请指定 streets 或 all=true（二选一）")
        return self


def _plan_row(store: Store, **where: Any) -> Any:
    table = store.tables["plans"]
    stmt = select(table)
    for key, value in where.items():
        stmt = stmt.where(table.c[key] == value)
    with store.engine.connect() as conn:
        return conn.execute(stmt).first()


@router.post("/plans", status_code=201, summary="Make and store a yearly renovation plan")
def make_plan(body: PlanRequest, request: Request, store: StoreDep, user: Planner) -> JSONResponse:
    profile = body.profile or policy_settings().profile
    analysis = request.app.state.analysis.get(
        profile=profile, lang=request_lang(request), include_conditional=body.include_conditional
    )
    plan = plan_streets(
        analysis,
        streets=None if body.all else body.streets,
        year_from=body.year_from,
        budget_per_year=body.budget_per_year,
    )
    params = {
        "streets": body.streets,
        "all": body.all,
        "year_from": body.year_from,
        "budget_per_year": body.budget_per_year,
        "include_conditional": body.include_conditional,
        "actor": user.name,
    }
    version = save_plan(store, name=body.name, profile=profile, params=params, plan=plan)
    row = _plan_row(store, name=body.name, version=version)
    return JSONResponse(
        {
            "id": row.plan_id,
            "name": body.name,
            "version": version,
            "profile": profile,
            "years": _records(plan.years),
            "warnings": list(plan.warnings),
        },
        status_code=201,
        headers={"Location": str(request.base_url).rstrip("/") + f"/plans/{row.plan_id}"},
    )


@router.get("/plans/{plan_id}", summary="A stored plan")
def get_plan(plan_id: FeatureId, store: StoreDep, user: Viewer) -> dict[str, Any]:
    row = _plan_row(store, plan_id=plan_id)
    if row is None:
        raise HTTPException(404, f"没有这个规划 / no such plan: {plan_id}")
    return {
        "id": row.plan_id,
        "name": row.name,
        "version": row.version,
        "profile": row.profile,
        "params": row.params,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        **(row.result or {}),
    }
