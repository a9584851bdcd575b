"""Column names and values from the outside world to the domain model (pure functions on frames).

Headers may be the English name, the Chinese alias from :mod:`geo.model`, or anything a ``--mapping`` file maps.
Values are coerced per column type; each bad cell is reported with its row number, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import DataError
from geo.model import DEFICIENCY_ITEMS, Layer

TRUE_WORDS = {"是", "有", "y", "yes", "true", "t", "1", "1.0", "√", "✓"}
FALSE_WORDS = {"否", "无", "n", "no", "false", "f", "0", "0.0", "×", ""}


#: A ``--mapping`` target that keeps a column as an extra property (a header that only looks like a known one).
KEEP_AS_EXTRA = "extra"
#: Longest field name a Shapefile's .dbf holds; GDAL cuts longer names there, so the cut names are accepted too.
DBF_NAME_CHARS = 10


def header_map(layer: Layer, *, mapping: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every accepted header (lower-cased) → column name (``KEEP_AS_EXTRA`` for headers mapped to stay extras)."""
    out: dict[str, str] = {}
    for c in layer.columns:
        out[c.name.lower()] = c.name
        out[c.zh.lower()] = c.name
    for c in layer.columns:
        out.setdefault(c.name[:DBF_NAME_CHARS].lower(), c.name)
    if layer.name == "survey":
        for code, (zh, _en) in DEFICIENCY_ITEMS.items():
            out[zh.lower()] = code
            for part in zh.split("/"):
                out.setdefault(part.lower(), code)
    for src, dst in (mapping or {}).items():
        if dst not in layer.column_names and dst != KEEP_AS_EXTRA:
            raise DataError(
                f"映射文件把 {src} 映射到未知字段 {dst}（{layer.name} 的字段：{', '.join(layer.column_names)}）",
                f"the mapping file maps {src} to unknown column {dst} "
                f"({layer.name} has: {', '.join(layer.column_names)})",
            )
        out[str(src).lower()] = dst
    return out


