"""The whole analysis over a store: load the city once, then candidates, merged units, scattered buildings, plan.

This is the one place the CLI, the demo and the API call, so every entry point gives the same answer. Each step is
a vectorised pass over the whole city (one read per layer, no per-community queries).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import func, select

from geo.errors import NotFoundError
from geo.model import DEFICIENCY_ITEMS
from geo.policy.candidates import candidate_list
from geo.policy.profiles import Profile
from geo.space.batches import Plan, plan_street
from geo.space.scattered import find_scattered
from geo.space.units import MergeRules, Pins, merge_units
from geo.stores import Store

SIZE_COLUMNS = ("households", "floor_area_m2", "cost_yuan", "residents_yuan", "subsidy_yuan")


@dataclass(frozen=True)
class City:
    """Every layer of a store, read once (EPSG:4490)."""

    streets: gpd.GeoDataFrame
    neighbourhoods: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    survey: pd.DataFrame

    def street_names(self) -> list[str]:
        names = self.streets["name"].dropna().tolist() if len(self.streets) else []
        names += [s for s in self.communities["street"].dropna().unique() if s not in names]
        return names


def load_city(store: Store) -> City:
    survey = store.read_table("survey")
    survey = survey.drop(columns=["extra"], errors="ignore")
    for code in DEFICIENCY_ITEMS:
        if code in survey.columns:
            survey[code] = survey[code].fillna(False).astype(bool)
    return City(
        streets=store.read_layer("streets"),
        neighbourhoods=store.read_layer("neighbourhoods"),
        communities=store.read_layer("communities"),
        buildings=store.read_layer("buildings"),
        zones=store.read_layer("zones"),
        roads=store.read_layer("roads"),
        survey=survey,
    )


def merge_rules(profile: Profile, *, include_conditional: bool = False, cross_streets: bool = False) -> MergeRules:
    m = profile.merging
    return MergeRules(
        gap_m=m.gap_m,
        min_households=m.min_households,
        max_households=m.max_households,
        max_floor_area_m2=m.max_floor_area_m2,
        max_cost_yuan=m.max_cost_yuan,
        include_conditional=include_conditional,
        cross_streets=cross_streets,
    )


@dataclass
class Analysis:
    """Candidates of the whole city with their merged units and the scattered old buildings."""

    candidates: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    membership: pd.DataFrame
    scattered: pd.DataFrame
    profile: Profile
    lang: str


def analyse(
    city: City,
    *,
    profile: Profile,
    lang: str = "zh",
    include_conditional: bool = False,
    pins: Pins | None = None,
) -> Analysis:
    """Eligibility, scores and money for every community, then 拆墙连片 units and scattered old buildings."""
    if city.communities.empty:
        raise NotFoundError("数据库中没有小区，请先导入", "the store holds no communities; import some first")
    cands = candidate_list(
        communities=city.communities,
        buildings=city.buildings,
        zones=city.zones,
        survey=city.survey,
        profile=profile,
        lang=lang,
    )
    frame = cands.rename(columns={"community_id": "id"})
    # Communities whose size or cost is unknown (no households, no buildings to derive them from) stay in the
    # candidate list with their reasons but cannot be sized into a unit.
    frame = frame[frame[list(SIZE_COLUMNS)].notna().all(axis=1)]
    units, membership = merge_units(
        frame,
        roads=city.roads,
        rules=merge_rules(profile, include_conditional=include_conditional),
        pins=pins,
        lang=lang,
    )
    unit_of = membership.set_index("community_id")["unit_id"]
    cands["unit_id"] = cands["community_id"].map(unit_of).astype(object)
    cands["unit_id"] = cands["unit_id"].where(cands["unit_id"].notna(), None)
    scattered = find_scattered(
        city.buildings,
        communities=city.communities,
        units=units,
        cutoff_year=profile.cutoff.last_year_in + 1,
        attach_m=merge_rules(profile).scattered_attach_m,
        lang=lang,
    )
    return Analysis(cands, units, membership, scattered, profile, lang)


def street_candidates(analysis: Analysis, street: str) -> gpd.GeoDataFrame:
    """One street's candidate list, ranked within the street (excluded ones last, unranked)."""
    cands = analysis.candidates[analysis.candidates["street"] == street].copy()
    if cands.empty:
        raise unknown_streets([street], analysis)
    ranked = cands["rank"].notna()
    order = cands.loc[ranked, "rank"].rank(method="first").astype("Int64")
    cands["rank"] = pd.Series(pd.NA, index=cands.index, dtype="Int64")
    cands.loc[ranked, "rank"] = order
    return cands.sort_values(["rank", "community_id"], na_position="last").reset_index(drop=True)


def unknown_streets(names: Sequence[str], analysis: Analysis) -> NotFoundError:
    """One message for street names that hold no community, listing the streets that do."""
    known = "、".join(sorted(analysis.candidates["street"].dropna().unique()))
    return NotFoundError(
        f"没有街道“{'、'.join(names)}”的小区；可用的街道：{known}",
        f"no communities in street(s) {', '.join(names)}; streets: {known}",
    )


@dataclass
class StreetPlan:
    """A stored plan: the schedule, and the parameters it was made with."""

    name: str
    version: int
    plan: Plan
    params: dict[str, Any] = field(default_factory=dict)


def plan_streets(
    analysis: Analysis,
    *,
    streets: Sequence[str] | None,
    year_from: int,
    budget_per_year: int | None,
    count_per_year: Mapping[int, int] | None = None,
    pins: Pins | None = None,
) -> Plan:
    """Packages and yearly batches for ``streets`` (all when None), never splitting a merged unit."""
    units = analysis.units
    if streets is not None:
        unknown = [s for s in streets if s not in set(analysis.candidates["street"].dropna())]
        if unknown:
            raise unknown_streets(unknown, analysis)
        units = units[units["street"].isin(streets)]
    if count_per_year is None:
        count_per_year = {y: t.communities for t in analysis.profile.targets for y in t.years} or None
    return plan_street(
        units.reset_index(drop=True),
        year_from=year_from,
        budget_per_year=budget_per_year,
        count_per_year=dict(count_per_year) if count_per_year else None,
        pins=pins,
        gap_m=analysis.profile.merging.gap_m,
        lang=analysis.lang,
    )


def save_plan(store: Store, *, name: str, profile: str, params: Mapping[str, Any], plan: Plan) -> int:
    """Store a plan under ``name`` as a new version (earlier versions are kept); returns the version."""
    table = store.tables["plans"]
    result = {
        "years": _records(plan.years),
        "packages": _records(plan.packages.drop(columns="geometry")),
        "units": _records(plan.units.drop(columns="geometry")),
        "warnings": list(plan.warnings),
    }
    with store.begin() as conn:
        latest = conn.execute(select(func.max(table.c.version)).where(table.c.name == name)).scalar()
        version = int(latest or 0) + 1
        conn.execute(
            table.insert().values(name=name, version=version, profile=profile, params=dict(params), result=result)
        )
    return version


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    import json

    return json.loads(frame.to_json(orient="records", force_ascii=False, default_handler=str))
