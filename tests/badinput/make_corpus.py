"""A corpus of broken inputs for the importers and the HTTP API, generated at test time (no binary blobs in git).

Each case says what a user sent, and which words the refusal must contain so that the user can tell what is
wrong: the CLI exits 2 and names the problem, the API answers 4xx with a JSON ``detail``; in every case the store
is left exactly as it was. Files are written on demand into a directory the caller owns (a pytest tmp dir), so
the corpus costs nothing until a case runs.

Run ``python -m tests.badinput.make_corpus DIR`` to write every file of the corpus into DIR for a look by hand.
"""

from __future__ import annotations

import json
import struct
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import shapely
from openpyxl import Workbook

#: Centre of the corpus data (Chuxiong, Yunnan), in CGCS2000 / WGS84 degrees.
ORIGIN = (101.546, 25.033)
#: The CGCS2000 3° Gauss–Krüger zone of ORIGIN (central meridian 102°E) without and with the zone-number prefix.
GK_EPSG = 4543
GK_PREFIXED_EPSG = 4522
#: Metres per degree of latitude (spherical approximation: good enough to lay out test squares).
M_PER_DEG = 110_950.0

#: Communities the store holds before each case (ids "S1".."S3"): a refused write must leave them as they were.
SEED_IDS = ("S1", "S2", "S3")


def square(x0_m: float, y0_m: float, size_m: float = 80.0) -> list[list[float]]:
    """Exterior ring (lon/lat, closed) of a ``size_m`` square whose corner is ``(x0_m, y0_m)`` metres from ORIGIN."""
    kx = M_PER_DEG * np.cos(np.radians(ORIGIN[1]))
    x0, y0 = ORIGIN[0] + x0_m / kx, ORIGIN[1] + y0_m / M_PER_DEG
    x1, y1 = ORIGIN[0] + (x0_m + size_m) / kx, ORIGIN[1] + (y0_m + size_m) / M_PER_DEG
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def polygon(ring: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring]}


def feature(props: dict[str, Any], geometry: dict[str, Any] | None) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def community(fid: str, x0_m: float, name: str | None = None, **props: Any) -> dict[str, Any]:
    """A valid community feature ``fid`` at ``x0_m`` metres east of ORIGIN (200 m north of the seeded ones)."""
    return feature({"id": fid, "name": name or f"测试小区{fid}", **props}, polygon(square(x0_m, 200.0)))


def seed_collection() -> dict[str, Any]:
    """The communities every test store is loaded with before a case runs."""
    return collection(
        [
            feature({"id": sid, "name": f"已有小区{i}", "households": 100 + i}, polygon(square(i * 100.0, 0.0)))
            for i, sid in enumerate(SEED_IDS)
        ]
    )


def collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def to_gk(ring: list[list[float]], epsg: int = GK_EPSG) -> list[list[float]]:
    """The ring in a Gauss–Krüger zone (easting, northing in metres)."""
    tr = pyproj.Transformer.from_crs(4490, epsg, always_xy=True)
    xs, ys = tr.transform(*np.asarray(ring).T)
    return np.column_stack([xs, ys]).tolist()


# --- writers ------------------------------------------------------------------------------------------------


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def write_vector(
    path: Path,
    rows: list[dict[str, Any]],
    geoms: list[Any],
    *,
    crs: Any,
    driver: str,
    encoding: str | None = None,
    layer: str | None = None,
) -> Path:
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=crs)
    pyogrio.write_dataframe(gdf, path, driver=driver, encoding=encoding, layer=layer, append=path.exists())
    return path


def write_gbk_shapefile(directory: Path, *, cpg: str | None) -> Path:
    """A shapefile whose .dbf holds GBK text; its code page says ``cpg`` (None: no .cpg and no LDID byte)."""
    shp = directory / "gbk.shp"
    write_vector(
        shp,
        [{"id": "G1", "name": "东风小区"}],
        [shapely.Polygon(square(0, 300))],
        crs=4490,
        driver="ESRI Shapefile",
        encoding="GBK",
    )
    cpg_file = shp.with_suffix(".cpg")
    if cpg is None:
        cpg_file.unlink(missing_ok=True)
        dbf = shp.with_suffix(".dbf")
        data = bytearray(dbf.read_bytes())
        data[29] = 0  # language driver id: "unknown", so GDAL cannot guess GBK either
        dbf.write_bytes(bytes(data))
    else:
        cpg_file.write_text(cpg)
    return shp


