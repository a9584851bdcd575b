"""Compact geometry and string encoding for the JSON a map page embeds.

Coordinates are quantised to 1e-6 degree (about 0.1 m, far finer than any planning polygon), closing vertices
are dropped and every number is the difference from the previous vertex, so a building-sized ring costs a few
bytes per vertex instead of the ~40 of full-precision GeoJSON. The page decodes it once (``runtime.js``).
Everything here works on whole arrays (``shapely.to_ragged_array``), never geometry by geometry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

#: Units per degree of the quantised coordinates (1e-6 degree ≈ 0.1 m).
SCALE = 1_000_000
#: Simplification tolerance in degrees (≈ 0.3 m): removes surveyed noise, keeps every visible corner.
SIMPLIFY_DEG = 3e-6


def _deltas(coords: NDArray[np.float64]) -> list[int]:
    q = np.round(coords * SCALE).astype(np.int64)
    d = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return d.ravel().tolist()


def _present(
    geoms: NDArray[np.object_], *, simplify: bool, preserve_topology: bool
) -> tuple[NDArray[np.object_], NDArray[np.bool_], NDArray[np.object_]]:
    """The geometries, which of them are present (not missing or empty), and those, simplified when asked."""
    geoms = np.asarray(geoms, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    shapes = geoms[present]
    if simplify and len(shapes):
        shapes = shapely.simplify(shapes, SIMPLIFY_DEG, preserve_topology=preserve_topology)
    return geoms, present, shapes


def encode_polygons(geoms: NDArray[np.object_], *, simplify: bool = True) -> dict[str, list[int]]:
    """Encode (multi)polygons as ``{c: deltas, r: vertices per ring, p: rings per part, g: parts per feature}``.

    Empty or missing geometries get zero parts, so feature positions still line up with their properties.
    """
    geoms, present, shapes = _present(geoms, simplify=simplify, preserve_topology=True)
    parts_per = np.zeros(len(geoms), dtype=np.int64)
    if len(shapes) == 0:
        return {"c": [], "r": [], "p": [], "g": parts_per.tolist()}
    kind, coords, offsets = shapely.to_ragged_array(shapes)
    if kind == shapely.GeometryType.POLYGON:
        ring_offsets, geom_offsets = offsets
        part_offsets = np.arange(len(geom_offsets))
        rings_per_part = np.diff(geom_offsets)
        parts = np.ones(len(shapes), dtype=np.int64)
    elif kind == shapely.GeometryType.MULTIPOLYGON:
        ring_offsets, part_offsets, geom_offsets = offsets
        rings_per_part = np.diff(part_offsets)
        parts = np.diff(geom_offsets)
    else:
        raise ValueError(f"expected polygons, got {kind!r}")
    ring_sizes = np.diff(ring_offsets)
    keep = np.ones(len(coords), dtype=bool)
    keep[ring_offsets[1:] - 1] = False  # the closing vertex repeats the first
    parts_per[present] = parts
    return {
        "c": _deltas(coords[keep]),
        "r": (ring_sizes - 1).tolist(),
        "p": rings_per_part.tolist(),
        "g": parts_per.tolist(),
    }


def encode_lines(geoms: NDArray[np.object_], *, simplify: bool = True) -> dict[str, list[int]]:
    """Encode (multi)linestrings as ``{c: deltas, r: vertices per line, g: lines per feature}``."""
    geoms, present, shapes = _present(geoms, simplify=simplify, preserve_topology=False)
    lines_per = np.zeros(len(geoms), dtype=np.int64)
    if len(shapes) == 0:
        return {"c": [], "r": [], "g": lines_per.tolist()}
    kind, coords, offsets = shapely.to_ragged_array(shapes)
    if kind == shapely.GeometryType.LINESTRING:
        (line_offsets,) = offsets
        lines = np.ones(len(shapes), dtype=np.int64)
    elif kind == shapely.GeometryType.MULTILINESTRING:
        line_offsets, geom_offsets = offsets
        lines = np.diff(geom_offsets)
    else:
        raise ValueError(f"expected lines, got {kind!r}")
    lines_per[present] = lines
    return {"c": _deltas(coords), "r": np.diff(line_offsets).tolist(), "g": lines_per.tolist()}


def encode_points(geoms: NDArray[np.object_]) -> dict[str, list[int]]:
    """Encode points as ``{c: deltas}`` (one x, y pair per feature)."""
    coords = shapely.get_coordinates(np.asarray(geoms, dtype=object))
    return {"c": _deltas(coords)}


class StringTable:
    """Repeated strings (street names, reason texts, sources) stored once; features hold their indices."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}
        self.strings: list[str] = []

    def add(self, value: Any) -> int:
        """Index of ``value`` (missing values become -1)."""
        if value is None or (np.ndim(value) == 0 and pd.isna(value)):
            return -1
        text = str(value)
        if text not in self._index:
            self._index[text] = len(self.strings)
            self.strings.append(text)
        return self._index[text]

    def column(self, values: Iterable[Any]) -> list[int]:
        return [self.add(v) for v in values]

    def prime(self, *columns: Iterable[Any]) -> None:
        """Give the values of few-valued columns (street, status, stage) the shortest indices, before unique values
        (ids, names) fill the table: at 50,000 features that is a few hundred kB less JSON."""
        for values in columns:
            self.column(values)


def ints(values: pd.Series) -> list[int | None]:
    """Whole numbers for JSON, missing values as null."""
    return [None if pd.isna(v) else int(v) for v in values]


def rounded(values: pd.Series, digits: int = 1) -> list[float | None]:
    """Numbers rounded for display, missing values as null."""
    return [None if pd.isna(v) else round(float(v), digits) for v in values]
