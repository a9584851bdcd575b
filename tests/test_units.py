"""Merged units (拆墙连片) on hand-drawn compounds and on real Hangzhou polygons."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from scipy.sparse.csgraph import connected_components
from shapely.geometry import LineString, box

from geo.errors import DataError
from geo.space.adjacency import adjacency, adjacency_matrix
from geo.space.units import MergeRules, Pins, merge_units
from tests.conftest import REALDATA

GK = 4549  # CGCS2000 3-degree GK zone, central meridian 120E
X0, Y0 = pyproj.Transformer.from_crs(4490, GK, always_xy=True).transform(120.15, 30.27)
HANGZHOU = REALDATA / "hangzhou_residential_osm.gpkg"
RULES = MergeRules(gap_m=15.0, min_households=300, max_households=350, max_floor_area_m2=None, max_cost_yuan=None)


def compounds(
    rows: list[tuple[float, float, float, float]], households: list[int], **columns: list
) -> gpd.GeoDataFrame:
    """Eligible compounds drawn as boxes in metres from the origin, in EPSG:4490; money = 1000 yuan per household."""
    n = len(rows)
    data = {
        "id": [f"C{k + 1}" for k in range(n)],
        "name": [f"小区{k + 1}" for k in range(n)],
        "street": ["湖滨街道"] * n,
        "households": households,
        "floor_area_m2": [h * 70.0 for h in households],
        "year_built": [1990] * n,
        "status": ["eligible"] * n,
        "score": [50.0] * n,
        "cost_yuan": [h * 1000 for h in households],
        "residents_yuan": [h * 100 for h in households],
        "subsidy_yuan": [h * 900 for h in households],
    }
    data.update(columns)
    geoms = [box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in rows]
    return gpd.GeoDataFrame(data, geometry=geoms, crs=GK).to_crs(4490)


def units_by_members(units: gpd.GeoDataFrame) -> dict[tuple[str, ...], dict]:
    return {tuple(r["members"]): r for r in units.to_dict("records")}


def test_two_compounds_sharing_a_wall_merge_into_one_viable_unit():
    pair = compounds([(0, 0, 100, 100), (100, 0, 200, 100)], [150, 200])
    units, membership = merge_units(pair, rules=RULES)
    assert len(units) == 1
    unit = units.iloc[0]
    assert unit["unit_id"] == "U-C1"
    assert unit["members"] == ["C1", "C2"]
    assert unit["households"] == 350
    assert unit["cost_yuan"] == 350_000 and unit["residents_yuan"] == 35_000 and unit["subsidy_yuan"] == 315_000
    assert unit["floor_area_m2"] == pytest.approx(24_500.0)
    assert bool(unit["viable"])
    assert unit["reason"] == "2个相邻小区拆墙连片，合计350户达到物业管理规模（≥300户）"
    assert unit["shared_boundary_m"] == pytest.approx(100.0, abs=0.05)  # the 100 m wall comes down
    # The outline is the 200 m x 100 m block, with no wall line or sliver left inside.
    outline = units.to_crs(GK).geometry.iloc[0]
    assert outline.area == pytest.approx(20_000.0, rel=1e-4)
    assert len(outline.interiors) == 0 if outline.geom_type == "Polygon" else False
    assert membership.set_index("community_id")["unit_id"].to_dict() == {"C1": "U-C1", "C2": "U-C1"}


def test_gap_is_closed_in_the_outline():
    pair = compounds([(0, 0, 100, 100), (110, 0, 210, 100)], [150, 200])
    units, _ = merge_units(pair, rules=RULES)
    outline = units.to_crs(GK).geometry.iloc[0]
    assert outline.geom_type == "Polygon"
    assert outline.area == pytest.approx(21_000.0, rel=1e-4)  # 210 m x 100 m: the 10 m lane is inside


def test_same_two_across_a_major_road_stay_apart():
    pair = compounds([(0, 0, 100, 100), (110, 0, 210, 100)], [150, 200])
    road = gpd.GeoDataFrame(
        {"class": ["major"]}, geometry=[LineString([(X0 + 105, Y0 - 50), (X0 + 105, Y0 + 150)])], crs=GK
    ).to_crs(4490)
    units, membership = merge_units(pair, roads=road, rules=RULES)
    assert sorted(map(tuple, units["members"])) == [("C1",), ("C2",)]
    assert not units["viable"].any()
    assert units.set_index("unit_id").loc["U-C1", "reason"] == (
        "150户，不足物业管理规模（需≥300户，差150户），单独难以维持物业管理；且无相邻可合并的改造小区"
    )
    assert units["shortfall_households"].tolist() == [150, 100]
    assert membership["unit_id"].tolist() == ["U-C1", "U-C2"]


CHAIN = [(0, 0, 100, 100), (100, 0, 200, 100), (200, 0, 300, 100), (300, 0, 400, 100), (400, 0, 500, 100)]


def test_chain_of_five_splits_under_the_households_cap_into_contiguous_pieces():
    # 150 households each; two make a viable 300, a third would pass the 350 cap.
    # C2 (score 90) seeds and takes C1 (score 50 beats C3's 40 on equal walls); C5 (70) then takes C4;
    # C3 cannot join either neighbour without reaching 450 > 350, so it stays a non-viable single.
    chain = compounds(CHAIN, [150] * 5, score=[50.0, 90.0, 40.0, 60.0, 70.0])
    units, _ = merge_units(chain, rules=RULES)
    pieces = units_by_members(units)
    assert sorted(pieces) == [("C1", "C2"), ("C3",), ("C4", "C5")]
    assert pieces[("C1", "C2")]["households"] == 300 and bool(pieces[("C1", "C2")]["viable"])
    assert pieces[("C4", "C5")]["unit_id"] == "U-C4"
    assert not pieces[("C3",)]["viable"]
    assert pieces[("C3",)]["reason"] == (
        "150户，不足物业管理规模（需≥300户，差150户），单独难以维持物业管理；与相邻小区合并将超过单元上限"
    )
    assert pieces[("C3",)]["shortfall_households"] == 150 and pieces[("C1", "C2")]["shortfall_households"] == 0
    # Households-weighted score of C1 + C2.
    assert pieces[("C1", "C2")]["score"] == pytest.approx(70.0)


def test_chain_without_a_cap_lets_the_leftover_join_a_neighbouring_unit():
    chain = compounds(CHAIN, [150] * 5, score=[50.0, 90.0, 40.0, 60.0, 70.0])
    units, _ = merge_units(chain, rules=MergeRules(min_households=300, max_households=None, max_floor_area_m2=None))
    # C3 shares equal walls with both units; the first-formed unit (C2's) takes it.
    assert sorted(map(tuple, units["members"])) == [("C1", "C2", "C3"), ("C4", "C5")]


def test_large_estate_stays_alone_and_its_small_neighbour_is_not_merged_into_it():
    estate = compounds([(0, 0, 300, 300), (300, 0, 400, 100)], [900, 100])
    units, _ = merge_units(estate, rules=RULES)
    pieces = units_by_members(units)
    assert sorted(pieces) == [("C1",), ("C2",)]
    assert bool(pieces[("C1",)]["viable"])
    assert pieces[("C1",)]["reason"] == "单独达到物业管理规模（900户，≥300户），不需合并"
    assert pieces[("C1",)]["shared_boundary_m"] == 0.0
    assert not pieces[("C2",)]["viable"]
    en, _ = merge_units(estate, rules=RULES, lang="en")
    assert en.iloc[0]["reason"] == "viable alone: 900 households reach the property-management scale (≥ 300)"


def test_conditional_compounds_merge_and_are_counted_unless_left_out():
    # Conditional (admitted by an extension rule) compounds take part in merging by default, and are counted.
    pair = compounds([(0, 0, 100, 100), (100, 0, 200, 100)], [150, 200], status=["eligible", "conditional"])
    units, _ = merge_units(pair, rules=RULES)
    assert units.iloc[0]["members"] == ["C1", "C2"]
    assert units.iloc[0]["n_conditional"] == 1 and bool(units.iloc[0]["conditional"])
    units, membership = merge_units(pair, rules=MergeRules(min_households=300, include_conditional=False))
    assert membership["community_id"].tolist() == ["C1"]
    assert units.iloc[0]["members"] == ["C1"] and not units.iloc[0]["conditional"]


def test_three_walk_ups_sharing_walls_become_one_unit_flagged_not_viable():
    # 拆墙连片 (靖政发〔2023〕75号 二(四)、五): 24, 27 and 30 households in a row share walls. Together 81 households,
    # 219 short of the 300 that sustain property management; they still become one unit, flagged, with the shortfall.
    walk_ups = compounds([(0, 0, 30, 20), (30, 0, 60, 20), (60, 0, 90, 20)], [24, 27, 30])
    units, membership = merge_units(walk_ups, rules=RULES)
    assert len(units) == 1
    unit = units.iloc[0]
    assert unit["members"] == ["C1", "C2", "C3"] and unit["households"] == 81
    assert not unit["viable"] and unit["shortfall_households"] == 219
    assert unit["reason"] == (
        "3个相邻小区拆墙连片，合计81户，不足物业管理规模（需≥300户，差219户），单独难以维持物业管理"
    )
    assert unit["shared_boundary_m"] == pytest.approx(40.0, abs=0.05)  # two 20 m walls come down
    assert set(membership["unit_id"]) == {"U-C1"}
    en, _ = merge_units(walk_ups, rules=RULES, lang="en")
    assert "219 households" in en.iloc[0]["reason"] and "not viable alone" in en.iloc[0]["reason"]


def test_small_neighbours_merge_within_caps_and_barriers_even_when_short():
    # C1–C2 share a wall; C3 is across a major road from C2; C4 touches C3 but the 350-household cap stops
    # C3 (200) + C4 (200). Nothing reaches 300 except where the cap forbids it.
    row = compounds([(0, 0, 50, 50), (50, 0, 100, 50), (110, 0, 160, 50), (160, 0, 210, 50)], [40, 60, 200, 200])
    road = gpd.GeoDataFrame(
        {"class": ["major"]}, geometry=[LineString([(X0 + 105, Y0 - 50), (X0 + 105, Y0 + 150)])], crs=GK
    ).to_crs(4490)
    units, _ = merge_units(row, roads=road, rules=RULES)
    pieces = units_by_members(units)
    assert sorted(pieces) == [("C1", "C2"), ("C3",), ("C4",)]
    assert pieces[("C1", "C2")]["households"] == 100 and pieces[("C1", "C2")]["shortfall_households"] == 200
    assert not pieces[("C3",)]["viable"] and pieces[("C3",)]["reason"].endswith("与相邻小区合并将超过单元上限")


def test_pinned_community_stays_in_its_pinned_unit():
    chain = compounds(CHAIN, [150] * 5, score=[50.0, 90.0, 40.0, 60.0, 70.0])
    pins = Pins(unit={"C3": "U-湖滨-甲", "C4": "U-湖滨-甲"}, exclude=frozenset({"C5"}))
    units, membership = merge_units(chain, rules=RULES, pins=pins)
    assert membership.set_index("community_id")["unit_id"].to_dict() == {
        "C1": "U-C1",
        "C2": "U-C1",
        "C3": "U-湖滨-甲",
        "C4": "U-湖滨-甲",
    }
    assert units.set_index("unit_id").loc["U-湖滨-甲", "reason"] == "2个小区按规划人员指定合并，合计300户"


def test_pins_that_would_make_a_non_contiguous_unit_are_refused():
    chain = compounds(CHAIN, [150] * 5)
    with pytest.raises(DataError) as err:
        merge_units(chain, rules=RULES, pins=Pins(unit={"C1": "U-x", "C3": "U-x"}))
    assert err.value.rows == ["C1", "C3"]


def test_result_does_not_depend_on_row_order():
    chain = compounds(CHAIN, [150] * 5, score=[50.0, 90.0, 40.0, 60.0, 70.0])
    forward, _ = merge_units(chain, rules=RULES)
    backward, _ = merge_units(chain.iloc[::-1], rules=RULES)
    assert forward["members"].tolist() == backward["members"].tolist()


@pytest.fixture(scope="module")
def hangzhou() -> gpd.GeoDataFrame:
    raw = gpd.read_file(HANGZHOU).to_crs(4490)
    rng = np.random.default_rng(20240601)
    n = len(raw)
    households = rng.integers(40, 900, n)
    lon = raw.geometry.representative_point().x.to_numpy()
    return gpd.GeoDataFrame(
        {
            "id": [f"HZ{k:04d}" for k in range(n)],
            "name": raw["name"].fillna("").to_numpy(),
            "street": np.where(lon < np.median(lon), "西街道", "东街道"),
            "households": households,
            "floor_area_m2": households * 65.0,
            "year_built": rng.integers(1975, 2015, n),
            "status": rng.choice(["eligible", "conditional", "excluded"], n, p=[0.6, 0.2, 0.2]),
            "score": np.round(rng.uniform(0, 100, n), 1),
            "cost_yuan": households * 20_000,
            "residents_yuan": households * 2_000,
            "subsidy_yuan": households * 18_000,
        },
        geometry=raw.geometry.values,
        crs=4490,
    )


def test_real_hangzhou_units_are_contiguous_and_disjoint(hangzhou):
    rules = MergeRules(gap_m=15.0, min_households=300, max_households=1500, include_conditional=True)
    units, membership = merge_units(hangzhou, rules=rules)
    candidates = hangzhou[hangzhou["status"] != "excluded"]
    assert sorted(membership["community_id"]) == sorted(candidates["id"])
    assert membership["community_id"].is_unique
    assert sum(units["n_members"]) == len(candidates)
    assert (units["n_members"] > 1).sum() > 20  # real data does produce merged units

    graph = adjacency_matrix(adjacency(candidates, gap_m=15.0), ids=candidates["id"].tolist())
    position = {cid: k for k, cid in enumerate(candidates["id"])}
    for members in units.loc[units["n_members"] > 1, "members"]:
        rows = [position[c] for c in members]
        n_parts, _ = connected_components(graph[rows][:, rows], directed=False)
        assert n_parts == 1, members
    merged = units[units["n_members"] > 1]
    assert (merged["households"] <= 1500).all()
    # Merged units below 300 are kept and flagged with their shortfall, never left apart.
    assert (units["viable"] == (units["households"] >= 300)).all()
    assert (units["shortfall_households"] == (300 - units["households"]).clip(lower=0)).all()
    assert ((merged["households"] >= 300) | ~merged["viable"]).all() and (~merged["viable"]).any()
    # No two small single compounds are left side by side when merging them would keep within the cap.
    single = units[(units["n_members"] == 1) & ~units["viable"]]
    size = dict(zip(single["members"].map(lambda m: m[0]), single["households"], strict=True))
    pairs = adjacency(candidates, gap_m=15.0)
    both = pairs[pairs["i_id"].isin(size) & pairs["j_id"].isin(size)]
    assert all(size[i] + size[j] > 1500 for i, j in zip(both["i_id"], both["j_id"], strict=True))
    assert units.geometry.is_valid.all()


def test_candidates_without_households_are_named_in_the_error():
    pair = compounds([(0, 0, 100, 100), (100, 0, 200, 100)], [150, 200])
    pair["households"] = pair["households"].astype("Int64")
    pair.loc[1, "households"] = pd.NA
    with pytest.raises(DataError) as err:
        merge_units(pair, rules=RULES)
    assert err.value.rows == ["C2"]
