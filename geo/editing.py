"""Editing single features with versions and history: create, replace, patch, delete, merge, split, undo.

Every write checks the version the editor last saw in the same transaction as the change
(``UPDATE ... WHERE version = :seen``), so two people saving the same community can never silently overwrite each
other: the second one gets `StaleVersionError` and must reload. Every change is recorded in ``edits`` with who, when,
and the feature before and after as GeoJSON in storage coordinates (EPSG:4490, longitude first, full precision),
which is what makes an exact undo possible.

Every check-then-write is atomic on PostGIS too (READ COMMITTED): the rows a write depends on are locked first
(``SELECT ... FOR UPDATE``, in ``fid`` order so two writers never wait on each other in a circle) and the write
itself repeats the version it checked. A key another writer took first is a `ConflictError` (409), never a
database error. Each write says which streets it touched in the store's change log.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.ops
from scipy.sparse.csgraph import minimum_spanning_tree
from shapely.geometry import mapping, shape
from sqlalchemy import Connection, delete, func, null, select, update
from sqlalchemy.exc import IntegrityError

from geo.crs import metric_crs, parse_crs, to_storage
from geo.errors import ConflictError, DataError, NotFoundError
from geo.io.derive import overlap_rule
from geo.io.normalise import check_values, coerce
from geo.io.validate import check_geometries
from geo.model import LAYERS, STORAGE_EPSG
from geo.stores import Store
from geo.stores.features import lat_first

#: Layers a planner may edit through the API.
EDITABLE_LAYERS: tuple[str, ...] = ("communities", "streets", "neighbourhoods", "zones")
#: Vertices one edited feature may have: a hand-drawn compound has tens, a traced one a few thousand.
MAX_EDIT_VERTICES = 20_000
#: Walls and lanes narrower than twice this (metres) between merged communities are closed.
MERGE_CLOSING_M = 3.0
#: Communities further apart than this (metres) are not merged: the gap the policy profiles use to call two
#: compounds neighbours for 拆墙连片 (``merging.gap_m``, 15 m in every shipped profile).
MERGE_GAP_M = 15.0

_SYSTEM_COLUMNS = ("fid", "version", "retired", "merged_into", "extra")
_SUMMED = ("households", "low_income_households", "floor_area_m2")


class StaleVersionError(ConflictError):
    """The feature changed since the editor read it (HTTP 412): reload, then edit again."""

    def __init__(self, layer: str, fid: int, seen: int, current: int) -> None:
        super().__init__(
            f"{LAYERS[layer].zh} {fid} 已被他人修改（您编辑的是版本 {seen}，当前为版本 {current}），"
            "请刷新后重新编辑。",
            f"{layer} {fid} was changed by someone else (you edited version {seen}, it is now version {current}); "
            "reload and edit again.",
        )
        self.current = current


class OverlapError(ConflictError):
    """A community would overlap others beyond the tolerance (HTTP 409); ``overlaps`` lists them with m²."""

    def __init__(self, overlaps: list[dict[str, Any]]) -> None:
        shown_zh = "、".join(f"{o['id']}（{o['overlap_m2']:.1f} 平方米）" for o in overlaps)
        shown_en = ", ".join(f"{o['id']} ({o['overlap_m2']:.1f} m²)" for o in overlaps)
        super().__init__(
            f"小区范围与其他小区重叠：{shown_zh}。请修改范围，或由规划人员填写理由后强制保存。",
            f"The community overlaps others: {shown_en}. Adjust the outline, or force it as a planner with a reason.",
        )
        self.overlaps = overlaps


@dataclass(frozen=True)
class Saved:
    """A feature as written: its keys, new version and snapshot (GeoJSON Feature in storage coordinates)."""

    layer: str
    fid: int
    id: str
    version: int
    feature: dict[str, Any]


@dataclass(frozen=True)
class MergeResult:
    """A merge: the group that links its edits (undo key), the new community and the retired members."""

    group_id: str
    merged: Saved
    members: list[Saved] = field(default_factory=list)


# -- geometry and properties in ---------------------------------------------------------------------------------


def geometry_in(geometry: Mapping[str, Any] | None, *, crs: str = "CRS84", kind: str = "polygon") -> Any:
    """A GeoJSON geometry from a client, checked and brought to storage (EPSG:4490, 2D).

    ``crs`` is the CRS the coordinates are in (OGC ``Content-Crs``); EPSG:4326/4490 and the Gauss–Krüger zones put
    northing/latitude first as their definitions say, CRS84 (the GeoJSON default) longitude first.

    Raises
    ------
    DataError
        Not a GeoJSON geometry, empty, invalid (self-intersection and the like, with the place), of the wrong type,
        too many vertices, or (`CRSError`) an unknown CRS or coordinates outside China.
    """
    if not isinstance(geometry, Mapping) or "type" not in geometry:
        raise DataError("缺少几何（geometry）或格式不是 GeoJSON", "missing geometry, or not a GeoJSON geometry")
    refuse_crs_member(geometry)
    open_rings = _open_rings(geometry)
    if open_rings:
        raise DataError(
            f"多边形的环未闭合（首末点不同）：第 {'、'.join(map(str, open_rings))} 个环；"
            "GeoJSON 要求闭合，请补上终点",
            f"a polygon ring is not closed (its first and last points differ): ring(s) "
            f"{', '.join(map(str, open_rings))}; GeoJSON rings must end where they start",
        )
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, shapely.errors.ShapelyError) as exc:
        raise DataError(f"几何无法读取：{exc}", f"cannot read the geometry: {exc}") from exc
    count = int(shapely.get_num_coordinates(geom))
    if count > MAX_EDIT_VERTICES:
        raise DataError(
            f"几何顶点过多：{count} 个（上限 {MAX_EDIT_VERTICES}）",
            f"too many vertices: {count} (at most {MAX_EDIT_VERTICES})",
        )
    spec = parse_crs(crs)
    if spec.crs is not None and lat_first(spec.crs):
        geom = shapely.transform(geom, lambda xy: xy[:, ::-1])
    if not geom.is_empty and shapely.get_type_id(geom) in (3, 6) and not geom.is_valid:
        why = shapely.is_valid_reason(geom)
        raise DataError(
            f"几何无效：{why}（如边线自相交），请修改后再保存", f"invalid geometry: {why}; fix it and save again"
        )
    frame = gpd.GeoDataFrame(geometry=[geom], crs=None)
    checked, errors, _ = check_geometries(frame, kind=kind)
    if errors:
        raise DataError(
            "几何有误：" + "；".join(e[1] for e in errors), "bad geometry: " + "; ".join(e[2] for e in errors)
        )
    source = spec.crs if spec.crs is not None else crs
    stored = to_storage(checked.set_crs(None, allow_override=True), crs=source)
    return stored.geometry.iloc[0]


def refuse_crs_member(obj: Mapping[str, Any]) -> None:
    """Refuse a GeoJSON ``crs`` member (GeoJSON 2008): its coordinates would silently be read as CRS84.

    RFC 7946 dropped the member; OGC API – Features names the CRS of a request body in the ``Content-Crs`` header.
    """
    if "crs" in obj:
        raise DataError(
            "不支持 GeoJSON 的 crs 成员：请以 CRS84 经纬度提交，或在请求头 Content-Crs 中指明坐标系",
            "the GeoJSON 'crs' member is not supported: send CRS84 coordinates, or name the CRS in the "
            "Content-Crs header",
        )


def _open_rings(geometry: Mapping[str, Any]) -> list[int]:
    """Numbers (1-based, over all polygons) of the rings whose last position is not their first.

    shapely would close such a ring silently; the importers refuse it (GEOS cannot read it), and so does the API.
    Malformed coordinates are left to `shapely.geometry.shape` to report.
    """
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    rings = [ring for poly in polygons if isinstance(poly, list) for ring in poly]
    return [
        i
        for i, ring in enumerate(rings, 1)
        if isinstance(ring, list) and len(ring) >= 2 and isinstance(ring[0], list) and ring[0] != ring[-1]
    ]


def _properties(layer: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Typed layer columns plus ``extra`` (other properties) from a client's ``properties`` object."""
    spec = LAYERS[layer]
    clean = {k: v for k, v in values.items() if k not in _SYSTEM_COLUMNS}
    nested = values.get("extra")
    frame = pd.DataFrame([{k: (None if isinstance(v, (dict, list)) else v) for k, v in clean.items()}])
    typed, errors = coerce(frame, spec)
    errors += check_values(typed, spec)
    if errors:
        raise DataError(
            "属性有误：" + "；".join(e[1] for e in errors), "bad properties: " + "; ".join(e[2] for e in errors)
        )
    record = typed.astype(object).where(typed.notna(), None).iloc[0].to_dict()
    extra = {k: v for k, v in clean.items() if k not in spec.column_names}
    if isinstance(nested, Mapping):
        extra = {**nested, **extra}
    record["extra"] = extra or None
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in record.items()}


