"""The synthetic sample city: deterministic, scalable, and holding the cases the analyses must meet."""

from __future__ import annotations

import json
import time
from fractions import Fraction
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo.crs import metric_crs
from geo.model import DEFICIENCY_ITEMS, LAYERS, STORAGE_EPSG, SURVEY
from geo.synthetic.city import make_city, write_sample

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "boundaries"
SPATIAL = ("streets", "neighbourhoods", "communities", "buildings", "zones", "roads")


@pytest.fixture(scope="module")
def city() -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    return make_city()


@pytest.fixture(scope="module")
def metric(city: dict) -> dict[str, gpd.GeoDataFrame]:
    """The spatial layers in the city's Gauss–Krüger zone, for areas and distances in metres."""
    crs = metric_crs(city["communities"])
    return {name: city[name].to_crs(crs) for name in SPATIAL}


@pytest.fixture(scope="module")
def members(metric: dict) -> pd.DataFrame:
    """Each building with the community polygon it stands in (by location), or none."""
    b, c = metric["buildings"], metric["communities"]
    bi, ci = shapely.STRtree(c.geometry.values).query(b.geometry.values, predicate="within")
    located = pd.Series(pd.NA, index=b.index, dtype="string")
    located.iloc[bi] = c["id"].to_numpy()[ci]
    return b.assign(located=located)


def test_same_seed_gives_same_city_and_another_seed_another() -> None:
    first, second = make_city(n_communities=300, seed=7), make_city(n_communities=300, seed=7)
    for name in SPATIAL:
        assert_geodataframe_equal(first[name], second[name])
    pd.testing.assert_frame_equal(first["survey"], second["survey"])
    other = make_city(n_communities=300, seed=8)
    assert not other["communities"]["name"].equals(first["communities"]["name"])


def test_layers_use_the_model_columns_in_storage_crs(city: dict) -> None:
    for name in SPATIAL:
        layer = LAYERS[name]
        assert list(city[name].columns) == [*layer.column_names, "geometry"]
        assert city[name].crs.to_epsg() == STORAGE_EPSG
        expected = {"LineString"} if layer.geometry == "line" else {"Polygon"}
        assert set(city[name].geom_type) == expected
        assert city[name]["id"].is_unique
    assert list(city["survey"].columns) == SURVEY.column_names
    lon, lat = city["communities"].union_all().centroid.coords[0]
    assert abs(lon - 101.546) < 0.01 and abs(lat - 25.033) < 0.01


def test_default_city_has_the_promised_size(city: dict) -> None:
    assert len(city["communities"]) == 180
    assert len(city["buildings"]) >= 1000
    assert len(city["streets"]) >= 4
    assert len(city["neighbourhoods"]) >= 12
    assert city["neighbourhoods"].groupby("street").size().min() >= 3
    assert set(city["streets"]["district"]) == {"楚雄市"}
    assert city["communities"]["name"].is_unique
    assert city["communities"]["id"].iloc[0] == "C0001"


def test_streets_partition_the_city_and_neighbourhoods_their_street(metric: dict) -> None:
    streets, nbhd = metric["streets"], metric["neighbourhoods"]
    assert streets.area.sum() == pytest.approx(streets.union_all().area, abs=1.0)
    assert nbhd.area.sum() == pytest.approx(streets.area.sum(), abs=1.0)
    own_street = streets.set_index("name").geometry.loc[nbhd["street"]].to_numpy()
    assert np.allclose(shapely.area(shapely.intersection(nbhd.geometry.values, own_street)), nbhd.area, atol=1.0)


def test_each_community_lies_in_its_named_street_and_neighbourhood(metric: dict) -> None:
    c = metric["communities"].copy()
    c["geometry"] = c.representative_point()
    in_nbhd = gpd.sjoin(c, metric["neighbourhoods"][["name", "street", "geometry"]], predicate="within")
    assert len(in_nbhd) == len(c)
    assert (in_nbhd["neighbourhood"] == in_nbhd["name_right"]).all()
    assert (in_nbhd["street_left"] == in_nbhd["street_right"]).all()


def test_communities_do_not_overlap_but_share_walls_or_leave_narrow_gaps(metric: dict) -> None:
    g = metric["communities"].geometry.values
    tree = shapely.STRtree(g)
    i, j = tree.query(g, predicate="intersects")
    pair = i < j
    assert shapely.area(shapely.intersection(g[i[pair]], g[j[pair]])).max() < 1.0
    assert pair.sum() > 50  # many compounds wall to wall
    i, j = tree.query(g, predicate="dwithin", distance=12.5)
    apart = i < j
    gaps = shapely.distance(g[i[apart]], g[j[apart]])
    assert ((gaps >= 0.99) & (gaps <= 12.01)).sum() > 20
    assert not ((gaps > 1e-3) & (gaps < 0.99)).any()


