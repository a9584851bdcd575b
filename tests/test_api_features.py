"""OGC API – Features (Parts 1 and 2) over the sample city on both stores, read by hand and by GDAL's OAPIF driver."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pyogrio
import pyproj
import pytest
import shapely
from fastapi.testclient import TestClient

from api.app import create_app
from geo.auth import add_user
from geo.io.importers import import_layer
from geo.policy.profiles import list_profiles
from geo.settings import APISettings
from geo.stores import Store
from tests.conftest import ROOT, SAMPLE

LAYERS = ("streets", "neighbourhoods", "communities", "buildings", "zones", "roads")
#: ``units`` is the configured profile's (national-2020 by default); every other profile has its own collection.
UNIT_COLLECTIONS = ("units", *(f"units-{p}" for p in list_profiles() if p != "national-2020"))
STREET = "华庭街道"


def load_sample(store: Store) -> None:
    for layer in LAYERS:
        import_layer(store, layer, SAMPLE / f"{layer}.geojson")
    import_layer(store, "survey", SAMPLE / "survey.xlsx")


def client_for(store: Store, role: str = "viewer", **settings: object) -> TestClient:
    token = add_user(store, f"{role}-{time.monotonic_ns()}", role)
    app = create_app(store, settings=APISettings(**settings))
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


@contextmanager
def serve(store: Store, *, access_log: Path | None = None, **env: str) -> Iterator[str]:
    """Run the API with uvicorn in a subprocess on a free loopback port; yields its base URL.

    A subprocess, not a thread: GDAL holds the GIL while it reads, which would starve a server thread. With
    ``access_log``, uvicorn writes one line per request there (what a client really asked for).
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    environ = dict(os.environ, RENEWAL_DATABASE_URL=store.engine.url.render_as_string(hide_password=False), **env)
    log = access_log.open("w") if access_log else None
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "info" if access_log else "warning",
        ],
        env=environ,
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/conformance", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the API server did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if log:
            log.close()


@pytest.fixture
def city(store: Store) -> Store:
    load_sample(store)
    return store


@pytest.fixture
def client(city: Store) -> TestClient:
    return client_for(city)


def all_pages(client: TestClient, url: str) -> tuple[list[dict], list[dict]]:
    """Every feature by following ``next`` links, and every page's metadata."""
    features, pages = [], []
    while url:
        page = client.get(url).json()
        features += page["features"]
        pages.append({k: v for k, v in page.items() if k != "features"})
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    return features, pages