# -- snapshots ----------------------------------------------------------------------------------------------------


def _snapshot(row: Mapping[str, Any], geom: Any, layer: str) -> dict[str, Any]:
    props = {c: row[c] for c in (*LAYERS[layer].column_names, "extra", "version") if c in row}
    if layer == "communities":
        props |= {"retired": bool(row["retired"]), "merged_into": row["merged_into"]}
    props = {k: (None if v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v) for k, v in props.items()}
    props = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in props.items()}
    return {"type": "Feature", "id": int(row["fid"]), "properties": props, "geometry": mapping(geom)}


def _lock(store: Store, conn: Connection, layer: str, *, fids: Sequence[int] = (), ids: Sequence[str] = ()) -> None:
    """Lock rows for the rest of the transaction (PostGIS ``FOR UPDATE``, in ``fid`` order; SQLite's one writer
    already excludes everyone), so the versions read next stay true until the write."""
    table = store.tables[layer]
    cond = table.c.fid.in_(list(fids)) | table.c.id.in_(list(ids))
    conn.execute(select(table.c.fid).where(cond).order_by(table.c.fid).with_for_update()).all()


def _read(store: Store, conn: Connection, layer: str, fid: int) -> tuple[dict[str, Any], Any]:
    gdf = store.read_layer(layer, filters={"fid": fid}, include_retired=True, conn=conn)
    if gdf.empty:
        raise NotFoundError(f"没有这个{LAYERS[layer].zh}：{fid}", f"no such {layer} feature: {fid}")
    return gdf.drop(columns="geometry").iloc[0].to_dict(), gdf.geometry.iloc[0]