def test_roads_run_between_blocks_never_through_a_community(metric: dict) -> None:
    roads, g = metric["roads"], metric["communities"].geometry.values
    assert {"major", "minor", "lane"} <= set(roads["class"])
    nearest = shapely.STRtree(g).query_nearest(roads.geometry.values, return_distance=True, all_matches=False)
    distance = pd.Series(nearest[1], index=roads.index[nearest[0][0]])
    # Half of a corridor at least 20 m (major) or 12 m (minor) wide; lanes run in gaps of 6 m or more.
    assert distance[roads["class"] == "major"].min() >= 10.0
    assert distance[roads["class"] == "minor"].min() >= 6.0
    assert distance[roads["class"] == "lane"].min() >= 3.0


def test_buildings_stand_in_their_community_except_scattered_ones(city: dict, members: pd.DataFrame) -> None:
    named = members[members["community_id"].notna()]
    assert (named["community_id"] == named["located"]).all()
    blank = members[members["community_id"].isna()]
    scattered = blank[blank["located"].isna()]
    assert len(scattered) == 10
    assert (scattered["year_built"] < 2000).all()
    in_community_blank = len(blank) - len(scattered)
    assert 0.03 <= in_community_blank / len(members) <= 0.08


def test_some_old_buildings_stand_in_communities_built_after_2005(city: dict, members: pd.DataFrame) -> None:
    c = city["communities"].set_index("id")
    new = c.index[c["year_built"].fillna(0) > 2005]
    old_in_new = members[members["located"].isin(new) & (members["year_built"] < 1995)]
    assert old_in_new["located"].nunique() >= 2


def test_building_attributes_are_plausible(metric: dict) -> None:
    b = metric["buildings"]
    assert b["year_built"].between(1965, 2018).all()
    assert b["floors"].between(2, 18).all()
    assert set(b["structure"]) == {"砖混", "砖木", "框架", "剪力墙"}
    grades = b["safety_grade"].value_counts()
    assert set(grades.index) == {"A", "B", "C", "D"}
    assert (grades["A"] + grades["B"]) / len(b) >= 0.85
    slab = b[b["hollow_core_slab"]]
    assert 0 < len(slab) < 0.15 * len(b)
    assert slab["year_built"].between(1970, 1989).all()
    ratio = b["floor_area_m2"] / (b.area * b["floors"])
    assert ratio.between(0.91, 1.01).all()
    minx, miny, maxx, maxy = shapely.bounds(b.geometry.values).T  # laid out axis-parallel in this very zone
    short, long_ = np.minimum(maxx - minx, maxy - miny), np.maximum(maxx - minx, maxy - miny)
    assert short.min() >= 10.0 - 0.1 and short.max() <= 15.0 + 0.1
    assert long_.min() >= 20.0 - 0.1 and long_.max() <= 70.0 + 0.1


def test_community_mix_years_and_blanks(city: dict, members: pd.DataFrame) -> None:
    c = city["communities"]
    per = members.groupby("located").agg(n=("id", "size"), households=("households", "sum"))
    per = per.reindex(c["id"]).fillna(0)
    small = per[per["n"] == 1]
    assert len(small) >= 0.3 * len(c)
    assert per.loc[small.index, "households"].between(20, 60).all()
    estates = per[(per["n"] >= 8) & (per["households"] >= 300)]
    assert 2 <= len(estates) <= 0.2 * len(c)
    assert per["n"].max() <= 25 and per["households"].max() <= 1500
    years = c["year_built"].dropna()
    assert years.between(1975, 2005).mean() >= 0.7
    for column in ("year_built", "households", "floor_area_m2"):
        assert 0.04 <= c[column].isna().mean() <= 0.16
    given = c.set_index("id")["households"].dropna()
    assert (per.loc[given.index, "households"] == given).all()
    assert set(c["building_type"]) == {"unit", "other"}
    assert (c["low_income_households"] <= per.loc[c["id"], "households"].to_numpy()).all()


