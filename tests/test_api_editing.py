"""Editing over HTTP on both stores: roles, If-Match (428/412), validation (422), size limit (413), overlaps (409),
merge and exact undo, history."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import mapping

from api.app import create_app
from geo.auth import add_user
from geo.settings import APISettings
from geo.stores import Store
from tests.test_editing import GK, X0, Y0, add_communities, gk_box, wkb_of


def lonlat(geom_gk: shapely.Geometry) -> dict:
    return mapping(gpd.GeoSeries([geom_gk], crs=GK).to_crs("OGC:CRS84").iloc[0])


@pytest.fixture
def app(store: Store):
    add_communities(store, [("A", gk_box(0, 0, 100, 100), 40), ("B", gk_box(102, 0, 100, 100), 60)])
    return create_app(store, settings=APISettings())


def client(app, store: Store, role: str) -> TestClient:
    token = add_user(store, f"{role}-user", role)
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def planner(app, store: Store) -> TestClient:
    return client(app, store, "planner")


def fid_of(store: Store, community_id: str) -> int:
    return int(store.read_layer("communities", ids=[community_id], include_retired=True)["fid"].item())


def new_feature(x: float, name: str = "新院") -> dict:
    return {
        "type": "Feature",
        "properties": {"name": name, "households": 12},
        "geometry": lonlat(gk_box(x, 0, 50, 50)),
    }


def test_a_viewer_cannot_write_and_anonymous_is_asked_to_log_in(app, store: Store) -> None:
    viewer = client(app, store, "viewer")
    r = viewer.post("/collections/communities/items", json=new_feature(300))
    assert r.status_code == 403 and "planner" in r.json()["detail"]
    assert TestClient(app).post("/collections/communities/items", json=new_feature(300)).status_code == 401
    assert len(store.read_layer("communities")) == 2


def test_create_returns_location_and_etag(planner: TestClient, store: Store) -> None:
    r = planner.post("/collections/communities/items", json=new_feature(300, "新建院"))
    assert r.status_code == 201
    assert r.headers["etag"] == '"1"'
    got = planner.get(r.headers["location"])
    assert got.json()["properties"]["name"] == "新建院"
    assert got.json()["properties"]["households"] == 12
    noted = planner.patch(r.headers["location"], json={"properties": {"备注": "东门"}}, headers={"If-Match": '"1"'})
    assert noted.status_code == 200
    shown = planner.get(r.headers["location"]).json()["properties"]
    assert (shown["备注"], shown["name"], shown["version"]) == ("东门", "新建院", 2)
    assert len(store.read_layer("communities")) == 3


def test_missing_if_match_is_428_and_stale_is_412_keeping_the_newer_edit(planner: TestClient, store: Store) -> None:
    url = f"/collections/communities/items/{fid_of(store, 'A')}"
    body = {"properties": {"households": 41}}
    assert planner.patch(url, json=body).status_code == 428
    first = planner.patch(url, json=body, headers={"If-Match": '"1"'})
    assert first.status_code == 200 and first.headers["etag"] == '"2"'
    shown = planner.get(url).json()["properties"]
    assert (shown["id"], shown["households"], shown["version"]) == ("A", 41, 2)
    stale = planner.patch(url, json={"properties": {"households": 99}}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert store.read_layer("communities", ids=["A"])["households"].item() == 41
    assert planner.delete(url, headers={"If-Match": '"1"'}).status_code == 412
    assert planner.delete(url, headers={"If-Match": '"2"'}).status_code == 204
    assert planner.get(url).status_code == 404


def test_put_replaces_geometry_given_in_lat_lon_for_epsg_4326(planner: TestClient, store: Store) -> None:
    url = f"/collections/communities/items/{fid_of(store, 'A')}"
    target = gpd.GeoSeries([gk_box(0, 0, 80, 80)], crs=GK).to_crs(4326).iloc[0]
    latlon = shapely.transform(target, lambda xy: xy[:, ::-1])
    body = {"type": "Feature", "properties": {"name": "甲院", "households": 40}, "geometry": mapping(latlon)}
    r = planner.put(
        url, json=body, headers={"If-Match": '"1"', "Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/4326>"}
    )
    assert r.status_code == 200
    stored = store.read_layer("communities", ids=["A"]).geometry.iloc[0]
    assert float(gpd.GeoSeries([stored], crs=4490).to_crs(GK).area.iloc[0]) == pytest.approx(6400, abs=1)


def test_self_intersecting_polygon_is_422_with_the_reason(planner: TestClient) -> None:
    x, y = 101.53, 25.03
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[x, y], [x + 0.01, y + 0.01], [x + 0.01, y], [x, y + 0.01], [x, y]]],
    }
    r = planner.post(
        "/collections/communities/items",
        json={"type": "Feature", "properties": {"name": "错"}, "geometry": bowtie},
        params={"lang": "en"},
    )
    assert r.status_code == 422
    assert "Self-intersection" in r.json()["detail"]
    garbage = planner.post(
        "/collections/communities/items", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert garbage.status_code == 422 and "detail" in garbage.json()


def test_a_50_mb_body_is_413(planner: TestClient, store: Store) -> None:
    big = b'{"type":"Feature","properties":{"name":"' + b"x" * (50 * 1024 * 1024) + b'"}}'
    r = planner.post("/collections/communities/items", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert "detail" in r.json()
    assert len(store.read_layer("communities")) == 2


def test_overlap_is_409_with_ids_and_area_unless_forced(planner: TestClient, store: Store) -> None:
    body = new_feature(-40)  # 50 m × 50 m square, 10 m × 50 m of it over A
    r = planner.post("/collections/communities/items", json=body)
    assert r.status_code == 409
    [overlap] = r.json()["overlaps"]
    assert overlap["id"] == "A" and overlap["overlap_m2"] == pytest.approx(500, abs=0.5)
    forced = planner.post("/collections/communities/items", json=body, params={"force": "true", "reason": "待测绘"})
    assert forced.status_code == 201


def test_merge_then_undo_restores_members_exactly(planner: TestClient, store: Store) -> None:
    before = wkb_of(store, ["A", "B"])
    r = planner.post("/communities/merge", json={"ids": ["A", "B"], "name": "甲乙合院"})
    assert r.status_code == 201
    merged = r.json()["merged"]
    assert merged["properties"]["households"] == 100
    live = store.read_layer("communities")
    assert live["id"].tolist() == [merged["properties"]["id"]]
    history = planner.get(f"/communities/{fid_of(store, 'A')}/history").json()["edits"]
    assert [(e["action"], e["actor"]) for e in history] == [("retire", "planner-user")]
    undo = planner.post(f"/communities/merge/{r.json()['group_id']}/undo")
    assert undo.status_code == 200
    assert sorted(store.read_layer("communities")["id"]) == ["A", "B"]
    assert wkb_of(store, ["A", "B"]) == before
    assert planner.post(f"/communities/merge/{r.json()['group_id']}/undo").status_code == 409
    assert planner.post("/communities/merge", json={"ids": ["A", "nowhere"], "name": "x"}).status_code == 404


def test_split_by_a_line_needs_if_match(planner: TestClient, store: Store) -> None:
    line = mapping(
        gpd.GeoSeries([shapely.LineString([(X0 + 50, Y0 - 5), (X0 + 50, Y0 + 105)])], crs=GK)
        .to_crs("OGC:CRS84")
        .iloc[0]
    )
    url = f"/communities/{fid_of(store, 'A')}/split"
    assert planner.post(url, json={"line": line}).status_code == 428
    r = planner.post(url, json={"line": line}, headers={"If-Match": '"1"'})
    assert r.status_code == 201
    assert sorted(p["properties"]["households"] for p in r.json()["parts"]) == [20, 20]
