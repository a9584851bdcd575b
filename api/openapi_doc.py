"""The OpenAPI document as GIS clients read it: OpenAPI 3.0 with every items parameter and its limits.

FastAPI writes OpenAPI 3.1 (JSON Schema 2020-12), but the OGC conformance class is ``oas30`` and GDAL and QGIS
read 3.0: `as_oas30` rewrites the few 3.1 constructs FastAPI emits (``anyOf`` with ``null``, ``const``,
``examples``, numeric ``exclusiveMinimum``) into their 3.0 forms. `describe_items` adds the items parameters as
shared ``components/parameters`` — QGIS takes its page size from ``components/parameters/limit`` (``default`` and
``maximum``), GDAL from the ``limit`` parameter of the items operation — and one items path per collection
listing the property filters that collection accepts (QGIS reads them as simple queryables).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from geo.settings import APISettings

OAS_VERSION = "3.0.3"
ITEMS_PATH = "/collections/{cid}/items"
_NULL = {"type": "null"}


def as_oas30(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of FastAPI's 3.1 document in OpenAPI 3.0 form."""
    out = _convert(copy.deepcopy(doc))
    out["openapi"] = OAS_VERSION
    return out


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _convert(v) for k, v in node.items()}
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and _NULL in options:
            rest = [o for o in options if o != _NULL]
            node.pop(key)
            if len(rest) == 1 and "$ref" not in rest[0]:
                node.update(rest[0])
            elif rest:
                node[key] = rest
            node["nullable"] = True
    kind = node.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        node["type"] = kinds[0] if kinds else "string"
        if "null" in kind:
            node["nullable"] = True
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if isinstance(node.get("examples"), list) and _is_schema(node):
        examples = node.pop("examples")
        if examples:
            node["example"] = examples[0]
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = node.get(bound)
        if isinstance(value, int | float) and not isinstance(value, bool):
            node[plain] = value
            node[bound] = True
    for key in ("contentMediaType", "contentEncoding", "$schema", "$id"):
        node.pop(key, None)
    return node


def _is_schema(node: Mapping[str, Any]) -> bool:
    return any(k in node for k in ("type", "properties", "items", "allOf", "anyOf", "oneOf", "enum", "format"))


def _query(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "required": False,
        "style": "form",
        "explode": False,
        "schema": schema,
        **extra,
    }


def items_parameters(settings: APISettings) -> dict[str, dict[str, Any]]:
    """The shared items parameters (``components/parameters``), keyed by name."""
    return {
        "limit": _query(
            "limit",
            "每页要素数 / features per page; larger pages mean fewer requests for GIS clients.",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": settings.max_features_per_page,
                "default": settings.default_limit,
            },
        ),
        "offset": _query(
            "offset",
            "跳过的要素数 / features to skip (follow the next link)",
            {"type": "integer", "minimum": 0, "default": 0},
        ),
        "bbox": _query(
            "bbox",
            "范围：minx,miny,maxx,maxy（bbox-crs 的轴序；默认 CRS84 经度在前） / bounding box in bbox-crs axis order",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        ),
        "bbox-crs": _query(
            "bbox-crs", "bbox 的坐标系 / CRS of bbox (default CRS84)", {"type": "string", "format": "uri"}
        ),
        "crs": _query("crs", "输出坐标系 / CRS of the response (default CRS84)", {"type": "string", "format": "uri"}),
        "datetime": _query(
            "datetime",
            "最后修改时间（RFC 3339 时刻或时间段，如 2026-01-01T00:00:00Z/..） / last change (instant or interval)",
            {"type": "string"},
        ),
        "filter": _query("filter", "CQL2 过滤条件 / CQL2 filter (text or JSON, see filter-lang)", {"type": "string"}),
        "filter-lang": _query(
            "filter-lang",
            "过滤语言 / filter language (cql-text: the draft name GDAL sends, read as cql2-text)",
            {"type": "string", "enum": ["cql2-text", "cql2-json", "cql-text"], "default": "cql2-text"},
        ),
        "filter-crs": _query(
            "filter-crs",
            "过滤条件中几何的坐标系 / CRS of filter geometries (default CRS84)",
            {"type": "string", "format": "uri"},
        ),
        "sortby": _query(
            "sortby",
            "排序：属性名，前加 - 为降序，如 -households,name / sort keys, '-' for descending",
            {"type": "array", "items": {"type": "string"}},
        ),
        "properties": _query(
            "properties", "只返回这些属性 / only these properties", {"type": "array", "items": {"type": "string"}}
        ),
        "skipGeometry": _query(
            "skipGeometry", "不返回几何 / leave out geometries", {"type": "boolean", "default": False}
        ),
        "f": _query("f", "格式 / format", {"type": "string", "enum": ["json", "geojson", "html"], "default": "json"}),
        "lang": _query("lang", "错误信息语言 / language of error messages", {"type": "string", "enum": ["zh", "en"]}),
    }


_ITEMS_RESPONSES = {
    "200": {
        "description": "要素集合 / a page of features (GeoJSON FeatureCollection)",
        "content": {
            "application/geo+json": {
                "schema": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "features": {"type": "array", "items": {"type": "object"}},
                        "numberMatched": {"type": "integer", "minimum": 0},
                        "numberReturned": {"type": "integer", "minimum": 0},
                        "links": {"type": "array", "items": {"type": "object"}},
                    },
                }
            },
            "text/html": {"schema": {"type": "string"}},
        },
    },
    "400": {"description": "参数无效或不支持 / invalid or unsupported parameter (named in detail)"},
    "401": {"description": "需要登录 / authentication required (Bearer token or Basic with user name and token)"},
    "404": {"description": "没有这个集合 / no such collection"},
}
_SHARED = (
    "limit",
    "offset",
    "bbox",
    "bbox-crs",
    "crs",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
    "properties",
    "skipGeometry",
    "f",
    "lang",
)


def describe_items(
    doc: dict[str, Any],
    settings: APISettings,
    collections: Mapping[str, Mapping[str, str]],
    *,
    profiles: Mapping[str, list[str]],
) -> dict[str, Any]:
    """Add the items parameters to ``doc`` and one items path per collection (``collections``: id → queryables).

    ``profiles`` names the collections that take ``profile`` (the units) and the profile ids they accept.
    """
    doc.setdefault("components", {})["parameters"] = items_parameters(settings)
    refs = [{"$ref": f"#/components/parameters/{name}"} for name in _SHARED]
    generic = doc["paths"][ITEMS_PATH]["get"]
    generic["parameters"] = [*generic.get("parameters", []), *refs]
    generic["responses"] = {**_ITEMS_RESPONSES}
    for cid, kinds in collections.items():
        filters = [
            _query(name, f"等于此值的要素 / features whose {name} equals this value", {"type": kind})
            for name, kind in kinds.items()
        ]
        if cid in profiles:
            filters.append(
                _query(
                    "profile",
                    "政策配置 / policy profile the units are merged under",
                    {"type": "string", "enum": profiles[cid]},
                )
            )
        doc["paths"][f"/collections/{cid}/items"] = {
            "get": {
                "tags": generic.get("tags", []),
                "summary": f"Features of {cid}",
                "operationId": f"getItems_{cid.replace('-', '_')}",
                "parameters": [*refs, *filters],
                "responses": {**_ITEMS_RESPONSES},
            }
        }
    return doc
