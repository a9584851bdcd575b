"""``renewal import LAYER PATH --update``: a file edited outside (QGIS) comes back, row by row, with history.

Rows whose ``id`` the store holds are compared with it (the layer columns and extra properties the file has, and
the geometry; columns the file lacks stay as stored); those that changed get a new version and one ``edits`` entry
each (action ``update``, before and after as GeoJSON, actor = who ran the import), as an edit through the API
would; unchanged rows are left alone. New ids are inserted (``create`` entries). Rows of the store the file lacks
are only deleted on request (``delete_missing``, ``delete`` entries).

When the file carries ``version`` (every export does) it is the version the editor started from: a changed row
whose version is older than the store's was edited by someone else since the export, and the whole import is
refused naming those rows, so an old file can never overwrite newer work. A row the file holds exactly as stored
needs no write and is no conflict (re-importing an imported file changes nothing). Writes are conditional on the
version read in the same transaction (``UPDATE ... WHERE version = :seen``), as the API's are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping
from sqlalchemy import Connection, delete, func, null, update

from geo.model import LAYERS
from geo.stores import Store

Errors = list[tuple[object, str, str]]


@dataclass
class Upsert:
    """One ``--update`` import inside the caller's transaction; counts what it did."""

    store: Store
    conn: Connection
    layer: str
    actor: str
    reason: str
    updated: int = 0
    inserted: int = 0
    unchanged: int = 0
    deleted: int = 0

    def apply(
        self, frame: gpd.GeoDataFrame, versions: pd.Series | None, errors: Errors, *, supplied: set[str]
    ) -> None:
        """Check one batch and, while no error was found anywhere in the file, write it.

        ``frame`` is typed, in storage CRS, indexed by file row; ``versions`` the file's ``version`` column (None
        when the file has none); ``supplied`` the columns the file has (layer columns and extra properties): the
        others are left as stored. Only rows that differ from the store are checked against its versions: a row
        the file holds exactly as stored needs no write, whatever version it was exported at (so re-importing a
        file that was already imported is a no-op, not a conflict).
        """
        ids = frame["id"].dropna().tolist()
        stored = self.store.read_layer(self.layer, ids=ids, include_retired=True, conn=self.conn).set_index("id")
        exists = frame["id"].isin(stored.index).to_numpy()
        new, before = frame[~exists], stored.loc[frame["id"][exists]]
        old = _merged(frame[exists], before, self.layer, supplied)
        changed = _changed(old, before, self.layer)
        edited, prior = old[changed], before[changed]
        errors += _version_errors(edited, prior["version"], versions)
        if "retired" in prior.columns:
            errors += [
                (
                    r,
                    f"小区 {i} 已合并或拆分（已停用），不能通过文件修改",
                    f"community {i} was merged or split (retired)",
                )
                for r, i, gone in zip(edited.index, edited["id"], prior["retired"], strict=True)
                if gone
            ]
        if errors:
            return
        self.unchanged += int((~changed).sum())
        self._update(edited, prior, errors)
        if len(new):
            self.store.write_layer(self.conn, self.layer, new)
            self._record(new["id"].tolist(), "create", before=None)
            self.inserted += len(new)

    def _update(self, rows: gpd.GeoDataFrame, before: gpd.GeoDataFrame, errors: Errors) -> None:
        """Write the changed rows, each only if still at the version read (else it changed under us: refused)."""
        if rows.empty:
            return
        table = self.store.tables[self.layer]
        columns = [*(c for c in LAYERS[self.layer].column_names if c != "id"), "extra"]
        moved = _canonical_wkb(rows.geometry.values) != _canonical_wkb(before.geometry.values)
        for (row, rec), fid, seen, geom, geom_moved in zip(
            rows[columns].iterrows(), before["fid"], before["version"], rows.geometry, moved, strict=True
        ):
            done = self.conn.execute(
                update(table)
                .where(table.c.fid == int(fid), table.c.version == int(seen))
                .values(**{c: _sql(rec[c]) for c in columns}, version=int(seen) + 1, updated_at=func.now())
            )
            if done.rowcount != 1:
                fid_text = rows.at[row, "id"]
                errors.append((row, f"编号 {fid_text} 在导入时被他人修改", f"{fid_text} changed during the import"))
                return
            if geom_moved:
                self.store.set_geometry(self.conn, self.layer, int(fid), geom)  # type: ignore[attr-defined]
        self._record(rows["id"].tolist(), "update", before=before)
        self.updated += len(rows)

    def delete_missing(self, keep: set[str]) -> None:
        """Delete the store's live rows whose id the file lacks (each with a ``delete`` history entry)."""
        gone = self.store.read_layer(self.layer, conn=self.conn)
        gone = gone[~gone["id"].isin(keep)]
        if gone.empty:
            return
        table = self.store.tables[self.layer]
        self.conn.execute(delete(table).where(table.c.fid.in_(gone["fid"].tolist())))
        self._insert_history(
            [(row["id"], "delete", None, snapshot(row, geom, self.layer), None) for row, geom in _rows(gone)]
        )
        self.deleted += len(gone)

    def _record(self, ids: list[str], action: str, *, before: gpd.GeoDataFrame | None) -> None:
        after = self.store.read_layer(self.layer, ids=ids, include_retired=True, conn=self.conn).set_index("id")
        prior = (
            {}
            if before is None
            else {i: snapshot(r, g, self.layer) for (r, g), i in zip(_rows(before), before.index, strict=True)}
        )
        self._insert_history(
            [
                (i, action, int(row["version"]), prior.get(i), snapshot(row, geom, self.layer))
                for (row, geom), i in zip(_rows(after.loc[ids]), ids, strict=True)
            ]
        )

    def _insert_history(self, entries: list[tuple[str, str, int | None, Any, Any]]) -> None:
        self.conn.execute(
            self.store.tables["edits"].insert(),
            [
                {
                    "layer": self.layer,
                    "feature_id": fid,
                    "action": action,
                    "actor": self.actor,
                    "version": version,
                    "before": before,
                    "after": after,
                    "reason": self.reason,
                }
                for fid, action, version, before, after in entries
            ],
        )


