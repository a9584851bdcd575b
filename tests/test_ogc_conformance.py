"""OGC API – Features conformance on both stores: what the CITE suite checks for Part 1, and Part 3 (filtering).

Part 1: landing links resolve, the OpenAPI document is valid 3.0 and describes every items parameter with its
limits, features carry links, HEAD works wherever GET does, responses are gzip-compressed on request, invalid
parameters are 400 naming them, bbox in a projected CRS selects exactly, units are MultiPolygons. Part 3:
queryables, CQL2 text and JSON (comparisons, AND/OR/NOT, LIKE/IN/BETWEEN/IS NULL, S_INTERSECTS with a bbox or a
polygon, filter-crs), sortby, properties and skipGeometry, each checked against the store read directly.
"""

from __future__ import annotations

import gzip
import json

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from fastapi.testclient import TestClient
from openapi_spec_validator import OpenAPIV30SpecValidator
from shapely.geometry import mapping

from geo.stores import Store
from tests.test_api_features import UNIT_COLLECTIONS, client_for, load_sample

GK_ZONE = 4543  # the sample city's CGCS2000 3° Gauss–Krüger zone (central meridian 102°E)
ITEMS_PARAMETERS = ("limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "filter", "filter-lang", "sortby")


@pytest.fixture
def city(store: Store) -> Store:
    load_sample(store)
    return store


@pytest.fixture
def client(city: Store) -> TestClient:
    return client_for(city)


def ids(client: TestClient, layer: str, **params: str) -> list[str]:
    r = client.get(f"/collections/{layer}/items", params={"limit": "10000", **params})
    assert r.status_code == 200, r.text
    return [f["properties"]["id"] for f in r.json()["features"]]


# -- Part 1 ------------------------------------------------------------------------------------------------------


def test_landing_page_links_resolve_and_conformance_lists_what_is_served(client: TestClient) -> None:
    links = {link["rel"]: link["href"] for link in client.get("/").json()["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(links)
    for href in links.values():
        assert client.get(href).status_code == 200, href
    classes = set(client.get("/conformance").json()["conformsTo"])
    part = "http://www.opengis.net/spec/ogcapi-features-{}/1.0/conf/{}"
    assert {part.format(1, c) for c in ("core", "oas30", "geojson", "html")} <= classes
    assert {part.format(3, c) for c in ("queryables", "filter", "features-filter")} <= classes
    assert {f"http://www.opengis.net/spec/cql2/1.0/conf/{c}" for c in ("cql2-text", "cql2-json", "basic-cql2")} <= (
        classes
    )


def test_openapi_is_valid_3_0_and_describes_every_items_parameter_with_its_limits(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.0")
    assert list(OpenAPIV30SpecValidator(doc).iter_errors()) == []
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"]) == (1, 10_000) and 1 <= limit["default"] <= 10_000
    for cid in ("communities", "buildings", "units"):
        params = doc["paths"][f"/collections/{cid}/items"]["get"]["parameters"]
        names = {p["$ref"].rsplit("/", 1)[1] if "$ref" in p else p["name"] for p in params}
        assert set(ITEMS_PARAMETERS) <= names, cid
    assert {"households", "street", "name"} <= {
        p.get("name") for p in doc["paths"]["/collections/communities/items"]["get"]["parameters"]
    }
    # The service-desc media type says 3.0, as the document does.
    desc = next(link for link in client.get("/").json()["links"] if link["rel"] == "service-desc")
    assert desc["type"].endswith("version=3.0")


def test_collections_have_extents_with_a_temporal_part_or_say_why_not(client: TestClient) -> None:
    docs = {c["id"]: c for c in client.get("/collections").json()["collections"]}
    assert set(docs) >= {"communities", *UNIT_COLLECTIONS}
    interval = docs["communities"]["extent"]["temporal"]["interval"][0]
    assert all(isinstance(t, str) and t.endswith("Z") for t in interval)
    for cid in UNIT_COLLECTIONS:
        assert "temporal" not in docs[cid]["extent"]
        assert "datetime" in docs[cid]["description"]
    profile = docs["units"]["description"]
    assert "national-2020" in profile
    assert "chuxiong-2020" in docs["units-chuxiong-2020"]["description"]
    rels = {link["rel"] for link in docs["buildings"]["links"]}
    assert {"self", "items", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= rels


def test_single_features_link_to_themselves_and_their_collection(client: TestClient, city: Store) -> None:
    fid = int(city.read_layer("communities")["fid"].iloc[5])
    feature = client.get(f"/collections/communities/items/{fid}").json()
    links = {link["rel"]: link["href"] for link in feature["links"]}
    assert links["self"].endswith(f"/collections/communities/items/{fid}")
    assert links["collection"].endswith("/collections/communities")
    assert client.get(links["self"]).json()["properties"] == feature["properties"]
    unit = client.get("/collections/units/items?limit=1").json()["features"][0]
    unit_links = {link["rel"] for link in client.get(f"/collections/units/items/{unit['id']}").json()["links"]}
    assert {"self", "collection"} <= unit_links


def test_head_answers_like_get_without_a_body(client: TestClient, city: Store) -> None:
    fid = int(city.read_layer("communities")["fid"].iloc[0])
    paths = [
        "/",
        "/conformance",
        "/collections",
        "/collections/communities",
        "/collections/communities/queryables",
        "/collections/communities/items?limit=5",
        f"/collections/communities/items/{fid}",
        "/collections/units/items?limit=2",
        "/openapi.json",
        "/docs",
        "/edit",
    ]
    for path in paths:
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
    assert client.head("/collections/nowhere").status_code == 404


def test_items_are_gzip_compressed_when_the_client_accepts_it(client: TestClient) -> None:
    plain = client.get("/collections/buildings/items?limit=1000", headers={"Accept-Encoding": "identity"})
    packed = client.get("/collections/buildings/items?limit=1000", headers={"Accept-Encoding": "gzip"}, extensions={})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.json() == plain.json()  # httpx inflates transparently
    raw = gzip.compress(plain.content)
    assert int(packed.headers["content-length"]) < len(plain.content) / 4 and len(raw) < len(plain.content)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"bbox": "101.5,95,101.6,96"}, "bbox"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox-crs": "EPSG:4326"}, "bbox-crs"),
        ({"crs": "EPSG:3857"}, "EPSG:3857"),
        ({"datetime": "notadate"}, "datetime"),
        ({"datetime": "2026-02-01T00:00:00Z/2025-01-01T00:00:00Z"}, "datetime"),
        ({"colour": "red"}, "colour"),
        ({"sortby": "colour"}, "colour"),
        ({"properties": "colour"}, "colour"),
        ({"skipGeometry": "maybe"}, "skipGeometry"),
        ({"households": "many"}, "households"),
        ({"f": "xml"}, "xml"),
        ({"profile": "national-2020"}, "profile"),
    ],
)
def test_invalid_or_unsupported_parameters_are_400_naming_them(client: TestClient, params: dict, named: str) -> None:
    r = client.get("/collections/communities/items", params={**params, "lang": "en"})
    assert r.status_code == 400, r.text
    assert named in r.json()["detail"]


def test_a_limit_above_the_maximum_is_served_as_the_maximum(client: TestClient) -> None:
    page = client.get("/collections/buildings/items", params={"limit": "50000"}).json()
    assert page["numberReturned"] == len(page["features"]) == min(10_000, page["numberMatched"])


def test_datetime_selects_by_last_change(client: TestClient, city: Store) -> None:
    total = client.get("/collections/communities/items?limit=1").json()["numberMatched"]
    assert (
        client.get("/collections/communities/items", params={"datetime": "2000-01-01/.."}).json()["numberMatched"]
        == total
    )
    assert (
        client.get("/collections/communities/items", params={"datetime": "../2000-01-01T00:00:00Z"}).json()[
            "numberMatched"
        ]
        == 0
    )


def test_bbox_in_the_projected_zone_selects_exactly(client: TestClient, city: Store) -> None:
    buildings = city.read_layer("buildings")
    metric = buildings.to_crs(GK_ZONE)
    minx, miny, maxx, maxy = metric.total_bounds
    # A box in metres whose degree bounds are wider than the box itself (GK grid north is not true north).
    box = shapely.box(minx + 0.3 * (maxx - minx), miny + 0.3 * (maxy - miny), minx + 0.55 * (maxx - minx), maxy)
    exact = sorted(buildings["id"][shapely.intersects(np.asarray(metric.geometry.array), box)])
    degrees = gpd.GeoSeries([box], crs=GK_ZONE).to_crs(4490).total_bounds
    loose = sorted(buildings["id"][shapely.intersects(np.asarray(buildings.geometry.array), shapely.box(*degrees))])
    assert len(loose) > len(exact) > 0  # the case the issue reported: the degree bounds take in extra buildings
    northing_first = f"{box.bounds[1]},{box.bounds[0]},{box.bounds[3]},{box.bounds[2]}"  # EPSG:4543 is N, E
    assert sorted(ids(client, "buildings", bbox=northing_first, **{"bbox-crs": f"EPSG:{GK_ZONE}"})) == exact


def test_units_are_served_and_declared_as_multipolygons(client: TestClient) -> None:
    page = client.get("/collections/units/items", params={"limit": "1000"}).json()
    assert page["features"] and {f["geometry"]["type"] for f in page["features"]} == {"MultiPolygon"}
    queryables = client.get("/collections/units/queryables").json()
    assert queryables["properties"]["geometry"]["format"] == "geometry-multipolygon"


@pytest.mark.postgis
def test_both_stores_write_properties_in_the_same_order(both_stores: tuple[Store, Store]) -> None:
    orders = []
    for store in both_stores:
        load_sample(store)
        client = client_for(store)
        page = client.get("/collections/communities/items", params={"limit": "3", "sortby": "-households"})
        orders.append([(f["id"], list(f["properties"])) for f in json.loads(page.content)["features"]])
    assert orders[0] == orders[1]
    assert orders[0][0][1][:3] == ["id", "name", "street"]


# -- Part 3 ------------------------------------------------------------------------------------------------------


def test_queryables_are_a_json_schema_of_the_collections_properties(client: TestClient) -> None:
    r = client.get("/collections/communities/queryables")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/schema+json")
    props = r.json()["properties"]
    assert props["households"]["type"] == "integer"
    assert props["floor_area_m2"]["type"] == "number"
    assert props["property_management"]["type"] == "boolean"
    assert props["name"] == {"title": "小区名称", "type": "string"}
    assert client.get("/collections/nowhere/queryables").status_code == 404


def test_cql2_comparisons_and_logic_select_like_the_store(client: TestClient, city: Store) -> None:
    frame = city.read_layer("communities")
    street = frame["street"].iloc[0]
    cases = {
        "households > 300": frame["households"] > 300,
        f"street = '{street}' AND households <= 100": (frame["street"] == street) & (frame["households"] <= 100),
        f"street <> '{street}' OR year_built < 1985": (frame["street"] != street) | (frame["year_built"] < 1985),
        "NOT (households >= 50)": ~(frame["households"] >= 50),
        "name LIKE '%家属院'": frame["name"].str.endswith("家属院"),
        "households BETWEEN 40 AND 60": frame["households"].between(40, 60),
        f"street IN ('{street}', '无此街道')": frame["street"] == street,
        "low_income_households IS NULL": frame["low_income_households"].isna(),
        "property_management = true AND floor_area_m2 > 5000.5": frame["property_management"].fillna(False)
        & (frame["floor_area_m2"] > 5000.5),
    }
    for text, expected in cases.items():
        want = sorted(frame["id"][expected.fillna(False).astype(bool)])
        assert sorted(ids(client, "communities", filter=text)) == want, text
    assert 0 < len(ids(client, "communities", filter="households > 300")) < len(frame)
    as_json = {"op": "and", "args": [{"op": ">", "args": [{"property": "households"}, 300]},
                                     {"op": "=", "args": [{"property": "street"}, street]}]}  # fmt: skip
    assert sorted(ids(client, "communities", filter=json.dumps(as_json), **{"filter-lang": "cql2-json"})) == sorted(
        frame["id"][(frame["households"] > 300) & (frame["street"] == street)]
    )


def test_s_intersects_with_a_bbox_or_a_polygon_in_any_filter_crs(client: TestClient, city: Store) -> None:
    buildings = city.read_layer("buildings")
    minx, miny, maxx, maxy = buildings.total_bounds
    box = (minx, miny, minx + (maxx - minx) / 3, miny + (maxy - miny) / 3)
    triangle = shapely.Polygon([(box[0], box[1]), (box[2], box[1]), (box[0], box[3])])
    geoms = np.asarray(buildings.geometry.array)
    in_box = sorted(buildings["id"][shapely.intersects(geoms, shapely.box(*box))])
    in_triangle = sorted(buildings["id"][shapely.intersects(geoms, triangle)])
    assert 0 < len(in_triangle) < len(in_box) < len(buildings)
    bbox_filter = f"S_INTERSECTS(geometry, BBOX({box[0]}, {box[1]}, {box[2]}, {box[3]}))"
    assert sorted(ids(client, "buildings", filter=bbox_filter)) == in_box
    assert sorted(ids(client, "buildings", filter=f"S_INTERSECTS(geometry, {triangle.wkt})")) == in_triangle
    latlon = shapely.transform(triangle, lambda xy: xy[:, ::-1])
    as_4326 = {"filter": f"S_INTERSECTS(geometry, {latlon.wkt})", "filter-crs": "EPSG:4326"}
    assert sorted(ids(client, "buildings", **as_4326)) == in_triangle
    as_json = {"op": "s_intersects", "args": [{"property": "geometry"}, mapping(triangle)]}
    assert sorted(ids(client, "buildings", filter=json.dumps(as_json), **{"filter-lang": "cql2-json"})) == in_triangle
    combined = f"S_INTERSECTS(geometry, {triangle.wkt}) AND floors >= 6"
    want = sorted(set(in_triangle) & set(buildings["id"][buildings["floors"] >= 6]))
    assert sorted(ids(client, "buildings", filter=combined)) == want
    within = f"S_WITHIN(geometry, {shapely.box(*box).wkt})"
    assert sorted(ids(client, "buildings", filter=within)) == sorted(
        buildings["id"][shapely.within(geoms, shapely.box(*box))]
    )


def test_sortby_properties_and_skip_geometry(client: TestClient, city: Store) -> None:
    frame = city.read_layer("communities")
    page = client.get(
        "/collections/communities/items",
        params={
            "limit": "10000",
            "sortby": "-households,name",
            "properties": "name,households",
            "skipGeometry": "true",
        },
    ).json()
    expected = frame.sort_values(["households", "name"], ascending=[False, True], na_position="last", kind="stable")
    assert [f["properties"]["name"] for f in page["features"]] == expected["name"].tolist()
    assert {tuple(f["properties"]) for f in page["features"]} == {("name", "households")}
    assert all(f["geometry"] is None for f in page["features"])
    units = client.get("/collections/units/items", params={"limit": "1000", "sortby": "-households"}).json()
    households = [f["properties"]["households"] for f in units["features"]]
    assert households == sorted(households, reverse=True)


@pytest.mark.parametrize(
    ("filter_", "lang", "named"),
    [
        ("colour = 'red'", None, "colour"),
        ("T_AFTER(year_built, TIMESTAMP('2020-01-01T00:00:00Z'))", None, "filter"),
        ("households >", None, "filter"),
        ("households = 'many'", None, "households"),
        ("name = 'x'", "sql", "sql"),
        ("{not json", "cql2-json", "filter"),
        ("households = 99999999999999999999", None, "range"),
    ],
)
def test_unsupported_filters_are_400_naming_the_problem(
    client: TestClient, filter_: str, lang: str | None, named: str
) -> None:
    params = {"filter": filter_, "lang": "en", **({"filter-lang": lang} if lang else {})}
    r = client.get("/collections/communities/items", params=params)
    assert r.status_code == 400, r.text
    assert named in r.json()["detail"]


def test_units_take_the_same_filters(client: TestClient) -> None:
    every = client.get("/collections/units/items", params={"limit": "1000"}).json()["features"]
    big = [f["id"] for f in every if f["properties"]["households"] > 200]
    got = client.get("/collections/units/items", params={"limit": "1000", "filter": "households > 200"}).json()
    assert sorted(f["id"] for f in got["features"]) == sorted(big)
    bad = client.get("/collections/units/items", params={"filter": "colour = 1", "lang": "en"})
    assert bad.status_code == 400 and "colour" in bad.json()["detail"]


def test_geometry_literals_are_brought_from_the_filter_crs(client: TestClient, city: Store) -> None:
    building = city.read_layer("buildings").iloc[10]
    centre = building.geometry.representative_point()
    easting, northing = pyproj.Transformer.from_crs(4490, GK_ZONE, always_xy=True).transform(centre.x, centre.y)
    point = f"POINT({northing} {easting})"  # EPSG:4543 is northing first
    got = ids(client, "buildings", filter=f"S_INTERSECTS(geometry, {point})", **{"filter-crs": f"EPSG:{GK_ZONE}"})
    assert building["id"] in got and len(got) <= 2
