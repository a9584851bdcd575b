"""Scattered old buildings (插花式): found, attached to the nearest unit with the distance stated, or listed alone."""

from __future__ import annotations

import geopandas as gpd
import pyproj
import pytest
from shapely.geometry import box

from geo.space.scattered import find_scattered
from geo.space.units import MergeRules, merge_units

GK = 4549  # CGCS2000 3-degree GK zone, central meridian 120E
X0, Y0 = pyproj.Transformer.from_crs(4490, GK, always_xy=True).transform(120.15, 30.27)


def boxes(rows: list[tuple[float, float, float, float]], **columns: list) -> gpd.GeoDataFrame:
    geoms = [box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in rows]
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=GK).to_crs(4490)


# C1 (1990, old) and C2 (1990, old) share a wall and merge; C3 (2008) is a newer compound 200 m east.
COMMUNITIES = boxes(
    [(0, 0, 100, 100), (100, 0, 200, 100), (400, 0, 500, 100)],
    id=["C1", "C2", "C3"],
    name=["一村", "二村", "新苑"],
    street=["湖滨街道"] * 3,
    households=[150, 200, 400],
    floor_area_m2=[10_000.0, 14_000.0, 30_000.0],
    year_built=[1990, 1990, 2008],
    status=["eligible", "eligible", "excluded"],
    score=[60.0, 50.0, 0.0],
    cost_yuan=[1_500_000, 2_000_000, 0],
    residents_yuan=[150_000, 200_000, 0],
    subsidy_yuan=[1_350_000, 1_800_000, 0],
)
UNITS, _ = merge_units(COMMUNITIES, rules=MergeRules(min_households=300))

# b1: 1985, standing alone 32.5 m north of the merged unit's wall (y = 100).
# b2: 1992, inside the new compound C3, 200 m from the unit: a single-building candidate.
# b3: 1995, inside the old compound C1: part of that compound, not scattered.
# b4: 2003, outside every compound but not old.
BUILDINGS = boxes(
    [(20, 132.5, 40, 150), (420, 20, 440, 40), (20, 20, 40, 40), (600, 600, 620, 620)],
    id=["b1", "b2", "b3", "b4"],
    year_built=[1985, 1992, 1995, 2003],
    households=[12, 24, 30, 18],
)


def test_scattered_buildings_are_found_and_attached_with_their_distance():
    found = find_scattered(BUILDINGS, communities=COMMUNITIES, units=UNITS, cutoff_year=2000, attach_m=50)
    assert found["building_id"].tolist() == ["b1", "b2"]
    b1, b2 = found.iloc[0], found.iloc[1]
    assert b1["situation"] == "outside" and b1["action"] == "attach"
    assert b1["unit_id"] == "U-C1"
    assert b1["distance_m"] == pytest.approx(32.5, abs=0.05)
    assert (
        b1["reason"]
        == "1985年建成的插花式老旧楼栋，不在任何小区范围内；距改造单元U-C1 32.5米（≤50米），随该单元一并改造"
    )
    assert b2["situation"] == "inside_newer" and b2["community_id"] == "C3"
    assert b2["action"] == "single"
    assert (
        b2["reason"] == "1992年建成的插花式老旧楼栋，位于2008年建成的新苑内；50米内无改造单元，作为单栋楼单独列入候选"
    )


def test_attach_distance_is_a_threshold():
    found = find_scattered(BUILDINGS, communities=COMMUNITIES, units=UNITS, cutoff_year=2000, attach_m=30)
    assert found.set_index("building_id").loc["b1", "action"] == "single"


def test_cutoff_year_is_exclusive_and_english_reasons():
    found = find_scattered(BUILDINGS, communities=COMMUNITIES, units=UNITS, cutoff_year=1992, attach_m=50, lang="en")
    assert found["building_id"].tolist() == ["b1"]  # b2 (1992) is not built before 1992
    assert found.iloc[0]["reason"] == (
        "scattered old building built in 1985, outside any community; 32.5 m from unit U-C1 (≤ 50 m): "
        "renovate with that unit"
    )


def test_community_id_given_on_the_building_wins_over_location():
    tagged = BUILDINGS.assign(community_id=[None, "C1", None, None])
    found = find_scattered(tagged, communities=COMMUNITIES, units=UNITS, cutoff_year=2000)
    assert found["building_id"].tolist() == ["b1"]
