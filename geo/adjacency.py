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

#: Outline segments within this angle (degrees) of each other count as facing (walls drawn slightly askew).
PARALLEL_DEG = 15.0

#: Segment pairs examined per numpy batch when measuring walls, to bound memory on large cities.
SEGMENT_CHUNK = 2_000_000

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
    i, j, distance = _candidate_pairs(geoms, gap_m)
    if not cross_streets and "street" in communities.columns:
        street = communities["street"].fillna("").astype(str).to_numpy()
        same = street[i] == street[j]
        i, j, distance = i[same], j[same], distance[same]
    if roads is not None and len(roads) and len(i):
        open_ = ~_crossed_by_major_road(geoms[i], geoms[j], distance, roads.to_crs(crs))
        i, j, distance = i[open_], j[open_], distance[open_]
    shared = _facing_length(geoms, i, j, distance)
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


def _candidate_pairs(geoms: np.ndarray, gap_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (i < j) within ``gap_m`` and their distances, sorted.

    One vectorised STRtree query of the envelopes grown by ``gap_m`` finds the candidates, and one vectorised
    distance call keeps those truly within reach: the same pairs as a ``dwithin`` query, in half the time.
    """
    tree = shapely.STRtree(geoms)
    x0, y0, x1, y1 = shapely.bounds(geoms).T
    i, j = tree.query(shapely.box(x0 - gap_m, y0 - gap_m, x1 + gap_m, y1 + gap_m))
    keep = i < j
    i, j = i[keep], j[keep]
    distance = shapely.distance(geoms[i], geoms[j])
    near = distance <= gap_m
    i, j, distance = i[near], j[near], distance[near]
    order = np.lexsort((j, i))
    return i[order], j[order], distance[order]


def _crossed_by_major_road(a: np.ndarray, b: np.ndarray, distance: np.ndarray, roads: gpd.GeoDataFrame) -> np.ndarray:
    """Whether a major road runs through the ground between each pair.

    For a gap pair the test line is the shortest connecting segment; for touching compounds, whose shortest
    segment is a single contact point on the shared wall, it is a small disc (:data:`WALL_TOLERANCE_M`) around that
    point, so a major road drawn along the shared boundary still separates them.
    """
    if "class" not in roads.columns:
        raise DataError("道路图层缺少 class 列", "the roads layer has no class column")
    major = np.asarray(roads.geometry[roads["class"].astype(str) == "major"].values, dtype=object)
    crossed = np.zeros(len(a), dtype=bool)
    if len(major) == 0:
        return crossed
    # Only pairs whose joint envelope meets a major road's envelope can be crossed; test those precisely.
    ax0, ay0, ax1, ay1 = shapely.bounds(a).T
    bx0, by0, bx1, by1 = shapely.bounds(b).T
    joint = shapely.box(np.minimum(ax0, bx0), np.minimum(ay0, by0), np.maximum(ax1, bx1), np.maximum(ay1, by1))
    tree = shapely.STRtree(major)
    near = np.unique(tree.query(joint)[0])
    if len(near) == 0:
        return crossed
    probe = shapely.shortest_line(a[near], b[near])
    touching = distance[near] < TOUCH_M
    probe[touching] = shapely.buffer(shapely.get_point(probe[touching], 0), WALL_TOLERANCE_M, quad_segs=2)
    hit, _road = tree.query(probe, predicate="intersects")
    crossed[near[hit]] = True
    return crossed


def _facing_length(geoms: np.ndarray, i: np.ndarray, j: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Length (m) of each ``geoms[i]`` outline that runs along ``geoms[j]`` within the pair distance plus tolerance.

    Computed on outline segments with numpy rather than a GEOS overlay per pair (which is 20x slower): for every
    segment ``s`` of ``i`` and every segment ``t`` of ``j`` that runs nearly parallel (within
    :data:`PARALLEL_DEG`), the stretch of ``s`` that ``t`` projects onto and that lies within ``distance +``
    :data:`WALL_TOLERANCE_M` of ``t`` faces the neighbour. A segment counts at most its own length. For two
    compounds sharing a 100 m wall this is exactly 100 m; for compounds across a lane, the frontage facing the
    other side; the far side of a thin compound never counts, because it is farther than the pair distance.
    """
    out = np.zeros(len(i))
    if len(i) == 0:
        return out
    x0, y0, x1, y1, first, count = _segments(geoms)
    reach = distance + WALL_TOLERANCE_M
    work = count[i] * count[j]
    bounds = np.searchsorted(np.cumsum(work), np.arange(SEGMENT_CHUNK, work.sum(), SEGMENT_CHUNK), side="right")
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(i)], strict=True):
        if hi > lo:
            out[lo:hi] = _facing_chunk(x0, y0, x1, y1, first, count, i[lo:hi], j[lo:hi], reach[lo:hi])
    return out


