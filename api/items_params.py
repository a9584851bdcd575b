"""Query parameters of ``/collections/{id}/items``, checked once: every bad or unknown value is a 400 naming it.

Part 1 (``limit``, ``offset``, ``bbox``, ``datetime``, property filters), Part 2 (``crs``, ``bbox-crs``), Part 3
(``filter``, ``filter-lang``, ``filter-crs``), and ``sortby``, ``properties``, ``skipGeometry``, ``f``. The
same limits are published in the OpenAPI document (`api.openapi_doc`), so GDAL and QGIS page in large pages.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import HTTPException, Request
from pygeofilter import ast

from api.crs_params import CRS84, parse_bbox, resolve, to_storage
from geo.io.normalise import FALSE_WORDS, TRUE_WORDS
from geo.model import INT_LIMIT
from geo.settings import APISettings
from geo.stores import Store
from geo.stores.cql2 import FilterError, parse
from geo.stores.features import OutputCRS

#: Parameters of the standards (and ``profile``, ``lang`` of ours) that are never property filters.
RESERVED = (
    "f",
    "limit",
    "offset",
    "bbox",
    "bbox-crs",
    "crs",
    "datetime",
    "lang",
    "profile",
    "properties",
    "filter",
    "filter-lang",
    "filter-crs",
    "skipGeometry",
    "sortby",
)
FORMATS = ("json", "geojson", "html")
_SORT_KEY = re.compile(r"^([+-]?)([A-Za-z_][A-Za-z0-9_]*)(?::(asc|desc|a|d))?$", re.IGNORECASE)


@dataclass(frozen=True)
class ItemsParams:
    """One items request, checked: page, output CRS, selection, order and the properties wanted."""

    limit: int
    offset: int
    crs_uri: str
    out: OutputCRS
    area: Any
    filters: dict[str, Any]
    filter: ast.Node | None
    filter_geometry_in: Any
    changed: tuple[datetime | None, datetime | None] | None
    sortby: tuple[tuple[str, bool], ...]
    properties: tuple[str, ...] | None
    skip_geometry: bool
    html: bool


def bad(zh: str, en: str) -> HTTPException:
    return HTTPException(400, f"{zh} / {en}")


def items_params(request: Request, store: Store, settings: APISettings, *, kinds: dict[str, str]) -> ItemsParams:
    """Every parameter of an items request on a collection whose queryables are ``kinds`` (name → JSON type)."""
    query = request.query_params
    for key in query:
        if key not in RESERVED and key not in kinds:
            raise bad(f"未知查询参数：{key}", f"unknown query parameter: {key}")
    for key in set(query):
        if len(query.getlist(key)) > 1:
            raise bad(f"查询参数重复：{key}", f"query parameter given more than once: {key}")
    crs_uri, out = resolve(query.get("crs"), store)
    bbox_crs = query.get("bbox-crs")
    if bbox_crs is not None and query.get("bbox") is None:
        raise bad("bbox-crs 需要与 bbox 一起使用", "bbox-crs needs bbox")
    area = parse_bbox(query.get("bbox"), resolve(bbox_crs, store)[1] if bbox_crs else None)
    node, geometry_in = _filter(query, store)
    return ItemsParams(
        # A limit above the maximum is served as the maximum (Part 1, /req/core/fc-limit-response-1), not refused.
        limit=min(_int(query, "limit", settings.default_limit, low=1, high=2**62), settings.max_features_per_page),
        offset=_int(query, "offset", 0, low=0, high=2**62),
        crs_uri=crs_uri,
        out=out,
        area=area,
        filters={k: _typed(k, v, kinds[k]) for k, v in query.items() if k in kinds and k not in RESERVED},
        filter=node,
        filter_geometry_in=geometry_in,
        changed=parse_datetime(query.get("datetime")),
        sortby=_sortby(query.get("sortby"), kinds),
        properties=_properties(query.get("properties"), kinds),
        skip_geometry=_bool(query, "skipGeometry"),
        html=output_format(request) == "html",
    )


def output_format(request: Request) -> str:
    """``f`` (json, geojson, html) or, without it, HTML when a browser asks for it first."""
    value = request.query_params.get("f")
    if value is None:
        accept = request.headers.get("accept", "")
        return "html" if accept.startswith("text/html") else "json"
    if value.lower() not in FORMATS:
        raise bad(f"不支持的格式：{value}（可用：{'、'.join(FORMATS)}）", f"unsupported f: {value} (use {FORMATS})")
    return value.lower()


def _int(query: Any, name: str, default: int, *, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\s*\d{1,19}\s*", raw):
        raise bad(f"{name} 应为整数：{raw[:40]}", f"{name} must be a whole number: {raw[:40]}")
    value = int(raw)
    if not low <= value <= high:
        raise bad(f"{name} 应在 {low} 与 {high} 之间：{value}", f"{name} must be between {low} and {high}: {value}")
    return value


def _bool(query: Any, name: str) -> bool:
    raw = query.get(name)
    if raw is None:
        return False
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise bad(f"{name} 应为 true 或 false：{raw[:40]}", f"{name} must be true or false: {raw[:40]}")


def _typed(key: str, raw: str, kind: str) -> Any:
    """A property filter value typed like its column."""
    if "\x00" in raw:
        raise bad(f"{key} 含有 NUL 字符", f"{key} contains a NUL character")
    if kind in ("integer", "number"):
        try:
            value = int(raw) if kind == "integer" else float(raw)
        except ValueError:
            raise bad(f"{key} 应为数字：{raw[:40]}", f"{key} must be a number: {raw[:40]}") from None
        if not math.isfinite(value) or abs(value) >= INT_LIMIT:
            raise bad(f"{key} 超出范围：{raw[:40]}", f"{key} is out of range: {raw[:40]}")
        return value
    if kind == "boolean":
        word = raw.strip().lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        raise bad(f"{key} 应为 true/false：{raw[:40]}", f"{key} must be true or false: {raw[:40]}")
    return raw


def _sortby(raw: str | None, kinds: dict[str, str]) -> tuple[tuple[str, bool], ...]:
    """``sortby=+name,-households`` (or ``name:desc``) as (property, descending) pairs."""
    if raw is None:
        return ()
    keys: list[tuple[str, bool]] = []
    for part in raw.split(","):
        match = _SORT_KEY.match(part.strip())
        if match is None or match.group(2) not in kinds:
            raise bad(
                f"无法按此排序：{part.strip()[:40]}（可用：{'、'.join(kinds)}）",
                f"cannot sort by: {part.strip()[:40]} (sortable: {', '.join(kinds)})",
            )
        sign, name, direction = match.groups()
        keys.append((name, sign == "-" or (direction or "").lower() in ("desc", "d")))
    return tuple(keys)


def _properties(raw: str | None, kinds: dict[str, str]) -> tuple[str, ...] | None:
    if raw is None:
        return None
    names = [p.strip() for p in raw.split(",") if p.strip()]
    unknown = [p for p in names if p not in kinds]
    if unknown:
        raise bad(
            f"未知属性：{'、'.join(unknown)[:80]}（可用：{'、'.join(kinds)}）",
            f"unknown properties: {', '.join(unknown)[:80]} (available: {', '.join(kinds)})",
        )
    return tuple(dict.fromkeys(names))


def _filter(query: Any, store: Store) -> tuple[ast.Node | None, Any]:
    text = query.get("filter")
    lang, crs = query.get("filter-lang"), query.get("filter-crs")
    if text is None:
        if lang is not None or crs is not None:
            raise bad("filter-lang / filter-crs 需要与 filter 一起使用", "filter-lang and filter-crs need filter")
        return None, None
    out = resolve(crs, store)[1] if crs else resolve(CRS84, store)[1]
    try:
        node = parse(text, lang)
    except FilterError as exc:
        raise bad(exc.zh, exc.en) from None
    return node, lambda geom: to_storage(geom, out)


def parse_datetime(raw: str | None) -> tuple[datetime | None, datetime | None] | None:
    """``datetime``: an RFC 3339 instant, or an interval ``start/end`` with ``..`` (or nothing) for an open end.

    Dates without a time cover the whole day (UTC).
    """
    if raw is None:
        return None
    parts = raw.split("/")
    if len(parts) > 2:
        raise bad(f"datetime 无效：{raw[:60]}", f"invalid datetime: {raw[:60]}")
    if len(parts) == 1:
        low, high = _instant(parts[0], end=False), _instant(parts[0], end=True)
        return low, high
    low = None if parts[0] in ("", "..") else _instant(parts[0], end=False)
    high = None if parts[1] in ("", "..") else _instant(parts[1], end=True)
    if low is None and high is None:
        raise bad(f"datetime 两端都开放：{raw[:60]}", f"datetime interval open at both ends: {raw[:60]}")
    if low is not None and high is not None and low > high:
        raise bad(f"datetime 起点晚于终点：{raw[:60]}", f"datetime starts after it ends: {raw[:60]}")
    return low, high


def _instant(text: str, *, end: bool) -> datetime:
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = datetime.fromisoformat(value).replace(tzinfo=UTC)
            return day.replace(hour=23, minute=59, second=59, microsecond=999_999) if end else day
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", value):
            raise ValueError(value)
        moment = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise bad(
            f"datetime 应为 RFC 3339 时间或时间段：{text[:60]}",
            f"datetime must be an RFC 3339 date-time or interval: {text[:60]}",
        ) from None
    return moment.astimezone(UTC)