def test_landing_page_and_conformance_announce_core_geojson_and_crs(client: TestClient) -> None:
    rels = {link["rel"] for link in client.get("/").json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    classes = client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes


def test_collections_list_every_layer_with_extent_and_crs(client: TestClient, city: Store) -> None:
    docs = {c["id"]: c for c in client.get("/collections").json()["collections"]}
    assert set(docs) == {*LAYERS, *UNIT_COLLECTIONS}
    assert docs["communities"]["extent"]["spatial"]["bbox"] == [list(city.extent("communities"))]
    # The sample city lies at 101.5°E: GK zone CM 102°E is EPSG:4543.
    assert docs["communities"]["crs"] == [
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "http://www.opengis.net/def/crs/EPSG/0/4490",
        "http://www.opengis.net/def/crs/EPSG/0/4326",
        "http://www.opengis.net/def/crs/EPSG/0/4543",
    ]
    assert client.get("/collections/nowhere").status_code == 404


def test_paging_follows_next_links_through_every_feature(client: TestClient) -> None:
    features, pages = all_pages(client, "/collections/communities/items?limit=50")
    assert [p["numberReturned"] for p in pages] == [50, 50, 50, 30]
    assert {p["numberMatched"] for p in pages} == {180}
    assert len({f["id"] for f in features}) == 180
    assert not any(link["rel"] == "prev" for link in pages[0]["links"])
    assert any(link["rel"] == "prev" for link in pages[-1]["links"])
    assert client.get("/collections/communities/items?limit=0").status_code == 400


def test_property_filters_and_bbox_select_like_the_store(client: TestClient, city: Store) -> None:
    page = client.get("/collections/communities/items", params={"street": STREET, "limit": 1000}).json()
    expected = city.read_layer("communities", filters={"street": STREET})
    assert page["numberMatched"] == len(expected) > 0
    assert sorted(f["properties"]["id"] for f in page["features"]) == sorted(expected["id"])
    bbox = (101.536, 25.028, 101.540, 25.031)
    page = client.get("/collections/buildings/items", params={"bbox": ",".join(map(str, bbox)), "limit": 1000})
    assert sorted(f["properties"]["id"] for f in page.json()["features"]) == sorted(
        city.read_layer("buildings", bbox=bbox)["id"]
    )
    latlon = ",".join(map(str, (bbox[1], bbox[0], bbox[3], bbox[2])))
    same = client.get("/collections/buildings/items", params={"bbox": latlon, "bbox-crs": "EPSG:4326", "limit": 1})
    assert same.json()["numberMatched"] == len(city.read_layer("buildings", bbox=bbox))
    bad = client.get("/collections/communities/items", params={"colour": "red"})
    assert bad.status_code == 400 and "colour" in bad.json()["detail"]


def test_crs_parameter_gives_the_right_axis_order_and_header(client: TestClient, city: Store) -> None:
    first = city.read_layer("communities").iloc[0]
    x, y = shapely.get_coordinates(first.geometry)[0]
    default = client.get(f"/collections/communities/items/{first.fid}")
    assert default.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    assert default.json()["geometry"]["coordinates"][0][0] == [x, y]
    for code in (4490, 4326):
        r = client.get(f"/collections/communities/items/{first.fid}", params={"crs": f"EPSG:{code}"})
        assert r.headers["content-crs"] == f"<http://www.opengis.net/def/crs/EPSG/0/{code}>"
        assert r.json()["geometry"]["coordinates"][0][0] == [y, x]  # latitude first
    r = client.get(
        f"/collections/communities/items/{first.fid}", params={"crs": "http://www.opengis.net/def/crs/EPSG/0/4543"}
    )
    northing_easting = r.json()["geometry"]["coordinates"][0][0]
    easting, northing = pyproj.Transformer.from_crs(4490, 4543, always_xy=True).transform(x, y)
    assert northing_easting == pytest.approx([northing, easting], abs=1e-6)
    assert client.get("/collections/communities/items", params={"crs": "EPSG:3857"}).status_code == 400


def test_item_has_its_version_as_etag(client: TestClient, city: Store) -> None:
    row = city.read_layer("communities").iloc[3]
    r = client.get(f"/collections/communities/items/{row.fid}")
    assert r.headers["etag"] == '"1"'
    assert r.json()["properties"]["id"] == row["id"]
    missing = client.get("/collections/communities/items/999999")
    assert missing.status_code == 404 and "detail" in missing.json()


def test_reading_needs_a_token_unless_anonymous_read_is_on(city: Store) -> None:
    closed = TestClient(create_app(city, settings=APISettings()))
    r = closed.get("/collections/communities/items")
    assert r.status_code == 401 and "detail" in r.json()
    assert closed.get("/", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    opened = TestClient(create_app(city, settings=APISettings(anonymous_read=True)))
    assert opened.get("/collections/communities/items?limit=1").json()["numberMatched"] == 180


def test_units_are_the_merged_units_of_the_analysis(client: TestClient) -> None:
    page = client.get("/collections/units/items", params={"limit": 1000}).json()
    assert page["numberMatched"] == len(page["features"]) > 0
    members = [m for f in page["features"] for m in f["properties"]["members"]]
    assert len(members) == len(set(members))
    one = page["features"][0]
    assert client.get(f"/collections/units/items/{one['id']}").json()["properties"] == one["properties"]


@pytest.mark.postgis
def test_both_stores_give_the_same_documents(both_stores: tuple[Store, Store]) -> None:
    docs = []
    for store in both_stores:
        load_sample(store)
        client = client_for(store)
        docs.append(
            [
                json.loads(client.get(f"/collections/{layer}/items", params={"limit": 10_000, "crs": crs}).content)
                for layer in LAYERS
                for crs in ("CRS84", "EPSG:4490")
            ]
        )
    for sqlite_doc, pg_doc in zip(*docs, strict=True):
        assert sqlite_doc["numberMatched"] == pg_doc["numberMatched"]
        assert sqlite_doc["features"] == pg_doc["features"]


def test_gdal_reads_every_collection_through_oapif(city: Store) -> None:
    token = add_user(city, "gis", "viewer")
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": token})
    try:
        with serve(city) as base:
            listed = {name for name, _ in pyogrio.list_layers(f"OAPIF:{base}")}
            assert listed == {*LAYERS, *UNIT_COLLECTIONS}
            for layer in LAYERS:
                expected = city.read_layer(layer)
                for crs in (None, "EPSG:4490"):
                    options = {"CRS": crs} if crs else {}
                    got = pyogrio.read_dataframe(f"OAPIF:{base}", layer=layer, **options)
                    assert got.crs.to_epsg() == 4490
                    assert len(got) == len(expected)
                    got = got.set_index("id").loc[expected["id"]]
                    assert np.array_equal(
                        shapely.get_coordinates(got.geometry.values),
                        shapely.get_coordinates(expected.geometry.values),
                    )
            units = pyogrio.read_dataframe(f"OAPIF:{base}", layer="units")
            matched = client_for(city).get("/collections/units/items?limit=1").json()["numberMatched"]
            assert len(units) == matched > 0
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None})
