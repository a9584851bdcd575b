"""``renewal export``: a layer to GeoPackage, GeoJSON, FlatGeobuf, zipped Shapefile, CSV or XLSX, streamed in batches.

Every format carries the same flat columns, so a file edited in QGIS comes back with ``renewal import --update``
as it went out: ``fid`` (GeoPackage only: it becomes the file's own feature id), the layer's columns, one column per
extra property (typed from its values), and ``version`` as a plain integer, the version the editor starts from.
Bookkeeping of the store (``retired``, ``merged_into``) is not exported: exports hold live rows only.

Vector formats go through GDAL's Arrow stream writer (one pass, memory bounded by the batch size), with geometry
promoted to Multi* so the declared layer type (MultiPolygon, MultiLineString) is the type of every feature.
GeoPackages are written as version 1.2, the newest that QGIS 3.22 / GDAL 3.6 (Debian 12) open without a warning.
The zipped Shapefile is what county offices still exchange: GBK text with a ``.cpg`` saying so, field names cut
to the 10 characters a .dbf holds (the importer accepts the cut names of the layer's columns). CSV and XLSX are
written row batch by row batch; their headers are the Chinese aliases unless ``lang="en"``.
"""

from __future__ import annotations

import csv
import json
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely

from geo.errors import DataError
from geo.io.cells import csv_rows, xlsx_row
from geo.io.normalise import DBF_NAME_CHARS
from geo.model import LAYERS, SPATIAL_LAYERS, STORAGE_EPSG
from geo.stores import Store
from geo.stores.base import dumps_json

FORMATS = {
    "gpkg": "GPKG",
    "geojson": "GeoJSON",
    "fgb": "FlatGeobuf",
    "shp": "ESRI Shapefile",
    "csv": None,
    "xlsx": None,
}
#: Zipped Shapefiles are written in the code page Chinese desktop GIS and county offices read.
SHAPEFILE_ENCODING = "GBK"
_ARROW = {"text": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "json": pa.string()}
#: Store bookkeeping that is never an exported column, nor an extra property of the same name.
_BOOKKEEPING = ("fid", "version", "retired", "merged_into", "extra")


