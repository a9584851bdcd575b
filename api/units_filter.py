"""Selection, filters and order for the merged units, which are computed frames rather than store tables.

A city has hundreds of units, so they are filtered in memory: bbox with vectorised shapely, property filters with
pandas, CQL2 with pygeofilter's GeoPandas backend over the same parsed filter the store layers translate to SQL
(literals first brought to storage coordinates, properties checked against the units' queryables).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely
from pygeofilter import ast, values
from pygeofilter.backends.geopandas.evaluate import to_filter
from shapely.geometry import mapping, shape

from api.items_params import ItemsParams, bad
from geo.stores.cql2 import GEOMETRY_NAMES

#: Queryable properties of a unit and their JSON types (``members``, a list, is not queryable).
UNIT_KINDS = {
    "unit_id": "string",
    "street": "string",
    "n_members": "integer",
    "households": "integer",
    "floor_area_m2": "number",
    "cost_yuan": "integer",
    "residents_yuan": "integer",
    "subsidy_yuan": "integer",
    "score": "number",
    "shared_boundary_m": "number",
    "viable": "boolean",
    "reason": "string",
}
_SUPPORTED = (
    ast.And,
    ast.Or,
    ast.Not,
    ast.Comparison,
    ast.Between,
    ast.Like,
    ast.In,
    ast.IsNull,
    ast.SpatialComparisonPredicate,
    ast.Attribute,
    values.Geometry,
    values.Envelope,
)


def select_units(frame: pd.DataFrame, params: ItemsParams) -> pd.DataFrame:
    """The units matching an items request, in its order (``sortby``, then ``unit_id``)."""
    keep = np.ones(len(frame), dtype=bool)
    if params.area is not None and len(frame):
        keep &= shapely.intersects(np.asarray(frame.geometry.array), params.area)
    for key, value in params.filters.items():
        keep &= (frame[key] == value).fillna(False).to_numpy(dtype=bool)
    if params.filter is not None and len(frame):
        node = _prepared(params.filter, params.filter_geometry_in)
        try:
            named = frame if frame.geometry.name == "geometry" else frame.rename_geometry("geometry")
            mask = to_filter(named, node, {**{k: k for k in UNIT_KINDS}, **{g: "geometry" for g in GEOMETRY_NAMES}})
        except (KeyError, TypeError, ValueError, AttributeError, NotImplementedError) as exc:
            raise bad(f"连片单元不支持此过滤条件：{exc}", f"unsupported filter on units: {exc}") from None
        keep &= np.asarray(pd.Series(mask).fillna(False), dtype=bool) if not np.isscalar(mask) else bool(mask)
    chosen = frame[keep]
    if params.sortby:
        names = [n for n, _ in params.sortby] + ["unit_id"]
        ascending = [not d for _, d in params.sortby] + [True]
        chosen = chosen.sort_values(names, ascending=ascending, na_position="last", kind="stable")
    return chosen


def _prepared(node: Any, geometry_in: Any) -> Any:
    """Check every node is one the units can evaluate and bring geometry literals to storage coordinates."""
    if isinstance(node, bool | int | float | str):
        return node
    if isinstance(node, ast.Function) and node.name.lower() == "bbox" and len(node.arguments) == 4:
        return values.Geometry(mapping(geometry_in(shapely.box(*node.arguments))))
    if not isinstance(node, _SUPPORTED):
        label = getattr(getattr(node, "op", None), "value", None) or type(node).__name__
        raise bad(f"连片单元不支持此过滤运算：{label}", f"unsupported filter operation on units: {label}")
    if isinstance(node, ast.Attribute):
        if node.name not in UNIT_KINDS and node.name not in GEOMETRY_NAMES:
            raise bad(f"未知属性：{node.name}", f"unknown property in filter: {node.name}")
        return node
    if isinstance(node, values.Geometry):
        return values.Geometry(mapping(geometry_in(shape(node.geometry))))
    if isinstance(node, values.Envelope):
        return values.Geometry(mapping(geometry_in(shapely.box(node.x1, node.y1, node.x2, node.y2))))
    for name, child in list(vars(node).items()):
        if isinstance(child, list):
            setattr(node, name, [_prepared(c, geometry_in) for c in child])
        elif isinstance(child, ast.Node | values.Geometry | values.Envelope):
            setattr(node, name, _prepared(child, geometry_in))
    return node