def read_feature(store: Store, *, layer: str, fid: int) -> dict[str, Any]:
    """One feature's snapshot (retired ones too), with its current ``version``."""
    check_editable(layer)
    with store.engine.connect() as conn:
        row, geom = _read(store, conn, layer, fid)
    return _snapshot(row, geom, layer)


def _record(
    store: Store,
    conn: Connection,
    *,
    layer: str,
    feature_id: str,
    action: str,
    actor: str,
    version: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None = None,
    group_id: str | None = None,
) -> None:
    conn.execute(
        store.tables["edits"]
        .insert()
        .values(
            layer=layer,
            feature_id=feature_id,
            action=action,
            actor=actor,
            version=version,
            before=before,
            after=after,
            reason=reason,
            group_id=group_id,
        )
    )


def check_editable(layer: str) -> None:
    """Refuse (404) a layer that is not edited through the API (derived units, imported buildings and roads)."""
    if layer not in EDITABLE_LAYERS:
        raise NotFoundError(f"图层 {layer} 不可编辑", f"layer {layer} cannot be edited")


# -- overlaps -----------------------------------------------------------------------------------------------------


def community_overlaps(
    store: Store, conn: Connection, geom: Any, *, exclude_fids: Sequence[int] = ()
) -> list[dict[str, Any]]:
    """Live communities that ``geom`` (EPSG:4490) overlaps by more than the tolerance, with the overlap in m²."""
    others = store.read_layer("communities", bbox=tuple(shapely.bounds(geom)), conn=conn)
    others = others[~others["fid"].isin(list(exclude_fids))]
    if others.empty:
        return []
    metric = metric_crs(gpd.GeoSeries([geom], crs=STORAGE_EPSG))
    mine = gpd.GeoSeries([geom], crs=STORAGE_EPSG).to_crs(metric).iloc[0]
    theirs = others.geometry.to_crs(metric).values
    shared, too_much, _ = overlap_rule(theirs, mine)
    return [
        {"fid": int(f), "id": i, "overlap_m2": round(float(a), 1)}
        for f, i, a in zip(others["fid"][too_much], others["id"][too_much], shared[too_much], strict=True)
    ]


def _guard_overlap(
    store: Store, conn: Connection, layer: str, geom: Any, *, exclude: Sequence[int], force: bool, reason: str | None
) -> None:
    if layer != "communities":
        return
    overlaps = community_overlaps(store, conn, geom, exclude_fids=exclude)
    if not overlaps:
        return
    if not force:
        raise OverlapError(overlaps)
    if not (reason or "").strip():
        raise DataError("强制保存重叠的小区必须填写理由", "forcing an overlapping community needs a reason")


# -- single-feature writes ---------------------------------------------------------------------------------------


