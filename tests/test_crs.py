"""CRS handling: parsing what users type, GCJ-02/BD-09 conversion, storage in EPSG:4490 and the sanity checks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import Point, Polygon

from geo.crs import (
    CRSSpec,
    area_m2,
    bd09_to_gcj02,
    bd09_to_wgs84,
    check_in_china,
    from_storage,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    gk_zone_epsg,
    length_m,
    metric_crs,
    parse_crs,
    to_storage,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.errors import CRSError
from tests.conftest import REALDATA

HANGZHOU_OSM = REALDATA / "hangzhou_residential_osm.gpkg"

# Meridian arc from the equator to 30°N on the CGCS2000 ellipsoid (a = 6 378 137 m, f = 1/298.257222101), by the
# textbook series M = a[(1 - e²/4 - 3e⁴/64 - 5e⁶/256)φ - (3e²/8 + 3e⁴/32 + 45e⁶/1024) sin 2φ + …]: the northing of
# 30°N on any Gauss–Krüger central meridian (scale 1, no false northing).
NORTHING_30N = 3_320_113.398

TIANANMEN_WGS84 = (116.391349, 39.907375)


def metres_between(lon_a: np.ndarray, lat_a: np.ndarray, lon_b: np.ndarray, lat_b: np.ndarray) -> np.ndarray:
    """Ellipsoidal distance in metres between lon/lat arrays (independent of the code under test)."""
    _, _, dist = pyproj.Geod(ellps="GRS80").inv(lon_a, lat_a, lon_b, lat_b)
    return np.asarray(dist)


# --- parse_crs ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (4490, "EPSG:4490"),
        ("4490", "EPSG:4490"),
        ("EPSG:4490", "EPSG:4490"),
        ("epsg:4326", "EPSG:4326"),
        ("wgs84", "EPSG:4326"),
        ("WGS 84", "EPSG:4326"),
        ("CGCS2000", "EPSG:4490"),
        ("CRS84", "OGC:CRS84"),
        ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", "OGC:CRS84"),
        ("http://www.opengis.net/def/crs/EPSG/0/4490", "EPSG:4490"),
        ("urn:ogc:def:crs:EPSG::4549", "EPSG:4549"),
        (4491, "EPSG:4491"),
        ("EPSG:4554", "EPSG:4554"),
        ("GCJ02", "gcj02"),
        ("gcj-02", "gcj02"),
        ("BD09", "bd09"),
    ],
)
def test_parse_crs_accepts_the_forms_users_write(value: str | int, label: str) -> None:
    assert parse_crs(value).label == label


def test_parse_crs_names_the_gk_zone_and_marks_special_systems() -> None:
    assert parse_crs("EPSG:4543").crs == pyproj.CRS.from_epsg(4543)
    assert parse_crs("4543").crs.name == "CGCS2000 / 3-degree Gauss-Kruger CM 102E"
    assert parse_crs("bd09") == CRSSpec(special="bd09")
    assert parse_crs("gcj02").crs is None


@pytest.mark.parametrize("value", ["mercator", "EPSG:99999", "+proj=longlat +datum=WGS84", "gcj03"])
def test_parse_crs_refuses_unknown_values_naming_them(value: str) -> None:
    with pytest.raises(CRSError) as caught:
        parse_crs(value)
    assert value in caught.value.message("zh")
    assert "无法识别的坐标系" in caught.value.message("zh")
    assert value in caught.value.message("en")
    assert "Unknown CRS" in caught.value.message("en")


def test_parse_crs_refuses_a_missing_crs() -> None:
    with pytest.raises(CRSError, match="缺少坐标系"):
        parse_crs(None)


# --- GCJ-02 / BD-09 ----------------------------------------------------------------------------------------------


def test_wgs84_to_gcj02_matches_published_reference_points() -> None:
    # Reference pairs published with widely used converters (eviltransform's test table; coordtransform's example).
    wgs = np.array([[121.5272106, 31.1774276], [113.912316, 22.543847], [116.377817, 39.911954], [116.404, 39.915]])
    gcj = np.array(
        [
            [121.531541859215, 31.17530398364597],
            [113.9171764808363, 22.540796131694766],
            [116.38404722455657, 39.91334545536069],
            [116.41024449916938, 39.91640428150164],
        ]
    )
    lon, lat = wgs84_to_gcj02(wgs[:, 0], wgs[:, 1])
    np.testing.assert_allclose(lon, gcj[:, 0], atol=1e-9)
    np.testing.assert_allclose(lat, gcj[:, 1], atol=1e-9)


def test_gcj02_offset_at_tiananmen_is_a_few_hundred_metres_and_inverts_exactly() -> None:
    lon, lat = np.array([TIANANMEN_WGS84[0]]), np.array([TIANANMEN_WGS84[1]])
    glon, glat = wgs84_to_gcj02(lon, lat)
    offset = metres_between(lon, lat, glon, glat)[0]
    assert 300.0 < offset < 800.0
    assert glon[0] > lon[0] and glat[0] > lat[0]  # the Beijing offset points north-east
    back_lon, back_lat = gcj02_to_wgs84(glon, glat)
    assert metres_between(back_lon, back_lat, lon, lat)[0] < 1e-6


def test_gcj02_inverse_is_precise_over_a_grid_of_china() -> None:
    lon, lat = np.meshgrid(np.linspace(74.0, 134.0, 61), np.linspace(18.0, 53.0, 36))
    lon, lat = lon.ravel(), lat.ravel()
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres_between(back_lon, back_lat, lon, lat).max() < 1e-6


def test_gcj02_leaves_points_outside_china_alone() -> None:
    paris = (np.array([2.3522]), np.array([48.8566]))
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84):
        lon, lat = convert(*paris)
        assert (lon[0], lat[0]) == (2.3522, 48.8566)


def test_bd09_matches_published_forward_value_and_round_trips() -> None:
    # coordtransform's reference: GCJ-02 (116.404, 39.915) → BD-09 (116.41036949371029, 39.92133699351021).
    lon, lat = gcj02_to_bd09(116.404, 39.915)
    assert float(lon) == pytest.approx(116.41036949371029, abs=1e-9)
    assert float(lat) == pytest.approx(39.92133699351021, abs=1e-9)
    # Its closed-form inverse gives (116.39762729119315, 39.90865673957631); the iterated inverse refines that by
    # well under a metre.
    glon, glat = bd09_to_gcj02(116.404, 39.915)
    assert float(glon) == pytest.approx(116.39762729119315, abs=1e-6)
    assert float(glat) == pytest.approx(39.90865673957631, abs=1e-6)
    glon2, glat2 = gcj02_to_bd09(glon, glat)
    assert metres_between(glon2, glat2, 116.404, 39.915) < 1e-6

    lon0, lat0 = np.array([TIANANMEN_WGS84[0], 120.15]), np.array([TIANANMEN_WGS84[1], 30.28])
    blon, blat = wgs84_to_bd09(lon0, lat0)
    assert metres_between(blon, blat, lon0, lat0).min() > 500.0  # BD-09 adds ~0.006° on top of GCJ-02
    back_lon, back_lat = bd09_to_wgs84(blon, blat)
    assert metres_between(back_lon, back_lat, lon0, lat0).max() < 1e-6


# --- zones and measurement ---------------------------------------------------------------------------------------


def test_gk_zone_for_hangzhou_and_chuxiong() -> None:
    assert gk_zone_epsg(120.15) == 4549
    assert gk_zone_epsg(101.54) == 4543
    hangzhou = gpd.GeoSeries([Point(120.15, 30.28)], crs=4490)
    assert metric_crs(hangzhou).to_epsg() == 4549


def test_area_and_length_of_a_100_m_square_given_in_gk_coordinates() -> None:
    square = shapely.box(510_000.0, 3_320_000.0, 510_100.0, 3_320_100.0)
    gk = gpd.GeoDataFrame({"id": ["sq"]}, geometry=[square], crs=4549)
    stored = to_storage(gk, id_column="id")
    assert area_m2(stored).iloc[0] == pytest.approx(10_000.0, rel=1e-3)
    assert length_m(stored).iloc[0] == pytest.approx(400.0, rel=1e-3)


def test_measuring_needs_a_crs() -> None:
    with pytest.raises(CRSError):
        area_m2(gpd.GeoSeries([shapely.box(120.0, 30.0, 120.001, 30.001)]))


# --- to_storage / from_storage -----------------------------------------------------------------------------------


def test_metric_gk_input_lands_on_the_right_degrees() -> None:
    # On the central meridian 120°E of EPSG:4549 the easting is the 500 km false easting and the northing is the
    # meridian arc: (500 000, 3 320 113.398) must be exactly 120°E, 30°N.
    gk = gpd.GeoDataFrame({"id": [7]}, geometry=[Point(500_000.0, NORTHING_30N)], crs="EPSG:4549")
    stored = to_storage(gk)
    assert stored.crs.to_epsg() == 4490
    point = stored.geometry.iloc[0]
    assert point.x == pytest.approx(120.0, abs=1e-8)
    assert point.y == pytest.approx(30.0, abs=1e-8)
    back = from_storage(stored, crs=4549).geometry.iloc[0]
    assert back.distance(Point(500_000.0, NORTHING_30N)) < 1e-3


def test_gcj02_polygons_land_within_a_metre_of_the_true_wgs84_vertices() -> None:
    true_wgs = Polygon([(120.1500, 30.2800), (120.1530, 30.2800), (120.1530, 30.2825), (120.1500, 30.2825)])
    xy = shapely.get_coordinates(true_wgs)
    glon, glat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    as_amap = gpd.GeoDataFrame({"id": ["朝晖一区"]}, geometry=[Polygon(np.column_stack([glon, glat]))])

    stored = to_storage(as_amap, crs="gcj02", id_column="id")

    assert stored.crs.to_epsg() == 4490
    got = shapely.get_coordinates(stored.to_crs(4549).geometry.iloc[0])
    want = shapely.get_coordinates(gpd.GeoSeries([true_wgs], crs=4326).to_crs(4549).iloc[0])
    assert np.hypot(*(got - want).T).max() < 1.0
    # and the raw AMap coordinates were indeed hundreds of metres off
    raw = shapely.get_coordinates(gpd.GeoSeries([as_amap.geometry.iloc[0]], crs=4326).to_crs(4549).iloc[0])
    assert np.hypot(*(raw - want).T).min() > 100.0


def test_bd09_input_is_converted_to_wgs84_positions() -> None:
    lon, lat = np.array([120.15, 120.16]), np.array([30.28, 30.29])
    blon, blat = wgs84_to_bd09(lon, lat)
    baidu = gpd.GeoDataFrame(geometry=gpd.points_from_xy(blon, blat))
    stored = to_storage(baidu, crs="bd09")
    assert metres_between(stored.geometry.x.to_numpy(), stored.geometry.y.to_numpy(), lon, lat).max() < 0.01


def test_real_hangzhou_layer_round_trips_through_amap_coordinates() -> None:
    real = gpd.read_file(HANGZHOU_OSM)
    amap = from_storage(to_storage(real, id_column="osm_id"), crs="gcj02")
    assert amap.crs is None
    back = to_storage(amap, crs="gcj02", id_column="osm_id")
    expected = shapely.get_coordinates(real.to_crs(4549).geometry.array)
    got = shapely.get_coordinates(back.to_crs(4549).geometry.array)
    assert len(back) == len(real) == 2112
    assert np.hypot(*(got - expected).T).max() < 0.01


def test_from_storage_gives_crs84_and_gcj02_for_display() -> None:
    stored = gpd.GeoDataFrame(geometry=[Point(*TIANANMEN_WGS84)], crs=4490)
    crs84 = from_storage(stored, crs="CRS84")
    assert crs84.crs == pyproj.CRS("OGC:CRS84")
    assert crs84.geometry.iloc[0].distance(Point(*TIANANMEN_WGS84)) < 1e-9
    amap = from_storage(stored, crs="gcj02")
    expected = wgs84_to_gcj02(*TIANANMEN_WGS84)
    assert amap.geometry.iloc[0].x == pytest.approx(float(expected[0]), abs=1e-9)
    assert amap.geometry.iloc[0].y == pytest.approx(float(expected[1]), abs=1e-9)


def test_to_storage_drops_z_and_keeps_columns_and_input() -> None:
    gdf = gpd.GeoDataFrame(
        {"id": ["a"], "name": ["朝晖一区"]},
        geometry=[Polygon([(120.15, 30.28, 5.0), (120.16, 30.28, 5.0), (120.16, 30.29, 5.0)])],
        crs=4326,
    )
    stored = to_storage(gdf)
    assert not stored.has_z.any()
    assert list(stored.columns) == ["id", "name", "geometry"]
    assert gdf.has_z.all() and gdf.crs.to_epsg() == 4326


def test_missing_crs_without_override_is_refused_and_override_supplies_it() -> None:
    bare = gpd.GeoDataFrame(geometry=[Point(120.15, 30.28)])
    with pytest.raises(CRSError, match="--crs"):
        to_storage(bare)
    assert to_storage(bare, crs="EPSG:4490").crs.to_epsg() == 4490


def test_swapped_axes_are_reported_with_the_row_id() -> None:
    gdf = gpd.GeoDataFrame(
        {"id": ["HZ-001", "HZ-002"]}, geometry=[Point(120.15, 30.28), Point(30.28, 120.15)], crs=4490
    )
    with pytest.raises(CRSError) as caught:
        to_storage(gdf, id_column="id")
    assert caught.value.rows == ["HZ-002"]
    assert "颠倒" in caught.value.message("zh") and "HZ-002" in caught.value.message("zh")
    assert "HZ-001" not in caught.value.message("zh")
    assert "swapped" in caught.value.message("en")


def test_a_point_in_europe_is_reported_by_row_number() -> None:
    gdf = gpd.GeoDataFrame(geometry=[Point(120.15, 30.28), Point(2.3522, 48.8566)], crs=4326)
    with pytest.raises(CRSError) as caught:
        to_storage(gdf)
    assert caught.value.rows == [2]
    assert "不在中国范围内" in caught.value.message("zh")
    assert "颠倒" not in caught.value.message("zh")


def test_projected_metres_declared_as_degrees_suggest_the_zone() -> None:
    # 40 500 000 m easting: zone-number prefix 40 → CGCS2000 3-degree GK zone 40 = EPSG:4528.
    gdf = gpd.GeoDataFrame({"id": ["B1"]}, geometry=[Point(40_500_000.0, 3_320_000.0)], crs=4490)
    with pytest.raises(CRSError) as caught:
        to_storage(gdf, id_column="id")
    assert caught.value.rows == ["B1"]
    assert "--crs" in caught.value.message("zh") and "EPSG:4528" in caught.value.message("zh")


def test_degrees_declared_as_gk_metres_are_refused() -> None:
    gdf = gpd.GeoDataFrame(geometry=[Point(120.15, 30.28)], crs=4549)
    with pytest.raises(CRSError, match="经纬度") as caught:
        to_storage(gdf)
    assert caught.value.rows == [1]


def test_a_wrong_gk_zone_is_refused() -> None:
    # Hangzhou metres of the CM 120E zone read as zone 25 (whose eastings carry the 25 000 000 prefix).
    gdf = gpd.GeoDataFrame({"id": ["X"]}, geometry=[Point(514_000.0, 3_351_000.0)], crs=4549)
    assert to_storage(gdf).crs.to_epsg() == 4490
    with pytest.raises(CRSError) as caught:
        to_storage(gdf, crs=4513, id_column="id")
    assert caught.value.rows == ["X"]
    assert "EPSG:4513" in caught.value.message("zh")


def test_check_in_china_ignores_empty_geometries() -> None:
    gdf = gpd.GeoDataFrame(geometry=[Point(120.15, 30.28), None, Polygon()], crs=4490)
    check_in_china(gdf)
