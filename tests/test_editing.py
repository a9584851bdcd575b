"""Single-feature editing on both stores: versions, overlaps, merge (拆墙并院), split, exact undo, history.

Communities are squares laid out in metres in the CGCS2000 GK zone of Chuxiong (EPSG:4543) and stored in
EPSG:4490, so the expected areas are plain arithmetic on the squares' sides.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Polygon, box, mapping

from geo import editing
from geo.errors import ConflictError, CRSError, DataError
from geo.stores import Store

GK = 4543
X0, Y0 = 450_000.0, 2_770_000.0


def gk_box(x: float, y: float, w: float, h: float) -> Polygon:
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def stored(geom_gk: shapely.Geometry) -> shapely.Geometry:
    return gpd.GeoSeries([geom_gk], crs=GK).to_crs(4490).iloc[0]


def area_m2(geom_4490: shapely.Geometry) -> float:
    return float(gpd.GeoSeries([geom_4490], crs=4490).to_crs(GK).area.iloc[0])


def add_communities(store: Store, rows: list[tuple[str, Polygon, int]]) -> dict[str, int]:
    """Insert (id, GK square, households) rows as an import would; returns fid by id."""
    frame = gpd.GeoDataFrame(
        {
            "id": [r[0] for r in rows],
            "name": [f"{r[0]}院" for r in rows],
            "street": "华庭街道",
            "year_built": [1990 + i for i in range(len(rows))],
            "households": [r[2] for r in rows],
            "building_type": "unit",
        },
        geometry=[r[1] for r in rows],
        crs=GK,
    ).to_crs(4490)
    with store.begin() as conn:
        store.write_layer(conn, "communities", frame)
    gdf = store.read_layer("communities", include_retired=True)
    return dict(zip(gdf["id"], gdf["fid"], strict=True))


def wkb_of(store: Store, ids: list[str]) -> dict[str, bytes]:
    gdf = store.read_layer("communities", ids=ids, include_retired=True)
    return dict(zip(gdf["id"], shapely.to_wkb(gdf.geometry.values), strict=True))


def test_stale_version_is_refused_and_the_newer_edit_kept(store: Store) -> None:
    fids = add_communities(store, [("A", gk_box(0, 0, 100, 100), 40)])
    first = editing.update_feature(
        store,
        layer="communities",
        fid=fids["A"],
        version=1,
        properties={"name": "甲院"},
        geometry=None,
        actor="alice",
        replace=False,
    )
    assert first.version == 2
    with pytest.raises(editing.StaleVersionError) as err:
        editing.update_feature(
            store,
            layer="communities",
            fid=fids["A"],
            version=1,
            properties={"name": "乙院"},
            geometry=None,
            actor="bob",
            replace=False,
        )
    assert err.value.current == 2
    row = store.read_layer("communities", ids=["A"]).iloc[0]
    assert (row["name"], row["version"], row["households"]) == ("甲院", 2, 40)


def test_overlap_is_refused_with_ids_and_area_unless_forced_with_reason(store: Store) -> None:
    add_communities(store, [("A", gk_box(0, 0, 100, 100), 40)])
    overlapping = stored(gk_box(90, 0, 100, 100))  # 10 m × 100 m over A
    with pytest.raises(editing.OverlapError) as err:
        editing.create_feature(
            store, layer="communities", properties={"id": "B", "name": "乙院"}, geometry=overlapping, actor="p"
        )
    [overlap] = err.value.overlaps
    assert overlap["id"] == "A"
    assert overlap["overlap_m2"] == pytest.approx(1000.0, abs=0.5)
    with pytest.raises(DataError):
        editing.create_feature(
            store,
            layer="communities",
            properties={"id": "B", "name": "乙院"},
            geometry=overlapping,
            actor="p",
            force=True,
        )
    saved = editing.create_feature(
        store,
        layer="communities",
        properties={"id": "B", "name": "乙院"},
        geometry=overlapping,
        actor="p",
        force=True,
        reason="共用围墙，界线待测绘",
    )
    assert saved.version == 1
    [edit] = editing.history(store, layer="communities", feature_id="B")
    assert (edit["action"], edit["actor"], edit["reason"]) == ("create", "p", "共用围墙，界线待测绘")


def test_overlap_within_tolerance_is_accepted(store: Store) -> None:
    add_communities(store, [("A", gk_box(0, 0, 100, 100), 40)])
    # 0.04 m × 100 m = 4 m² of drawing slack: under the 5 m² tolerance.
    saved = editing.create_feature(
        store,
        layer="communities",
        properties={"id": "B", "name": "乙院"},
        geometry=stored(gk_box(99.96, 0, 100, 100)),
        actor="p",
    )
    assert saved.id == "B"


def test_merge_closes_the_wall_between_members_and_retires_them(store: Store) -> None:
    fids = add_communities(
        store,
        [("A", gk_box(0, 0, 100, 100), 40), ("B", gk_box(102, 0, 100, 100), 60), ("C", gk_box(0, 104, 50, 50), 9)],
    )
    result = editing.merge_communities(store, ids=["A", "B"], name="甲乙合院", actor="planner1")
    merged = result.merged
    live = store.read_layer("communities")
    assert sorted(live["id"]) == sorted(["C", merged.id])
    row = live[live["id"] == merged.id].iloc[0]
    # The 2 m wall strip between A and B is closed: one 202 m × 100 m block, no sliver, C untouched.
    assert row.geometry.geom_type == "Polygon"
    assert area_m2(row.geometry) == pytest.approx(202 * 100, abs=1.0)
    assert area_m2(row.geometry.intersection(live[live["id"] == "C"].geometry.iloc[0])) == pytest.approx(0, abs=1e-3)
    assert (row["name"], row["households"], row["year_built"]) == ("甲乙合院", 100, 1990)
    members = store.read_layer("communities", ids=["A", "B"], include_retired=True)
    assert members["retired"].all()
    assert set(members["merged_into"]) == {merged.id}
    assert [m.fid for m in result.members] == [fids["A"], fids["B"]]


def test_undo_merge_restores_members_byte_identical(store: Store) -> None:
    add_communities(store, [("A", gk_box(0, 0, 100, 100), 40), ("B", gk_box(102, 0, 100, 100), 60)])
    before = wkb_of(store, ["A", "B"])
    result = editing.merge_communities(store, ids=["A", "B"], name="甲乙合院", actor="p")
    restored = editing.undo_merge(store, group_id=result.group_id, actor="p")
    assert sorted(s.id for s in restored) == ["A", "B"]
    live = store.read_layer("communities")
    assert sorted(live["id"]) == ["A", "B"]
    assert wkb_of(store, ["A", "B"]) == before
    assert live["merged_into"].isna().all()
    assert live.set_index("id")["households"].to_dict() == {"A": 40, "B": 60}
    assert [e["action"] for e in editing.history(store, layer="communities", feature_id="A")] == ["retire", "restore"]
    with pytest.raises(ConflictError):
        editing.undo_merge(store, group_id=result.group_id, actor="p")


def test_undo_is_refused_once_the_merged_community_was_edited(store: Store) -> None:
    add_communities(store, [("A", gk_box(0, 0, 100, 100), 40), ("B", gk_box(102, 0, 100, 100), 60)])
    result = editing.merge_communities(store, ids=["A", "B"], name="甲乙合院", actor="p")
    editing.update_feature(
        store,
        layer="communities",
        fid=result.merged.fid,
        version=1,
        properties={"households": 101},
        geometry=None,
        actor="p",
        replace=False,
    )
    with pytest.raises(ConflictError):
        editing.undo_merge(store, group_id=result.group_id, actor="p")
    assert sorted(store.read_layer("communities")["id"]) == [result.merged.id]


def test_split_shares_households_by_area(store: Store) -> None:
    fids = add_communities(store, [("A", gk_box(0, 0, 100, 100), 10)])
    line = gpd.GeoSeries([shapely.LineString([(X0 + 30, Y0 - 10), (X0 + 30, Y0 + 110)])], crs=GK).to_crs(4326)
    result = editing.split_community(store, fid=fids["A"], version=1, line=mapping(line.iloc[0]), actor="p")
    parts = store.read_layer("communities").set_index("id")
    assert sorted(parts.index) == ["A-1", "A-2"]
    areas = {i: area_m2(parts.loc[i, "geometry"]) for i in parts.index}
    small, large = sorted(parts.index, key=areas.get)
    assert areas[small] == pytest.approx(3000, abs=1.0)
    assert areas[large] == pytest.approx(7000, abs=1.0)
    assert (parts.loc[small, "households"], parts.loc[large, "households"]) == (3, 7)
    assert store.read_layer("communities", ids=["A"], include_retired=True)["retired"].item()
    editing.undo_merge(store, group_id=result.group_id, actor="p")
    assert sorted(store.read_layer("communities")["id"]) == ["A"]


def test_split_line_must_cross_once(store: Store) -> None:
    fids = add_communities(store, [("A", gk_box(0, 0, 100, 100), 10)])
    inside = gpd.GeoSeries([shapely.LineString([(X0 + 30, Y0 + 10), (X0 + 30, Y0 + 90)])], crs=GK).to_crs(4326)
    with pytest.raises(DataError, match="两块"):
        editing.split_community(store, fid=fids["A"], version=1, line=mapping(inside.iloc[0]), actor="p")


def test_bad_geometries_are_refused_with_a_reason() -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[101.53, 25.03], [101.54, 25.04], [101.54, 25.03], [101.53, 25.04], [101.53, 25.03]]],
    }
    with pytest.raises(DataError, match="Self-intersection"):
        editing.geometry_in(bowtie)
    paris = {"type": "Polygon", "coordinates": [[[2.35, 48.85], [2.36, 48.85], [2.36, 48.86], [2.35, 48.85]]]}
    with pytest.raises(CRSError):
        editing.geometry_in(paris)
    with pytest.raises(DataError, match="几何为空"):
        editing.geometry_in({"type": "Polygon", "coordinates": []})
    ring = shapely.Point(101.5, 25.0).buffer(0.01, quad_segs=editing.MAX_EDIT_VERTICES // 4 + 1)
    with pytest.raises(DataError, match="顶点过多"):
        editing.geometry_in(mapping(ring))


def test_lat_lon_input_for_epsg_4326_is_stored_lon_lat() -> None:
    lonlat = {
        "type": "Polygon",
        "coordinates": [[[101.53, 25.03], [101.54, 25.03], [101.54, 25.04], [101.53, 25.03]]],
    }
    latlon = {"type": "Polygon", "coordinates": [[[y, x] for x, y in lonlat["coordinates"][0]]]}
    assert editing.geometry_in(latlon, crs="EPSG:4326").equals(editing.geometry_in(lonlat))


def test_delete_needs_the_current_version_and_keeps_history(store: Store) -> None:
    fids = add_communities(store, [("A", gk_box(0, 0, 100, 100), 40)])
    editing.update_feature(
        store,
        layer="communities",
        fid=fids["A"],
        version=1,
        properties={"households": 41},
        geometry=None,
        actor="p",
        replace=False,
    )
    with pytest.raises(editing.StaleVersionError):
        editing.delete_feature(store, layer="communities", fid=fids["A"], version=1, actor="p")
    editing.delete_feature(store, layer="communities", fid=fids["A"], version=2, actor="p")
    assert store.read_layer("communities", include_retired=True).empty
    patch, removal = editing.history(store, layer="communities", feature_id="A")
    assert (patch["before"]["properties"]["households"], patch["after"]["properties"]["households"]) == (40, 41)
    assert removal["action"] == "delete" and removal["after"] is None
    assert removal["before"]["properties"]["version"] == 2
