"""``renewal export``: a layer to GeoPackage, GeoJSON, FlatGeobuf, CSV or XLSX, streamed in batches.

Vector formats go through GDAL's Arrow stream writer (one pass, memory bounded by the batch size); CSV and XLSX
are written row batch by row batch. Spreadsheet headers are the Chinese aliases unless ``lang="en"``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pyarrow as pa
import pyogrio
import shapely

from geo.errors import DataError
from geo.io.cells import csv_rows, xlsx_row
from geo.model import LAYERS, SPATIAL_LAYERS, STORAGE_EPSG
from geo.stores import Store
from geo.stores.base import dumps_json, layer_columns

FORMATS = {"gpkg": "GPKG", "geojson": "GeoJSON", "fgb": "FlatGeobuf", "csv": None, "xlsx": None}
_ARROW = {"text": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "json": pa.string()}


def export_layer(
    store: Store, layer: str, output: Path, *, fmt: str | None = None, lang: str = "zh", batch_size: int = 20_000
) -> int:
    """Write every current row of ``layer`` to ``output``; returns the number of rows written."""
    if layer not in SPATIAL_LAYERS:
        raise DataError(f"无法导出图层 {layer}", f"cannot export layer {layer}")
    fmt = (fmt or output.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise DataError(
            f"不支持的导出格式 {fmt}（可用：{', '.join(FORMATS)}）",
            f"unsupported format {fmt} ({', '.join(FORMATS)})",
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.exists():
        output.unlink()
    batches = store.iter_layer(layer, batch_size=batch_size)
    if fmt == "csv":
        return _write_csv(batches, layer, output, lang=lang)
    if fmt == "xlsx":
        return _write_xlsx(batches, layer, output, lang=lang)
    return _write_vector(batches, layer, output, driver=FORMATS[fmt])


def arrow_schema(layer: str) -> pa.Schema:
    spec = LAYERS[layer]
    fields = []
    for name in layer_columns(layer):
        if name in spec.column_names:
            fields.append(pa.field(name, _ARROW[spec.column(name).type]))
        elif name == "retired":
            fields.append(pa.field(name, pa.bool_()))
        elif name in ("fid", "version"):
            fields.append(pa.field(name, pa.int64()))
        else:
            fields.append(pa.field(name, pa.string()))
    fields.append(pa.field("geometry", pa.binary(), metadata={"ARROW:extension:name": "ogc.wkb"}))
    return pa.schema(fields)


def _record_batches(batches: Iterator[gpd.GeoDataFrame], layer: str, counter: list[int]) -> Iterator[pa.RecordBatch]:
    schema = arrow_schema(layer)
    for gdf in batches:
        counter[0] += len(gdf)
        data = gdf.drop(columns=gdf.geometry.name)
        data["extra"] = data["extra"].map(dumps_json)
        arrays = [
            pa.array(data[f.name].astype(object).where(data[f.name].notna(), None), type=f.type)
            for f in schema
            if f.name != "geometry"
        ]
        arrays.append(pa.array(shapely.to_wkb(gdf.geometry.values), type=pa.binary()))
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _write_vector(batches: Iterator[gpd.GeoDataFrame], layer: str, output: Path, *, driver: str) -> int:
    counter = [0]
    schema = arrow_schema(layer)
    reader = pa.RecordBatchReader.from_batches(schema, _record_batches(batches, layer, counter))
    geometry_type = {"polygon": "MultiPolygon", "line": "MultiLineString"}[LAYERS[layer].geometry]
    pyogrio.write_arrow(
        reader,
        output,
        layer=layer,
        driver=driver,
        geometry_name="geometry",
        geometry_type="Unknown" if driver == "GeoJSON" else geometry_type,
        crs=f"EPSG:{STORAGE_EPSG}",
        encoding="UTF-8" if driver != "GPKG" else None,
    )
    return counter[0]


def headers(layer: str, *, lang: str) -> dict[str, str]:
    spec = LAYERS[layer]
    zh = {c.name: c.zh for c in spec.columns} | {
        "fid": "要素号",
        "extra": "其他属性",
        "version": "版本",
        "retired": "已撤销",
        "merged_into": "并入",
        "wkt": "几何(WKT)",
        "lon": "中心经度",
        "lat": "中心纬度",
    }
    cols = [*layer_columns(layer)]
    return {c: (zh.get(c, c) if lang != "en" else c) for c in cols}


def _write_csv(batches: Iterator[gpd.GeoDataFrame], layer: str, output: Path, *, lang: str) -> int:
    names = headers(layer, lang=lang)
    total = 0
    with output.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*names.values(), "几何(WKT)" if lang != "en" else "wkt"])
        for gdf in batches:
            data = gdf[list(names)].copy()
            data["extra"] = data["extra"].map(dumps_json)
            data["wkt"] = shapely.to_wkt(gdf.geometry.values, rounding_precision=-1)
            writer.writerows(csv_rows(data.astype(object).where(data.notna(), None).itertuples(index=False)))
            total += len(gdf)
    return total


def _write_xlsx(batches: Iterator[gpd.GeoDataFrame], layer: str, output: Path, *, lang: str) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    names = headers(layer, lang=lang)
    names.pop("extra")
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
    for gdf in batches:
        pts = shapely.point_on_surface(gdf.geometry.values)
        data = gdf[list(names)].astype(object).where(gdf[list(names)].notna(), None)
        data["lon"] = shapely.get_x(pts).round(7)
        data["lat"] = shapely.get_y(pts).round(7)
        for row in data.itertuples(index=False):
            ws.append(xlsx_row(ws, row))
        total += len(gdf)
    wb.save(output)
    return total


def _letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)