def export_layer(
    store: Store, layer: str, output: Path, *, fmt: str | None = None, lang: str = "zh", batch_size: int = 20_000
) -> int:
    """Write every current row of ``layer`` to ``output``; returns the number of rows written.

    ``fmt`` is one of :data:`FORMATS` (``shp`` writes a ``.zip``); by default it follows the file's suffix.
    """
    if layer not in SPATIAL_LAYERS:
        raise DataError(f"无法导出图层 {layer}", f"cannot export layer {layer}")
    fmt = (fmt or output.suffix.lstrip(".")).lower()
    fmt = "shp" if fmt == "zip" else fmt
    if fmt not in FORMATS:
        raise DataError(
            f"不支持的导出格式 {fmt}（可用：{', '.join(FORMATS)}）",
            f"unsupported format {fmt} ({', '.join(FORMATS)})",
        )
    if fmt == "shp" and output.suffix.lower() != ".zip":
        raise DataError(
            f"Shapefile 导出为 ZIP 压缩包，输出文件名请以 .zip 结尾：{output.name}",
            f"a Shapefile is exported as a ZIP archive; name the output *.zip: {output.name}",
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.exists():
        output.unlink()
    extras = extra_columns(store, layer)
    frames = (flat_frame(gdf, layer, extras) for gdf in store.iter_layer(layer, batch_size=batch_size))
    if fmt == "csv":
        return _write_csv(frames, layer, output, extras, lang=lang)
    if fmt == "xlsx":
        return _write_xlsx(frames, layer, output, extras, lang=lang)
    if fmt == "shp":
        return _write_shapefile_zip(frames, layer, output, extras)
    return _write_vector(frames, layer, output, extras, driver=FORMATS[fmt])


def extra_columns(store: Store, layer: str) -> dict[str, pa.DataType]:
    """Every extra property of the layer's live rows, in order of first appearance, with an Arrow type that holds
    all its values (bool, int64, float64, else text; nested values as JSON text). One pass over the ``extra``
    column only."""
    kinds: dict[str, set[str]] = {}
    for value in store.read_attributes(layer, ["extra"])["extra"]:
        record = _as_dict(value)
        for key, v in record.items():
            if key in LAYERS[layer].column_names or key in _BOOKKEEPING or v is None:
                continue
            kinds.setdefault(key, set()).add(
                "bool"
                if isinstance(v, bool)
                else "int"
                if isinstance(v, int)
                else "float"
                if isinstance(v, float)
                else "text"
            )
    types = {"bool": pa.bool_(), "int": pa.int64(), "float": pa.float64()}
    out: dict[str, pa.DataType] = {}
    for key, seen in kinds.items():
        if seen == {"int", "float"}:
            out[key] = pa.float64()
        elif len(seen) == 1 and next(iter(seen)) in types:
            out[key] = types[next(iter(seen))]
        else:
            out[key] = pa.string()
    return out


def flat_frame(gdf: gpd.GeoDataFrame, layer: str, extras: dict[str, pa.DataType]) -> gpd.GeoDataFrame:
    """A batch as exported: ``fid``, the layer's columns, one column per extra property, ``version``; geometry."""
    data = {"fid": gdf["fid"], **{c: gdf[c] for c in LAYERS[layer].column_names}}
    records = [_as_dict(v) for v in gdf["extra"]]
    for key, kind in extras.items():
        values = [r.get(key) for r in records]
        if kind == pa.string():
            values = [v if v is None or isinstance(v, str) else _text(v) for v in values]
        data[key] = pd.Series(values, index=gdf.index, dtype=object)
    data["version"] = gdf["version"]
    return gpd.GeoDataFrame(data, geometry=gdf.geometry.values, crs=gdf.crs, index=gdf.index)


def promote_to_multi(geoms: np.ndarray) -> np.ndarray:
    """Polygons as one-part MultiPolygons and lines as MultiLineStrings, so each layer holds one geometry type."""
    geoms = np.asarray(geoms, dtype=object).copy()
    types = shapely.get_type_id(geoms)
    for single, build in ((3, shapely.multipolygons), (1, shapely.multilinestrings)):
        at = np.flatnonzero(types == single)
        if len(at):
            geoms[at] = build(geoms[at], indices=np.arange(len(at)))
    return geoms


def _arrow_schema(layer: str, extras: dict[str, pa.DataType], *, fid: bool) -> pa.Schema:
    spec = LAYERS[layer]
    fields = [pa.field("fid", pa.int64())] if fid else []
    fields += [pa.field(c.name, _ARROW[c.type]) for c in spec.columns]
    fields += [pa.field(key, kind) for key, kind in extras.items()]
    fields.append(pa.field("version", pa.int64()))
    fields.append(pa.field("geometry", pa.binary(), metadata={"ARROW:extension:name": "ogc.wkb"}))
    return pa.schema(fields)


def _record_batches(
    frames: Iterator[gpd.GeoDataFrame], schema: pa.Schema, counter: list[int]
) -> Iterator[pa.RecordBatch]:
    for gdf in frames:
        counter[0] += len(gdf)
        arrays = [
            pa.array(gdf[f.name].astype(object).where(gdf[f.name].notna(), None), type=f.type)
            for f in schema
            if f.name != "geometry"
        ]
        arrays.append(pa.array(shapely.to_wkb(promote_to_multi(gdf.geometry.values)), type=pa.binary()))
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _write_vector(
    frames: Iterator[gpd.GeoDataFrame],
    layer: str,
    output: Path,
    extras: dict[str, pa.DataType],
    *,
    driver: str,
    names: dict[str, str] | None = None,
    encoding: str = "UTF-8",
) -> int:
    counter = [0]
    schema = _arrow_schema(layer, extras, fid=driver == "GPKG")
    batches = _record_batches(frames, schema, counter)
    if names:
        schema = pa.schema([f.with_name(names.get(f.name, f.name)) for f in schema])
        batches = (pa.RecordBatch.from_arrays(b.columns, schema=schema) for b in batches)
    reader = pa.RecordBatchReader.from_batches(schema, batches)
    geometry_type = {"polygon": "MultiPolygon", "line": "MultiLineString"}[LAYERS[layer].geometry]
    pyogrio.write_arrow(
        reader,
        output,
        layer=layer,
        driver=driver,
        geometry_name="geometry",
        geometry_type=geometry_type,
        crs=f"EPSG:{STORAGE_EPSG}",
        encoding=None if driver == "GPKG" else encoding,
        dataset_options={"VERSION": "1.2"} if driver == "GPKG" else None,
    )
    return counter[0]


def _write_shapefile_zip(
    frames: Iterator[gpd.GeoDataFrame], layer: str, output: Path, extras: dict[str, pa.DataType]
) -> int:
    """A ``.zip`` holding ``<layer>.shp/.shx/.dbf/.prj/.cpg`` with GBK text; text GBK cannot hold is refused."""
    names = dbf_names([*LAYERS[layer].column_names, *extras, "version"])
    checked = (_gbk_only(gdf, layer) for gdf in frames)
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{layer}.shp"
        n = _write_vector(
            checked, layer, shp, extras, driver="ESRI Shapefile", names=names, encoding=SHAPEFILE_ENCODING
        )
        shp.with_suffix(".cpg").write_text(SHAPEFILE_ENCODING, encoding="ascii")
        with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for part in sorted(Path(tmp).iterdir()):
                zf.write(part, part.name)
    return n


def dbf_names(columns: list[str]) -> dict[str, str]:
    """Column -> a .dbf field name of at most 10 bytes in GBK, unique (a cut name that clashes gets a number)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        name = _cut(column, DBF_NAME_CHARS)
        n = 1
        while name.lower() in taken:
            suffix = f"_{n}"
            name = _cut(column, DBF_NAME_CHARS - len(suffix)) + suffix
            n += 1
        taken.add(name.lower())
        out[column] = name
    return out


def _cut(text: str, limit: int) -> str:
    """The longest start of ``text`` that fits in ``limit`` bytes of GBK."""
    while len(text.encode(SHAPEFILE_ENCODING, errors="replace")) > limit:
        text = text[:-1]
    return text


def _gbk_only(gdf: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    for column in gdf.columns:
        if column == gdf.geometry.name or gdf[column].dtype != object:
            continue
        text = gdf[column].dropna()
        text = text[text.map(lambda v: isinstance(v, str))]
        bad = text[~text.map(_fits_gbk)]
        if len(bad):
            ids = gdf.loc[bad.index, "id"].tolist()
            raise DataError(
                f"{LAYERS[layer].zh} {ids[:10]} 的 {column} 含有 GBK 编码无法表示的字符（如“{bad.iloc[0]}”），"
                "无法写入 Shapefile；请导出为 GeoPackage",
                f"{layer} {ids[:10]}: {column} holds characters GBK cannot encode (e.g. {bad.iloc[0]!r}); a "
                "Shapefile cannot carry them, export to GeoPackage instead",
            )
    return gdf


def _fits_gbk(text: str) -> bool:
    try:
        text.encode(SHAPEFILE_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def headers(layer: str, extras: dict[str, pa.DataType], *, lang: str) -> dict[str, str]:
    """Spreadsheet header of each exported column (the extras keep their own names)."""
    spec = LAYERS[layer]
    zh = {c.name: c.zh for c in spec.columns} | {"fid": "要素号", "version": "版本"}
    cols = ["fid", *spec.column_names, *extras, "version"]
    return {c: (zh.get(c, c) if lang != "en" else c) for c in cols}


def _write_csv(
    frames: Iterator[gpd.GeoDataFrame], layer: str, output: Path, extras: dict[str, pa.DataType], *, lang: str
) -> int:
    names = headers(layer, extras, lang=lang)
    total = 0
    with output.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*names.values(), "几何(WKT)" if lang != "en" else "wkt"])
        for gdf in frames:
            data = pd.DataFrame(gdf[list(names)])
            data["wkt"] = shapely.to_wkt(gdf.geometry.values, rounding_precision=-1)
            writer.writerows(csv_rows(data.astype(object).where(data.notna(), None).itertuples(index=False)))
            total += len(gdf)
    return total


def _write_xlsx(
    frames: Iterator[gpd.GeoDataFrame], layer: str, output: Path, extras: dict[str, pa.DataType], *, lang: str
) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    names = headers(layer, extras, lang=lang)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(LAYERS[layer].zh if lang != "en" else layer)
    ws.freeze_panes = "A2"
    for i, col in enumerate([*names, "lon", "lat"]):
        ws.column_dimensions[_letter(i)].width = 24 if col in ("name", "street", "neighbourhood") else 12
    header = []
    for label in [*names.values(), *(("中心经度", "中心纬度") if lang != "en" else ("lon", "lat"))]:
        cell = WriteOnlyCell(ws, value=label)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    total = 0
    for gdf in frames:
        pts = shapely.point_on_surface(gdf.geometry.values)
        data = gdf[list(names)].astype(object).where(gdf[list(names)].notna(), None)
        data["lon"] = shapely.get_x(pts).round(7)
        data["lat"] = shapely.get_y(pts).round(7)
        for row in data.itertuples(index=False):
            ws.append(xlsx_row(ws, row))
        total += len(gdf)
    wb.save(output)
    return total


def _as_dict(value: object) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return dumps_json(value) if isinstance(value, (dict, list)) else str(value)


def _letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)