def create_feature(
    store: Store,
    *,
    layer: str,
    properties: Mapping[str, Any],
    geometry: Any,
    actor: str,
    force: bool = False,
    reason: str | None = None,
) -> Saved:
    """Insert a new feature (``geometry`` already from `geometry_in`); ``id`` is generated when not given."""
    check_editable(layer)
    given = dict(properties)
    if not given.get("id"):
        given["id"] = f"{layer[0].upper()}-{uuid.uuid4().hex[:10]}"
    props = _properties(layer, given)
    with store.begin() as conn:
        if store.existing_ids(conn, layer, [props["id"]]):
            raise _id_taken(props["id"])
        _guard_overlap(store, conn, layer, geometry, exclude=(), force=force, reason=reason)
        saved = _insert(store, conn, layer, props, geometry)
        _note_streets(store, conn, layer, saved.feature)
        _record(
            store,
            conn,
            layer=layer,
            feature_id=saved.id,
            action="create",
            actor=actor,
            version=1,
            before=None,
            after=saved.feature,
            reason=reason,
        )
    return saved


def _id_taken(value: str) -> ConflictError:
    return ConflictError(f"编号已存在：{value}", f"id already exists: {value}")


def _integrity_errors(store: Store) -> tuple[type[Exception], ...]:
    """A unique key taken: SQLAlchemy's error, or the driver's own from PostGIS's COPY on the raw cursor."""
    return (IntegrityError, store.engine.dialect.loaded_dbapi.IntegrityError)


#: The property of each layer's features that names their street, for the change log.
_STREET_OF = {"communities": "street", "neighbourhoods": "street", "streets": "name"}


def _note_streets(store: Store, conn: Connection, layer: str, *snapshots: Mapping[str, Any] | None) -> None:
    """Tell the change log which streets a write touched: the street before and after (a move touches two).

    Zones reach across streets, so a zone edit touches any street.
    """
    key = _STREET_OF.get(layer)
    streets = None if key is None else [s["properties"].get(key) for s in snapshots if s is not None]
    store.note_change(conn, layer, streets=streets)


def _insert(store: Store, conn: Connection, layer: str, props: Mapping[str, Any], geometry: Any) -> Saved:
    """Insert one feature; an id another writer committed meanwhile is a 409, not a database error."""
    frame = gpd.GeoDataFrame([dict(props)], geometry=[geometry], crs=STORAGE_EPSG)
    try:
        store.write_layer(conn, layer, frame)
    except _integrity_errors(store) as exc:  # another writer won the race on the unique id (this one is lost)
        raise _id_taken(props["id"]) from exc
    table = store.tables[layer]
    fid = int(conn.execute(select(table.c.fid).where(table.c.id == props["id"])).scalar_one())
    row, geom = _read(store, conn, layer, fid)
    return Saved(layer, fid, row["id"], int(row["version"]), _snapshot(row, geom, layer))


def _update(
    store: Store, conn: Connection, layer: str, fid: int, seen: int, values: Mapping[str, Any], geometry: Any
) -> None:
    """The optimistic write: only the row still at version ``seen`` changes; anything else is a lost race."""
    table = store.tables[layer]
    values = {k: (null() if v is None else v) for k, v in values.items()}  # SQL NULL, never JSON null
    try:
        done = conn.execute(
            update(table)
            .where(table.c.fid == fid, table.c.version == seen)
            .values(**values, version=seen + 1, updated_at=func.now())
        )
    except _integrity_errors(store) as exc:  # a new id another writer has just taken
        raise _id_taken(str(values.get("id"))) from exc
    if done.rowcount == 0:
        current = conn.execute(select(table.c.version).where(table.c.fid == fid)).scalar()
        if current is None:
            raise NotFoundError(f"没有这个{LAYERS[layer].zh}：{fid}", f"no such {layer} feature: {fid}")
        raise StaleVersionError(layer, fid, seen, int(current))
    if geometry is not None:
        store.set_geometry(conn, layer, fid, geometry)  # type: ignore[attr-defined]


def _refuse_retired(layer: str, row: Mapping[str, Any]) -> None:
    if layer == "communities" and row.get("retired"):
        raise ConflictError(
            f"小区 {row['id']} 已合并或拆分（已停用），不能再编辑",
            f"community {row['id']} was merged or split (retired) and cannot be edited",
        )


