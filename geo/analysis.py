"""The whole analysis over a store: load the city once, then candidates, merged units, scattered buildings, plan.

This is the one place the CLI, the demo and the API call, so every entry point gives the same answer. Each step is
a vectorised pass over the whole city (one read per layer, no per-community queries).

Communities admitted by an extension rule (靖远 三(一)/三(二) "可列入改造范围", 鹿城 二(一) "也可纳入改造范围",
玉林 四(一)) are merged and planned with the eligible ones unless ``include_conditional`` is off; they stay marked
(``status`` conditional, ``n_conditional`` per unit, ``conditional_communities`` per package and year). Those that
are conditional only until their data is checked (year unknown, 未调查) are listed but not planned.
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
from geo.policy.eligibility import admitting_extension, needs_check
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


def merge_rules(profile: Profile, *, include_conditional: bool = True, cross_streets: bool = False) -> MergeRules:
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
    """Candidates of the whole city with their merged units and the scattered old buildings.

    ``units`` carries ``n_share_capped``: members admitted by an extension whose profile caps them at a share of
    the annual task (the plan keeps them within it).
    """

    candidates: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    membership: pd.DataFrame
    scattered: pd.DataFrame
    profile: Profile
    lang: str
    include_conditional: bool = True


def analyse(
    city: City,
    *,
    profile: Profile,
    lang: str = "zh",
    include_conditional: bool = True,
    pins: Pins | None = None,
) -> Analysis:
    """Eligibility, scores and money for every community, then 拆墙连片 units and scattered old buildings.

    ``include_conditional`` merges and plans communities admitted by an extension rule (default); communities
    whose year is unknown or that are not surveyed stay out of units until checked. A community in a unit below
    the property-management minimum gets a reason saying so, with the households the unit lacks.
    """
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
    # candidate list with their reasons but cannot be sized into a unit; nor can those conditional until checked.
    sized = frame[list(SIZE_COLUMNS)].notna().all(axis=1)
    frame = frame[sized & ~frame["reasons"].map(needs_check).astype(bool)]
    rules = merge_rules(profile, include_conditional=include_conditional)
    units, membership = merge_units(frame, roads=city.roads, rules=rules, pins=pins, lang=lang)
    unit_of = membership.set_index("community_id")["unit_id"]
    cands["unit_id"] = cands["community_id"].map(unit_of).astype(object)
    cands["unit_id"] = cands["unit_id"].where(cands["unit_id"].notna(), None)
    units = _with_share_capped(units, membership, cands, profile)
    cands["reasons"] = _with_unit_notes(cands, units, profile=profile, lang=lang)
    scattered = find_scattered(
        city.buildings,
        communities=city.communities,
        units=units,
        cutoff_year=profile.cutoff.last_year_in + 1,
        attach_m=merge_rules(profile).scattered_attach_m,
        lang=lang,
    )
    return Analysis(cands, units, membership, scattered, profile, lang, include_conditional)


def _with_share_capped(
    units: gpd.GeoDataFrame, membership: pd.DataFrame, cands: pd.DataFrame, profile: Profile
) -> gpd.GeoDataFrame:
    """Count per unit the members admitted by an extension whose profile caps them at a share of the annual task."""
    capped_codes = {e.code for e in profile.extensions if e.annual_share is not None}
    admitted = cands.set_index("community_id")["reasons"].map(admitting_extension)
    capped = membership["community_id"].map(admitted).isin(capped_codes)
    per_unit = capped.groupby(membership["unit_id"]).sum()
    counts = units["unit_id"].map(per_unit).fillna(0).astype("int64") if len(units) else []
    return units.assign(n_share_capped=counts)


def _with_unit_notes(cands: pd.DataFrame, units: gpd.GeoDataFrame, *, profile: Profile, lang: str) -> pd.Series:
    """Each member of a unit below the property-management minimum gets a reason naming the unit and its shortfall."""
    short = units.loc[~units["viable"].astype(bool), ["unit_id", "reason"]].set_index("unit_id")["reason"]
    note = cands["unit_id"].map(short)
    source = profile.merging.source

    def noted(reasons: list[dict[str, str]], unit_id: object, text: object) -> list[dict[str, str]]:
        if not isinstance(text, str):
            return reasons
        head = f"Unit {unit_id}: " if lang == "en" else f"所在改造单元{unit_id}："
        return [*reasons, {"code": "unit_not_viable", "text": head + text, "source": source}]

    return pd.Series(
        [noted(r, u, t) for r, u, t in zip(cands["reasons"], cands["unit_id"], note, strict=True)],
        index=cands.index,
        dtype=object,
    )


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
    """Packages and yearly batches for ``streets`` (all when None), never splitting a merged unit.

    Without ``count_per_year`` the profile's targets apply, each as a total over its years (芒市 105 over
    2019–2021 caps the three years together, not each). The profile's annual share caps the communities admitted
    on a share of the annual task.
    """
    units = analysis.units
    if streets is not None:
        unknown = [s for s in streets if s not in set(analysis.candidates["street"].dropna())]
        if unknown:
            raise unknown_streets(unknown, analysis)
        units = units[units["street"].isin(streets)]
    targets = None if count_per_year else [(t.years, t.communities) for t in analysis.profile.targets]
    return plan_street(
        units.reset_index(drop=True),
        year_from=year_from,
        budget_per_year=budget_per_year,
        count_per_year=dict(count_per_year) if count_per_year else None,
        count_targets=targets,
        conditional_share=analysis.profile.annual_share,
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


def plan_year_of(store: Store, *, community_id: str, profile: str) -> int | None:
    """The year the latest saved plan of ``profile`` gives the community (None: no plan, or not scheduled)."""
    table = store.tables["plans"]
    stmt = select(table.c.result).where(table.c.profile == profile).order_by(table.c.plan_id.desc()).limit(1)
    with store.engine.connect() as conn:
        result = conn.execute(stmt).scalar()
    for unit in (result or {}).get("units", []):
        if community_id in (unit.get("members") or []) and unit.get("year") is not None:
            return int(unit["year"])
    return None


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    import json

    return json.loads(frame.to_json(orient="records", force_ascii=False, default_handler=str))
