"""Which communities are neighbours: touching, or facing each other across a narrow gap with no major road between.

Merging (拆墙连片) and implementation packages both need the same neighbour graph, so it is computed once here:
an STRtree ``dwithin`` query gives the candidate pairs in one vectorised call (no all-pairs loop), then pairs on
different streets and pairs separated by a major road are dropped. All lengths are metres in the data's CGCS2000
Gauss–Krüger zone (``geo.crs.metric_crs``).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from geo.crs import metric_crs
from geo.errors import DataError

#: Slack (m) when measuring how much of one outline faces the other: hand-drawn shared walls rarely coincide
#: exactly, so a wall counts as shared where the outlines are within the pair's distance plus this much.
WALL_TOLERANCE_M = 0.5

#: Pairs closer than this (m) are "touch": they share a wall rather than face each other across a gap.
TOUCH_M = 0.01


def adjacency(
    communities: gpd.GeoDataFrame,
    *,
    roads: gpd.GeoDataFrame | None = None,
    gap_m: float = 15.0,
    cross_streets: bool = False,
) -> pd.DataFrame:
    """Neighbouring pairs of communities.

    Two communities are neighbours when their outlines touch or are at most ``gap_m`` apart, they lie in the same
    street (unless ``cross_streets``), and no ``major`` road crosses the ground between them. A major road is a
    barrier because walls can come down between compounds but a trunk road cannot be closed to join them.

    Parameters
    ----------
    communities
        Polygons with an ``id`` column and, optionally, ``street``; any CRS (lengths are computed in metres).
    roads
        Road lines with a ``class`` column; only ``major`` roads break adjacency.
    gap_m
        Largest gap (m) across which two compounds still count as neighbours (a lane, a fence strip).
    cross_streets
        Allow neighbours in different streets (街道). Off by default: a street plans its own candidate list.

    Returns
    -------
    pandas.DataFrame
        One row per unordered pair, ``i_id`` < ``j_id`` in input order, with ``distance_m`` (0 when touching),
        ``shared_length_m`` (length of outline facing the other within the gap, the wall that would come down) and
        ``kind`` (``"touch"`` or ``"gap"``), sorted by ``i_id`` position then ``j_id`` position.
    """
    if "id" not in communities.columns:
        raise DataError("小区图层缺少 id 列", "the communities layer has no id column")
    if gap_m < 0:
        raise DataError(f"间距阈值不能为负数：{gap_m}", f"the gap threshold cannot be negative: {gap_m}")
    if len(communities) == 0:
        return _empty_pairs()
    crs = metric_crs(communities)
    geoms = np.asarray(communities.geometry.to_crs(crs).values, dtype=object)
    i, j = _candidate_pairs(geoms, gap_m)
    if not cross_streets and "street" in communities.columns:
        street = communities["street"].fillna("").astype(str).to_numpy()
        same = street[i] == street[j]
        i, j = i[same], j[same]
    distance = shapely.distance(geoms[i], geoms[j])
    if roads is not None and len(roads) and len(i):
        open_ = ~_crossed_by_major_road(geoms[i], geoms[j], distance, roads.to_crs(crs))
        i, j, distance = i[open_], j[open_], distance[open_]
    shared = _facing_length(geoms[i], geoms[j], distance)
    ids = communities["id"].to_numpy()
    return pd.DataFrame(
        {
            "i_id": ids[i],
            "j_id": ids[j],
            "distance_m": np.round(distance, 2),
            "shared_length_m": np.round(shared, 1),
            "kind": np.where(distance < TOUCH_M, "touch", "gap"),
        }
    )


def adjacency_matrix(pairs: pd.DataFrame, *, ids: Sequence[object], weight: str | None = None) -> sparse.csr_matrix:
    """Symmetric sparse neighbour matrix over ``ids`` (in that order), for clustering and connected components.

    Parameters
    ----------
    pairs
        Output of :func:`adjacency`; pairs naming ids not in ``ids`` are ignored.
    ids
        The row/column order.
    weight
        Column of ``pairs`` to store (e.g. ``"shared_length_m"``); ``None`` stores 1 for every pair.
    """
    index = pd.Index(ids)
    if not index.is_unique:
        raise DataError("小区编号重复", "duplicate community ids", rows=index[index.duplicated()].unique().tolist())
    i = index.get_indexer(pairs["i_id"])
    j = index.get_indexer(pairs["j_id"])
    keep = (i >= 0) & (j >= 0)
    i, j = i[keep], j[keep]
    values = np.ones(len(i)) if weight is None else pairs[weight].to_numpy(dtype=float)[keep]
    n = len(index)
    upper = sparse.coo_matrix((values, (i, j)), shape=(n, n))
    return (upper + upper.T).tocsr()


def _candidate_pairs(geoms: np.ndarray, gap_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) within ``gap_m``, sorted, from one vectorised STRtree query."""
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="dwithin", distance=gap_m)
    keep = i < j
    i, j = i[keep], j[keep]
    order = np.lexsort((j, i))
    return i[order], j[order]


def _crossed_by_major_road(a: np.ndarray, b: np.ndarray, distance: np.ndarray, roads: gpd.GeoDataFrame) -> np.ndarray:
    """Whether a major road runs through the ground between each pair.

    For a gap pair the test line is the shortest connecting segment; for touching compounds it is the shared wall
    itself (a major road drawn along a shared boundary still separates them).
    """
    if "class" not in roads.columns:
        raise DataError("道路图层缺少 class 列", "the roads layer has no class column")
    major = np.asarray(roads.geometry[roads["class"].astype(str) == "major"].values, dtype=object)
    crossed = np.zeros(len(a), dtype=bool)
    if len(major) == 0:
        return crossed
    touching = distance < TOUCH_M
    probe = shapely.shortest_line(a, b)
    probe[touching] = shapely.intersection(
        shapely.boundary(a[touching]), shapely.buffer(b[touching], WALL_TOLERANCE_M)
    )
    hit, _road = shapely.STRtree(major).query(probe, predicate="intersects")
    crossed[hit] = True
    return crossed


def _facing_length(a: np.ndarray, b: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Length (m) of ``a``'s outline within the pair distance (plus :data:`WALL_TOLERANCE_M`) of ``b``.

    For compounds sharing a wall this is the wall (plus at most the tolerance at each end); for compounds across a
    lane it is the frontage that faces the neighbour, which is what closing the gap joins.
    """
    if len(a) == 0:
        return np.zeros(0)
    reach = shapely.buffer(b, distance + WALL_TOLERANCE_M, quad_segs=2, join_style="mitre")
    return shapely.length(shapely.intersection(shapely.boundary(a), reach))


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "i_id": pd.Series(dtype=object),
            "j_id": pd.Series(dtype=object),
            "distance_m": pd.Series(dtype=float),
            "shared_length_m": pd.Series(dtype=float),
            "kind": pd.Series(dtype=object),
        }
    )