def write_xlsx(path: Path, rows: list[list[Any]], *, merge: str | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    wb.save(path)
    return path


def write_zip(path: Path, members: dict[str, bytes], *, level: int = 9) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def shapefile_zip(path: Path, directory: Path) -> Path:
    """A valid zipped shapefile of one community, to which a broken case adds or changes members."""
    shp = write_vector(
        directory / "ok.shp",
        [{"id": "Z1", "name": "拉链小区"}],
        [shapely.Polygon(square(0, 300))],
        crs=4490,
        driver="ESRI Shapefile",
        encoding="UTF-8",
    )
    members = {p.name: p.read_bytes() for p in directory.iterdir() if p.stem == shp.stem}
    return write_zip(path, members)


# --- import cases ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportCase:
    """``renewal import LAYER FILE [args]`` that must exit 2 with a message holding every one of ``expect``.

    ``command`` is the command that reads the file: ``import`` with ``layer``, or ``stage import`` (the ledger),
    which takes no layer.
    """

    name: str
    layer: str
    build: Callable[[Path], Path]
    expect: tuple[str, ...]
    args: tuple[str, ...] = ()
    why: str = ""
    command: tuple[str, ...] = ("import",)

    def argv(self, path: Path, directory: Path) -> list[str]:
        """The command line, ``--lang en`` included."""
        args = [a.replace("{dir}", str(directory)) for a in self.args]
        layer = [self.layer] if self.command == ("import",) else []
        return [*self.command, *layer, str(path), *args, "--lang", "en"]


def _geojson(name: str, features: list[dict[str, Any]]) -> Callable[[Path], Path]:
    return lambda d: write_json(d / f"{name}.geojson", collection(features))


def _ok(fid: str = "N1", x0: float = 0.0) -> dict[str, Any]:
    return community(fid, x0)


BOWTIE = [[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]


def _scaled(ring: list[list[float]]) -> list[list[float]]:
    """A unit-square ring placed on ORIGIN at ~100 m scale."""
    return [[ORIGIN[0] + x * 0.001, ORIGIN[1] + 0.003 + y * 0.001] for x, y in ring]


def _vertex_bomb(d: Path, n: int = 250_000) -> Path:
    """One community outlined by ``n`` vertices (a circle): more than the importer's per-feature limit."""
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    ring = np.column_stack([ORIGIN[0] + 0.002 * np.cos(t), ORIGIN[1] + 0.003 + 0.002 * np.sin(t)])
    ring = np.vstack([ring, ring[:1]]).round(7).tolist()
    return write_json(d / "vertex_bomb.geojson", collection([feature({"id": "V1", "name": "千万点"}, polygon(ring))]))


def _nesting_bomb(d: Path, depth: int = 100_000) -> Path:
    """Valid-looking GeoJSON whose coordinates are nested ``depth`` arrays deep (a parser stack bomb)."""
    text = (
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"X","name":"x"},'
        '"geometry":{"type":"Polygon","coordinates":' + "[" * depth + "]" * depth + "}}]}"
    )
    return write_bytes(d / "nesting_bomb.geojson", text.encode())


def _zip_bomb(d: Path) -> Path:
    """A ~200 KB zip whose one member expands to 200 MB of zeros (ratio ~1000:1) next to a real shapefile."""
    base = shapefile_zip(d / "bomb.zip", d)
    block = bytes(16 * 1024 * 1024)
    with (
        zipfile.ZipFile(base, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("padding.bin", "w", force_zip64=True) as member,
    ):
        for _ in range(12):
            member.write(block)
    return base


def _zip_declared_huge(d: Path) -> Path:
    """A tiny zip whose central directory declares a 3 GB member (a lying header is refused before any reading)."""
    path = shapefile_zip(d / "declared_huge.zip", d)
    data = bytearray(path.read_bytes())
    # patch the uncompressed size of the first central-directory entry (signature PK\x01\x02, size at +24)
    at = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, at + 24, 0xBFFFFFFF)
    path.write_bytes(bytes(data))
    return path


def _two_shapefiles_zip(d: Path) -> Path:
    path = shapefile_zip(d / "two.zip", d)
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members |= {f"copy/{k}": v for k, v in members.items()}
    return write_zip(path, members)


def _no_prj_shapefile(d: Path, *, gcj: bool) -> Path:
    """A shapefile without .prj; with ``gcj`` its coordinates are GCJ-02 (as copied from AMap), else plain."""
    ring = np.asarray(square(0, 300))
    if gcj:
        from geo.crs import wgs84_to_gcj02

        ring = np.column_stack(wgs84_to_gcj02(ring[:, 0], ring[:, 1]))
    shp = write_vector(
        d / ("gcj_noprj.shp" if gcj else "noprj.shp"),
        [{"id": "P1", "name": "无坐标系小区"}],
        [shapely.Polygon(ring)],
        crs=4490,
        driver="ESRI Shapefile",
    )
    shp.with_suffix(".prj").unlink()
    return shp


def _multi_layer_gpkg(d: Path) -> Path:
    path = d / "two_layers.gpkg"
    write_vector(
        path, [{"id": "A1", "name": "甲"}], [shapely.Polygon(square(0, 300))], crs=4490, driver="GPKG", layer="old"
    )
    write_vector(
        path, [{"id": "B1", "name": "乙"}], [shapely.Polygon(square(100, 300))], crs=4490, driver="GPKG", layer="new"
    )
    return path


def _gpkg(name: str, ring: list[list[float]], crs: Any) -> Callable[[Path], Path]:
    return lambda d: write_vector(
        d / f"{name}.gpkg", [{"id": "K1", "name": "坐标系错误"}], [shapely.Polygon(ring)], crs=crs, driver="GPKG"
    )


def _second_batch_error(d: Path) -> Path:
    """20 005 good communities, then a bad one: the first batch is already written when the error is found."""
    n = 20_005
    kx = M_PER_DEG * np.cos(np.radians(ORIGIN[1]))
    i = np.arange(n)
    x0 = ORIGIN[0] + (i % 150) * 30.0 / kx
    y0 = ORIGIN[1] + 0.01 + (i // 150) * 30.0 / M_PER_DEG
    boxes = shapely.box(x0, y0, x0 + 20.0 / kx, y0 + 20.0 / M_PER_DEG)
    rows = [{"id": f"B{k}", "name": f"批量{k}", "households": 10} for k in range(n)]
    rows[-1]["households"] = "很多"
    return write_vector(d / "second_batch.gpkg", rows, list(boxes), crs=4490, driver="GPKG")


def _survey_csv(name: str, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Callable:
    def build(d: Path) -> Path:
        lines = [",".join(header), *(",".join(r) for r in rows)]
        return write_bytes(d / f"{name}.csv", ("\n".join(lines) + "\n").encode(encoding))

    return build


def _mapping_case(text: str) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        write_bytes(d / "mapping.yaml", text.encode())
        return write_json(
            d / "mapped.geojson", collection([feature({"编码": "M1", "名字": "映射"}, polygon(square(0, 300)))])
        )

    return build


def _geojson_text(name: str, properties: str) -> Callable[[Path], Path]:
    """A one-feature GeoJSON whose properties object is ``properties`` verbatim (tokens JSON itself forbids)."""
    geometry = json.dumps(polygon(square(0, 300)))
    text = (
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        + properties
        + ',"geometry":'
        + geometry
        + "}]}"
    )
    return lambda d: write_bytes(d / f"{name}.geojson", text.encode())


def _nul_in_text(d: Path, driver: str, suffix: str) -> Path:
    """A community named ``ab\0cd``, written through GDAL as ``abXcd`` and then patched byte for byte.

    GDAL cannot write the NUL itself (it ends C strings), which is why it silently drops what follows on reading.
    """
    path = write_vector(
        d / f"nul.{suffix}",
        [{"id": "U1", "name": "abXcd"}],
        [shapely.Polygon(square(0, 300))],
        crs=4490,
        driver=driver,
        encoding="UTF-8" if driver == "ESRI Shapefile" else None,
    )
    if driver == "GPKG":
        import sqlite3

        conn = sqlite3.connect(path)
        for fn in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):  # the GeoPackage's R-tree triggers
            conn.create_function(fn, 1, lambda _g: 0)
        conn.execute("UPDATE nul SET name = 'ab' || char(0) || 'cd'")
        conn.commit()
        conn.close()
        return path
    data_file = path.with_suffix(".dbf") if driver == "ESRI Shapefile" else path
    data = data_file.read_bytes()
    at = data.index(b"abXcd")
    data_file.write_bytes(data[: at + 2] + b"\x00" + data[at + 3 :])
    return path


def _nul_in_zipped_shapefile(d: Path) -> Path:
    shp = _nul_in_text(d, "ESRI Shapefile", "shp")
    members = {f"layer/{p.name}": p.read_bytes() for p in d.iterdir() if p.stem == shp.stem}
    return write_zip(d / "nul_shapefile.zip", members)


def _survey_xlsx(name: str, header: list[str], rows: list[list[Any]]) -> Callable[[Path], Path]:
    return lambda d: write_xlsx(d / f"{name}.xlsx", [header, *rows])


#: The progress ledger's headers (台账), as `renewal stage import` reads them.
LEDGER_HEADER = ["小区编号", "阶段", "日期", "同意户数", "总户数", "同意面积", "总面积", "已筹资金", "备注"]


def _ledger(name: str, *rows: list[Any]) -> Callable[[Path], Path]:
    return lambda d: write_xlsx(d / f"{name}.xlsx", [LEDGER_HEADER, *rows])


def value_cases() -> list[ImportCase]:
    """Values no store can keep, or that GDAL would silently change, in every import format (and the ledger)."""
    C = "communities"
    ledger = ("stage", "import")
    return [
        ImportCase(
            "geojson_nul_in_name",
            C,
            _geojson_text("nul_name", '{"id":"U1","name":"ab\\u0000cd"}'),
            ("NUL", "cut short", '"name":"ab\\u0000cd"'),
            why="GDAL would store the name as 'ab'",
        ),
        ImportCase(
            "geojson_nul_in_property_name",
            C,
            _geojson_text("nul_key", '{"id":"U1","name":"n","备\\u0000注":"x"}'),
            ("NUL", "cut short"),
        ),
        ImportCase(
            "geojson_nan_token",
            C,
            _geojson_text("nan", '{"id":"U1","name":"n","floor_area_m2":NaN}'),
            ("NaN", "row 1: floor_area_m2"),
            why="GDAL reads NaN, pandas would take it for an empty cell",
        ),
        ImportCase(
            "geojson_infinity_token",
            C,
            _geojson_text("inf", '{"id":"U1","name":"n","floor_area_m2":Infinity}'),
            ("row 1", "floor_area_m2", "not a finite number"),
        ),
        ImportCase(
            "geojson_negative_infinity_in_extra_property",
            C,
            _geojson_text("ninf", '{"id":"U1","name":"n","评分":-Infinity}'),
            ("row 1", "评分", "not a finite number"),
        ),
        ImportCase(
            "geojson_integer_beyond_64_bits",
            C,
            _geojson_text("big", '{"id":"U1","name":"n","households":18446744073709551616}'),
            ("row 1", "households", "64-bit"),
            why="stored as -9223372036854775808 before, or a traceback",
        ),
        ImportCase(
            "geojson_number_overflowing_double",
            C,
            _geojson_text("e999", '{"id":"U1","name":"n","households":1e999}'),
            ("e999.geojson", "1e999"),
        ),
        ImportCase("gpkg_nul_in_text", C, lambda d: _nul_in_text(d, "GPKG", "gpkg"), ("NUL", "row 1, column name")),
        ImportCase(
            "shapefile_nul_in_dbf",
            C,
            lambda d: _nul_in_text(d, "ESRI Shapefile", "shp"),
            ("NUL", "row 1, field name"),
        ),
        ImportCase("zipped_shapefile_nul_in_dbf", C, _nul_in_zipped_shapefile, ("NUL", "row 1, field name")),
        ImportCase(
            "flatgeobuf_nul_in_text",
            C,
            lambda d: _nul_in_text(d, "FlatGeobuf", "fgb"),
            ("row 1", "name contains a NUL character"),
        ),
        ImportCase(
            "low_income_over_households",
            C,
            _geojson("low_income", [community("U1", 0, households=40, low_income_households=41)]),
            ("row 1", "low_income_households 41 exceeds households 40"),
        ),
        ImportCase(
            "households_implausible",
            C,
            _geojson("hh_huge", [community("U1", 0, households=5_000_000, floor_area_m2=1e308)]),
            ("row 1", "implausible households: 5000000", "implausible floor_area_m2"),
            why="finite, within 64 bits, and nonsense: costs and plans would follow it",
        ),
        ImportCase(
            "survey_csv_nul",
            "survey",
            _survey_csv("nul_survey", ["community_id", "供水", "备注"], [["S1", "是", "a\x00b"]]),
            ("row 2", "备注 contains a NUL character"),
        ),
        ImportCase(
            "survey_csv_integer_beyond_64_bits",
            "survey",
            _survey_csv("big_survey", ["community_id", "支持改造户数"], [["S1", "18446744073709551616"]]),
            ("row 2", "support_households", "64-bit"),
        ),
        ImportCase(
            "survey_csv_infinity",
            "survey",
            _survey_csv("inf_survey", ["community_id", "支持改造户数"], [["S1", "inf"]]),
            ("row 2", "support_households", "not a finite number"),
        ),
        ImportCase(
            "survey_xlsx_integer_beyond_64_bits",
            "survey",
            _survey_xlsx("big_survey", ["community_id", "支持改造户数"], [["S1", 2**64]]),
            ("row 2", "support_households", "64-bit"),
            why="stored as -9223372036854775808 before",
        ),
        ImportCase(
            "ledger_funds_beyond_64_bits",
            "",
            _ledger("big_ledger", ["S1", "survey", "2026-03-01", None, None, None, None, 10**20, None]),
            ("row 2", "out of range"),
            command=ledger,
        ),
        ImportCase(
            "ledger_infinite_area",
            "",
            _ledger("inf_ledger", ["S1", "survey", "2026-03-01", None, None, "inf", "100", None, None]),
            ("row 2", "area_agree_m2"),
            command=ledger,
        ),
        ImportCase(
            "ledger_date_far_in_the_future",
            "",
            _ledger("future_ledger", ["S1", "survey", "9999-12-31", None, None, None, None, None, None]),
            ("row 2", "9999-12-31", "too far ahead"),
            why="9999-12-31 would block every later stage",
            command=ledger,
        ),
        ImportCase(
            "ledger_unknown_stage",
            "",
            _ledger("stage_ledger", ["S1", "teleport", "2026-03-01", None, None, None, None, None, None]),
            ("row 2", "unknown stage"),
            command=ledger,
        ),
    ]


def import_cases() -> list[ImportCase]:
    """Every broken import, each with what its refusal must say (in English, ``--lang en``)."""
    ring = square(0, 300)
    gk_ring = to_gk(ring)
    swapped = [[y, x] for x, y in ring]
    paris = [[2.35 + x - ring[0][0], 48.85 + y - ring[0][1]] for x, y in ring]
    vertical = [
        [ring[0][0], ring[0][1], 0.0],
        [ring[1][0], ring[1][1], 0.0],
        [ring[1][0], ring[1][1], 30.0],
        [ring[0][0], ring[0][1], 30.0],
        [ring[0][0], ring[0][1], 0.0],
    ]
    C = "communities"
    cases = [
        # geometry
        ImportCase(
            "self_intersecting_bowtie",
            C,
            _geojson("bowtie", [feature({"id": "X1", "name": "蝴蝶"}, polygon(_scaled(BOWTIE)))]),
            ("row 1", "invalid geometry", "Self-intersection", "--fix"),
        ),
        ImportCase(
            "unclosed_ring",
            C,
            _geojson("unclosed", [feature({"id": "X1", "name": "未闭合"}, polygon(ring[:-1]))]),
            ("rows: 1", "not closed"),
        ),
        ImportCase(
            "ring_of_two_points",
            C,
            _geojson("two_points", [feature({"id": "X1", "name": "两点"}, polygon(ring[:2]))]),
            (),
        ),
        ImportCase(
            "null_geometry",
            C,
            _geojson("null_geom", [_ok(), feature({"id": "X2", "name": "无几何"}, None)]),
            ("row 2", "empty or missing geometry"),
        ),
        ImportCase(
            "empty_polygon",
            C,
            _geojson("empty_poly", [feature({"id": "X1", "name": "空"}, {"type": "Polygon", "coordinates": []})]),
            ("row 1", "empty or missing geometry"),
        ),
        ImportCase(
            "vertical_3d_wall",
            C,
            _geojson("wall", [feature({"id": "X1", "name": "立面"}, polygon(vertical))]),
            ("row 1", "invalid geometry"),
            why="valid in 3D, a zero-area sliver once Z is dropped",
        ),
        ImportCase(
            "point_in_polygon_layer",
            C,
            _geojson("point", [feature({"id": "X1", "name": "点"}, {"type": "Point", "coordinates": ring[0]})]),
            ("row 1", "should be a polygon", "Point"),
        ),
        ImportCase(
            "point_3d_in_polygon_layer",
            C,
            _geojson(
                "point3d", [feature({"id": "X1", "name": "点"}, {"type": "Point", "coordinates": [*ring[0], 1900.0]})]
            ),
            ("row 1", "should be a polygon"),
        ),
        ImportCase(
            "line_in_polygon_layer",
            C,
            _geojson("line", [feature({"id": "X1", "name": "线"}, {"type": "LineString", "coordinates": ring})]),
            ("row 1", "should be a polygon", "LineString"),
        ),
        ImportCase(
            "polygon_in_road_layer",
            "roads",
            _geojson("road_poly", [feature({"id": "R1", "name": "路", "class": "major"}, polygon(ring))]),
            ("row 1", "should be a line"),
        ),
        ImportCase("vertex_bomb", C, _vertex_bomb, ("row 1", "too many vertices")),
        ImportCase("nesting_bomb", C, _nesting_bomb, ("nesting_bomb.geojson",)),
        # CRS
        ImportCase("missing_crs_shapefile", C, lambda d: _no_prj_shapefile(d, gcj=False), ("Missing CRS", "--crs")),
        ImportCase(
            "gcj02_shapefile_without_prj",
            C,
            lambda d: _no_prj_shapefile(d, gcj=True),
            ("Missing CRS", "gcj02"),
            why="undeclared GCJ-02 is caught where it can be: no CRS at all",
        ),
        ImportCase(
            "metres_declared_as_degrees",
            C,
            _geojson("metres", [feature({"id": "X1", "name": "米"}, polygon(gk_ring))]),
            ("far too large for degrees", f"EPSG:{4534}"),
        ),
        ImportCase(
            "gk_with_zone_prefix_declared_without",
            C,
            _gpkg("prefixed", to_gk(ring, GK_PREFIXED_EPSG), GK_EPSG),
            ("outside China", f"EPSG:{GK_EPSG}"),
        ),
        ImportCase("wrong_epsg_utm_usa", C, _gpkg("utm10", gk_ring, 32610), ("outside China", "EPSG:32610")),
        ImportCase(
            "degrees_declared_as_web_mercator",
            C,
            _gpkg("merc", ring, 3857),
            ("in metres", "look like degrees", "EPSG:3857"),
        ),
        ImportCase(
            "swapped_axes",
            C,
            _geojson("swapped", [feature({"id": "X1", "name": "颠倒"}, polygon(swapped))]),
            ("row 1", "swapped"),
        ),
        ImportCase(
            "outside_china_paris",
            C,
            _geojson("paris", [feature({"id": "X1", "name": "巴黎"}, polygon(paris))]),
            ("row 1", "outside China"),
        ),
        ImportCase(
            "gcj02_override_on_metres",
            C,
            _gpkg("gcj_metres", gk_ring, GK_EPSG),
            ("far too large for degrees",),
            args=("--crs", "gcj02"),
        ),
        ImportCase(
            "unknown_crs_option",
            C,
            _geojson("ok_unknown_crs", [_ok()]),
            ("Unknown CRS", "EPSG:99999"),
            args=("--crs", "EPSG:99999"),
        ),
        ImportCase(
            "proj_string_crs_option",
            C,
            _geojson("ok_proj", [_ok()]),
            ("Unknown CRS",),
            args=("--crs", "+proj=longlat +datum=WGS84"),
        ),
        # encodings
        ImportCase(
            "gbk_shapefile_without_cpg", C, lambda d: write_gbk_shapefile(d, cpg=None), ("GBK", "--encoding GBK")
        ),
        ImportCase(
            "gbk_shapefile_with_utf8_cpg", C, lambda d: write_gbk_shapefile(d, cpg="UTF-8"), ("not UTF-8", "GBK")
        ),
        ImportCase(
            "gbk_survey_csv",
            "survey",
            _survey_csv("gbk_survey", ["community_id", "供水"], [["S1", "是"]], "gbk"),
            ("not UTF-8", "--encoding GBK"),
        ),
        ImportCase(
            "geojson_in_gbk",
            C,
            lambda d: write_bytes(
                d / "gbk.geojson",
                json.dumps(collection([community("X1", 0, "东风小区")]), ensure_ascii=False).encode("gbk"),
            ),
            ("GBK",),
        ),
        # ids
        ImportCase(
            "missing_id_column",
            C,
            _geojson("no_id", [feature({"name": "无编号"}, polygon(ring))]),
            ("lacks required column", "id"),
        ),
        ImportCase(
            "blank_id",
            C,
            _geojson("blank_id", [_ok(), feature({"id": "  ", "name": "空编号"}, polygon(square(100, 300)))]),
            ("row 2", "missing id"),
        ),
        ImportCase(
            "duplicate_id_in_file", C, _geojson("dup", [_ok("D1", 0), _ok("D1", 100)]), ("row 2", "duplicate id: D1")
        ),
        ImportCase(
            "id_already_in_store",
            C,
            _geojson("clash", [_ok("N9", 400), _ok("S2", 500)]),
            ("row 2", "S2 already exists", "--replace"),
        ),
        ImportCase(
            "two_columns_for_id",
            C,
            _geojson("two_ids", [feature({"id": "A", "编号": "B", "name": "n"}, polygon(ring))]),
            ("several columns map to id",),
        ),
        # types and values
        ImportCase(
            "households_not_a_number",
            C,
            _geojson("hh_text", [community("X1", 0, households="很多")]),
            ("row 1", "households", "not a number"),
        ),
        ImportCase(
            "households_fraction",
            C,
            _geojson("hh_frac", [community("X1", 0, households=12.5)]),
            ("row 1", "households", "not a number"),
        ),
        ImportCase(
            "negative_households",
            C,
            _geojson("hh_neg", [community("X1", 0, households=-5)]),
            ("row 1", "households is negative"),
        ),
        ImportCase(
            "year_built_implausible",
            C,
            _geojson("yb", [community("X1", 0, year_built=1850)]),
            ("row 1", "implausible year_built"),
        ),
        ImportCase(
            "bool_not_yes_no",
            C,
            _geojson("pm", [community("X1", 0, property_management="也许")]),
            ("row 1", "property_management", "yes/no"),
        ),
        ImportCase(
            "building_type_unknown",
            C,
            _geojson("bt", [community("X1", 0, building_type="villa")]),
            ("row 1", "invalid building_type"),
        ),
        ImportCase(
            "zone_kind_unknown",
            "zones",
            _geojson("zk", [feature({"id": "Z1", "kind": "park"}, polygon(ring))]),
            ("row 1", "invalid kind"),
        ),
        ImportCase(
            "safety_grade_unknown",
            "buildings",
            _geojson("sg", [feature({"id": "b1", "safety_grade": "E"}, polygon(ring))]),
            ("row 1", "invalid safety_grade"),
        ),
        ImportCase(
            "required_name_missing",
            C,
            _geojson("no_name", [feature({"id": "X1"}, polygon(ring))]),
            ("lacks required column", "name"),
        ),
        ImportCase("bad_row_in_second_batch", C, _second_batch_error, ("row 20005", "not a number")),
        # survey sheets
        ImportCase(
            "xlsx_merged_header",
            "survey",
            lambda d: write_xlsx(
                d / "merged.xlsx",
                [["小区", None, "问题"], ["community_id", "name", "供水"], ["S1", "x", "是"]],
                merge="A1:B1",
            ),
            ("merged header cells",),
        ),
        ImportCase(
            "xlsx_blank_header",
            "survey",
            lambda d: write_xlsx(d / "blank.xlsx", [["community_id", None, "供水"], ["S1", "x", "是"]]),
            ("blank header cells",),
        ),
        ImportCase(
            "xlsx_not_a_workbook",
            "survey",
            lambda d: write_bytes(d / "fake.xlsx", b"PK\x03\x04garbage"),
            ("cannot read the Excel file",),
        ),
        ImportCase(
            "survey_unknown_community",
            "survey",
            _survey_csv("unknown", ["community_id", "供水"], [["S1", "是"], ["NOPE", "否"]]),
            ("row 3", "NOPE does not exist"),
        ),
        ImportCase(
            "survey_duplicate_community",
            "survey",
            _survey_csv("dupsurvey", ["community_id", "供水"], [["S1", "是"], ["S1", "否"]]),
            ("row 3", "appears twice"),
        ),
        ImportCase(
            "survey_support_over_households",
            "survey",
            _survey_csv("support", ["community_id", "支持改造户数"], [["S1", "500"]]),
            ("row 2", "exceeds households"),
        ),
        ImportCase(
            "survey_unknown_item",
            "survey",
            _survey_csv("items", ["community_id", "已改造项目"], [["S1", "供水、飞行器"]]),
            ("row 2", "unknown item"),
        ),
        ImportCase(
            "survey_without_key_columns",
            "survey",
            _survey_csv("nokey", ["供水"], [["是"]]),
            ("lacks required column", "community_id"),
        ),
        # files and containers
        ImportCase("zip_bomb", C, _zip_bomb, ("expands too much",)),
        ImportCase("zip_declared_huge", C, _zip_declared_huge, ("expands too much",)),
        ImportCase("zip_two_shapefiles", C, _two_shapefiles_zip, ("exactly one .shp", "found 2")),
        ImportCase(
            "zip_not_a_zip", C, lambda d: write_bytes(d / "fake.zip", b"not a zip at all" * 10), ("not a valid ZIP",)
        ),
        ImportCase("empty_file", C, lambda d: write_bytes(d / "empty.geojson", b""), ("empty.geojson",)),
        ImportCase(
            "truncated_geojson",
            C,
            lambda d: write_bytes(d / "cut.geojson", json.dumps(collection([_ok()])).encode()[:-40]),
            ("cut.geojson",),
        ),
        ImportCase("no_features", C, _geojson("none", []), ("has no features",)),
        ImportCase(
            "unsupported_suffix",
            C,
            lambda d: write_json(d / "data.txt", collection([_ok()])),
            ("unsupported file format",),
        ),
        ImportCase("file_not_found", C, lambda d: d / "missing.geojson", ("file not found",)),
        ImportCase("gpkg_several_layers", C, _multi_layer_gpkg, ("several layers", "--layer")),
        ImportCase(
            "gpkg_unknown_layer", C, _multi_layer_gpkg, ("has no layer", "nosuch"), args=("--layer", "nosuch")
        ),
        ImportCase("unknown_layer", "parks", _geojson("parks", [_ok()]), ("unknown layer parks",)),
        ImportCase(
            "mapping_to_unknown_column",
            C,
            _mapping_case("编码: id\n名字: title\n"),
            ("unknown column title",),
            args=("--mapping", "{dir}/mapping.yaml"),
        ),
        ImportCase(
            "mapping_not_a_dict",
            C,
            _mapping_case("- a\n- b\n"),
            ("must map",),
            args=("--mapping", "{dir}/mapping.yaml"),
        ),
    ]
    return cases + value_cases()


# --- API cases ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiCase:
    """One request that must be refused with a status in ``status`` and a JSON ``detail`` holding ``expect``.

    ``path`` may hold ``{fid}`` (the fid of seeded community S1) and ``headers`` ``{version}`` (its ETag value).
    ``body`` is JSON-encoded unless it is ``bytes`` (sent as is with ``Content-Type: application/json``).
    """

    name: str
    method: str
    path: str
    status: tuple[int, ...]
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    expect: tuple[str, ...] = ()


#: Body size limit the API corpus runs under (bytes).
API_MAX_BODY = 2 * 1024 * 1024


def _post(
    name: str,
    geometry: Any,
    status: tuple[int, ...],
    *expect: str,
    props: dict | None = None,
    headers: dict[str, str] | None = None,
) -> ApiCase:
    body = feature(props or {"id": f"api-{name}", "name": "接口测试"}, geometry)
    return ApiCase(name, "POST", "/collections/communities/items", status, body, headers or {}, expect)


def _patch(
    name: str, props: dict[str, Any], status: tuple[int, ...], *expect: str, headers: dict[str, str] | None = None
) -> ApiCase:
    return ApiCase(
        name,
        "PATCH",
        "/collections/communities/items/{fid}",
        status,
        {"properties": props},
        {"If-Match": '"{version}"'} if headers is None else headers,
        expect,
    )


def _raw_post(name: str, properties: str, *expect: str) -> ApiCase:
    """A POST whose ``properties`` are sent verbatim (tokens JSON forbids, escapes json.dumps never writes)."""
    body = '{"type":"Feature","properties":' + properties + ',"geometry":' + json.dumps(polygon(square(0, 300))) + "}"
    return ApiCase(name, "POST", "/collections/communities/items", (422,), body.encode(), {}, expect)


def _stage(name: str, body: dict[str, Any], status: tuple[int, ...], *expect: str, query: str = "") -> ApiCase:
    return ApiCase(name, "POST", "/communities/{fid}/stages" + query, status, body, {}, expect)


#: The GeoJSON 2008 ``crs`` member, as old clients send it.
CRS_MEMBER = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4543"}}


def api_value_cases() -> list[ApiCase]:
    """Requests holding values no store can keep, policy ids that are paths, and what no rule can judge."""
    ring = square(0, 300)
    items = "/collections/communities/items"
    if_match = {"If-Match": '"{version}"'}
    ok_stage = {"stage": "survey", "date": "2026-03-01"}
    return [
        _raw_post("post_nan_property", '{"name":"n","floor_area_m2":NaN}', "properties.floor_area_m2"),
        _raw_post(
            "post_infinity_property", '{"name":"n","floor_area_m2":Infinity}', "properties.floor_area_m2", "finite"
        ),
        _raw_post("post_1e999_property", '{"name":"n","floor_area_m2":1e999}', "properties.floor_area_m2", "finite"),
        _raw_post("post_negative_infinity_extra", '{"name":"n","评分":-Infinity}', "properties.评分"),
        _raw_post(
            "post_integer_beyond_64_bits",
            '{"name":"n","households":18446744073709551616}',
            "properties.households",
            "64-bit",
        ),
        _raw_post("post_integer_of_5000_digits", '{"name":"n","households":' + "9" * 5000 + "}", "(5000 chars)"),
        _raw_post("post_nul_in_name", '{"name":"a\\u0000b"}', "properties.name", "NUL"),
        _raw_post("post_nul_in_property_name", '{"name":"n","a\\u0000b":1}', "NUL"),
        _raw_post("post_lone_surrogate", '{"name":"\\ud800"}', "properties.name", "surrogate"),
        _raw_post("post_nul_in_nested_extra", '{"name":"n","extra":{"x":["ok","\\u0000"]}}', "properties.extra.x[1]"),
        _post(
            "post_low_income_over_households",
            polygon(ring),
            (422,),
            "low_income_households 6 exceeds households 5",
            props={"name": "n", "households": 5, "low_income_households": 6},
        ),
        _post("unclosed_ring", polygon(ring[:-1]), (422,), "not closed"),
        _post("crs_member_in_geometry", {**polygon(ring), "crs": CRS_MEMBER}, (422,), "crs", "Content-Crs"),
        ApiCase(
            "crs_member_in_feature",
            "POST",
            items,
            (422,),
            {**feature({"name": "n"}, polygon(ring)), "crs": CRS_MEMBER},
            expect=("crs", "Content-Crs"),
        ),
        _patch("patch_nul_in_name", {"name": "a\x00b"}, (422,), "properties.name", "NUL"),
        _patch("patch_households_beyond_64_bits", {"households": 2**64}, (422,), "properties.households"),
        ApiCase(
            "patch_infinity_token",
            "PATCH",
            items + "/{fid}",
            (422,),
            b'{"properties":{"floor_area_m2":Infinity}}',
            if_match,
            ("properties.floor_area_m2",),
        ),
        _patch("patch_area_implausible", {"floor_area_m2": 1e308}, (422,), "implausible floor_area_m2"),
        _patch(
            "patch_low_income_over_households",
            {"households": 10, "low_income_households": 11},
            (422,),
            "exceeds households",
        ),
        _patch(
            "patch_if_match_beyond_64_bits", {"households": 1}, (412,), headers={"If-Match": '"' + "9" * 23 + '"'}
        ),
        ApiCase(
            "split_line_with_crs_member",
            "POST",
            "/communities/{fid}/split",
            (422,),
            {"line": {"type": "LineString", "coordinates": [ring[0], ring[2]], "crs": CRS_MEMBER}},
            if_match,
            ("crs",),
        ),
        ApiCase(
            "merge_name_with_nul",
            "POST",
            "/communities/merge",
            (422,),
            {"ids": ["S1", "S2"], "name": "并\x00"},
            {},
            ("name", "NUL"),
        ),
        ApiCase(
            "plan_budget_beyond_64_bits",
            "POST",
            "/plans",
            (422,),
            {"name": "p", "all": True, "budget_per_year": 2**70},
            expect=("budget_per_year",),
        ),
        _stage("stage_note_with_nul", {**ok_stage, "note": "a\x00"}, (422,), "note", "NUL"),
        _stage("stage_count_beyond_64_bits", {**ok_stage, "households_total": 2**64}, (422,), "households_total"),
        _stage("stage_unknown", {"stage": "teleport", "date": "2026-03-01"}, (422,), "no stage", "teleport"),
        _stage("stage_date_far_in_the_future", {"stage": "survey", "date": "9999-12-31"}, (422,), "too far ahead"),
        ApiCase("query_nul_in_filter", "GET", items + "?name=%00", (400,), expect=("name", "NUL")),
        ApiCase("query_filter_beyond_64_bits", "GET", items + "?households=99999999999999999999", (400,)),
        ApiCase("query_filter_not_finite", "GET", items + "?floor_area_m2=inf", (400,), expect=("floor_area_m2",)),
        ApiCase("query_offset_beyond_64_bits", "GET", items + "?offset=99999999999999999999", (400,)),
        ApiCase("path_nul", "POST", "/communities/merge/%00/undo", (400,), expect=("path", "NUL")),
        ApiCase(
            "profile_is_a_path",
            "GET",
            "/collections/units/items?profile=/etc/passwd",
            (404,),
            expect=("national-2020",),
        ),
        ApiCase(
            "profile_is_a_relative_path",
            "GET",
            "/collections/units/items?profile=../profiles/lucheng-2020.yaml",
            (404,),
            expect=("lucheng-2020",),
        ),
        ApiCase("profile_of_3000_chars", "GET", "/collections/units/items?profile=" + "a" * 3000, (404,)),
        ApiCase("profile_binary", "GET", "/collections/units/items?profile=%ff%fe%01%02", (404,)),
        ApiCase("candidates_profile_is_a_path", "GET", "/streets/x/candidates?profile=/etc/hostname", (404,)),
        ApiCase("plan_map_profile_is_a_path", "GET", "/maps/plan.html?profile=/etc/hostname", (404,)),
        ApiCase(
            "plan_profile_is_a_path",
            "POST",
            "/plans",
            (404,),
            {"name": "p", "all": True, "profile": "/etc/hostname"},
        ),
        _stage("stage_profile_is_a_path", ok_stage, (404,), query="?profile=/etc/hostname"),
    ]


def api_cases() -> list[ApiCase]:
    """Every broken request, with the 4xx it must get."""
    ring = square(0, 300)
    t = np.linspace(0.0, 2.0 * np.pi, 30_000, endpoint=False)
    many = np.column_stack([ORIGIN[0] + 0.002 * np.cos(t), ORIGIN[1] + 0.003 + 0.002 * np.sin(t)])
    many = np.vstack([many, many[:1]]).round(7).tolist()
    depth = 50_000
    nested = (
        '{"type":"Feature","properties":{"name":"x"},"geometry":{"type":"Polygon","coordinates":'
        + "[" * depth
        + "]" * depth
        + "}}"
    ).encode()
    nan_body = json.dumps(feature({"name": "nan"}, polygon([[float("nan"), 25.0], *ring[1:]]))).encode()
    inf_body = (json.dumps(feature({"name": "inf"}, polygon(ring))).replace(str(ring[1][0]), "1e999", 1)).encode()
    huge = json.dumps(feature({"name": "大", "note": "x" * (API_MAX_BODY + 1000)}, polygon(ring))).encode()
    gbk_body = json.dumps(feature({"name": "东风小区"}, polygon(ring)), ensure_ascii=False).encode("gbk")
    vertical = [[*p, float(i % 2) * 10] for i, p in enumerate([ring[0], ring[1], ring[1], ring[0], ring[0]])]
    items = "/collections/communities/items"
    return [
        _post("self_intersecting", polygon(_scaled(BOWTIE)), (422,), "Self-intersection"),
        _post("ring_of_two_points", polygon(ring[:2]), (422,)),
        _post("null_geometry", None, (422,), "geometry"),
        _post("empty_polygon", {"type": "Polygon", "coordinates": []}, (422,)),
        _post("vertical_3d_wall", polygon(vertical), (422,)),
        _post("point_geometry", {"type": "Point", "coordinates": ring[0]}, (422,), "Point"),
        ApiCase(
            "unknown_geometry_type",
            "POST",
            items,
            (422,),
            feature({"name": "圆"}, {"type": "Circle", "coordinates": ring[0]}),
        ),
        _post("swapped_axes", polygon([[y, x] for x, y in ring]), (400, 422), "swapped"),
        _post("metres_as_degrees", polygon(to_gk(ring)), (400, 422), "far too large"),
        _post("outside_china", polygon([[x - 100.0, y + 20.0] for x, y in ring]), (400, 422), "outside China"),
        _post("unknown_content_crs", polygon(ring), (400,), "EPSG:99999", headers={"Content-Crs": "EPSG:99999"}),
        _post(
            "content_crs_gk_with_degrees",
            polygon(ring),
            (400, 422),
            "outside China",
            headers={"Content-Crs": f"<http://www.opengis.net/def/crs/EPSG/0/{GK_EPSG}>"},
        ),
        _post("vertex_bomb", polygon(many), (413, 422), "too many vertices"),
        _post("duplicate_id", polygon(ring), (409,), "S1", props={"id": "S1", "name": "重复"}),
        _post("households_text", polygon(ring), (422,), "households", props={"name": "n", "households": "很多"}),
        _post("negative_households", polygon(ring), (422,), "households", props={"name": "n", "households": -3}),
        _post("properties_not_an_object", polygon(ring), (422,), props=["not", "a", "dict"]),  # type: ignore[arg-type]
        ApiCase("body_not_a_feature", "POST", items, (422,), {"type": "FeatureCollection", "features": []}),
        ApiCase("body_a_json_list", "POST", items, (422,), [1, 2, 3]),
        ApiCase("malformed_json", "POST", items, (400, 422), b'{"type": "Feature", "geometry": '),
        ApiCase("nesting_bomb", "POST", items, (400, 413, 422), nested),
        ApiCase("nan_coordinate", "POST", items, (400, 422), nan_body),
        ApiCase("infinite_coordinate", "POST", items, (400, 422), inf_body),
        ApiCase("gbk_encoded_body", "POST", items, (400, 422), gbk_body),
        ApiCase("body_over_size_limit", "POST", items, (413,), huge, expect=("too large",)),
        ApiCase(
            "unknown_collection", "POST", "/collections/parks/items", (404,), feature({"name": "x"}, polygon(ring))
        ),
        _patch("patch_households_text", {"households": "很多"}, (422,), "households"),
        _patch("patch_year_text", {"year_built": "八十年代"}, (422,), "year_built"),
        _patch("patch_bool_text", {"property_management": "也许"}, (422,), "property_management"),
        _patch("patch_blank_name", {"name": ""}, (422,), "name"),
        _patch("patch_missing_if_match", {"households": 1}, (428,), "If-Match", headers={}),
        _patch("patch_stale_if_match", {"households": 1}, (412,), headers={"If-Match": '"999"'}),
        _patch("patch_garbage_if_match", {"households": 1}, (412,), headers={"If-Match": "yesterday"}),
        ApiCase(
            "patch_unknown_fid",
            "PATCH",
            items + "/987654",
            (404,),
            {"properties": {"households": 1}},
            {"If-Match": '"1"'},
        ),
        ApiCase(
            "patch_fid_not_integer",
            "PATCH",
            items + "/abc",
            (422,),
            {"properties": {"households": 1}},
            {"If-Match": '"1"'},
        ),
        ApiCase(
            "patch_fid_overflow",
            "PATCH",
            items + "/99999999999999999999999",
            (404, 422),
            {"properties": {"households": 1}},
            {"If-Match": '"1"'},
        ),
        ApiCase(
            "get_item_fid_overflow",
            "GET",
            items + "/99999999999999999999999",
            (404, 422),
        ),
        ApiCase(
            "put_without_geometry",
            "PUT",
            items + "/{fid}",
            (422,),
            feature({"id": "S1", "name": "x"}, None),
            {"If-Match": '"{version}"'},
        ),
        # Neither If-Match nor the version read: the server cannot tell what the client saw (a DELETE without
        # If-Match, as QGIS sends it, applies to the current version and is accepted).
        ApiCase(
            "patch_without_if_match_or_version", "PATCH", items + "/{fid}", (428,), {"properties": {"name": "x"}}
        ),
        ApiCase(
            "put_with_a_version_never_read",
            "PUT",
            items + "/{fid}",
            (412,),
            community("S1", 5000.0, version=99),
        ),
        ApiCase(
            "patch_version_not_a_number",
            "PATCH",
            items + "/{fid}",
            (422,),
            {"properties": {"name": "x", "version": "1"}},
        ),
        ApiCase("merge_one_id", "POST", "/communities/merge", (422,), {"ids": ["S1"], "name": "并"}),
        ApiCase(
            "merge_unknown_ids",
            "POST",
            "/communities/merge",
            (404,),
            {"ids": ["S1", "NOPE"], "name": "并"},
            expect=("NOPE",),
        ),
        ApiCase("merge_ids_not_a_list", "POST", "/communities/merge", (422,), {"ids": "S1,S2", "name": "并"}),
        ApiCase(
            "split_line_not_geojson",
            "POST",
            "/communities/{fid}/split",
            (400, 422),
            {"line": {"x": 1}},
            {"If-Match": '"{version}"'},
        ),
        ApiCase("bbox_not_numbers", "GET", items + "?bbox=a,b,c,d", (400,)),
        ApiCase("bbox_three_numbers", "GET", items + "?bbox=1,2,3", (400,)),
        ApiCase("bbox_inverted", "GET", items + "?bbox=102,26,101,25", (400,)),
        ApiCase(
            "bbox_nan",
            "GET",
            items + "?bbox=nan,nan,nan,nan",
            (400,),
        ),
        ApiCase("limit_negative", "GET", items + "?limit=-1", (400, 422)),
        ApiCase("limit_text", "GET", items + "?limit=lots", (400, 422)),
        ApiCase("unknown_output_crs", "GET", items + "?crs=EPSG:99999", (400,)),
        ApiCase("unknown_property_filter_value_type", "GET", items + "?households=many", (400, 422)),
        ApiCase("history_unknown_fid", "GET", "/communities/987654/history", (404,)),
        *api_value_cases(),
    ]


def main(argv: list[str] | None = None) -> None:
    """Write every import file of the corpus into one directory per case under the given directory."""
    out = Path((argv or sys.argv[1:])[0])
    for case in import_cases():
        d = out / case.name
        d.mkdir(parents=True, exist_ok=True)
        print(case.build(d))


if __name__ == "__main__":
    main()
