"""Saved plans read back: the latest plan of a profile (or one by number) as the :class:`Plan` it was saved from.

``renewal plan`` and ``POST /plans`` store a plan's tables without geometry (:func:`geo.analysis.save_plan`).
Maps and reports must show *that* plan — its years and budget — not a fresh re-plan with other parameters, so
this module reads it back and gives units and packages their outlines again from the current analysis: a unit
keeps the outline the analysis has for it while its members are unchanged, otherwise (the data was edited since
the plan was saved) the union of its members' current outlines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import select

from geo.analysis import Analysis
from geo.errors import DataError, NotFoundError
from geo.model import STORAGE_EPSG
from geo.policy.profiles import Profile
from geo.reports.plan_table import plan_members
from geo.space.batches import YEAR_COLUMNS, Plan
from geo.stores import Store


@dataclass(frozen=True)
class SavedPlan:
    """One stored plan: its number, name and version, the profile and parameters it was made with, its tables."""

    plan_id: int
    name: str
    version: int
    profile: str
    params: dict[str, Any]
    created_at: dt.datetime | None
    result: dict[str, Any]

    @property
    def units(self) -> pd.DataFrame:
        """The plan's units without geometry: ``unit_id``, ``street``, ``members``, ``package_id``, ``year``, …"""
        columns = ["unit_id", "street", "members", "package_id", "year"]
        return pd.DataFrame(self.result.get("units") or [], columns=None if self.result.get("units") else columns)

    @property
    def years(self) -> pd.DataFrame:
        """The plan's yearly totals."""
        return pd.DataFrame(self.result.get("years") or [])

    @property
    def warnings(self) -> list[str]:
        """The notes the plan was saved with (over-budget units, pins it could not honour)."""
        return list(self.result.get("warnings") or [])

    def label(self, lang: str = "zh") -> str:
        """A short name of the plan: name, version and number."""
        if lang == "en":
            return f"saved plan {self.name!r} version {self.version} (id {self.plan_id})"
        return f"已保存的计划“{self.name}”第{self.version}版（编号{self.plan_id}）"

    def describe(self, lang: str = "zh") -> str:
        """One line naming the plan for a map's subtitle: name, version, number, date, years and budget."""
        years = [int(r["year"]) for r in self.result.get("years", []) if r.get("year") is not None]
        span = f"{min(years)}–{max(years)}" if years else "—"
        budget = self.params.get("budget_per_year")
        day = self.created_at.date().isoformat() if self.created_at else ""
        if lang == "en":
            money = f", budget {int(budget):,} yuan a year" if budget else ", no yearly budget"
            return f"plan “{self.name}” v{self.version} (no. {self.plan_id}, saved {day}): {span}{money}"
        money = f"，年度预算{int(budget):,}元" if budget else "，未设年度预算"
        return f"规划“{self.name}”第{self.version}版（编号{self.plan_id}，{day}保存）：{span}年{money}"


def _saved(row: Any) -> SavedPlan:
    created = row.created_at
    if isinstance(created, str):
        created = dt.datetime.fromisoformat(created)
    return SavedPlan(
        plan_id=int(row.plan_id),
        name=row.name,
        version=int(row.version),
        profile=row.profile,
        params=dict(row.params or {}),
        created_at=created,
        result=dict(row.result or {}),
    )


def find_plan(store: Store, *, profile: str | None = None, plan_id: int | None = None) -> SavedPlan | None:
    """Plan number ``plan_id``, else the latest plan saved for ``profile``; None when the profile has none.

    Raises
    ------
    NotFoundError
        ``plan_id`` is given and no plan has that number.
    """
    table = store.tables["plans"]
    stmt = select(table)
    if plan_id is not None:
        stmt = stmt.where(table.c.plan_id == plan_id)
    else:
        stmt = stmt.where(table.c.profile == profile).order_by(table.c.plan_id.desc()).limit(1)
    with store.engine.connect() as conn:
        row = conn.execute(stmt).first()
    if row is None and plan_id is not None:
        raise NotFoundError(
            f"没有编号为 {plan_id} 的规划（renewal plan 保存规划后会显示编号）",
            f"no plan number {plan_id} (renewal plan prints the number of the plan it saves)",
        )
    return None if row is None else _saved(row)