def update_feature(
    store: Store,
    *,
    layer: str,
    fid: int,
    version: int,
    properties: Mapping[str, Any] | None,
    geometry: Any | None,
    actor: str,
    replace: bool,
    force: bool = False,
    reason: str | None = None,
) -> Saved:
    """Replace (``replace=True``: PUT, every property given) or patch (PATCH: only what is given) a feature.

    ``version`` is the version the editor saw (``If-Match``). A PATCH property set to ``null`` clears it.
    """
    check_editable(layer)
    with store.begin() as conn:
        _lock(store, conn, layer, fids=[fid])
        row, geom = _read(store, conn, layer, fid)
        _refuse_retired(layer, row)
        before = _snapshot(row, geom, layer)
        if replace:
            merged = dict(properties or {})
            merged.setdefault("id", row["id"])
        else:
            merged = {k: v for k, v in before["properties"].items() if k not in _SYSTEM_COLUMNS}
            merged |= dict(before["properties"].get("extra") or {})
            merged |= dict(properties or {})
        props = _properties(layer, merged)
        if props["id"] != row["id"] and store.existing_ids(conn, layer, [props["id"]]):
            raise _id_taken(props["id"])
        if geometry is not None:
            _guard_overlap(store, conn, layer, geometry, exclude=(fid,), force=force, reason=reason)
        _update(store, conn, layer, fid, version, props, geometry)
        row, geom = _read(store, conn, layer, fid)
        after = _snapshot(row, geom, layer)
        _note_streets(store, conn, layer, before, after)
        _record(
            store,
            conn,
            layer=layer,
            feature_id=row["id"],
            action="replace" if replace else "patch",
            actor=actor,
            version=int(row["version"]),
            before=before,
            after=after,
            reason=reason,
        )
    return Saved(layer, fid, row["id"], int(row["version"]), after)


def delete_feature(
    store: Store, *, layer: str, fid: int, version: int, actor: str, reason: str | None = None
) -> None:
    """Delete a feature at ``version``; the history keeps its last state."""
    check_editable(layer)
    table = store.tables[layer]
    with store.begin() as conn:
        _lock(store, conn, layer, fids=[fid])
        row, geom = _read(store, conn, layer, fid)
        done = conn.execute(delete(table).where(table.c.fid == fid, table.c.version == version))
        if done.rowcount == 0:
            raise StaleVersionError(layer, fid, version, int(row["version"]))
        before = _snapshot(row, geom, layer)
        _note_streets(store, conn, layer, before)
        _record(
            store,
            conn,
            layer=layer,
            feature_id=row["id"],
            action="delete",
            actor=actor,
            version=None,
            before=before,
            after=None,
            reason=reason,
        )


# -- merge, split, undo ----------------------------------------------------------------------------------------------


def _to_metric(geoms: Sequence[Any]) -> tuple[np.ndarray, pyproj.CRS]:
    series = gpd.GeoSeries(list(geoms), crs=STORAGE_EPSG)
    crs = metric_crs(series)
    return np.asarray(series.to_crs(crs).array), crs


def _from_metric(geom: Any, crs: pyproj.CRS) -> Any:
    return gpd.GeoSeries([geom], crs=crs).to_crs(STORAGE_EPSG).iloc[0]


def _live_communities(store: Store, conn: Connection, ids: Sequence[str]) -> gpd.GeoDataFrame:
    """The communities ``ids``, locked: none may change (or be merged elsewhere) until this transaction ends."""
    _lock(store, conn, "communities", ids=ids)
    members = store.read_layer("communities", ids=list(ids), include_retired=True, conn=conn)
    missing = sorted(set(ids) - set(members["id"]))
    if missing:
        raise NotFoundError(f"没有这些小区：{'、'.join(missing)}", f"no such communities: {', '.join(missing)}")
    retired = members.loc[members["retired"], "id"].tolist()
    if retired:
        raise ConflictError(
            f"这些小区已停用，不能合并：{'、'.join(retired)}", f"these communities are retired: {', '.join(retired)}"
        )
    return members


def _merged_properties(members: gpd.GeoDataFrame, *, new_id: str, name: str) -> dict[str, Any]:
    """Attributes of a merged community: totals summed, the oldest year, shared labels when all members agree."""
    props: dict[str, Any] = {"id": new_id, "name": name}
    for col in ("street", "neighbourhood"):
        values = members[col].dropna().unique()
        props[col] = (
            values[0] if len(values) == 1 else (members[col].dropna().mode().iloc[0] if len(values) else None)
        )
    for col in _SUMMED:
        present = members[col].dropna()
        props[col] = None if present.empty else present.sum().item()
    years = members["year_built"].dropna()
    props["year_built"] = None if years.empty else int(years.min())
    types = members["building_type"].dropna().unique()
    props["building_type"] = types[0] if len(types) == 1 else ("other" if len(types) else None)
    for col in ("property_management", "owners_committee"):
        present = members[col].dropna()
        props[col] = None if present.empty else bool(present.all())
    props["extra"] = {"merged_from": members["id"].tolist()}
    return props


