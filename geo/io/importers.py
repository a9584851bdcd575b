"""``renewal import``: read a file, check every row, and write it in one transaction, or write nothing.

The file is streamed in batches (memory does not grow with its size); every batch is normalised, typed, checked
and written inside one transaction, and the first error found anywhere rolls the whole import back after the
remaining rows have been checked, so the message lists every bad row at once. Before any row, the headers are
sorted (:mod:`geo.io.headers`: near misses refused); after the last, the file as a whole is judged for the layer
(:mod:`geo.io.plausible`). ``--update`` hands each batch to :mod:`geo.io.upsert` instead of appending it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import yaml
from sqlalchemy import Connection, func, select
from sqlalchemy import update as sa_update
from sqlalchemy.exc import IntegrityError

from geo.crs import to_storage
from geo.errors import CRSError, DataError
from geo.io import derive, normalise
from geo.io._readers import read_table, vector_batches, vector_source
from geo.io.headers import SYSTEM_HEADERS, sort_headers
from geo.io.normalise import check_required, check_values, coerce, raise_row_errors, rename_columns
from geo.io.plausible import LayerCheck
from geo.io.upsert import Upsert
from geo.io.validate import check_geometries
from geo.model import DEFICIENCY_ITEMS, LAYERS, Layer
from geo.stores import Store

#: Imports larger than this show a progress bar.
PROGRESS_MIN_FEATURES = 2000
MAX_REPORTED_ERRORS = 200

Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import did: rows written, rows fixed, warnings, derived values, kept extras, upsert counts."""

    layer: str
    source: str
    rows: int = 0
    fixed_rows: list[object] = field(default_factory=list)
    assigned_buildings: int = 0
    unassigned_buildings: int = 0
    located: int = 0
    derived_communities: int = 0
    placeholders: int = 0
    extra_columns: list[str] = field(default_factory=list)
    updated: int = 0
    inserted: int = 0
    unchanged: int = 0
    deleted: int = 0
    overlaps: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)

    def summary(self, lang: str = "zh") -> str:
        upserted = self.updated or self.inserted or self.unchanged or self.deleted
        fixed = f"{len(self.fixed_rows)} geometries repaired (rows {self.fixed_rows[:20]})"
        lines = [
            (True, f"已从 {self.source} 导入 {self.rows} 条{LAYERS[self.layer].zh}",
             f"{self.rows} {self.layer} imported from {self.source}"),
            (upserted, f"更新 {self.updated} 条，新增 {self.inserted} 条，未变 {self.unchanged} 条，"
             f"删除 {self.deleted} 条",
             f"{self.updated} updated, {self.inserted} added, {self.unchanged} unchanged, {self.deleted} deleted"),
            (self.fixed_rows, f"修复几何 {len(self.fixed_rows)} 个（行 {self.fixed_rows[:20]}）", fixed),
            (self.assigned_buildings, f"按空间位置归属小区的楼栋 {self.assigned_buildings} 栋",
             f"{self.assigned_buildings} buildings assigned to a community by overlap"),
            (self.placeholders, f"{self.placeholders} 个小区没有名称，已用占位名",
             f"{self.placeholders} compounds without a name got a placeholder"),
            (self.extra_columns, f"作为附加属性保留的列：{'、'.join(self.extra_columns)}",
             f"kept as extra properties: {', '.join(self.extra_columns)}"),
        ]  # fmt: skip
        if lang == "en":
            return "; ".join(en for shown, _, en in lines if shown)
        return "；".join(zh for shown, zh, _ in lines if shown)


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


#: Names given to compounds that have none, so they show in every list and map (per output language).
PLACEHOLDER_NAMES = {"zh": "未命名小区（{id}）", "en": "Unnamed compound ({id})"}


