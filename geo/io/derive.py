"""Attributes derived from geometry and from buildings (pure, vectorised).

- buildings without ``community_id`` go to the community they overlap most;
- communities without street/neighbourhood get those that hold their representative point;
- community totals (households, floor area, year built) come from their buildings when not given;
- overlapping communities are reported (real hand-drawn data overlaps; we tell, we do not drop), by the same rule
  the editing API refuses an overlapping outline with (:func:`overlap_rule`), a compound wholly inside another
  included.
"""

from __future__ import annotations

from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import metric_crs

#: Overlap between two communities still taken as a drawing tolerance along a shared wall: this many m² ...
OVERLAP_TOLERANCE_M2 = 5.0
#: ... or this share of the smaller of the two, whichever is larger.
OVERLAP_TOLERANCE_SHARE = 0.01
#: A compound sharing this share of its own area with another lies inside it (containment, not a shared wall).
CONTAINED_SHARE = 0.99


class Overlap(NamedTuple):
    """Pairs of polygons compared by :func:`overlap_rule` (arrays aligned with the pairs)."""

    shared_m2: np.ndarray
    conflict: np.ndarray
    relation: np.ndarray


def overlap_rule(a: np.ndarray | shapely.Geometry, b: np.ndarray | shapely.Geometry) -> Overlap:
    """The one overlap rule of imports and edits, for aligned pairs of polygons in a metric CRS (either side may be
    a single polygon, compared with every one of the other side).

    Two compounds conflict when they share more than `OVERLAP_TOLERANCE_M2` or `OVERLAP_TOLERANCE_SHARE` of the
    smaller one, whichever is larger: wider than a wall drawn twice. ``relation`` says how: ``overlaps``,
    ``contains`` (b lies inside a), ``within`` (a inside b) or ``same`` (one outline drawn twice). Shared area is
    measured, not tested with the ``overlaps`` predicate, which is false when one polygon holds the other.
    """
    shared = shapely.area(shapely.intersection(a, b))
    area_a, area_b = shapely.area(a), shapely.area(b)
    smaller = np.minimum(area_a, area_b)
    conflict = shared > np.maximum(OVERLAP_TOLERANCE_M2, OVERLAP_TOLERANCE_SHARE * smaller)
    a_in_b = shared >= CONTAINED_SHARE * area_a
    b_in_a = shared >= CONTAINED_SHARE * area_b
    relation = np.select([a_in_b & b_in_a, b_in_a, a_in_b], ["same", "contains", "within"], "overlaps")
    return Overlap(np.atleast_1d(shared), np.atleast_1d(conflict), np.atleast_1d(relation))


def assign_by_overlap(
    features: gpd.GeoDataFrame, *, areas: gpd.GeoDataFrame, area_id: str = "id", min_share: float = 0.0
) -> pd.Series:
    """For each feature, the ``area_id`` of the polygon in ``areas`` it overlaps most (None when none).

    Overlap is measured in the metric CRS; ``min_share`` is the least share of the feature's own area.
    """
    result = pd.Series(None, index=features.index, dtype=object)
    if features.empty or areas.empty:
        return result
    crs = metric_crs(areas)
    fg = features.geometry.to_crs(crs).values
    ag = areas.geometry.to_crs(crs).values
    tree = shapely.STRtree(ag)
    fi, ai = tree.query(fg, predicate="intersects")
    if len(fi) == 0:
        return result
    inter = shapely.area(shapely.intersection(fg[fi], ag[ai]))
    share = inter / np.maximum(shapely.area(fg[fi]), 1e-9)
    pairs = pd.DataFrame({"f": fi, "a": ai, "inter": inter, "share": share})
    pairs = pairs[(pairs["inter"] > 0) & (pairs["share"] > min_share)]
    best = pairs.sort_values(["f", "inter", "a"], ascending=[True, False, True]).drop_duplicates("f")
    result.iloc[best["f"].to_numpy()] = areas[area_id].to_numpy()[best["a"].to_numpy()]
    return result


def locate_in(features: gpd.GeoDataFrame, *, areas: gpd.GeoDataFrame, column: str = "name") -> pd.Series:
    """The ``column`` of the area polygon holding each feature's representative point (None outside all)."""
    result = pd.Series(None, index=features.index, dtype=object)
    if features.empty or areas.empty:
        return result
    pts = shapely.point_on_surface(features.geometry.values)
    fi, ai = shapely.STRtree(areas.geometry.values).query(pts, predicate="within")
    first = pd.DataFrame({"f": fi, "a": ai}).drop_duplicates("f")
    result.iloc[first["f"].to_numpy()] = areas[column].to_numpy()[first["a"].to_numpy()]
    return result


def community_totals(buildings: pd.DataFrame) -> pd.DataFrame:
    """Households, floor area and year built per community from its buildings.

    The year is the one holding the most floor area (a weighted mode: a compound of 1985 slabs with one 2010
    infill block is a 1985 compound); ties go to the earlier year.
    """
    b = buildings[buildings["community_id"].notna()]
    if b.empty:
        return pd.DataFrame(columns=["households", "floor_area_m2", "year_built"]).rename_axis("id")
    sums = b.groupby("community_id").agg(households=("households", "sum"), floor_area_m2=("floor_area_m2", "sum"))
    sums.loc[b.groupby("community_id")["households"].count() == 0, "households"] = pd.NA
    sums.loc[b.groupby("community_id")["floor_area_m2"].count() == 0, "floor_area_m2"] = np.nan
    weights = b.assign(w=b["floor_area_m2"].fillna(1.0)).dropna(subset=["year_built"])
    by_year = weights.groupby(["community_id", "year_built"])["w"].sum().reset_index()
    by_year = by_year.sort_values(["community_id", "w", "year_built"], ascending=[True, False, True])
    year = by_year.drop_duplicates("community_id").set_index("community_id")["year_built"]
    out = sums.join(year.rename("year_built"), how="left")
    out["households"] = out["households"].astype("Int64")
    out["year_built"] = out["year_built"].astype("Int64")
    return out.rename_axis("id")


def overlapping_pairs(communities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Pairs of communities (by id) that break :func:`overlap_rule`, with the shared m² and how they relate."""
    cols = ["id_a", "id_b", "overlap_m2", "relation"]
    if len(communities) < 2:
        return pd.DataFrame(columns=cols)
    g = communities.geometry.to_crs(metric_crs(communities)).values
    a, b = shapely.STRtree(g).query(g, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    rule = overlap_rule(g[a], g[b])
    ids = communities["id"].to_numpy()
    pairs = pd.DataFrame(
        {"id_a": ids[a], "id_b": ids[b], "overlap_m2": np.round(rule.shared_m2, 1), "relation": rule.relation}
    )
    return pairs[rule.conflict].sort_values(["id_a", "id_b"]).reset_index(drop=True)