def merge_gaps(members: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """The gaps a merge would bridge: the links of the shortest chain joining the members, with their lengths in
    metres (0 where two touch). A planner is warned about any gap and the merge is refused beyond `MERGE_GAP_M`.
    """
    geoms, _metric = _to_metric(members.geometry.values)
    ids = members["id"].tolist()
    distance = shapely.distance(geoms[:, None], geoms[None, :])
    # The spanning tree ignores zero-weight (and near-zero) edges, so every pair weighs one metre more.
    tree = minimum_spanning_tree(np.where(np.eye(len(ids), dtype=bool), 0.0, distance + 1.0)).tocoo()
    return sorted(
        (
            {"a": ids[i], "b": ids[j], "distance_m": round(float(distance[i, j]), 1)}
            for i, j in zip(tree.row, tree.col, strict=True)
        ),
        key=lambda g: -g["distance_m"],
    )


def check_merge(store: Store, *, ids: Sequence[str]) -> list[dict[str, Any]]:
    """The gaps a merge of ``ids`` would bridge (see :func:`merge_gaps`), read-only, for the page to warn with."""
    ids = list(dict.fromkeys(ids))
    if len(ids) < 2:
        raise DataError("合并至少需要两个小区", "a merge needs at least two communities")
    with store.engine.connect() as conn:
        return merge_gaps(_live_communities(store, conn, ids))


def _refuse_far_apart(gaps: list[dict[str, Any]]) -> None:
    far = [g for g in gaps if g["distance_m"] > MERGE_GAP_M]
    if far:
        pairs = "、".join(f"{g['a']}–{g['b']} {g['distance_m']:g} 米" for g in far)
        pairs_en = ", ".join(f"{g['a']}–{g['b']} {g['distance_m']:g} m" for g in far)
        raise ConflictError(
            f"所选小区相距超过 {MERGE_GAP_M:g} 米，不能合并：{pairs}",
            f"the communities are more than {MERGE_GAP_M:g} m apart and cannot be merged: {pairs_en}",
        )


def merge_communities(
    store: Store, *, ids: Sequence[str], name: str, actor: str, new_id: str | None = None, reason: str | None = None
) -> MergeResult:
    """Merge communities into one (拆墙并院): union, close the walls between them, retire the members.

    The members are unioned in the data's Gauss–Krüger zone, then closed (buffered out and back in by
    `MERGE_CLOSING_M` with mitred corners) so the walls and lanes between them do not leave slivers; the closing
    never takes land from a neighbouring community. Members are kept as retired rows with ``merged_into`` set, so
    `undo_merge` can bring them back exactly. Members more than `MERGE_GAP_M` apart are refused.
    """
    ids = list(dict.fromkeys(ids))
    if len(ids) < 2:
        raise DataError("合并至少需要两个小区", "a merge needs at least two communities")
    if not name.strip():
        raise DataError("合并后的小区需要名称", "the merged community needs a name")
    group_id = uuid.uuid4().hex
    new_id = new_id or f"M-{group_id[:10]}"
    with store.begin() as conn:
        members = _live_communities(store, conn, ids)
        _refuse_far_apart(merge_gaps(members))
        if store.existing_ids(conn, "communities", [new_id]):
            raise _id_taken(new_id)
        geoms, metric = _to_metric(members.geometry.values)
        union = shapely.union_all(geoms)
        closed = shapely.buffer(
            shapely.buffer(union, MERGE_CLOSING_M, join_style="mitre"), -MERGE_CLOSING_M, join_style="mitre"
        )
        closed = shapely.union(closed, union)
        neighbours = store.read_layer("communities", bbox=tuple(members.total_bounds), conn=conn)
        neighbours = neighbours[~neighbours["id"].isin(ids)]
        if len(neighbours):
            others = np.asarray(neighbours.geometry.to_crs(metric).array)
            closed = shapely.difference(closed, shapely.union_all(others))
        closed = _polygonal(closed)
        merged_geom = _from_metric(closed, metric)
        saved = _insert(
            store, conn, "communities", _merged_properties(members, new_id=new_id, name=name), merged_geom
        )
        _record(
            store,
            conn,
            layer="communities",
            feature_id=new_id,
            action="merge",
            actor=actor,
            version=1,
            before=None,
            after=saved.feature,
            reason=reason,
            group_id=group_id,
        )
        retired = [
            _retire(store, conn, row, geom, merged_into=new_id, actor=actor, group_id=group_id, reason=reason)
            for row, geom in zip(members.drop(columns="geometry").to_dict("records"), members.geometry, strict=True)
        ]
        _note_streets(store, conn, "communities", saved.feature, *(r.feature for r in retired))
    return MergeResult(group_id, saved, retired)


def _polygonal(geom: Any) -> Any:
    """Only the polygon parts of an overlay result (a difference may leave stray lines on shared edges)."""
    parts = shapely.get_parts(geom)
    polys = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    return shapely.union_all(polys)


def _retire(
    store: Store,
    conn: Connection,
    row: Mapping[str, Any],
    geom: Any,
    *,
    merged_into: str | None,
    actor: str,
    group_id: str,
    reason: str | None,
) -> Saved:
    fid, version = int(row["fid"]), int(row["version"])
    before = _snapshot(row, geom, "communities")
    _update(store, conn, "communities", fid, version, {"retired": True, "merged_into": merged_into}, None)
    new_row, new_geom = _read(store, conn, "communities", fid)
    after = _snapshot(new_row, new_geom, "communities")
    _record(
        store,
        conn,
        layer="communities",
        feature_id=row["id"],
        action="retire",
        actor=actor,
        version=version + 1,
        before=before,
        after=after,
        reason=reason,
        group_id=group_id,
    )
    return Saved("communities", fid, row["id"], version + 1, after)


def split_community(
    store: Store,
    *,
    fid: int,
    version: int,
    line: Mapping[str, Any],
    actor: str,
    crs: str = "CRS84",
    names: Sequence[str] | None = None,
    reason: str | None = None,
) -> MergeResult:
    """Split a community in two along a GeoJSON LineString that crosses it once.

    Households, low-income households and floor area are shared out by area (whole households, the remainder to
    the second part); the original is retired and linked to both parts through the edit group.
    """
    cut = geometry_in(line, crs=crs, kind="line")
    with store.begin() as conn:
        _lock(store, conn, "communities", fids=[fid])
        row, geom = _read(store, conn, "communities", fid)
        _refuse_retired("communities", row)
        if int(row["version"]) != version:
            raise StaleVersionError("communities", fid, version, int(row["version"]))
        (poly, cut_m), metric = _to_metric([geom, cut])
        pieces = _polygonal_parts(shapely.ops.split(poly, cut_m))
        if len(pieces) != 2:
            raise DataError(
                f"分割线应穿过小区一次、把它分成两块（现为 {len(pieces)} 块）",
                f"the line must cross the community once and divide it in two (it gives {len(pieces)} parts)",
            )
        areas = shapely.area(pieces)
        share = areas[0] / areas.sum()
        base = {k: v for k, v in row.items() if k in LAYERS["communities"].column_names}
        group_id = uuid.uuid4().hex
        parts: list[Saved] = []
        labels = list(names or []) + [f"{row['name']}（{i}）" for i in (1, 2)][len(names or []) :]
        for i, piece in enumerate(pieces):
            props = dict(base, id=f"{row['id']}-{i + 1}", name=labels[i])
            for col in _SUMMED:
                value = base.get(col)
                if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
                    continue
                first = round(value * share) if col != "floor_area_m2" else round(value * share, 1)
                props[col] = first if i == 0 else value - first
            props["extra"] = {"split_from": row["id"]}
            if store.existing_ids(conn, "communities", [props["id"]]):
                raise _id_taken(props["id"])
            saved = _insert(
                store, conn, "communities", _properties("communities", props), _from_metric(piece, metric)
            )
            _record(
                store,
                conn,
                layer="communities",
                feature_id=saved.id,
                action="split",
                actor=actor,
                version=1,
                before=None,
                after=saved.feature,
                reason=reason,
                group_id=group_id,
            )
            parts.append(saved)
        original = _retire(store, conn, row, geom, merged_into=None, actor=actor, group_id=group_id, reason=reason)
        _note_streets(store, conn, "communities", original.feature, *(p.feature for p in parts))
    return MergeResult(group_id, original, parts)


def _polygonal_parts(collection: Any) -> np.ndarray:
    parts = shapely.get_parts(collection)
    return parts[np.isin(shapely.get_type_id(parts), (3, 6))]


def undo_merge(store: Store, *, group_id: str, actor: str, reason: str | None = None) -> list[Saved]:
    """Undo a merge (or split) from its history group: members restored exactly, the product removed.

    The members come back with the properties and geometry recorded before the merge (coordinates round-trip
    exactly through the stored GeoJSON, so the geometry is byte-identical) and a new version, so stale editors
    still get 412. Refused when the product or a member was edited after the merge, or the group was undone already.
    """
    edits = store.tables["edits"]
    table = store.tables["communities"]
    group = select(edits).where(edits.c.group_id == group_id).order_by(edits.c.edit_id)
    with store.begin() as conn:
        rows = conn.execute(group).all()
        if not rows:
            raise NotFoundError(f"没有这次合并：{group_id}", f"no such merge: {group_id}")
        # Lock the product and the members, then read the group again: an undo or an edit that committed while
        # this one waited is seen now, and nothing can change them between the checks below and the writes.
        _lock(
            store,
            conn,
            "communities",
            fids=[int(r.before["id"]) for r in rows if r.action == "retire"],
            ids=[r.feature_id for r in rows if r.action in ("merge", "split")],
        )
        rows = conn.execute(group).all()
        if any(r.action == "restore" for r in rows):
            raise ConflictError("这次合并已经撤销过", "this merge was undone already")
        products = [r for r in rows if r.action in ("merge", "split")]
        retired = [r for r in rows if r.action == "retire"]
        restored: list[Saved] = []
        for r in retired:
            fid = int(r.before["id"])
            current = conn.execute(select(table.c.version).where(table.c.fid == fid)).scalar()
            if current is None or int(current) != r.version:
                raise ConflictError(
                    f"小区 {r.feature_id} 在合并后又被修改，无法撤销",
                    f"{r.feature_id} changed after the merge; cannot undo",
                )
        for p in products:
            current = conn.execute(select(table.c.version).where(table.c.id == p.feature_id)).scalar()
            if current is None or int(current) != p.after["properties"]["version"]:
                raise ConflictError(
                    f"小区 {p.feature_id} 在合并后又被修改，无法撤销",
                    f"{p.feature_id} changed after the merge; cannot undo",
                )
        touched: list[Mapping[str, Any]] = []
        for p in products:
            fid, version = int(p.after["id"]), int(p.after["properties"]["version"])
            row, geom = _read(store, conn, "communities", fid)
            done = conn.execute(delete(table).where(table.c.fid == fid, table.c.version == version))
            if done.rowcount != 1:  # cannot happen under the lock; never delete an edit someone was answered for
                raise StaleVersionError("communities", fid, version, int(row["version"]))
            touched.append(_snapshot(row, geom, "communities"))
            _record(
                store,
                conn,
                layer="communities",
                feature_id=p.feature_id,
                action="restore",
                actor=actor,
                version=None,
                before=touched[-1],
                after=None,
                reason=reason,
                group_id=group_id,
            )
        for r in retired:
            fid = int(r.before["id"])
            props = {k: v for k, v in r.before["properties"].items() if k != "version"}
            _update(store, conn, "communities", fid, r.version, props, shape(r.before["geometry"]))
            row, geom = _read(store, conn, "communities", fid)
            after = _snapshot(row, geom, "communities")
            _record(
                store,
                conn,
                layer="communities",
                feature_id=r.feature_id,
                action="restore",
                actor=actor,
                version=int(row["version"]),
                before=r.after,
                after=after,
                reason=reason,
                group_id=group_id,
            )
            restored.append(Saved("communities", fid, r.feature_id, int(row["version"]), after))
        _note_streets(store, conn, "communities", *touched, *(s.feature for s in restored))
    return restored


def community_ref(store: Store, ref: str) -> tuple[int, str]:
    """A community's internal number and id from ``ref``: its id (``C0070``, retired ones too), or — the older
    form of history URLs — its internal number when no community has that id.
    """
    table = store.tables["communities"]
    with store.engine.connect() as conn:
        row = conn.execute(select(table.c.fid, table.c.id).where(table.c.id == ref)).first()
        if row is None and ref.isdigit() and int(ref) < 2**63:
            row = conn.execute(select(table.c.fid, table.c.id).where(table.c.fid == int(ref))).first()
    if row is None:
        raise NotFoundError(f"没有编号为 {ref} 的小区", f"no community {ref!r}")
    return int(row.fid), row.id


def history(store: Store, *, layer: str, feature_id: str) -> list[dict[str, Any]]:
    """Every recorded change of one feature (by its ``id``), oldest first."""
    edits = store.tables["edits"]
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(edits).where(edits.c.layer == layer, edits.c.feature_id == feature_id).order_by(edits.c.edit_id)
        ).all()
    return [
        {
            "edit_id": r.edit_id,
            "action": r.action,
            "actor": r.actor,
            "at": r.at.isoformat() if r.at is not None else None,
            "version": r.version,
            "reason": r.reason,
            "group_id": r.group_id,
            "before": r.before,
            "after": r.after,
        }
        for r in rows
    ]
