"""``renewal import``: read a file, check every row, and write it in one transaction, or write nothing.

The file is streamed in batches (memory does not grow with its size); every batch is normalised, typed, checked
and written inside one transaction, and the first error found anywhere rolls the whole import back after the
remaining rows have been checked, so the message lists every bad row at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import yaml
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from geo.crs import to_storage
from geo.errors import CRSError, DataError
from geo.io import derive, normalise
from geo.io._readers import read_table, vector_batches, vector_source
from geo.io.normalise import check_required, check_values, coerce, raise_row_errors, rename_columns
from geo.io.validate import check_geometries
from geo.model import DEFICIENCY_ITEMS, LAYERS
from geo.stores import Store

#: Imports larger than this show a progress bar.
PROGRESS_MIN_FEATURES = 2000
MAX_REPORTED_ERRORS = 200

Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import did: rows written, rows fixed, warnings, derived values."""

    layer: str
    source: str
    rows: int = 0
    fixed_rows: list[object] = field(default_factory=list)
    assigned_buildings: int = 0
    unassigned_buildings: int = 0
    located: int = 0
    derived_communities: int = 0
    overlaps: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)

    def summary(self, lang: str = "zh") -> str:
        if lang == "en":
            parts = [f"{self.rows} {self.layer} imported from {self.source}"]
            if self.fixed_rows:
                parts.append(f"{len(self.fixed_rows)} geometries repaired (rows {self.fixed_rows[:20]})")
            if self.assigned_buildings:
                parts.append(f"{self.assigned_buildings} buildings assigned to a community by overlap")
        else:
            parts = [f"已从 {self.source} 导入 {self.rows} 条{LAYERS[self.layer].zh}"]
            if self.fixed_rows:
                parts.append(f"修复几何 {len(self.fixed_rows)} 个（行 {self.fixed_rows[:20]}）")
            if self.assigned_buildings:
                parts.append(f"按空间位置归属小区的楼栋 {self.assigned_buildings} 栋")
        return "；".join(parts) if lang != "en" else "; ".join(parts)


def load_mapping(path: Path | None) -> dict[str, str] | None:
    """A ``--mapping`` YAML file: ``{source header: column name}``."""
    if path is None:
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"无法读取映射文件 {path}：{exc}", f"cannot read the mapping file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise DataError(f"映射文件 {path} 应为“原列名: 字段名”的字典", f"mapping file {path} must map header: column")
    return {str(k): str(v) for k, v in data.items()}