def _segments(geoms: np.ndarray) -> tuple[np.ndarray, ...]:
    """Outline segments of every polygon (all parts and rings) as coordinate arrays, grouped by polygon."""
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    same_ring = coord_ring[:-1] == coord_ring[1:]
    start = np.flatnonzero(same_ring)
    owner = part_owner[ring_part[coord_ring[start]]]
    count = np.bincount(owner, minlength=len(geoms))
    first = np.r_[0, np.cumsum(count)[:-1]]
    x0, y0 = coords[start, 0], coords[start, 1]
    x1, y1 = coords[start + 1, 0], coords[start + 1, 1]
    return x0, y0, x1, y1, first, count


def _facing_chunk(
    x0: np.ndarray,
    y0: np.ndarray,
    x1: np.ndarray,
    y1: np.ndarray,
    first: np.ndarray,
    count: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    reach: np.ndarray,
) -> np.ndarray:
    """:func:`_facing_length` for a batch of pairs: every segment of ``i`` against every segment of ``j``."""
    ni, nj = count[i], count[j]
    per_pair = ni * nj
    pair = np.repeat(np.arange(len(i)), per_pair)
    offset = np.arange(per_pair.sum()) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    s = first[i][pair] + offset // nj[pair]
    t = first[j][pair] + offset % nj[pair]

    sx, sy = x1[s] - x0[s], y1[s] - y0[s]
    length = np.hypot(sx, sy)
    ux, uy = sx / np.where(length > 0, length, 1.0), sy / np.where(length > 0, length, 1.0)
    tx, ty = x1[t] - x0[t], y1[t] - y0[t]
    t_len = np.hypot(tx, ty)
    parallel = np.abs(ux * tx + uy * ty) >= np.cos(np.radians(PARALLEL_DEG)) * t_len
    # Positions along s (tau) and signed offsets from its line (h) of both ends of t.
    ax, ay, bx, by = x0[t] - x0[s], y0[t] - y0[s], x1[t] - x0[s], y1[t] - y0[s]
    tau_a, tau_b = ax * ux + ay * uy, bx * ux + by * uy
    h_a, h_b = ux * ay - uy * ax, ux * by - uy * bx
    lo = np.maximum(0.0, np.minimum(tau_a, tau_b))
    hi = np.minimum(length, np.maximum(tau_a, tau_b))
    # Within [lo, hi] the offset is linear in tau; keep the stretch where |h| <= reach.
    span = np.where(tau_b != tau_a, tau_b - tau_a, 1.0)
    slope = np.where(tau_b != tau_a, (h_b - h_a) / span, 0.0)
    r = reach[pair]
    h_lo = h_a + slope * (lo - tau_a)
    flat = np.abs(slope) < 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        cut_1 = lo + (r - h_lo) / slope
        cut_2 = lo + (-r - h_lo) / slope
    inner_lo = np.where(flat, np.where(np.abs(h_lo) <= r, lo, np.inf), np.maximum(lo, np.minimum(cut_1, cut_2)))
    inner_hi = np.where(flat, np.where(np.abs(h_lo) <= r, hi, -np.inf), np.minimum(hi, np.maximum(cut_1, cut_2)))
    facing = np.where(parallel, np.clip(inner_hi - inner_lo, 0.0, None), 0.0)

    # Sum per segment of i (capped at its length), then per pair. Rows run pair by pair, segment of i by segment
    # of i, so each (pair, segment) is a block of nj consecutive rows.
    rows_before = np.repeat(np.cumsum(per_pair) - per_pair, ni)
    k = np.arange(ni.sum()) - np.repeat(np.cumsum(ni) - ni, ni)
    block_nj = np.repeat(nj, ni)
    seg_start = rows_before + k * block_nj
    has_rows = block_nj > 0
    per_segment = np.zeros(len(seg_start))
    if has_rows.any():
        sums = np.add.reduceat(facing, seg_start[has_rows])
        per_segment[has_rows] = np.minimum(sums, length[seg_start[has_rows]])
    return np.bincount(np.repeat(np.arange(len(i)), ni), weights=per_segment, minlength=len(i))


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