def test_zones_cover_a_few_old_communities(city: dict, metric: dict) -> None:
    zones, g = metric["zones"], metric["communities"].geometry.values
    assert sorted(zones["kind"]) == ["demolition", "shantytown", "urban_village"]
    zi, ci = shapely.STRtree(g).query(zones.geometry.values, predicate="intersects")
    overlap = shapely.area(shapely.intersection(zones.geometry.values[zi], g[ci]))
    assert np.all((overlap < 1.0) | np.isclose(overlap, shapely.area(g[ci])))  # inside or outside, never cut
    inside = pd.DataFrame({"zone": zones["kind"].to_numpy()[zi], "c": ci})[overlap > 1.0]
    assert inside.groupby("zone").size().to_dict() == {"demolition": 4, "shantytown": 4, "urban_village": 4}
    demolition = metric["communities"].iloc[inside.loc[inside["zone"] == "demolition", "c"]]
    building_years = metric["buildings"].sjoin(demolition, predicate="within")["year_built_left"]
    assert (building_years < 1985).all()


def test_survey_rows_and_the_exactly_two_thirds_vote(city: dict, members: pd.DataFrame) -> None:
    survey, c = city["survey"], city["communities"]
    assert 0.9 * len(c) <= len(survey) < len(c)
    assert survey["community_id"].is_unique and survey["community_id"].isin(c["id"]).all()
    for code in DEFICIENCY_ITEMS:
        assert survey[code].dtype == bool
    true_households = members.groupby("located")["households"].sum()
    assert (survey["support_households"] <= true_households.loc[survey["community_id"]].to_numpy()).all()
    given = c.set_index("id")["households"]
    shares = [
        Fraction(int(s), int(given[cid]))
        for cid, s in zip(survey["community_id"], survey["support_households"], strict=True)
        if pd.notna(given[cid])
    ]
    assert Fraction(2, 3) in shares
    assert any(Fraction(2, 3) - s > 0 and (Fraction(2, 3) - s) * 30 <= 1 for s in shares)
    renovated = survey["already_renovated"].dropna()
    assert 0 < len(renovated) < 0.25 * len(survey)
    assert set("、".join(renovated).split("、")) <= set(DEFICIENCY_ITEMS)


def test_written_sample_is_readable_and_byte_identical(tmp_path: Path) -> None:
    first = write_sample(tmp_path / "a")
    second = write_sample(tmp_path / "b")
    assert [p.name for p in first] == [*(f"{n}.geojson" for n in SPATIAL), "survey.xlsx", "README.md"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    text = (tmp_path / "a" / "communities.geojson").read_text(encoding="utf-8")
    assert "\\u" not in text and "街道" in text
    coordinates = gpd.read_file(tmp_path / "a" / "buildings.geojson").get_coordinates()
    assert np.allclose(coordinates, coordinates.round(7), rtol=0, atol=1e-12)
    ws = openpyxl.load_workbook(tmp_path / "a" / "survey.xlsx").active
    header = [cell.value for cell in ws[1]]
    assert header == [SURVEY.column(c).zh for c in SURVEY.column_names]
    assert {cell.value for cell in ws["D"][1:]} == {"是", "否"}


def test_shipped_sample_matches_the_generator(tmp_path: Path) -> None:
    """data/boundaries/ is what the generator makes now (compared by content, not by GDAL's byte layout)."""
    for path in write_sample(tmp_path):
        shipped = SAMPLE / path.name
        if path.suffix == ".geojson":
            fresh, kept = (json.loads(p.read_text(encoding="utf-8"))["features"] for p in (path, shipped))
        elif path.suffix == ".xlsx":
            fresh, kept = ([*openpyxl.load_workbook(p).active.values] for p in (path, shipped))
        else:
            fresh, kept = path.read_text(encoding="utf-8"), shipped.read_text(encoding="utf-8")
        assert fresh == kept, f"data/boundaries/{path.name} is stale: run python -m geo.synthetic.city"


def test_ten_thousand_communities_in_a_few_seconds() -> None:
    start = time.perf_counter()
    city = make_city(n_communities=10_000)
    assert time.perf_counter() - start < 5.0
    assert len(city["communities"]) == 10_000
    assert 30_000 <= len(city["buildings"]) <= 60_000 * 1.2


def test_a_caller_can_ask_for_a_building_total() -> None:
    city = make_city(n_communities=20_000, n_buildings=100_000)
    assert len(city["buildings"]) == 100_000
    with pytest.raises(ValueError, match="n_buildings"):
        make_city(n_communities=100, n_buildings=50)
    with pytest.raises(ValueError, match="n_communities"):
        make_city(n_communities=5)
