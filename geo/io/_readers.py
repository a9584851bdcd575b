"""File reading for the importers: vector files streamed in Arrow batches, survey sheets as tables.

Private: everything that touches the file system for input lives here, so the import pipeline stays testable on
frames.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely

from geo.errors import DataError
from geo.io._truncation import refuse_hidden_nul

VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb"}
TABLE_SUFFIXES = {".csv", ".xlsx", ".xls"}
#: Largest uncompressed size accepted from a ZIP (guards against ZIP bombs).
MAX_UNZIPPED_BYTES = 2 * 1024**3
MAX_ZIP_RATIO = 200


@dataclass(frozen=True)
class VectorSource:
    """What GDAL should open, and what the file says about itself."""

    path: str
    layer: str | None
    encoding: str | None
    crs: str | None
    features: int


def vector_source(path: Path, *, layer: str | None = None, encoding: str | None = None) -> VectorSource:
    """Resolve a path (zipped shapefiles included) to something GDAL opens, with its CRS and feature count."""
    if not path.exists():
        raise DataError(f"文件不存在：{path}", f"file not found: {path}")
    suffix = path.suffix.lower()
    if suffix not in VECTOR_SUFFIXES:
        raise DataError(
            f"不支持的文件格式：{path.name}（支持 GeoJSON、GeoPackage、Shapefile、FlatGeobuf）",
            f"unsupported file format: {path.name} (GeoJSON, GeoPackage, Shapefile, FlatGeobuf)",
        )
    gdal_path, member = str(path), None
    if suffix == ".zip":
        gdal_path = _zipped_shapefile(path)
        member = gdal_path.removeprefix(f"/vsizip/{path.resolve()}/")
    try:
        layers = pyogrio.list_layers(gdal_path)
    except Exception as exc:  # GDAL raises several error types for unreadable files
        raise DataError(f"无法读取文件 {path.name}：{exc}", f"cannot read {path.name}: {exc}") from exc
    names = [str(n) for n in layers[:, 0]]
    if layer is None and len(names) > 1:
        raise DataError(
            f"{path.name} 含有多个图层（{', '.join(names)}），请用 --layer 指定",
            f"{path.name} holds several layers ({', '.join(names)}); choose one with --layer",
        )
    if layer is not None and layer not in names:
        raise DataError(
            f"{path.name} 中没有图层 {layer}（有：{', '.join(names)}）",
            f"{path.name} has no layer {layer} (it has: {', '.join(names)})",
        )
    refuse_hidden_nul(path, member=member, layer=layer)
    try:
        info = pyogrio.read_info(gdal_path, layer=layer, encoding=encoding)
    except UnicodeDecodeError as exc:
        raise _encoding_error(gdal_path) from exc
    except Exception as exc:
        raise DataError(f"无法读取文件 {path.name}：{exc}", f"cannot read {path.name}: {exc}") from exc
    return VectorSource(gdal_path, layer, encoding, info.get("crs"), int(info.get("features") or -1))


@contextmanager
def vector_batches(source: VectorSource, *, batch_size: int = 20_000) -> Iterator[Iterator[gpd.GeoDataFrame]]:
    """Stream a vector file as GeoDataFrames of at most ``batch_size`` rows (memory does not grow with the file).

    Each frame's index holds the 1-based feature number in the file, which error messages quote.
    """
    try:
        ctx = pyogrio.open_arrow(
            source.path, layer=source.layer, encoding=source.encoding, batch_size=batch_size, use_pyarrow=True
        )
        meta, reader = ctx.__enter__()
    except Exception as exc:
        raise DataError(f"无法读取文件：{exc}", f"cannot read the file: {exc}") from exc

    def frames() -> Iterator[gpd.GeoDataFrame]:
        offset = 0
        geom_col = meta["geometry_name"] or "wkb_geometry"
        for batch in reader:
            try:
                batch.validate(full=True)  # GDAL passes GBK bytes through as "UTF-8" text: catch them here
                # integers with gaps stay integers (not floats): a sparse extra column comes back as it went out
                df = pa.Table.from_batches([batch]).to_pandas(integer_object_nulls=True)
            except UnicodeDecodeError as exc:
                raise _encoding_error(source.path) from exc
            except pa.ArrowInvalid as exc:
                if "utf8" in str(exc).lower():
                    raise _encoding_error(source.path) from exc
                raise DataError(f"无法读取文件：{exc}", f"cannot read the file: {exc}") from exc
            _refuse_nan(batch, offset, source.path)
            df.index = pd.RangeIndex(offset + 1, offset + 1 + len(df))
            geoms = _geometries(df.pop(geom_col), source.path) if geom_col in df.columns else None
            offset += len(df)
            yield gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, index=df.index), crs=meta["crs"])

    try:
        yield frames()
    finally:
        ctx.__exit__(None, None, None)


def _refuse_nan(batch: pa.RecordBatch, offset: int, path: str) -> None:
    """NaN is not a value: GDAL reads a GeoJSON ``NaN`` token (or a NaN stored in a GeoPackage) as one, and pandas
    would then take it for an empty cell. Only Arrow still tells the two apart, so it is caught here."""
    found: list[tuple[int, str]] = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if pa.types.is_floating(column.type):
            nan = pc.fill_null(pc.is_nan(column), False).to_numpy(zero_copy_only=False)
            found += [(int(r) + offset + 1, name) for r in np.flatnonzero(nan)[:20]]
    if found:
        zh = "；".join(f"第 {r} 行 {n}" for r, n in found[:20])
        en = "; ".join(f"row {r}: {n}" for r, n in found[:20])
        raise DataError(
            f"{Path(path).name} 中有 NaN（不是数字），未导入任何数据：{zh}",
            f"{Path(path).name} holds NaN (not a number) values; nothing was imported: {en}",
            rows=sorted({r for r, _ in found}),
        )


def read_table(path: Path, *, encoding: str | None = None, sheet: str | None = None) -> pd.DataFrame:
    """A survey sheet (CSV or XLSX) as text cells; the index is the spreadsheet row number (header = row 1)."""
    if not path.exists():
        raise DataError(f"文件不存在：{path}", f"file not found: {path}")
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise DataError(f"调查表须为 CSV 或 XLSX：{path.name}", f"a survey sheet must be CSV or XLSX: {path.name}")
    if suffix == ".csv":
        try:
            df = pd.read_csv(path, dtype=str, encoding=encoding or "utf-8-sig", keep_default_na=False)
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{path.name} 不是 UTF-8 编码（可能是 GBK），请加 --encoding GBK",
                f"{path.name} is not UTF-8 (perhaps GBK); pass --encoding GBK",
            ) from exc
    else:
        df = _read_xlsx(path, sheet=sheet)
    df.index = pd.RangeIndex(2, 2 + len(df))
    return df


def _read_xlsx(path: Path, *, sheet: str | None) -> pd.DataFrame:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise DataError(
            f"无法读取 Excel 文件 {path.name}：{exc}", f"cannot read the Excel file {path.name}: {exc}"
        ) from exc
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise DataError(f"{path.name} 是空表", f"{path.name} is empty")
        if any(h is None for h in header):
            _refuse_merged_header(path, sheet=sheet)
            blanks = [i + 1 for i, h in enumerate(header) if h is None]
            raise DataError(
                f"{path.name} 的表头有空白列（第 {blanks} 列）；表头须为单行且每列有名称",
                f"{path.name} has blank header cells (columns {blanks}); "
                "the header must be one row naming every column",
            )
        data = [["" if v is None else str(v) for v in row] for row in rows if any(v is not None for v in row)]
    finally:
        wb.close()
    return pd.DataFrame(data, columns=[str(h).strip() for h in header])


def _refuse_merged_header(path: Path, *, sheet: str | None) -> None:
    """Raise when the first row holds merged cells (a two-row header); only called once a blank header is found.

    The streaming (read-only) reader cannot see merged ranges, so the workbook is opened fully, on this error
    path only.
    """
    from openpyxl import load_workbook

    wb = load_workbook(path, data_only=True)
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        merged = [str(r) for r in ws.merged_cells.ranges if r.min_row == 1]
    finally:
        wb.close()
    if merged:
        raise DataError(
            f"{path.name} 的表头含有合并单元格（{', '.join(merged)}），请改为单行表头、每列一个名称",
            f"{path.name} has merged header cells ({', '.join(merged)}); use a single header row naming every column",
        )


def _geometries(wkb: pd.Series, path: str) -> np.ndarray:
    """Decode a batch's WKB; geometry GEOS cannot even build (an unclosed ring) is named by row, not a crash."""
    values = wkb.to_numpy()
    try:
        return shapely.from_wkb(values)
    except shapely.errors.GEOSException as exc:
        decoded = shapely.from_wkb(values, on_invalid="ignore")
        rows = wkb.index[pd.isna(decoded) & pd.notna(values)].tolist()
        raise DataError(
            f"{Path(path).name} 中的几何无法读取（{exc}），如面的边界未闭合",
            f"{Path(path).name} holds geometry that cannot be read ({exc}), e.g. a polygon ring that is not closed",
            rows=rows,
        ) from exc


def _encoding_error(path: str) -> DataError:
    return DataError(
        f"{Path(path).name} 的文字不是 UTF-8 编码（可能是 GBK），请加 --encoding GBK 或提供 .cpg 文件",
        f"{Path(path).name} has text that is not UTF-8 (perhaps GBK); pass --encoding GBK or add a .cpg file",
    )


def _zipped_shapefile(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise DataError(f"{path.name} 不是有效的 ZIP 文件", f"{path.name} is not a valid ZIP file") from exc
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > MAX_UNZIPPED_BYTES or total / packed > MAX_ZIP_RATIO:
        raise DataError(
            f"{path.name} 解压后过大（{total} 字节，压缩比 {total // packed}:1），拒绝读取",
            f"{path.name} expands too much ({total} bytes, ratio {total // packed}:1); refused",
        )
    shps = [i.filename for i in infos if i.filename.lower().endswith(".shp")]
    if len(shps) != 1:
        raise DataError(
            f"{path.name} 中应有且只有一个 .shp 文件（找到 {len(shps)} 个）",
            f"{path.name} should hold exactly one .shp file (found {len(shps)})",
        )
    return f"/vsizip/{path.resolve()}/{shps[0]}"
