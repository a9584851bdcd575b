"""Neighbour pairs on hand-drawn compounds (metric boxes near 120.15E 30.27N, stored in EPSG:4490)."""

from __future__ import annotations

import geopandas as gpd
import pyproj
import pytest
from shapely.geometry import LineString, box

from geo.space.adjacency import adjacency, adjacency_matrix

GK = 4549  # CGCS2000 3-degree GK zone, central meridian 120E
X0, Y0 = pyproj.Transformer.from_crs(4490, GK, always_xy=True).transform(120.15, 30.27)


def compounds(rows: list[tuple[float, float, float, float]], **columns: list) -> gpd.GeoDataFrame:
    """Boxes given in metres from the origin, returned in EPSG:4490 as the store holds them."""
    geoms = [box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in rows]
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=GK).to_crs(4490)


def roads(lines: list[list[tuple[float, float]]], classes: list[str]) -> gpd.GeoDataFrame:
    geoms = [LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines]
    return gpd.GeoDataFrame({"class": classes}, geometry=geoms, crs=GK).to_crs(4490)


# A and B share a 100 m wall; C stands 10 m east of B across a lane; D is 40 m north of A (beyond the 15 m gap).
ROW = compounds(
    [(0, 0, 100, 100), (100, 0, 200, 100), (210, 0, 300, 100), (0, 140, 100, 200)],
    id=["A", "B", "C", "D"],
    street=["湖滨街道"] * 4,
)


def test_touching_and_gap_pairs_with_wall_lengths():
    pairs = adjacency(ROW, gap_m=15.0)
    assert pairs[["i_id", "j_id", "kind"]].values.tolist() == [["A", "B", "touch"], ["B", "C", "gap"]]
    assert pairs["distance_m"].tolist() == pytest.approx([0.0, 10.0], abs=0.01)
    # A-B share a 100 m wall; B faces C along 100 m across the 10 m lane.
    assert pairs["shared_length_m"].tolist() == pytest.approx([100.0, 100.0], abs=0.05)


def test_gap_threshold_decides_the_lane_pair():
    pairs = adjacency(ROW, gap_m=5.0)
    assert pairs[["i_id", "j_id"]].values.tolist() == [["A", "B"]]
    wide = adjacency(ROW, gap_m=40.0)
    assert ["A", "D"] in wide[["i_id", "j_id"]].values.tolist()


def test_major_road_between_compounds_breaks_adjacency_minor_does_not():
    through_lane = [[(205, -50), (205, 150)]]
    assert adjacency(ROW, roads=roads(through_lane, ["major"]))[["i_id", "j_id"]].values.tolist() == [["A", "B"]]
    kept = adjacency(ROW, roads=roads(through_lane, ["minor"]))
    assert kept[["i_id", "j_id"]].values.tolist() == [["A", "B"], ["B", "C"]]


def test_major_road_drawn_along_a_shared_wall_separates_the_two():
    along_wall = [[(100, -20), (100, 120)]]
    pairs = adjacency(ROW, roads=roads(along_wall, ["major"]))
    assert pairs[["i_id", "j_id"]].values.tolist() == [["B", "C"]]


def test_different_streets_are_not_neighbours_unless_allowed():
    split = ROW.assign(street=["湖滨街道", "湖滨街道", "小营街道", "湖滨街道"])
    assert adjacency(split)[["i_id", "j_id"]].values.tolist() == [["A", "B"]]
    assert adjacency(split, cross_streets=True)[["i_id", "j_id"]].values.tolist() == [["A", "B"], ["B", "C"]]


def test_matrix_is_symmetric_over_the_given_ids():
    pairs = adjacency(ROW)
    matrix = adjacency_matrix(pairs, ids=["A", "B", "C", "D"], weight="shared_length_m")
    dense = matrix.toarray()
    assert (dense == dense.T).all()
    assert dense[0, 1] == pytest.approx(100.0, abs=0.05)
    assert dense[1, 2] == pytest.approx(100.0, abs=0.05)
    assert dense[3].sum() == 0


def test_empty_layer_gives_no_pairs():
    assert len(adjacency(ROW.iloc[0:0])) == 0


def test_wall_length_counts_only_the_stretch_the_neighbour_runs_along():
    # B is shifted 50 m north, so 50 m of A's east wall touches it.
    shifted = compounds([(0, 0, 100, 100), (100, 50, 200, 150)], id=["A", "B"])
    assert adjacency(shifted)["shared_length_m"].tolist() == pytest.approx([50.0], abs=0.05)
    # A is a 10 m deep slab; its far side is within 15 m of B but is not a shared wall.
    slab = compounds([(0, 0, 100, 10), (0, 10, 100, 60)], id=["A", "B"])
    assert adjacency(slab)["shared_length_m"].tolist() == pytest.approx([100.0], abs=0.05)