def check_plan_profile(saved: SavedPlan | None, profile: Profile) -> None:
    """Refuse to show or share a plan under another profile than the one it was made under.

    Raises
    ------
    DataError
        ``saved`` was made under another profile than ``profile``.
    """
    if saved is not None and saved.profile != profile.id:
        raise DataError(
            f"规划 {saved.plan_id} 是按政策 {saved.profile} 制定的，不能按 {profile.id} 显示"
            f"（去掉 --profile 或改为 {saved.profile}）",
            f"plan {saved.plan_id} was made under profile {saved.profile}, not {profile.id} "
            f"(drop --profile or use {saved.profile})",
        )


def plan_years(units: pd.DataFrame | None) -> pd.Series:
    """Community id → plan year, from a plan's units (``members``, ``year``); unscheduled communities left out."""
    years = pd.to_numeric(plan_members(units, ["year"])["year"], errors="coerce").astype("Int64")
    return years.dropna()


def _unit_outlines(units: pd.DataFrame, analysis: Analysis) -> np.ndarray:
    """Each saved unit's outline: the analysis's outline while its members are the same, else their union."""
    current = analysis.units.set_index("unit_id")
    same = units["unit_id"].isin(current.index).to_numpy().copy()
    if same.any():
        then = units.loc[same, "members"].map(lambda m: tuple(sorted(map(str, m))))
        now = current.loc[units.loc[same, "unit_id"], "members"].map(lambda m: tuple(sorted(map(str, m))))
        same[np.flatnonzero(same)] = then.to_numpy() == now.to_numpy()
    outlines = np.empty(len(units), dtype=object)
    if same.any():
        outlines[same] = current.geometry.reindex(units.loc[same, "unit_id"]).to_numpy()
    if (~same).any():
        members = units.loc[~same, ["unit_id", "members"]].explode("members").dropna(subset=["members"])
        shapes = analysis.candidates.set_index("community_id").geometry.to_crs(STORAGE_EPSG)
        members = members[members["members"].isin(shapes.index)]
        parts = gpd.GeoDataFrame(
            {"unit_id": members["unit_id"].to_numpy()},
            geometry=shapes.reindex(members["members"]).to_numpy(),
            crs=STORAGE_EPSG,
        ).dissolve(by="unit_id")
        outlines[~same] = parts.geometry.reindex(units.loc[~same, "unit_id"]).to_numpy()
    return outlines


def plan_from_saved(saved: SavedPlan, analysis: Analysis) -> Plan:
    """The saved plan as a :class:`Plan`, with unit and package outlines from the current analysis."""
    result = saved.result
    units = saved.units
    units["members"] = units["members"].map(lambda m: list(m) if isinstance(m, list) else [])
    units["year"] = pd.to_numeric(units["year"], errors="coerce").astype("Int64")
    unit_gdf = gpd.GeoDataFrame(units, geometry=_unit_outlines(units, analysis), crs=STORAGE_EPSG)
    packages = pd.DataFrame(result.get("packages") or [])
    if packages.empty:
        packages = pd.DataFrame(columns=["package_id", "street", "units", "year"])
    packages["year"] = pd.to_numeric(packages["year"], errors="coerce").astype("Int64")
    planned = unit_gdf[unit_gdf["package_id"].notna() & unit_gdf.geometry.notna()]
    outline = planned[["package_id", "geometry"]].dissolve(by="package_id")
    package_gdf = gpd.GeoDataFrame(
        packages, geometry=outline.geometry.reindex(packages["package_id"]).to_numpy(), crs=STORAGE_EPSG
    )
    years = pd.DataFrame(result.get("years") or [], columns=YEAR_COLUMNS)
    return Plan(units=unit_gdf, packages=package_gdf, years=years, warnings=saved.warnings)
