"""Candidate lists: eligibility, score, rank and funding of a street's communities, in the contract's fields."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from geo.errors import NotFoundError
from geo.policy.eligibility import assess
from geo.policy.funding import CostModel, costs
from geo.policy.profiles import Lang, Profile
from geo.policy.scoring import rank, score

#: Candidate record fields (CONTRACT.md, "Candidate record"), in order; geometry follows.
CANDIDATE_FIELDS = (
    "community_id",
    "name",
    "street",
    "neighbourhood",
    "year_built",
    "households",
    "floor_area_m2",
    "status",
    "reasons",
    "score",
    "score_breakdown",
    "rank",
    "unit_id",
    "cost_yuan",
    "residents_yuan",
    "subsidy_yuan",
)


def candidate_list(
    *,
    communities: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame | None,
    zones: gpd.GeoDataFrame | None,
    survey: pd.DataFrame | None,
    profile: Profile,
    street: str | None = None,
    lang: Lang = "zh",
    units: Mapping[str, str] | None = None,
    cost_model: CostModel | None = None,
) -> gpd.GeoDataFrame:
    """The ranked candidate list of ``street`` (or of all communities).

    Eligible and conditional communities come first, ranked by score (ties: households, then id); excluded ones
    follow with no rank, their reasons saying why. Zones and adjacency are judged against the whole city, so a
    community next to another street's community is treated the same as inside the street. ``units`` maps
    community id → merged-unit id (拆墙连片). Costs are shown for communities that are not excluded.
    """
    eligibility = assess(communities, buildings=buildings, zones=zones, survey=survey, profile=profile, lang=lang)
    if street is not None:
        inside = (communities["street"] == street).to_numpy() if "street" in communities else []
        if not pd.Series(inside, dtype=bool).any():
            raise NotFoundError(f"街道“{street}”下没有小区", f"No communities in street {street!r}")
        communities = communities[inside]
        eligibility = eligibility[inside]
    scored = score(communities, survey=survey, eligibility=eligibility, profile=profile)
    money = costs(communities, survey=survey, profile=profile, cost_model=cost_model)
    excluded = eligibility["status"] == "excluded"
    for column in ("cost_yuan", "residents_yuan", "subsidy_yuan"):
        money[column] = money[column].mask(excluded)

    def col(name: str, dtype: str | None = None) -> pd.Series:
        values = communities[name] if name in communities else pd.Series(pd.NA, index=communities.index)
        return values.astype(dtype) if dtype else values

    ids = communities["id"].astype(str)
    out = pd.DataFrame(
        {
            "community_id": ids,
            "name": col("name"),
            "street": col("street"),
            "neighbourhood": col("neighbourhood"),
            "year_built": pd.to_numeric(col("year_built"), errors="coerce").round().astype("Int64"),
            "households": pd.to_numeric(col("households"), errors="coerce").round().astype("Int64"),
            "floor_area_m2": pd.to_numeric(col("floor_area_m2"), errors="coerce"),
            "status": eligibility["status"],
            "reasons": eligibility["reasons"],
            "score": scored["score"],
            "score_breakdown": scored["score_breakdown"],
            "rank": pd.Series(pd.NA, index=communities.index, dtype="Int64"),
            "unit_id": ids.map(dict(units or {})).astype(object).where(lambda s: s.notna(), None),
            "cost_yuan": money["cost_yuan"],
            "residents_yuan": money["residents_yuan"],
            "subsidy_yuan": money["subsidy_yuan"],
        },
        index=communities.index,
    )
    out["rank"] = rank(out)
    order = (
        out.assign(_excluded=out["rank"].isna(), _r=out["rank"].fillna(0), _id=ids)
        .sort_values(["_excluded", "_r", "_id"], kind="mergesort")
        .index
    )
    result = gpd.GeoDataFrame(
        out.loc[order, list(CANDIDATE_FIELDS)], geometry=communities.geometry.loc[order], crs=communities.crs
    )
    return result.reset_index(drop=True)