def rename_columns(df: pd.DataFrame, layer: Layer, *, mapping: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Rename known headers to column names; unknown headers are kept (they become extra properties)."""
    known = header_map(layer, mapping=mapping)
    renames: dict[str, str] = {}
    for col in df.columns:
        if col == _geometry_name(df):
            continue
        target = known.get(str(col).strip().lower())
        if target is not None and target != KEEP_AS_EXTRA:
            if target in renames.values():
                both = [str(c) for c, t in renames.items() if t == target] + [str(col)]
                raise DataError(
                    f"多个列都对应字段 {target}：{'、'.join(both)}；请只保留一个",
                    f"several columns map to {target}: {', '.join(both)}; keep only one",
                )
            renames[col] = target
    return df.rename(columns=renames)


def check_required(columns: list[str], layer: Layer, *, source: str) -> None:
    missing = [c for c in layer.columns if c.required and c.name not in columns]
    if layer.name == "survey" and "community_id" not in columns and not {"name", "street"} <= set(columns):
        missing_names = ["community_id（或 name + street）"]
    else:
        missing_names = [f"{c.name}（{c.zh}）" for c in missing]
    if missing_names:
        hint_zh, hint_en = _id_column_hint(columns) if any(c.name == "id" for c in missing) else ("", "")
        raise DataError(
            f"{source} 缺少必需的列：{', '.join(missing_names)}；现有列：{', '.join(map(str, columns))}{hint_zh}",
            f"{source} lacks required column(s): {', '.join(missing_names)}; it has: {', '.join(map(str, columns))}"
            f"{hint_en}",
        )


def _id_column_hint(columns: list[str]) -> tuple[str, str]:
    """Point at ``--id-column``, naming the likeliest key column (``fid``, ``OBJECTID``, ``osm_id``, ``编号``)."""
    keys = [str(c) for c in columns if _looks_like_key(str(c))]
    return (
        f"；如编号在其他列，请加 --id-column {keys[0] if keys else '列名'}",
        f"; if the key is in another column, pass --id-column {keys[0] if keys else 'NAME'}",
    )


def _looks_like_key(header: str) -> bool:
    """Headers real layers use for their key when it is not ``id`` (``fid``, ``OBJECTID``, ``osm_id``, ``编号``)."""
    h = header.strip().lower()
    return h.endswith(("id", "编号", "代码", "编码")) or h in ("gid", "code", "objectid")


def coerce(df: pd.DataFrame, layer: Layer) -> tuple[pd.DataFrame, list[tuple[object, str, str]]]:
    """Typed columns of ``layer`` plus an ``extra`` dict column; returns the frame and the bad cells.

    Bad cells are ``(row, zh, en)`` triples naming the column and the value.
    """
    errors: list[tuple[object, str, str]] = []
    out = pd.DataFrame(index=df.index)
    for c in layer.columns:
        if c.name not in df.columns:
            out[c.name] = pd.Series(None, index=df.index, dtype=object).astype(_dtype(c.type))
            continue
        raw = df[c.name]
        if c.type == "text":
            vals = _texts(raw)
            out[c.name] = vals.astype(object).where(vals.notna(), None)
        elif c.type in ("int", "float"):
            numeric = pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw)
            text = raw if numeric else _texts(raw)
            nums = raw.astype("float64") if numeric else pd.to_numeric(text, errors="coerce")
            bad = text.notna() & nums.isna()
            if c.type == "int":
                frac = nums.notna() & (nums != np.floor(nums.fillna(0)))
                bad |= frac
            for row in raw.index[bad]:
                errors.append(
                    (
                        row,
                        f"{c.zh}（{c.name}）的值“{raw[row]}”不是数字",
                        f"{c.name} value {raw[row]!r} is not a number",
                    )
                )
            negative = nums < 0
            for row in raw.index[negative.fillna(False)]:
                errors.append((row, f"{c.zh}（{c.name}）不能为负数：{raw[row]}", f"{c.name} is negative: {raw[row]}"))
            out[c.name] = nums.where(~bad).astype(_dtype(c.type)) if c.type == "int" else nums.where(~bad)
        elif c.type == "bool":
            text = (
                raw.astype("boolean").map({True: "true", False: "false"})
                if pd.api.types.is_bool_dtype(raw)
                else _texts(raw).str.lower()
            )
            is_true = text.isin(TRUE_WORDS)
            is_false = text.isin(FALSE_WORDS)
            bad = text.notna() & ~is_true & ~is_false
            for row in raw.index[bad]:
                errors.append(
                    (
                        row,
                        f"{c.zh}（{c.name}）应为 是/否，得到“{raw[row]}”",
                        f"{c.name} should be yes/no, got {raw[row]!r}",
                    )
                )
            vals = pd.Series(pd.NA, index=df.index, dtype="boolean")
            vals[is_true] = True
            vals[is_false & text.notna()] = False
            out[c.name] = vals
    extra_cols = [c for c in df.columns if c not in layer.column_names and c != _geometry_name(df)]
    if extra_cols:
        extras = df[extra_cols].astype(object).where(df[extra_cols].notna(), None)
        out["extra"] = [
            {k: _jsonable(v) for k, v in rec.items() if v is not None} or None
            for rec in extras.to_dict(orient="records")
        ]
    else:
        out["extra"] = None
    return out, errors


def check_values(df: pd.DataFrame, layer: Layer) -> list[tuple[object, str, str]]:
    """Domain checks beyond types: ids present, known codes for kinds, classes and grades."""
    from geo.model import BUILDING_TYPES, ROAD_CLASSES, SAFETY_GRADES, ZONE_KINDS

    errors: list[tuple[object, str, str]] = []
    for c in layer.columns:
        if c.required and c.name in df.columns:
            for row in df.index[df[c.name].isna()]:
                errors.append((row, f"缺少{c.zh}（{c.name}）", f"missing {c.name}"))
    allowed = {
        "kind": (ZONE_KINDS, {v: k for k, v in ZONE_KINDS.items()}),
        "class": (ROAD_CLASSES, {v: k for k, v in ROAD_CLASSES.items()}),
        "building_type": (BUILDING_TYPES, {v: k for k, v in BUILDING_TYPES.items()}),
        "safety_grade": (dict.fromkeys(SAFETY_GRADES), {f"{g}级": g for g in SAFETY_GRADES}),
    }
    for col, (codes, zh_codes) in allowed.items():
        if col not in layer.column_names or col not in df.columns:
            continue
        upper = col == "safety_grade"
        vals = df[col].map(lambda v, z=zh_codes, up=upper: z.get(v, v.upper() if up and isinstance(v, str) else v))
        bad = vals.notna() & ~vals.isin(list(codes))
        for row in df.index[bad]:
            errors.append(
                (
                    row,
                    f"{col} 的值“{df.at[row, col]}”无效（可用：{', '.join(codes)}）",
                    f"invalid {col} {df.at[row, col]!r} (allowed: {', '.join(codes)})",
                )
            )
        df[col] = vals.where(~bad, df[col])
    if "year_built" in df.columns:
        yb = df["year_built"]
        bad = yb.notna() & ((yb < 1900) | (yb > 2100))
        for row in df.index[bad.fillna(False)]:
            errors.append((row, f"建成年份不合理：{yb[row]}", f"implausible year_built: {yb[row]}"))
    return errors


def raise_row_errors(errors: list[tuple[object, str, str]], *, source: str, limit: int = 20) -> None:
    """One DataError listing every bad row (first ``limit`` in full)."""
    if not errors:
        return
    errors = sorted(errors, key=lambda e: (int(e[0]) if isinstance(e[0], (int, np.integer)) else 0, e[1]))
    zh = "；".join(f"第 {r} 行：{z}" for r, z, _ in errors[:limit])
    en = "; ".join(f"row {r}: {e}" for r, _, e in errors[:limit])
    more = len(errors) - limit
    if more > 0:
        zh += f"；另有 {more} 处错误"
        en += f"; {more} more errors"
    raise DataError(
        f"{source} 有 {len(errors)} 处错误，未导入任何数据。{zh}",
        f"{source} has {len(errors)} error(s); nothing was imported. {en}",
        rows=list(dict.fromkeys(r for r, _, _ in errors)),  # in the order of the sorted errors
    )


def _geometry_name(df: pd.DataFrame) -> str | None:
    return df.geometry.name if isinstance(df, gpd.GeoDataFrame) else None


def _dtype(kind: str) -> str:
    return {"int": "Int64", "float": "float64", "bool": "boolean"}.get(kind, "object")


def _texts(raw: pd.Series) -> pd.Series:
    """Cells as stripped strings, blanks as missing (vectorised; numbers print as they read, 1985.0 → 1985)."""
    if pd.api.types.is_float_dtype(raw):
        whole = raw.notna() & (raw == np.floor(raw.fillna(0)))
        raw = raw.astype(object).where(~whole, raw.fillna(0).astype("int64"))
    text = raw.astype("string").str.strip()
    return text.mask(text == "")


def _jsonable(v: object) -> object:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (pd.Timestamp,)):
        return v.isoformat()
    if isinstance(v, bytes):
        return v.hex()
    return v
