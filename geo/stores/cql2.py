"""CQL2 filters (OGC API – Features Part 3) as SQL conditions on both stores.

pygeofilter parses CQL2 text and CQL2 JSON into one AST; this module checks it against a layer's queryables and
turns it into a SQLAlchemy condition, so filtering, counting and paging stay in the database (PostGIS functions on
PostGIS, the R*Tree plus exact shapely predicates registered as SQLite functions on SQLite). pygeofilter's own
SQLAlchemy backend assumes GeoAlchemy2 columns and EPSG:4326 literals, which neither fits the SQLite store nor the
axis order of EPSG:4490, hence an evaluator of our own over its AST.

Anything the translation does not support (temporal operators, arithmetic, functions other than ``CASEI``/
``LOWER``, unknown properties, a literal of the wrong type) is a `FilterError` naming it: HTTP 400, never a silently
ignored filter.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import shapely
from lark.exceptions import LarkError
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle
from pygeofilter.parsers.cql2_json import parse as parse_json
from pygeofilter.parsers.cql2_text import parse as parse_text
from shapely.geometry import shape
from sqlalchemy import Table, and_, between, false, func, literal, not_, null, or_, true

from geo.errors import RenewalError
from geo.model import INT_LIMIT, LAYERS

#: JSON Schema type of each column type (the queryables document and literal checks use it).
JSON_TYPES = {"text": "string", "int": "integer", "float": "number", "bool": "boolean"}
#: Names a filter may give the geometry.
GEOMETRY_NAMES = ("geometry", "geom")
#: Spatial predicates and the one that holds with the arguments swapped.
_CONVERSE = {
    "INTERSECTS": "INTERSECTS",
    "DISJOINT": "DISJOINT",
    "CONTAINS": "WITHIN",
    "WITHIN": "CONTAINS",
    "TOUCHES": "TOUCHES",
    "CROSSES": "CROSSES",
    "OVERLAPS": "OVERLAPS",
    "EQUALS": "EQUALS",
}
#: Filter languages accepted in ``filter-lang``. ``cql-text`` is the draft name of CQL2 text, which GDAL's OAPIF
#: driver (3.12 included) still sends: its filters are CQL2 text.
LANGUAGES = ("cql2-text", "cql2-json", "cql-text")


class FilterError(RenewalError):
    """A filter the server cannot apply as asked (HTTP 400): bad syntax, unknown property, unsupported operator."""


def queryables(layer: str) -> dict[str, str]:
    """Queryable properties of a store layer and their JSON types, in column order (geometry excluded)."""
    out = {c.name: JSON_TYPES[c.type] for c in LAYERS[layer].columns if c.type in JSON_TYPES}
    out["version"] = "integer"
    if layer == "communities":
        out["merged_into"] = "string"
    return out


def parse(text: str, lang: str | None) -> ast.Node:
    """The AST of a ``filter`` value in ``lang`` (``cql2-text`` when None)."""
    lang = (lang or "cql2-text").strip().lower()
    if lang not in LANGUAGES:
        raise FilterError(
            f"不支持的过滤语言：{lang}（可用：{'、'.join(LANGUAGES)}）",
            f"unsupported filter-lang: {lang} (use one of {', '.join(LANGUAGES)})",
        )
    if "\x00" in text:
        raise FilterError("过滤条件含有 NUL 字符", "the filter contains a NUL character")
    try:
        if lang == "cql2-json":
            node = parse_json(json.loads(text, parse_constant=_refuse_constant))
        else:
            node = parse_text(text)  # cql2-text, or its draft name cql-text
    except FilterError:
        raise
    except (LarkError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FilterError(f"过滤条件无法解析：{first}", f"cannot parse the filter ({lang}): {first}") from None
    return node


def _refuse_constant(name: str) -> Any:
    raise FilterError(f"过滤条件含非有限数值：{name}", f"the filter contains a non-finite number: {name}")


GeometryIn = Callable[[Any], Any]


class _SQL(Evaluator):
    """AST → SQLAlchemy condition for one table; spatial predicates come from the store (dialect specific)."""

    def __init__(self, *, store: Any, table: Table, kinds: Mapping[str, str], geometry_in: GeometryIn) -> None:
        self.store = store
        self.table = table
        self.kinds = kinds
        self.geometry_in = geometry_in

    # -- logic ------------------------------------------------------------------------------------------------
    @handle(ast.And)
    def and_(self, node: Any, lhs: Any, rhs: Any) -> Any:
        return and_(_condition(node.lhs, lhs), _condition(node.rhs, rhs))

    @handle(ast.Or)
    def or_(self, node: Any, lhs: Any, rhs: Any) -> Any:
        return or_(_condition(node.lhs, lhs), _condition(node.rhs, rhs))

    @handle(ast.Not)
    def not_(self, node: Any, sub: Any) -> Any:
        return not_(_condition(node.sub_node, sub))

    # -- comparisons ---------------------------------------------------------------------------------------------
    @handle(ast.Comparison, subclasses=True)
    def comparison(self, node: Any, lhs: Any, rhs: Any) -> Any:
        self._check_pair(node.lhs, node.rhs)
        ops = {"=": "__eq__", "<>": "__ne__", "<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__"}
        return getattr(_sql(lhs), ops[node.op.value])(_sql(rhs))

    @handle(ast.Between)
    def between(self, node: Any, lhs: Any, low: Any, high: Any) -> Any:
        self._check_pair(node.lhs, node.low)
        self._check_pair(node.lhs, node.high)
        cond = between(_sql(lhs), _sql(low), _sql(high))
        return not_(cond) if node.not_ else cond

    @handle(ast.In)
    def in_(self, node: Any, lhs: Any, *options: Any) -> Any:
        for option in node.sub_nodes:
            self._check_pair(node.lhs, option)
        cond = _sql(lhs).in_([_sql(o) for o in options])
        return not_(cond) if node.not_ else cond

    @handle(ast.IsNull)
    def is_null(self, node: Any, lhs: Any) -> Any:
        return _sql(lhs).is_not(null()) if node.not_ else _sql(lhs).is_(null())

    @handle(ast.Like)
    def like(self, node: Any, lhs: Any) -> Any:
        if self._kind(node.lhs) not in ("string", None):
            raise FilterError(
                f"LIKE 只能用于文本属性：{_name(node.lhs)}", f"LIKE needs a text property: {_name(node.lhs)}"
            )
        if not isinstance(node.pattern, str):
            raise FilterError("LIKE 的模式应为文本", "the LIKE pattern must be text")
        pattern = _like_pattern(node.pattern, node.wildcard, node.singlechar, node.escapechar)
        target, pattern_sql = (
            (func.lower(lhs), func.lower(literal(pattern))) if node.nocase else (lhs, literal(pattern))
        )
        cond = target.like(pattern_sql, escape="\\")
        return not_(cond) if node.not_ else cond

    # -- spatial --------------------------------------------------------------------------------------------------
    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node: Any, lhs: Any, rhs: Any) -> Any:
        predicate = node.op.name
        if _is_geometry_attribute(node.lhs) and not _is_geometry_attribute(node.rhs):
            geom = rhs
        elif _is_geometry_attribute(node.rhs) and not _is_geometry_attribute(node.lhs):
            geom, predicate = lhs, _CONVERSE[predicate]
        else:
            raise FilterError(
                f"空间条件须比较 geometry 属性与一个几何常量：{node.op.value}",
                f"a spatial predicate must compare the geometry property with a geometry literal: {node.op.value}",
            )
        if not isinstance(geom, shapely.Geometry):
            raise FilterError(
                f"{node.op.value} 的参数应为几何（WKT、GeoJSON 或 BBOX）",
                f"{node.op.value} needs a geometry literal (WKT, GeoJSON or BBOX)",
            )
        return self.store.spatial_condition(self.table, predicate, geom)

    @handle(ast.BBox)
    def bbox(self, node: Any, lhs: Any) -> Any:
        if not _is_geometry_attribute(node.lhs):
            raise FilterError("BBOX 须作用于 geometry 属性", "BBOX applies to the geometry property")
        box = self.geometry_in(shapely.box(node.minx, node.miny, node.maxx, node.maxy))
        return self.store.spatial_condition(self.table, "INTERSECTS", box)

    # -- terms ------------------------------------------------------------------------------------------------------
    @handle(ast.Attribute)
    def attribute(self, node: Any) -> Any:
        if node.name in GEOMETRY_NAMES:
            return self.table.c.geom
        if node.name not in self.kinds:
            raise FilterError(
                f"未知属性：{node.name}（可查询：{'、'.join(self.kinds)}）",
                f"unknown property in filter: {node.name} (queryables: {', '.join(self.kinds)})",
            )
        return self.table.c[node.name]

    @handle(ast.Function)
    def function(self, node: Any, *args: Any) -> Any:
        name = node.name.lower()
        if name in ("lower", "casei") and len(args) == 1:
            return func.lower(_sql(args[0]))
        if name == "bbox" and len(args) in (4, 6) and all(isinstance(a, int | float) for a in args):
            x1, y1, x2, y2 = (args[0], args[1], args[2], args[3]) if len(args) == 4 else (*args[:2], *args[3:5])
            return self.geometry_in(shapely.box(x1, y1, x2, y2))
        raise FilterError(f"不支持的函数：{node.name}", f"unsupported function in filter: {node.name}")

    @handle(values.Geometry)
    def geometry(self, node: Any) -> Any:
        try:
            geom = shape(node.geometry)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError, shapely.errors.ShapelyError) as exc:
            raise FilterError(f"几何常量无效：{exc}", f"invalid geometry literal: {exc}") from None
        _check_finite(geom)
        return self.geometry_in(geom)

    @handle(values.Envelope)
    def envelope(self, node: Any) -> Any:
        return self.geometry_in(shapely.box(node.x1, node.y1, node.x2, node.y2))

    @handle(str, int, float, bool)
    def literal(self, node: Any) -> Any:
        if isinstance(node, str) and "\x00" in node:
            raise FilterError("过滤条件含有 NUL 字符", "the filter contains a NUL character")
        if isinstance(node, int) and not isinstance(node, bool) and abs(node) >= INT_LIMIT:
            raise FilterError(f"整数超出范围：{node}", f"integer out of range: {node}")
        if isinstance(node, float) and not math.isfinite(node):
            raise FilterError(f"非有限数值：{node}", f"non-finite number: {node}")
        return node

    def adopt(self, node: Any, *sub_args: Any) -> Any:
        """Anything without a handler: temporal and array operators, arithmetic, dates, intervals."""
        label = getattr(getattr(node, "op", None), "value", None) or type(node).__name__
        raise FilterError(f"不支持的过滤运算：{label}", f"unsupported filter operation: {label}")

    # -- type checks ----------------------------------------------------------------------------------------------
    def _kind(self, node: Any) -> str | None:
        if isinstance(node, ast.Attribute):
            return "geometry" if node.name in GEOMETRY_NAMES else self.kinds.get(node.name)
        if isinstance(node, bool):
            return "boolean"
        if isinstance(node, int):
            return "integer"
        if isinstance(node, float):
            return "number"
        if isinstance(node, str):
            return "string"
        return None

    def _check_pair(self, left: Any, right: Any) -> None:
        kinds = {self._kind(left), self._kind(right)}
        if None in kinds or len(kinds) == 1 or kinds == {"integer", "number"}:
            return
        if "geometry" in kinds:
            raise FilterError("几何只能用空间运算比较", "geometries are compared with spatial operators only")
        shown = _name(left) if isinstance(left, ast.Attribute) else _name(right)
        raise FilterError(
            f"类型不匹配：{shown}（{' / '.join(sorted(str(k) for k in kinds))}）",
            f"type mismatch in filter for {shown} ({' vs '.join(sorted(str(k) for k in kinds))})",
        )


def _sql(value: Any) -> Any:
    """A SQL expression for an evaluated term (plain Python literals become bound parameters)."""
    return literal(value) if isinstance(value, str | int | float | bool) else value


def _condition(node: Any, value: Any) -> Any:
    """A condition for AND/OR/NOT: a literal ``true``/``false`` is SQL TRUE/FALSE; a bare property is refused."""
    if isinstance(node, bool):
        return true() if node else false()
    if not isinstance(node, ast.Condition | ast.Predicate):
        raise FilterError(f"不是条件：{_name(node)}", f"not a condition: {_name(node)}")
    return value


def _name(node: Any) -> str:
    return getattr(node, "name", repr(node))


def _is_geometry_attribute(node: Any) -> bool:
    return isinstance(node, ast.Attribute) and node.name in GEOMETRY_NAMES


def _check_finite(geom: Any) -> None:
    coords = shapely.get_coordinates(geom)
    if geom.is_empty or not all(math.isfinite(v) for v in coords.ravel()):
        raise FilterError("几何常量为空或含非有限坐标", "the geometry literal is empty or has non-finite coordinates")


def _like_pattern(pattern: str, wildcard: str, single: str, escape: str) -> str:
    """A CQL2 LIKE pattern as a SQL LIKE pattern escaped with a backslash."""
    out: list[str] = []
    chars = iter(pattern)
    for ch in chars:
        if ch == escape:
            nxt = next(chars, "")
            out.append("\\" + nxt if nxt in ("%", "_", "\\") else nxt)
        elif ch == wildcard:
            out.append("%")
        elif ch == single:
            out.append("_")
        elif ch in ("%", "_", "\\"):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def to_sql(node: ast.Node, *, store: Any, layer: str, geometry_in: GeometryIn) -> Any:
    """The SQL condition of a parsed filter on ``layer`` of ``store``.

    ``geometry_in`` brings a geometry literal from the filter CRS (``filter-crs``, CRS84 by default) to storage
    coordinates (EPSG:4490, longitude first).
    """
    evaluator = _SQL(store=store, table=store.tables[layer], kinds=queryables(layer), geometry_in=geometry_in)
    return _condition(node, evaluator.evaluate(node))
