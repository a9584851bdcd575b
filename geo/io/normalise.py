"""Column names and values from the outside world to the domain model (pure functions on frames).

Headers may be the English name, the Chinese alias from :mod:`geo.model`, or anything a ``--mapping`` file maps.
Values are coerced per column type; each bad cell is reported with its row number, never guessed. Values no store
can keep are refused here, for every import format and the API alike: infinite numbers, integers beyond 64 bits,
NUL characters and lone surrogates in text, property names or nested extra values.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import DataError
from geo.model import DEFICIENCY_ITEMS, INT_LIMIT, Layer

TRUE_WORDS = {"是", "有", "y", "yes", "true", "t", "1", "1.0", "√", "✓"}
FALSE_WORDS = {"否", "无", "n", "no", "false", "f", "0", "0.0", "×", ""}
#: Unknown references quoted in an import's warning.
_SHOWN_REFERENCES = 10
#: Largest plausible value of a count or area column, for one compound or building (the largest Chinese compounds
#: hold some 20,000 households and a few million m² of floor area): past this a value is a typo or a unit mistake
#: and would only turn costs and plans into nonsense.
PLAUSIBLE_MAX = {
    "households": 100_000,
    "low_income_households": 100_000,
    "floors": 200,
    "floor_area_m2": 10_000_000.0,
}


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
            errors += [(row, f"{c.zh}（{c.name}）{zh}", f"{c.name} {en}") for row, zh, en in _bad_texts(vals)]
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
            huge = nums.notna() & ~bad & ~np.isfinite(nums)
            if c.type == "int":
                huge |= nums.notna() & ~bad & (nums.abs() >= INT_LIMIT)
            for row in raw.index[huge]:
                value = _plain(raw[row])
                zh, en = ("不是有限数字", "is not a finite number")
                if np.isfinite(nums[row]):
                    zh, en = ("超出 64 位整数范围", "is beyond the 64-bit integer range")
                errors.append((row, f"{c.zh}（{c.name}）的值“{value}”{zh}", f"{c.name} value {value!r} {en}"))
            bad |= huge
            negative = nums < 0
            for row in raw.index[negative.fillna(False) & ~bad]:
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
        for row, extra in zip(df.index, out["extra"], strict=True):
            errors += [(row, zh, en) for zh, en in unstorable(extra)]
    else:
        out["extra"] = None
    return out, errors


def unstorable(value: object, path: str = "") -> Iterator[tuple[str, str]]:
    """``(zh, en)`` for each part of an extra property value no store can keep (nested dicts and lists too)."""
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, Mapping):
            for key, inner in item.items():
                name = f"{where}.{key}" if where else str(key)
                if text_problem(str(key)):
                    yield (
                        f"属性名“{_printable(name)}”含有 NUL 或无效字符",
                        f"property name {_printable(name)!r} " + ("holds a NUL or invalid character"),
                    )
                stack.append((name, inner))
        elif isinstance(item, list | tuple):
            stack.extend((f"{where}[{i}]", inner) for i, inner in enumerate(item))
        elif isinstance(item, str):
            problem = text_problem(item)
            if problem:
                yield f"{where} {problem[0]}", f"{where} {problem[1]}"
        elif isinstance(item, float) and not math.isfinite(item):
            yield f"{where} 的值 {item} 不是有限数字", f"{where} value {item} is not a finite number"
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) >= INT_LIMIT:
            yield f"{where} 的值 {item} 超出 64 位整数范围", f"{where} value {item} is beyond 64-bit integers"


def text_problem(text: str) -> tuple[str, str] | None:
    """Why no store can keep ``text`` (a NUL character: PostgreSQL refuses it; a lone surrogate: no encoding)."""
    if "\x00" in text:
        return "含有 NUL 字符（\\u0000）", "contains a NUL character (\\u0000)"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "含有无效的 Unicode 字符（孤立代理项）", "contains an invalid Unicode character (lone surrogate)"
    return None


def _bad_texts(values: pd.Series) -> Iterator[tuple[object, str, str]]:
    """``(row, zh, en)`` for the cells of a text column holding a NUL (vectorised: most cells are clean).

    Lone surrogates cannot reach here: text columns are Arrow strings, which hold valid UTF-8 only.
    """
    present = values.dropna()
    for row in present.index[present.str.contains("\x00", regex=False)]:
        yield row, "含有 NUL 字符（\\u0000）", "contains a NUL character (\\u0000)"


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def check_values(df: pd.DataFrame, layer: Layer) -> list[tuple[object, str, str]]:
    """Domain checks beyond types: ids present, known codes, plausible counts, areas and years."""
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
    for col, limit in PLAUSIBLE_MAX.items():
        if col in layer.column_names and col in df.columns:
            over = (df[col].notna() & (df[col] > limit)).fillna(False).to_numpy(dtype=bool)
            for row in df.index[over]:
                value = _plain(df.at[row, col])
                errors.append(
                    (
                        row,
                        f"{col} 的值 {value} 不合理（超过 {limit:g}）",
                        f"implausible {col}: {value} (over {limit:g})",
                    )
                )
    if {"households", "low_income_households"} <= set(df.columns):
        low, total = df["low_income_households"], df["households"]
        over = (low.notna() & total.notna() & (low > total)).fillna(False)
        for row in df.index[over.to_numpy(dtype=bool)]:
            errors.append(
                (
                    row,
                    f"低保户数 {low[row]} 超过总户数 {total[row]}",
                    f"low_income_households {low[row]} exceeds households {total[row]}",
                )
            )
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


@dataclass
class UnknownReferences:
    """Rows whose reference (a building's ``community_id``) names an id the store does not hold, over batches.

    Reported as a warning, not refused: buildings may be imported before their communities (totals are derived
    either way), and a typo must not pass silently. Keeps a count and the first few rows, whatever the file's size.
    """

    known: set[str]
    count: int = 0
    first: dict[object, str] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)

    def add(self, values: pd.Series) -> None:
        missing = values[values.notna() & ~values.isin(self.known)]
        self.count += len(missing)
        self.first |= dict(missing.head(max(0, _SHOWN_REFERENCES - len(self.first))).items())
        self.ids |= set(pd.unique(missing)[: max(0, _SHOWN_REFERENCES - len(self.ids))])

    def warning(self, *, column: str, layer_zh: str, layer: str) -> str | None:
        if not self.count:
            return None
        shown = ", ".join(sorted(self.ids)) + (" …" if self.count > len(self.first) else "")
        rows = ", ".join(str(r) for r in self.first)
        return (
            f"{self.count} 行的 {column} 指向库中没有的{layer_zh}（{shown}；行 {rows}）：在导入这些{layer_zh}之前，"
            f"它们不计入任何{layer_zh}，请核对编号 / {self.count} rows name a {column} the store does not hold "
            f"({shown}; rows {rows}): they count for no {layer} until those are imported; check the ids"
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