def import_layer(
    store: Store,
    layer: str,
    path: Path,
    *,
    crs: str | int | None = None,
    encoding: str | None = None,
    source_layer: str | None = None,
    mapping: Mapping[str, str] | None = None,
    fix: bool = False,
    replace: bool = False,
    batch_size: int = 20_000,
    progress: Callable[[int], Progress] | None = None,
) -> ImportReport:
    """Import ``path`` into ``layer``, all or nothing.

    Parameters
    ----------
    store
        Target store.
    layer
        One of the layers in :data:`geo.model.LAYERS`.
    path
        GeoJSON, GeoPackage, Shapefile (plain or zipped), FlatGeobuf; CSV/XLSX for ``survey``.
    crs
        Overrides or supplies the CRS (EPSG code, ``gcj02``, ``bd09``).
    encoding
        Text encoding of a Shapefile's .dbf or a CSV (e.g. ``GBK``) when the file does not say.
    source_layer
        Layer inside a GeoPackage holding several.
    mapping
        Extra header → column names.
    fix
        Repair invalid geometry with ``make_valid`` (reported) instead of refusing it.
    replace
        Replace the layer's rows instead of appending.
    progress
        Called with the total feature count; returns a callback taking (done, total).
    """
    if layer not in LAYERS:
        raise DataError(
            f"未知图层 {layer}（可用：{', '.join(LAYERS)}）",
            f"unknown layer {layer} (use one of {', '.join(LAYERS)})",
        )
    report = ImportReport(layer=layer, source=path.name)
    if layer == "survey":
        _import_survey(store, path, encoding=encoding, mapping=mapping, replace=replace, report=report)
        return report
    source = vector_source(path, layer=source_layer, encoding=encoding)
    tick = progress(source.features) if progress and source.features >= PROGRESS_MIN_FEATURES else None
    spec = LAYERS[layer]
    errors: list[tuple[object, str, str]] = []
    seen: set[str] = set()
    with store.begin() as conn:
        if replace:
            store.delete_all(conn, layer)
        context = _Context.load(store, conn, layer)
        existing = store.all_ids(conn, layer)
        orphans = normalise.UnknownReferences(store.all_ids(conn, "communities")) if layer == "buildings" else None
        with store.deferred_spatial_index(conn, layer), vector_batches(source, batch_size=batch_size) as batches:
            for batch in batches:
                frame = _prepare_batch(
                    batch, layer, crs=crs, fix=fix, mapping=mapping, path=path, errors=errors, report=report
                )
                if frame is None:
                    continue
                _check_ids(frame, seen, errors)
                if orphans is not None:  # a typo in community_id would silently drop the building from analyses
                    orphans.add(frame["community_id"])
                if not errors:
                    if layer == "buildings":
                        _assign_buildings(frame, context, report)
                    if layer == "communities":
                        _locate_communities(frame, context, report)
                    _write(store, conn, layer, frame, errors, existing)
                report.rows += len(frame)
                if tick:
                    tick(report.rows, source.features)
                if len(errors) >= MAX_REPORTED_ERRORS:
                    break
        if report.rows == 0 and not errors:
            raise DataError(f"{path.name} 中没有要素", f"{path.name} has no features")
        raise_row_errors(errors, source=path.name)
        if orphans is not None and orphans.count:
            report.warnings.append(orphans.warning(column="community_id", layer_zh="小区", layer="communities"))
        if spec.name in ("buildings", "communities"):
            report.derived_communities = derive_totals(store, conn)
        if layer == "communities":
            report.overlaps = derive.overlapping_pairs(store.read_layer("communities", conn=conn))
            if len(report.overlaps):
                report.warnings.append(
                    f"{len(report.overlaps)} 对小区边界相互重叠（已保留，请核实）"
                    f" / {len(report.overlaps)} pairs of communities overlap (kept; please check)"
                )
    return report


@dataclass
class _Context:
    """Layers already in the store that an import needs (communities for buildings, streets for communities)."""

    communities: gpd.GeoDataFrame | None = None
    streets: gpd.GeoDataFrame | None = None
    neighbourhoods: gpd.GeoDataFrame | None = None

    @classmethod
    def load(cls, store: Store, conn: Connection, layer: str) -> _Context:
        if layer == "buildings":
            return cls(communities=store.read_layer("communities", conn=conn))
        if layer == "communities":
            return cls(
                streets=store.read_layer("streets", conn=conn),
                neighbourhoods=store.read_layer("neighbourhoods", conn=conn),
            )
        return cls()


def _prepare_batch(
    batch: gpd.GeoDataFrame,
    layer: str,
    *,
    crs: str | int | None,
    fix: bool,
    mapping: Mapping[str, str] | None,
    path: Path,
    errors: list[tuple[object, str, str]],
    report: ImportReport,
) -> gpd.GeoDataFrame | None:
    spec = LAYERS[layer]
    batch = rename_columns(batch, spec, mapping=mapping)
    check_required([c for c in batch.columns if c != batch.geometry.name], spec, source=path.name)
    _check_encoding(batch, path)
    typed, bad = coerce(batch, spec)
    errors += bad
    errors += check_values(typed, spec)
    gdf = gpd.GeoDataFrame(typed, geometry=batch.geometry.values, crs=batch.crs)
    gdf, bad_geom, fixed = check_geometries(gdf, kind=spec.geometry, fix=fix)
    errors += bad_geom
    report.fixed_rows += fixed
    bad_rows = {r for r, _, _ in bad_geom}
    checkable = gdf.loc[[r for r in gdf.index if r not in bad_rows]]
    try:
        stored = to_storage(checkable, crs=crs, id_column=None) if len(checkable) else checkable
    except CRSError as exc:
        rows = [_row_number(checkable, r) for r in exc.rows] if exc.rows else []
        errors += [(r, exc.zh, exc.en) for r in rows] or [(0, exc.zh, exc.en)]
        return None
    return stored


