"""QGIS ≥ 3.32 editing a community layer over OGC API – Features, replayed request by request on both stores.

The requests are those of QGIS's OAPIF provider (``src/providers/wfs/oapif/qgsoapifprovider.cpp`` and the
``qgsoapif*featurerequest.cpp`` files, QGIS 3.32 to 3.40):

- ``computeCapabilities``: ``OPTIONS {items}``; POST in ``Allow`` makes the layer accept new features. Then
  ``OPTIONS {items}/{first feature id}``: PUT enables attribute and geometry changes, DELETE deletion, and PATCH,
  when offered, makes QGIS send partial ``application/merge-patch+json`` bodies instead of whole features.
- ``addFeatures``: ``POST {items}``, ``Content-Type: application/geo+json``, the feature as QgsJsonExporter writes
  it without ``id`` and ``bbox``; the new id is read from ``Location`` after ``/items/``; then ``GET`` of it.
- ``changeAttributeValues`` / ``changeGeometryValues`` without PATCH: the feature from QGIS's cache (every
  attribute it loaded, ``version`` included, as loaded) with the change applied, ``PUT {items}/{id}``,
  ``Content-Type: application/geo+json``, ``Content-Crs`` when the layer CRS is not CRS84 (axes as that CRS
  orders them), and no ``If-Match``.
- ``deleteFeatures``: ``DELETE {items}/{id}``, no ``If-Match``, no body.

All succeed on fresh data, a second save of the same feature in one session too (QGIS does not re-read the
version after saving); a save over someone else's newer edit is refused and leaves the store as it was; every
write is in the history with its actor.
"""

from __future__ import annotations

import base64
import json

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import mapping

from api.app import create_app
from geo import editing
from geo.auth import add_user
from geo.settings import APISettings
from geo.stores import Store
from tests.test_editing import GK, add_communities, gk_box

ITEMS = "/collections/communities/items"
EPSG_4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"


def lonlat(geom_gk: shapely.Geometry) -> dict:
    return mapping(gpd.GeoSeries([geom_gk], crs=GK).to_crs("OGC:CRS84").iloc[0])


def latlon_4490(geom_gk: shapely.Geometry) -> dict:
    """A geometry as QGIS sends it for a layer in EPSG:4490: latitude first (``hasAxisInverted``)."""
    geom = gpd.GeoSeries([geom_gk], crs=GK).to_crs(4490).iloc[0]
    return mapping(shapely.transform(geom, lambda xy: xy[:, ::-1]))


def qgis_json(properties: dict, geometry: dict, json_id: str | None) -> bytes:
    """A feature as QgsJsonExporter::exportFeatureToJsonObject writes it (``bbox`` dropped by the provider)."""
    feature: dict = {"type": "Feature"}
    if json_id is not None:
        feature["id"] = json_id
    feature["geometry"] = geometry
    feature["properties"] = properties
    return json.dumps(feature, ensure_ascii=False).encode()


@pytest.fixture
def app(store: Store):
    add_communities(store, [("A", gk_box(0, 0, 100, 100), 40), ("B", gk_box(102, 0, 100, 100), 60)])
    return create_app(store, settings=APISettings())


def basic_client(app, store: Store, name: str, role: str) -> TestClient:
    """A client logged in as QGIS does with a Basic authentication configuration."""
    credentials = base64.b64encode(f"{name}:{add_user(store, name, role)}".encode()).decode()
    return TestClient(app, headers={"Authorization": f"Basic {credentials}"})


def allowed(response) -> set[str]:
    """QgsBaseNetworkRequest::sendOPTIONS: the ``Allow`` header split on commas and trimmed."""
    return {m.strip() for m in response.headers.get("allow", "").split(",")}


def test_qgis_sees_an_editable_layer_only_with_the_planner_role(app, store: Store) -> None:
    qgis = basic_client(app, store, "qgis-planner", "planner")
    first = qgis.get(ITEMS, params={"limit": "10"}).json()["features"][0]["id"]
    assert "POST" in allowed(qgis.options(ITEMS))
    on_item = allowed(qgis.options(f"{ITEMS}/{first}"))
    assert {"PUT", "DELETE"} <= on_item and "PATCH" not in on_item  # whole features, with their version
    viewer = basic_client(app, store, "qgis-viewer", "viewer")
    assert allowed(viewer.options(ITEMS)) == allowed(viewer.options(f"{ITEMS}/{first}")) == {"GET", "HEAD", "OPTIONS"}
    assert allowed(qgis.options("/collections/buildings/items")).isdisjoint({"POST", "PUT", "DELETE"})
    assert TestClient(app).options(ITEMS).status_code == 401


