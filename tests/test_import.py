"""Importing and exporting layers: all or nothing, real polygons, CRS, encodings, derived values (both stores)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from typer.testing import CliRunner

from geo.cli import app as cli
from geo.crs import area_m2, wgs84_to_gcj02
from geo.errors import DataError
from geo.io.exporters import export_layer
from geo.io.importers import import_layer
from geo.stores import Store
from tests.conftest import REALDATA

HANGZHOU = REALDATA / "hangzhou_residential_osm.gpkg"
ORIGIN = (120.150, 30.270)  # Hangzhou
M_PER_DEG_LAT = 110_950.0


def _box(x0: float, y0: float, w: float, h: float) -> shapely.Polygon:
    """A box ``w`` × ``h`` metres whose south-west corner is ``(x0, y0)`` metres from ORIGIN (lon/lat)."""
    kx = M_PER_DEG_LAT * np.cos(np.radians(ORIGIN[1]))
    return shapely.box(
        ORIGIN[0] + x0 / kx,
        ORIGIN[1] + y0 / M_PER_DEG_LAT,
        ORIGIN[0] + (x0 + w) / kx,
        ORIGIN[1] + (y0 + h) / M_PER_DEG_LAT,
    )


def _communities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "小区编号": ["A", "B", "C"],  # not an alias: kept as an extra property
            "id": ["A", "B", "C"],
            "小区名称": ["朝晖一区", "朝晖二区", "朝晖三区"],
            "建成年份": [1985, None, 1998],
            "户数": [120, None, 40],
        },
        geometry=[_box(0, 0, 100, 80), _box(100, 0, 60, 80), _box(170, 0, 50, 50)],
        crs=4326,
    )


def _buildings() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["b1", "b2", "b3", "b4"],
            "community_id": ["A", None, None, None],
            "year_built": [1985, 1992, 1990, 1975],
            "households": [60, 30, 18, 10],
            "floor_area_m2": [3600.0, 2000.0, 1000.0, 500.0],
            "safety_grade": ["B", "c", "A", None],
        },
        # b2 lies mostly in B (a sliver in A), b3 wholly in B, b4 outside everything.
        geometry=[_box(10, 10, 40, 12), _box(95, 10, 40, 12), _box(110, 40, 30, 12), _box(400, 400, 20, 10)],
        crs=4326,
    )


def _write(gdf: gpd.GeoDataFrame, path: Path, **kw: object) -> Path:
    gdf.to_file(path, **kw)
    return path


def test_hangzhou_osm_file_imports_from_the_cli_with_only_id_column(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real OpenStreetMap export as a user has it: key in osm_id, 706 compounds without a name.
    monkeypatch.setattr("geo.stores.open_store", lambda *a, **k: store)
    refused = CliRunner().invoke(cli, ["import", "communities", str(HANGZHOU)])
    assert refused.exit_code == 2 and "--id-column osm_id" in refused.output

    result = CliRunner().invoke(cli, ["import", "communities", str(HANGZHOU), "--id-column", "osm_id"])

    assert result.exit_code == 0, result.output
    assert "导入 2112 条小区" in result.output and "706 个小区没有名称" in result.output
    assert store.count("communities") == 2112
    src = gpd.read_file(HANGZHOU)
    got = store.read_layer("communities")
    unnamed = src["name"] == ""
    assert got["id"].tolist() == src["osm_id"].tolist()
    assert got["name"][~unnamed].tolist() == src["name"][~unnamed].tolist()
    assert got["name"][unnamed].tolist() == [f"未命名小区（{i}）" for i in src["osm_id"][unnamed]]
    # A compound wholly inside another is reported, not only crossing outlines (the API's rule: > 5 m² and > 1 %).
    assert "443588017 443595602     10605.1 contains" in result.output
    assert "13 对小区边界相互重叠，其中 10 对为一个在另一个之内" in result.output
    # The one 7.5 km² landuse polygon is imported, with a warning naming it.
    assert "1 个要素不太像小区（第 497 行 未命名小区（476965578）：面积 7.5 平方公里）" in result.output
    # Independent check: geodesic areas on the WGS84 ellipsoid vs our Gauss–Krüger areas.
    geod = pyproj.Geod(ellps="WGS84")
    geodesic = np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in src.geometry])
    ours = area_m2(got).to_numpy()
    assert np.max(np.abs(ours - geodesic) / geodesic) < 0.005

    out = tmp_path / "export.gpkg"
    assert export_layer(store, "communities", out) == 2112
    back = pyogrio.read_dataframe(out)
    assert back.crs.to_epsg() == 4490
    assert (shapely.to_wkb(back.geometry.values) == shapely.to_wkb(got.geometry.values)).all()
    assert back["id"].tolist() == got["id"].tolist() and back["name"].tolist() == got["name"].tolist()


def test_unnamed_compounds_get_an_english_placeholder_on_request(store: Store, tmp_path: Path) -> None:
    gdf = _communities().assign(小区名称=["朝晖一区", None, ""])
    report = import_layer(store, "communities", _write(gdf, tmp_path / "c.geojson"), lang="en")
    assert store.read_layer("communities")["name"].tolist() == [
        "朝晖一区",
        "Unnamed compound (B)",
        "Unnamed compound (C)",
    ]
    assert report.placeholders == 2 and "2 compounds have no name" in report.warnings[0]


def test_chinese_headers_extra_columns_assignment_and_derived_totals(store: Store, tmp_path: Path) -> None:
    import_layer(store, "communities", _write(_communities(), tmp_path / "c.geojson"))
    report = import_layer(store, "buildings", _write(_buildings(), tmp_path / "b.geojson"))

    b = store.read_layer("buildings").set_index("id")
    assert b.loc["b2", "community_id"] == "B"  # overlaps A by 5 m, B by 35 m
    assert b.loc["b3", "community_id"] == "B"
    assert pd.isna(b.loc["b4", "community_id"])
    assert b.loc["b2", "safety_grade"] == "C"
    assert report.assigned_buildings == 2 and report.unassigned_buildings == 1
    c = store.read_layer("communities").set_index("id")
    assert c.loc["A", "households"] == 120  # given, not overwritten by its buildings' 60
    assert c.loc["B", "households"] == 48 and c.loc["B", "floor_area_m2"] == 3000.0
    assert c.loc["B", "year_built"] == 1992  # the year holding most floor area
    assert c.loc["A", "extra"] == {"小区编号": "A"}


@pytest.mark.parametrize(
    ("mutate", "expect"),
    [
        (
            lambda g: g.assign(
                geometry=[
                    g.geometry[0],
                    shapely.Polygon([(120.15, 30.27), (120.152, 30.272), (120.152, 30.27), (120.15, 30.272)]),
                    g.geometry[2],
                ]
            ),
            ["第 2 行", "Self-intersection"],
        ),
        (lambda g: g.drop(columns=["小区名称"]), ["缺少必需的列", "name（小区名称）"]),
        (lambda g: g.assign(geometry=shapely.transform(g.geometry.values, lambda c: c[:, ::-1])), ["颠倒"]),
        (lambda g: g.assign(建成年份=["1985", "八十年代", "1998"]), ["第 2 行", "八十年代"]),
        (lambda g: g.assign(id=["A", "B", "A"]), ["第 3 行", "编号重复"]),
    ],
    ids=["self-intersection", "missing-column", "swapped-axes", "bad-number", "duplicate-id"],
)
def test_bad_file_names_the_problem_and_leaves_store_unchanged(store: Store, tmp_path: Path, mutate, expect) -> None:
    import_layer(store, "communities", _write(_communities().assign(id=["X", "Y", "Z"]), tmp_path / "first.geojson"))
    before = store.fingerprint()
    bad = _write(mutate(_communities()), tmp_path / "bad.geojson")

    with pytest.raises(DataError) as err:
        import_layer(store, "communities", bad)

    for text in expect:
        assert text in err.value.message("zh") + err.value.message("en")
    assert store.fingerprint() == before


def test_fix_repairs_invalid_geometry_and_reports_it(store: Store, tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(120.15, 30.27), (120.152, 30.272), (120.152, 30.27), (120.15, 30.272)])
    gdf = _communities().assign(geometry=[_communities().geometry[0], bowtie, _communities().geometry[2]])
    report = import_layer(store, "communities", _write(gdf, tmp_path / "c.geojson"), fix=True)
    assert report.fixed_rows == [2]
    got = store.read_layer("communities")
    assert shapely.is_valid(got.geometry.values).all()
    assert got.geometry[1].geom_type == "MultiPolygon"


def test_gcj02_input_lands_within_a_metre_of_true_position(store: Store, tmp_path: Path) -> None:
    truth = _communities()
    gcj = truth.copy()
    gcj["geometry"] = shapely.transform(
        truth.geometry.values, lambda c: np.column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1]))
    )
    gcj = gcj.set_crs(None, allow_override=True)
    path = _write(gcj.set_crs(4326, allow_override=True), tmp_path / "gcj.geojson")

    import_layer(store, "communities", path, crs="gcj02")

    got = store.read_layer("communities")
    metric = "EPSG:4549"
    a = shapely.get_coordinates(got.to_crs(metric).geometry.values)
    b = shapely.get_coordinates(truth.to_crs(metric).geometry.values)
    assert np.max(np.hypot(*(a - b).T)) < 1.0
    raw = shapely.get_coordinates(gcj.set_crs(4326).to_crs(metric).geometry.values)
    assert np.max(np.hypot(*(raw - b).T)) > 100  # the shift we removed was real


def _gbk_shapefile(tmp_path: Path, *, cpg: bool) -> Path:
    shp = tmp_path / "gbk" / "communities.shp"
    shp.parent.mkdir()
    pyogrio.write_dataframe(
        _communities().drop(columns=["小区编号"]).rename(columns={"小区名称": "name"}), shp, encoding="GBK"
    )
    cpg_file = shp.with_suffix(".cpg")
    if cpg:
        cpg_file.write_text("GBK")
    elif cpg_file.exists():
        cpg_file.unlink()
    return shp


def test_gbk_shapefile_keeps_chinese_names_via_cpg_zip_or_encoding(store: Store, tmp_path: Path) -> None:
    shp = _gbk_shapefile(tmp_path, cpg=True)
    zipped = tmp_path / "communities.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for f in shp.parent.iterdir():
            zf.write(f, f.name)
    import_layer(store, "communities", zipped)
    assert store.read_layer("communities")["name"].tolist() == ["朝晖一区", "朝晖二区", "朝晖三区"]

    shp.with_suffix(".cpg").unlink()
    with pytest.raises(DataError, match="GBK"):
        import_layer(store, "communities", shp, replace=True)
    import_layer(store, "communities", shp, replace=True, encoding="GBK")
    assert store.read_layer("communities")["name"].tolist() == ["朝晖一区", "朝晖二区", "朝晖三区"]


def test_flatgeobuf_and_survey_sheet_with_chinese_headers(store: Store, tmp_path: Path) -> None:
    import_layer(store, "communities", _write(_communities(), tmp_path / "c.fgb"))
    sheet = pd.DataFrame(
        {
            "小区编号": ["A", None],
            "小区名称": [None, "朝晖二区"],
            "所属街道": [None, None],
            "供水": ["是", "否"],
            "燃气": ["否", "是"],
            "支持改造户数": [80, 10],
            "已改造项目": ["屋面、road", None],
        }
    )
    path = tmp_path / "survey.xlsx"
    sheet.to_excel(path, index=False)
    import_layer(store, "survey", path)
    survey = store.read_table("survey").set_index("community_id")
    assert survey.loc["A", "water_supply"] and not survey.loc["A", "gas"]
    assert survey.loc["B", "gas"] and survey.loc["A", "support_households"] == 80
    assert survey.loc["A", "already_renovated"] == "roof、road"


def test_survey_errors_name_rows(store: Store, tmp_path: Path) -> None:
    import_layer(store, "communities", _write(_communities(), tmp_path / "c.geojson"))
    before = store.fingerprint()
    path = tmp_path / "survey.csv"
    pd.DataFrame({"小区编号": ["A", "Q"], "供水": ["是", "也许"], "支持改造户数": [500, 1]}).to_csv(path, index=False)
    with pytest.raises(DataError) as err:
        import_layer(store, "survey", path)
    msg = err.value.message("zh")
    assert "第 2 行" in msg and "超过总户数" in msg and "第 3 行" in msg and "Q 不存在" in msg and "也许" in msg
    assert store.fingerprint() == before


def test_outside_china_is_refused(store: Store, tmp_path: Path) -> None:
    paris = _communities().assign(geometry=[shapely.box(2.3, 48.8, 2.31, 48.81)] * 3)
    with pytest.raises(DataError, match="第 1 行：坐标不在中国范围内"):
        import_layer(store, "communities", _write(paris, tmp_path / "p.geojson"))
    assert store.count("communities") == 0


def test_both_stores_give_identical_frames(both_stores: tuple[Store, Store], tmp_path: Path) -> None:
    frames = []
    for s in both_stores:
        import_layer(s, "communities", _write(_communities(), tmp_path / "c.geojson"))
        import_layer(s, "buildings", _write(_buildings(), tmp_path / "b.geojson"))
        frames.append(
            (
                s.read_layer("communities"),
                s.read_layer("buildings"),
                s.read_layer("communities", bbox=(120.1505, 30.2, 121.0, 31.0)),
            )
        )
    for a, b in zip(*frames, strict=True):
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
        assert (shapely.to_wkb(a.geometry.values) == shapely.to_wkb(b.geometry.values)).all()