def _row_number(frame: gpd.GeoDataFrame, label: object) -> object:
    """CRS errors number rows from 1 within the frame; turn that into the file's row number."""
    try:
        return frame.index[int(label) - 1]  # type: ignore[call-overload]
    except (ValueError, IndexError, TypeError):
        return label


def _check_encoding(batch: pd.DataFrame, path: Path) -> None:
    """Chinese text read with the wrong code page comes out as Latin-1 mojibake: say so instead of importing it."""
    for col in batch.columns:
        if batch[col].dtype != object or col == getattr(batch, "geometry", pd.Series()).name:
            continue
        sample = batch[col].dropna().astype(str).head(200)
        for value in sample:
            if any("\u0080" <= ch <= "\u00ff" for ch in value):
                try:
                    value.encode("latin-1").decode("gbk")
                except (UnicodeEncodeError, UnicodeDecodeError):
                    continue
                raise DataError(
                    f"{path.name} 的文字编码似乎是 GBK（列 {col} 出现乱码“{value[:20]}”），"
                    "请加 --encoding GBK 或提供 .cpg 文件",
                    f"{path.name} looks GBK-encoded (column {col} reads as {value[:20]!r}); pass --encoding GBK "
                    "or add a .cpg file",
                )


def _check_ids(frame: gpd.GeoDataFrame, seen: set[str], errors: list[tuple[object, str, str]]) -> None:
    ids = frame["id"]
    dup = ids.notna() & (ids.duplicated(keep="first") | ids.isin(seen))
    errors += [(r, f"编号重复：{v}", f"duplicate id: {v}") for r, v in ids[dup].items()]
    seen.update(ids.dropna())


def _write(
    store: Store,
    conn: Connection,
    layer: str,
    frame: gpd.GeoDataFrame,
    errors: list[tuple[object, str, str]],
    existing: set[str],
) -> None:
    clash = frame["id"].isin(existing)
    if clash.any():
        errors += [
            (
                r,
                f"编号 {v} 已存在于数据库（可加 --replace 整层替换）",
                f"id {v} already exists in the store (use --replace to replace the layer)",
            )
            for r, v in frame.loc[clash, "id"].items()
        ]
        return
    try:
        store.write_layer(conn, layer, frame)
    except IntegrityError as exc:  # a race with another writer; the transaction is rolled back by the caller
        errors.append((frame.index[0], f"写入冲突：{exc.orig}", f"write conflict: {exc.orig}"))


def _assign_buildings(frame: gpd.GeoDataFrame, context: _Context, report: ImportReport) -> None:
    missing = frame["community_id"].isna()
    if not missing.any() or context.communities is None or context.communities.empty:
        report.unassigned_buildings += int(missing.sum())
        return
    found = derive.assign_by_overlap(frame[missing], areas=context.communities)
    frame.loc[missing, "community_id"] = found
    report.assigned_buildings += int(found.notna().sum())
    report.unassigned_buildings += int(found.isna().sum())


def _locate_communities(frame: gpd.GeoDataFrame, context: _Context, report: ImportReport) -> None:
    for column, areas in (("street", context.streets), ("neighbourhood", context.neighbourhoods)):
        missing = frame[column].isna()
        if missing.any() and areas is not None and not areas.empty:
            found = derive.locate_in(frame[missing], areas=areas, column="name")
            frame.loc[missing, column] = found
            report.located += int(found.notna().sum())