def test_qgis_adds_changes_moves_and_deletes_a_community(app, store: Store) -> None:
    qgis = basic_client(app, store, "qgis-planner", "planner")
    loaded = {f["id"]: f for f in qgis.get(ITEMS, params={"limit": "1000"}).json()["features"]}
    fields = list(next(iter(loaded.values()))["properties"])

    # Add: every field QGIS knows, empty except what the user typed; no id, no If-Match.
    new = dict.fromkeys(fields) | {"name": "新建小区", "households": 24}
    created = qgis.post(
        ITEMS,
        content=qgis_json(new, lonlat(gk_box(300, 0, 50, 50)), None),
        headers={"Content-Type": "application/geo+json"},
    )
    assert created.status_code == 201, created.text
    json_id = created.headers["location"].rsplit("/items/", 1)[1]
    cached = qgis.get(f"{ITEMS}/{json_id}").json()  # QGIS refreshes the new feature from the server
    assert cached["properties"]["name"] == "新建小区" and cached["properties"]["version"] == 1

    # Change an attribute: PUT of the cached feature with the new value (version as loaded: 1).
    props = dict(cached["properties"]) | {"households": 30}
    r = qgis.put(
        f"{ITEMS}/{json_id}",
        content=qgis_json(props, cached["geometry"], json_id),
        headers={"Content-Type": "application/geo+json"},
    )
    assert r.status_code == 200, r.text

    # Move vertices in the same session: QGIS's cache still says version 1; the layer CRS is EPSG:4490 here,
    # so QGIS sends Content-Crs and latitude first.
    moved = gk_box(300, 0, 60, 50)
    r = qgis.put(
        f"{ITEMS}/{json_id}",
        content=qgis_json(props, latlon_4490(moved), json_id),
        headers={"Content-Type": "application/geo+json", "Content-Crs": EPSG_4490},
    )
    assert r.status_code == 200, r.text
    saved = store.read_layer("communities", ids=[props["id"]])
    assert (saved["households"].item(), saved["version"].item()) == (30, 3)
    area = float(saved.to_crs(GK).geometry.area.iloc[0])
    assert area == pytest.approx(3000, abs=1)

    # Change an existing community loaded at the start.
    a = next(f for f in loaded.values() if f["properties"]["id"] == "A")
    r = qgis.put(
        f"{ITEMS}/{a['id']}",
        content=qgis_json(a["properties"] | {"name": "甲院（改）"}, a["geometry"], str(a["id"])),
        headers={"Content-Type": "application/geo+json"},
    )
    assert r.status_code == 200, r.text

    # Delete: no precondition at all.
    assert qgis.delete(f"{ITEMS}/{json_id}").status_code == 204
    assert store.read_layer("communities", ids=[props["id"]]).empty

    history = editing.history(store, layer="communities", feature_id=props["id"])
    assert [(e["action"], e["actor"]) for e in history] == [
        ("create", "qgis-planner"),
        ("replace", "qgis-planner"),
        ("replace", "qgis-planner"),
        ("delete", "qgis-planner"),
    ]
    assert [(e["action"], e["actor"]) for e in editing.history(store, layer="communities", feature_id="A")] == [
        ("replace", "qgis-planner")
    ]


def test_a_stale_qgis_save_is_refused_and_changes_nothing(app, store: Store) -> None:
    qgis = basic_client(app, store, "qgis-planner", "planner")
    colleague = basic_client(app, store, "colleague", "planner")
    a = next(f for f in qgis.get(ITEMS, params={"limit": "10"}).json()["features"] if f["properties"]["id"] == "A")
    url = f"{ITEMS}/{a['id']}"
    # Meanwhile a colleague saves A from the /edit page (If-Match with the version read).
    assert (
        colleague.patch(url, json={"properties": {"households": 45}}, headers={"If-Match": '"1"'}).status_code == 200
    )
    before = store.fingerprint()
    stale = qgis.put(
        url,
        content=qgis_json(a["properties"] | {"name": "覆盖"}, a["geometry"], str(a["id"])),
        headers={"Content-Type": "application/geo+json"},
    )
    assert stale.status_code == 412
    assert stale.headers["etag"] == '"2"'
    moved = qgis.put(
        url,
        content=qgis_json(a["properties"], lonlat(gk_box(0, 0, 90, 100)), str(a["id"])),
        headers={"Content-Type": "application/geo+json"},
    )
    assert moved.status_code == 412
    assert store.fingerprint() == before
    assert store.read_layer("communities", ids=["A"])["households"].item() == 45
    # Had PATCH been offered, QGIS would send only the changed value and no precondition: refused, not applied.
    patch = qgis.patch(
        url,
        content=json.dumps({"properties": {"name": "覆盖"}}, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patch.status_code == 428
    assert store.fingerprint() == before
    # After reloading the layer (version 2), the same save goes through.
    fresh = qgis.get(url).json()
    ok = qgis.put(
        url,
        content=qgis_json(fresh["properties"] | {"name": "甲院"}, fresh["geometry"], str(a["id"])),
        headers={"Content-Type": "application/geo+json"},
    )
    assert ok.status_code == 200
    assert [(e["actor"], e["version"]) for e in editing.history(store, layer="communities", feature_id="A")] == [
        ("colleague", 2),
        ("qgis-planner", 3),
    ]
