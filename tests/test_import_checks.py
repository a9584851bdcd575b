"""What an import refuses before it stores anything (both stores): misspelt headers, the wrong layer, and overlaps
judged by the same rule as an edit through the API (a compound wholly inside another included)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import box
from typer.testing import CliRunner

from geo import editing
from geo.cli import app as cli
from geo.errors import DataError
from geo.io.importers import import_layer
from geo.stores import Store
from tests.conftest import REALDATA, SAMPLE

GK = 4543  # CGCS2000 3° Gauss–Krüger zone of the sample city (Chuxiong)
X0, Y0 = 450_000.0, 2_770_000.0


def _run(store: Store, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setattr("geo.stores.open_store", lambda *a, **k: store)
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture
def city(store: Store) -> Store:
    import_layer(store, "communities", SAMPLE / "communities.geojson")
    return store


# --- header typos --------------------------------------------------------------------------------------------------


def _survey(path: Path, water_header: str) -> Path:
    pd.DataFrame(
        {"小区编号": ["C0001", "C0002"], water_header: ["是", "否"], "燃气": ["否", "是"], "调查人": ["李", "王"]}
    ).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_misspelt_survey_header_is_refused_with_the_header_meant(
    city: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    before = city.fingerprint()
    code, text = _run(
        city, monkeypatch, "import", "survey", str(_survey(tmp_path / "s.csv", "供水X")), "--lang", lang
    )
    assert code == 2
    if lang == "zh":
        assert "列“供水X”不是已知的列，是否应为 供水（water_supply）？" in text
    else:
        assert "column '供水X' is not a known column: did you mean 供水 (water_supply)?" in text
    assert city.fingerprint() == before


def test_unknown_survey_columns_are_listed_as_kept_extras(
    city: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, text = _run(city, monkeypatch, "import", "survey", str(_survey(tmp_path / "s.csv", "供水")))
    assert code == 0 and "作为附加属性保留的列：调查人" in text
    survey = city.read_table("survey").set_index("community_id")
    assert survey.loc["C0001", "water_supply"] and not survey.loc["C0002", "water_supply"]
    assert survey.loc["C0001", "extra"] == {"调查人": "李"}


def test_a_mapping_to_extra_keeps_a_header_that_only_looks_misspelt(
    city: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("供水X: extra\n", encoding="utf-8")
    path = _survey(tmp_path / "s.csv", "供水X")
    code, text = _run(city, monkeypatch, "import", "survey", str(path), "--mapping", str(mapping), "--lang", "en")
    assert code == 0 and "kept as extra properties: 供水X, 调查人" in text


@pytest.mark.parametrize(
    ("header", "meant"),
    [
        ("建成年分", "建成年份（year_built）"),
        ("househols", "户数（households）"),
        ("建筑面积（万㎡）", "建筑面积（floor_area_m2）"),
    ],
)
def test_misspelt_headers_of_every_layer_are_refused(store: Store, tmp_path: Path, header: str, meant: str) -> None:
    gdf = gpd.GeoDataFrame(
        {"id": ["A"], "name": ["朝晖一区"], header: [1990]}, geometry=[box(120.15, 30.27, 120.151, 30.271)], crs=4490
    )
    gdf.to_file(tmp_path / "c.geojson", driver="GeoJSON")
    with pytest.raises(DataError) as err:
        import_layer(store, "communities", tmp_path / "c.geojson")
    assert f"是否应为 {meant}" in err.value.message("zh")
    assert store.count("communities") == 0


# --- the wrong layer -----------------------------------------------------------------------------------------------


def test_streets_imported_as_communities_are_refused(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    before = store.fingerprint()
    code, text = _run(store, monkeypatch, "import", "communities", str(SAMPLE / "streets.geojson"))
    assert code == 2
    assert "streets.geojson 看起来不是小区图层：4/4 个要素像街道" in text and "第 1 行 华庭街道：名称像街道" in text
    assert "renewal import streets streets.geojson" in text
    assert store.fingerprint() == before


def test_a_communities_file_whose_polygons_hold_dozens_of_compounds_is_refused(
    city: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sample's 社区 (neighbourhoods) are named like compounds can be; what gives them away is what they hold.
    neighbourhoods = gpd.read_file(SAMPLE / "neighbourhoods.geojson").assign(id=lambda g: "N-" + g["id"])
    neighbourhoods.to_file(tmp_path / "n.geojson", driver="GeoJSON")
    before = city.fingerprint()
    code, text = _run(city, monkeypatch, "import", "communities", str(tmp_path / "n.geojson"), "--lang", "en")
    assert code == 2
    assert "does not look like a communities layer" in text and "compounds already in the store" in text
    assert city.fingerprint() == before


def test_compounds_imported_as_streets_or_buildings_are_refused(store: Store) -> None:
    with pytest.raises(DataError, match="看起来不是街道图层：180/180"):
        import_layer(store, "streets", SAMPLE / "communities.geojson")
    hangzhou = REALDATA / "hangzhou_residential_osm.gpkg"
    with pytest.raises(DataError, match="看起来不是楼栋图层") as err:
        import_layer(store, "buildings", hangzhou, id_column="osm_id")
    assert "renewal import communities" in err.value.message("zh")
    assert store.counts() == dict.fromkeys(store.counts(), 0)


# --- one overlap rule for imports and edits ------------------------------------------------------------------------


def _gk(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    return gpd.GeoSeries([box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)], crs=GK).to_crs(4490).iloc[0]


def test_a_compound_inside_another_is_an_overlap_for_the_import_and_the_api_alike(
    store: Store, tmp_path: Path
) -> None:
    outer, inner, touching = _gk(0, 0, 200, 200), _gk(50, 50, 40, 40), _gk(199.9, 0, 100, 20)  # 2 m² shared wall
    gpd.GeoDataFrame(
        {"id": ["OUT", "IN", "NEXT"], "name": ["大院", "院中院", "邻院"]}, geometry=[outer, inner, touching], crs=4490
    ).to_file(tmp_path / "c.geojson", driver="GeoJSON")
    report = import_layer(store, "communities", tmp_path / "c.geojson")
    assert report.overlaps[["id_a", "id_b", "relation"]].values.tolist() == [["OUT", "IN", "contains"]]
    assert report.overlaps["overlap_m2"].item() == pytest.approx(1600, rel=0.01)

    # The API refuses the same outline for the same reason, and accepts the same 2 m² wall.
    with pytest.raises(editing.OverlapError) as err:
        editing.create_feature(
            store, layer="communities", properties={"id": "IN2", "name": "又一院中院"}, geometry=inner, actor="t"
        )
    assert [o["id"] for o in err.value.overlaps] == ["OUT", "IN"]
    saved = editing.create_feature(
        store,
        layer="communities",
        properties={"id": "NEXT2", "name": "邻院二"},
        geometry=_gk(299.9, 0, 50, 20),  # shares a 0.1 m × 20 m wall with NEXT
        actor="t",
    )
    assert saved.version == 1


def test_survey_update_replaces_the_rows_of_the_sheet_only(city: Store, tmp_path: Path) -> None:
    import_layer(city, "survey", _survey(tmp_path / "s.csv", "供水"))
    with pytest.raises(DataError, match="--update"):
        import_layer(city, "survey", _survey(tmp_path / "s.csv", "供水"))
    pd.DataFrame({"小区编号": ["C0002"], "供水": ["是"]}).to_csv(tmp_path / "again.csv", index=False)
    import_layer(city, "survey", tmp_path / "again.csv", update=True)
    survey = city.read_table("survey").set_index("community_id")
    assert survey.loc["C0002", "water_supply"] and pd.isna(survey.loc["C0002", "gas"])
    assert survey.loc["C0001", "water_supply"] and survey.loc["C0001", "extra"] == {"调查人": "李"}