def derive_totals(store: Store, conn: Connection) -> int:
    """Fill communities' missing households, floor area and year built from their buildings."""
    buildings = store.read_attributes(
        "buildings", ["community_id", "households", "floor_area_m2", "year_built"], conn=conn
    )
    communities = store.read_attributes("communities", ["id", "households", "floor_area_m2", "year_built"], conn=conn)
    if buildings.empty or communities.empty:
        return 0
    totals = derive.community_totals(buildings)
    merged = communities[["id", "households", "floor_area_m2", "year_built"]].merge(
        totals, left_on="id", right_index=True, how="inner", suffixes=("", "_b")
    )
    changed = pd.Series(False, index=merged.index)
    for col in ("households", "floor_area_m2", "year_built"):
        fill = merged[col].isna() & merged[f"{col}_b"].notna()
        merged.loc[fill, col] = merged.loc[fill, f"{col}_b"]
        changed |= fill
    updates = merged.loc[changed, ["id", "households", "floor_area_m2", "year_built"]]
    return store.update_columns(conn, "communities", updates)


def _import_survey(
    store: Store,
    path: Path,
    *,
    encoding: str | None,
    mapping: Mapping[str, str] | None,
    replace: bool,
    report: ImportReport,
) -> None:
    spec = LAYERS["survey"]
    raw = rename_columns(read_table(path, encoding=encoding), spec, mapping=mapping)
    check_required(list(raw.columns), spec, source=path.name)
    typed, errors = coerce(raw, spec)
    with store.begin() as conn:
        communities = store.read_layer("communities", conn=conn)
        ids = typed["community_id"].copy()
        if "community_id" not in raw.columns or ids.isna().any():
            key = communities.set_index(["name", "street"])["id"]
            by_name = pd.Series(
                [key.get((n, s)) for n, s in zip(typed["name"], typed["street"], strict=True)], index=typed.index
            )
            ids = ids.fillna(by_name)
        known = set(communities["id"])
        for row, cid in ids.items():
            if cid is None or pd.isna(cid):
                errors.append(
                    (
                        row,
                        "找不到对应的小区（需 community_id 或 小区名称+所属街道）",
                        "no matching community (give community_id, or name and street)",
                    )
                )
            elif cid not in known:
                errors.append((row, f"小区编号 {cid} 不存在", f"community id {cid} does not exist"))
        dup = ids.notna() & ids.duplicated(keep="first")
        errors += [(r, f"小区 {ids[r]} 重复出现", f"community {ids[r]} appears twice") for r in ids.index[dup]]
        renovated = typed["already_renovated"].map(_item_codes)
        for row, codes in renovated.items():
            unknown = [c for c in codes if c not in DEFICIENCY_ITEMS]
            if unknown:
                errors.append(
                    (
                        row,
                        f"已改造项目含未知项目：{'、'.join(unknown)}",
                        f"already_renovated has unknown item(s): {', '.join(unknown)}",
                    )
                )
        support = typed["support_households"]
        hh = ids.map(communities.set_index("id")["households"])
        over = support.notna() & hh.notna() & (support > hh)
        errors += [
            (
                r,
                f"支持户数 {support[r]} 超过总户数 {hh[r]}",
                f"support_households {support[r]} exceeds households {hh[r]}",
            )
            for r in support.index[over.fillna(False)]
        ]
        raise_row_errors(errors, source=path.name)
        typed["community_id"] = ids
        typed["already_renovated"] = renovated.map(lambda codes: "、".join(codes) if codes else None)
        if replace:
            store.delete_all(conn, "survey")
        else:
            clash = store.existing_ids(conn, "survey", ids.tolist())
            if clash:
                raise DataError(
                    f"调查表中的小区已有记录：{clash[:10]}（可加 --replace）",
                    f"survey rows already exist for: {clash[:10]} (use --replace)",
                )
        report.rows = store.write_table(conn, "survey", typed.drop(columns=["name", "street"]))


def _item_codes(value: object) -> list[str]:
    """``"供水、road"`` → ``["water_supply", "road"]``: codes or Chinese labels, split on , or 、."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    by_label = {zh: code for code, (zh, _en) in DEFICIENCY_ITEMS.items()}
    parts = [p.strip() for p in str(value).replace("，", ",").replace("、", ",").split(",")]
    return [by_label.get(p, p) for p in parts if p]