def snapshot(row: Mapping[str, Any], geom: Any, layer: str) -> dict[str, Any]:
    """A feature as the history keeps it: GeoJSON in storage coordinates with its layer columns, extras, version."""
    props = {c: row[c] for c in (*LAYERS[layer].column_names, "extra", "version") if c in row}
    if layer == "communities":
        props |= {"retired": bool(row["retired"]), "merged_into": row["merged_into"]}
    props = {k: _plain(v) for k, v in props.items()}
    return {"type": "Feature", "id": int(row["fid"]), "properties": props, "geometry": mapping(geom)}


def _rows(frame: gpd.GeoDataFrame) -> list[tuple[dict[str, Any], Any]]:
    """Records with the ``id`` (index or column) included, paired with their geometry."""
    records = frame.drop(columns=frame.geometry.name).reset_index().to_dict("records")
    return list(zip(records, frame.geometry.values, strict=True))


def _version_errors(frame: gpd.GeoDataFrame, current: pd.Series, versions: pd.Series | None) -> Errors:
    """Changed rows whose file version is not the store's (``current``, aligned): edited by someone else since the
    export (older), copied without one (missing), or not exported from this store (newer)."""
    if versions is None or frame.empty:
        return []
    out: Errors = []
    for row, fid, v, now in zip(frame.index, frame["id"], versions.reindex(frame.index), current, strict=True):
        if pd.isna(v):
            out.append(
                (
                    row,
                    f"编号 {fid} 已存在，但此行没有版本号（version），无法确认编辑时是否为最新；"
                    "请从最新导出的文件编辑",
                    f"id {fid} exists but the row has no version, so it cannot be checked against the store's "
                    f"(version {now}); edit a fresh export",
                )
            )
        elif int(v) < int(now):
            out.append(
                (
                    row,
                    f"编号 {fid} 在导出后已被他人修改（文件中为版本 {int(v)}，数据库中为版本 {now}）；"
                    "请重新导出后再编辑，整个文件未导入",
                    f"{fid} was edited by someone else since the export (the file has version {int(v)}, the store "
                    f"{now}); export again and redo the edit; nothing was imported",
                )
            )
        elif int(v) > int(now):
            out.append(
                (
                    row,
                    f"编号 {fid} 的版本 {int(v)} 高于数据库中的版本 {now}：文件不是从本数据库导出的",
                    f"{fid} has version {int(v)}, newer than the store's {now}: the file was not exported "
                    "from this store",
                )
            )
    return out


def _merged(incoming: gpd.GeoDataFrame, stored: gpd.GeoDataFrame, layer: str, supplied: set[str]) -> gpd.GeoDataFrame:
    """The rows as they would be stored: the file's values for the columns it has, the store's for the rest; extras
    merged key by key (a key the file has as a column is the file's, blank meaning removed; the others are kept)."""
    out = incoming.copy()
    for column in LAYERS[layer].column_names:
        if column not in supplied:
            out[column] = stored[column].to_numpy()
    file_keys = supplied - set(LAYERS[layer].column_names)
    out["extra"] = [
        {**{k: v for k, v in (old or {}).items() if k not in file_keys}, **(mine or {})} or None
        for mine, old in zip(incoming["extra"], stored["extra"], strict=True)
    ]
    return out


def _changed(incoming: gpd.GeoDataFrame, stored: gpd.GeoDataFrame, layer: str) -> np.ndarray:
    """Which incoming rows differ from the stored row with the same id (attributes, extras or geometry), compared
    as Python values (so 2.0 read from a REAL field equals a stored 2, and a missing value equals a missing one)."""
    columns = [c for c in LAYERS[layer].column_names if c != "id"]  # rows were matched by id
    mine, theirs = _values(incoming, columns), _values(stored, columns)
    differs = np.array([a != b for a, b in zip(mine, theirs, strict=True)], dtype=bool).reshape(len(incoming))
    geometry = _canonical_wkb(incoming.geometry.values) != _canonical_wkb(stored.geometry.values)
    return differs | geometry


def _values(frame: pd.DataFrame, columns: list[str]) -> list[tuple[Any, ...]]:
    """Each row's layer values and extras as a tuple of plain Python values (None for missing, dicts for extras)."""
    cells = frame[columns].astype(object).where(frame[columns].notna(), None)
    extras = [dict(e) if isinstance(e, Mapping) and e else None for e in frame["extra"]]
    return [(*row, extra) for row, extra in zip(cells.itertuples(index=False), extras, strict=True)]


def _canonical_wkb(geoms: Any) -> np.ndarray:
    """WKB that is equal for the same shape however it was written: a one-part Multi* as its part (exports promote
    polygons to multipolygons), rings in normal order."""
    geoms = np.asarray(geoms, dtype=object)
    single = shapely.get_num_geometries(geoms) == 1
    multi = np.isin(shapely.get_type_id(geoms), (4, 5, 6))
    geoms = np.where(single & multi, shapely.get_geometry(geoms, 0), geoms)
    return np.asarray(shapely.to_wkb(shapely.normalize(geoms)), dtype=object)


def _sql(value: Any) -> Any:
    """A value for an UPDATE: SQL NULL (not JSON null) for missing, plain Python scalars otherwise."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return null()
    if isinstance(value, Mapping) and not value:
        return null()
    return value.item() if isinstance(value, np.generic) else value


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value