def import_layer(
    store: Store,
    layer: str,
    path: Path,
    *,
    crs: str | int | None = None,
    encoding: str | None = None,
    source_layer: str | None = None,
    mapping: Mapping[str, str] | None = None,
    id_column: str | None = None,
    fix: bool = False,
    replace: bool = False,
    update: bool = False,
    delete_missing: bool = False,
    actor: str = "cli",
    lang: str = "zh",
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
        Extra header → column names (``extra`` keeps a header that looks like a known one as an extra property).
    id_column
        The file's key column when it is not ``id`` (``osm_id``, ``OBJECTID``, ``编号``).
    fix
        Repair invalid geometry with ``make_valid`` (reported) instead of refusing it.
    replace
        Replace the layer's rows instead of appending; versions continue above the old ones, so an editor holding
        an old version is refused rather than overwriting a different row.
    update
        Upsert by id (:mod:`geo.io.upsert`): changed rows get a new version and a history entry, new ids are
        inserted, other rows are left alone; a row whose ``version`` is older than the store's refuses the file.
    delete_missing
        With ``update``: delete the store's rows the file lacks (with history).
    actor
        Who imports (recorded in the history of ``update``).
    lang
        Language of the placeholder names given to unnamed compounds.
    progress
        Called with the total feature count; returns a callback taking (done, total).
    """
    if layer not in LAYERS:
        raise DataError(
            f"未知图层 {layer}（可用：{', '.join(LAYERS)}）",
            f"unknown layer {layer} (use one of {', '.join(LAYERS)})",
        )
    _check_modes(replace=replace, update=update, delete_missing=delete_missing)
    report = ImportReport(layer=layer, source=path.name)
    if layer == "survey":
        if delete_missing:
            raise DataError("调查表不支持 --delete-missing", "--delete-missing does not apply to the survey")
        _import_survey(
            store,
            path,
            encoding=encoding,
            mapping=mapping,
            id_column=id_column,
            replace=replace,
            update=update,
            report=report,
        )
        return report
    source = vector_source(path, layer=source_layer, encoding=encoding)
    tick = progress(source.features) if progress and source.features >= PROGRESS_MIN_FEATURES else None
    spec = LAYERS[layer]
    errors: list[tuple[object, str, str]] = []
    seen: set[str] = set()
    options = _BatchOptions(
        crs=crs, fix=fix, mapping=_with_id_column(mapping, id_column, layer), path=path, lang=lang
    )
    with store.begin() as conn:
        context = _Context.load(store, conn, layer)
        check = LayerCheck(layer, compounds=context.compounds)
        last_version = _max_version(store, conn, layer) if replace else 0
        if replace:
            store.delete_all(conn, layer)
        existing = store.all_ids(conn, layer)
        upsert = Upsert(store, conn, layer, actor, f"renewal import {path.name} --update") if update else None
        orphans = normalise.UnknownReferences(store.all_ids(conn, "communities")) if layer == "buildings" else None
        with store.deferred_spatial_index(conn, layer), vector_batches(source, batch_size=batch_size) as batches:
            for batch in batches:
                if report.rows == 0:
                    report.extra_columns = _first_headers(batch, spec, options, id_column)
                prepared = _prepare_batch(batch, layer, options=options, errors=errors, report=report)
                report.rows += len(batch)
                if prepared is None:
                    continue
                frame, versions, supplied = prepared
                _check_ids(frame, seen, errors)
                check.add(frame)
                if orphans is not None:  # a typo in community_id would silently drop the building from analyses
                    orphans.add(frame["community_id"])
                if layer == "buildings" and not errors:
                    _assign_buildings(frame, context, report)
                if layer == "communities" and not errors:
                    _locate_communities(frame, context, report)
                if upsert is not None:
                    upsert.apply(frame, versions, errors, supplied=supplied)
                elif not errors:
                    _write(store, conn, layer, frame, errors, existing)
                if tick:
                    tick(report.rows, source.features)
                if len(errors) >= MAX_REPORTED_ERRORS:
                    break
        if report.rows == 0 and not errors:
            raise DataError(f"{path.name} 中没有要素", f"{path.name} has no features")
        if upsert is not None and delete_missing and not errors:
            upsert.delete_missing(seen)
        raise_row_errors(errors, source=path.name)
        report.warnings += check.verdict(source=path.name)
        if orphans is not None and orphans.count:
            report.warnings.append(orphans.warning(column="community_id", layer_zh="小区", layer="communities"))
        if last_version:
            conn.execute(sa_update(store.tables[layer]).values(version=last_version + 1))
        if upsert is not None:
            report.updated, report.inserted = upsert.updated, upsert.inserted
            report.unchanged, report.deleted = upsert.unchanged, upsert.deleted
        elif spec.name in ("buildings", "communities"):
            report.derived_communities = derive_totals(store, conn)
        if report.placeholders:
            example = PLACEHOLDER_NAMES[lang].format(id="…")
            report.warnings.append(
                f"{report.placeholders} 个小区没有名称，已命名为“{example}”，请补充 / "
                f"{report.placeholders} compounds have no name; named '{example}', please fill them in"
            )
        if layer == "communities":
            report.overlaps = derive.overlapping_pairs(store.read_layer("communities", conn=conn))
            if len(report.overlaps):
                inside = int((report.overlaps["relation"] != "overlaps").sum())
                report.warnings.append(
                    f"{len(report.overlaps)} 对小区边界相互重叠，其中 {inside} 对为一个在另一个之内（已保留，请核实）"
                    f" / {len(report.overlaps)} pairs of communities overlap, {inside} of them one inside the other"
                    " (kept; please check)"
                )
    return report


def _check_modes(*, replace: bool, update: bool, delete_missing: bool) -> None:
    if replace and update:
        raise DataError(
            "--replace（整层替换）与 --update（按编号更新）不能同时使用",
            "--replace (replace the layer) and --update (upsert by id) cannot be combined",
        )
    if delete_missing and not update:
        raise DataError(
            "--delete-missing 只能与 --update 一起使用", "--delete-missing only works together with --update"
        )


def _with_id_column(mapping: Mapping[str, str] | None, id_column: str | None, layer: str) -> dict[str, str] | None:
    """The header mapping with ``--id-column`` added (the survey's key is ``community_id``)."""
    if id_column is None:
        return dict(mapping) if mapping else None
    return {**(mapping or {}), id_column: "community_id" if layer == "survey" else "id"}


def _first_headers(batch: pd.DataFrame, spec: Layer, options: _BatchOptions, id_column: str | None) -> list[str]:
    """Check the file's headers once: ``--id-column`` present, no near misses; return the kept extras."""
    headers = [str(c) for c in batch.columns if c != getattr(batch, "geometry", pd.Series()).name]
    if id_column is not None and id_column.strip().lower() not in {h.strip().lower() for h in headers}:
        raise DataError(
            f"{options.path.name} 中没有 --id-column 指定的列 {id_column}；现有列：{', '.join(headers)}",
            f"{options.path.name} has no column {id_column} (given with --id-column); it has: {', '.join(headers)}",
        )
    return sort_headers(headers, spec, mapping=options.mapping, source=options.path.name)


def _max_version(store: Store, conn: Connection, layer: str) -> int:
    table = store.tables[layer]
    return int(conn.execute(select(func.max(table.c.version))).scalar() or 0)


@dataclass
class _Context:
    """Layers already in the store that an import needs (communities for buildings, streets for communities)."""

    communities: gpd.GeoDataFrame | None = None
    streets: gpd.GeoDataFrame | None = None
    neighbourhoods: gpd.GeoDataFrame | None = None
    compounds: gpd.GeoDataFrame | None = None

    @classmethod
    def load(cls, store: Store, conn: Connection, layer: str) -> _Context:
        if layer == "buildings":
            return cls(communities=store.read_layer("communities", conn=conn))
        if layer == "communities":
            return cls(
                streets=store.read_layer("streets", conn=conn),
                neighbourhoods=store.read_layer("neighbourhoods", conn=conn),
                compounds=store.read_layer("communities", conn=conn)[["id", "geometry"]],
            )
        return cls()


@dataclass(frozen=True)
class _BatchOptions:
    crs: str | int | None
    fix: bool
    mapping: Mapping[str, str] | None
    path: Path
    lang: str


def _prepare_batch(
    batch: gpd.GeoDataFrame,
    layer: str,
    *,
    options: _BatchOptions,
    errors: list[tuple[object, str, str]],
    report: ImportReport,
) -> tuple[gpd.GeoDataFrame, pd.Series | None, set[str]] | None:
    """Typed, checked rows in storage CRS (bad rows left out, their errors added), the file's versions, and the
    columns the file supplies (layer columns and extra properties: an update leaves the others as stored)."""
    spec = LAYERS[layer]
    batch = rename_columns(batch, spec, mapping=options.mapping)
    batch, versions = _bookkeeping(batch, errors)
    supplied = {str(c) for c in batch.columns if c != batch.geometry.name}
    check_required([c for c in batch.columns if c != batch.geometry.name], spec, source=options.path.name)
    _check_encoding(batch, options.path)
    typed, bad = coerce(batch, spec)
    errors += bad
    if layer == "communities":
        report.placeholders += _name_placeholders(typed, lang=options.lang)
    errors += check_values(typed, spec)
    gdf = gpd.GeoDataFrame(typed, geometry=batch.geometry.values, crs=batch.crs)
    gdf, bad_geom, fixed = check_geometries(gdf, kind=spec.geometry, fix=options.fix)
    errors += bad_geom
    report.fixed_rows += fixed
    bad_rows = {r for r, _, _ in bad_geom}
    checkable = gdf.loc[[r for r in gdf.index if r not in bad_rows]]
    try:
        stored = to_storage(checkable, crs=options.crs, id_column=None) if len(checkable) else checkable
    except CRSError as exc:
        rows = [_row_number(checkable, r) for r in exc.rows] if exc.rows else []
        errors += [(r, exc.zh, exc.en) for r in rows] or [(0, exc.zh, exc.en)]
        return None
    return stored, versions, supplied


def _bookkeeping(
    batch: gpd.GeoDataFrame, errors: list[tuple[object, str, str]]
) -> tuple[gpd.GeoDataFrame, pd.Series | None]:
    """Take out the columns an export adds for bookkeeping: ``version`` (returned: the version each row was
    exported at), ``fid``, ``retired``, ``merged_into``; and unpack an ``extra`` column of JSON objects (files
    exported before extras became columns) into columns of their own, so nothing comes back nested."""
    found = {
        c: SYSTEM_HEADERS[str(c).strip().lower()] for c in batch.columns if str(c).strip().lower() in SYSTEM_HEADERS
    }
    versions = None
    for column, kind in found.items():
        values = batch.pop(column)
        if kind == "version":
            versions = pd.to_numeric(values.replace("", None), errors="coerce")
            bad = values.notna() & (values.astype(str).str.strip() != "") & (versions.isna() | (versions % 1 != 0))
            errors += [(r, f"版本号“{v}”无效", f"invalid version {v!r}") for r, v in values[bad].items()]
        elif kind == "extra":
            nested = pd.DataFrame(values.map(_unnest).tolist(), index=batch.index)
            for key in nested.columns:
                if key not in batch.columns and str(key).strip().lower() not in SYSTEM_HEADERS:
                    batch[key] = nested[key]
    return batch, versions


def _unnest(value: object) -> dict[str, object]:
    """An exported ``extra`` cell (JSON text, or an object) as a flat dict; bookkeeping nested inside is dropped."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    if not isinstance(value, dict):
        return {}
    flat = {k: v for k, v in value.items() if str(k).lower() not in SYSTEM_HEADERS}
    return {**_unnest(value.get("extra")), **flat}


def _name_placeholders(typed: pd.DataFrame, *, lang: str) -> int:
    """Name the compounds that have none ``未命名小区（<id>）``, visibly; returns how many."""
    missing = typed["name"].isna() & typed["id"].notna()
    template = PLACEHOLDER_NAMES["en" if lang == "en" else "zh"]
    typed.loc[missing, "name"] = [template.format(id=i) for i in typed.loc[missing, "id"]]
    return int(missing.sum())


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
                f"编号 {v} 已存在于数据库（更新已有要素请加 --update，整层替换请加 --replace）",
                f"id {v} already exists in the store (use --update to update existing rows, --replace to replace "
                "the layer)",
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
    id_column: str | None,
    replace: bool,
    update: bool,
    report: ImportReport,
) -> None:
    spec = LAYERS["survey"]
    table = read_table(path, encoding=encoding)
    options = _BatchOptions(
        crs=None, fix=False, mapping=_with_id_column(mapping, id_column, "survey"), path=path, lang="zh"
    )
    report.extra_columns = _first_headers(table, spec, options, id_column)
    raw = rename_columns(table, spec, mapping=options.mapping)
    raw, _ = _bookkeeping(raw, [])
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
        elif update:
            survey = store.tables["survey"]
            conn.execute(survey.delete().where(survey.c.community_id.in_(ids.tolist())))
        else:
            clash = store.existing_ids(conn, "survey", ids.tolist())
            if clash:
                raise DataError(
                    f"调查表中的小区已有记录：{clash[:10]}（按小区更新请加 --update，整表替换请加 --replace）",
                    f"survey rows already exist for: {clash[:10]} (use --update to update them, --replace to replace "
                    "the survey)",
                )
        report.rows = store.write_table(conn, "survey", typed.drop(columns=["name", "street"]))


def _item_codes(value: object) -> list[str]:
    """``"供水、road"`` → ``["water_supply", "road"]``: codes or Chinese labels, split on , or 、."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    by_label = {zh: code for code, (zh, _en) in DEFICIENCY_ITEMS.items()}
    parts = [p.strip() for p in str(value).replace("，", ",").replace("、", ",").split(",")]
    return [by_label.get(p, p) for p in parts if p]
