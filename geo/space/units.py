"""Merged renovation units (拆墙连片): adjacent small compounds joined so one property manager can run them.

Small compounds cannot sustain property management on their own; policy asks that adjacent ones be renovated and
managed as one area: Jingyuan's 拆墙连片 ("对相邻小区（楼）实行拆墙连片，统一实施改造，改造后交由物业企业统一管理",
靖政发〔2023〕75号 二(四); "相邻或临近的原分散住宅小区……整合成为一个小区，统一管理", 五) and Yulin's 整片 (玉政办发
〔2022〕13号 六(二)1、八(一)). Adjacent small compounds are merged whether or not the merged unit reaches the
property-management minimum: viability is a flag (``viable``, with the reason and ``shortfall_households``), not a
reason to leave neighbours apart. The merge is a deterministic greedy growth, used instead of agglomerative
clustering because its caps (households, floor area, cost) are sums over a unit, which clustering linkages cannot
enforce:

1. compounds with at least ``min_households`` stay alone (viable alone);
2. the remaining small compounds, highest score first, each seed a unit that grows by the adjacent small compound
   sharing the longest boundary with it, as long as every cap holds, until the unit reaches ``min_households``;
   a seed that cannot get there gives its neighbours back for now, so that another seed may still reach it;
3. small compounds still left join an adjacent merged unit (longest shared boundary first) where the caps allow;
4. the small compounds still left merge with their adjacent leftovers the same way (longest shared boundary first,
   caps holding, barriers respected) even though together they stay below ``min_households``: such a unit is
   ``viable=False`` with the households it lacks;
5. whatever remains (no adjacent small compound, or every merge would break a cap) is a single unit, flagged
   ``viable=False`` when it is small, with the reason and the shortfall.

Every step adds a compound adjacent to the unit, so units are always contiguous. ``n_conditional`` counts members
admitted only on conditions (``status == "conditional"``), so plans and maps can mark them.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import DataError
from geo.model import STORAGE_EPSG
from geo.space.adjacency import adjacency, working_crs

MONEY_COLUMNS = ("cost_yuan", "residents_yuan", "subsidy_yuan")
REQUIRED_COLUMNS = ("id", "households", "floor_area_m2", "status", "score", *MONEY_COLUMNS)


@dataclass(frozen=True)
class MergeRules:
    """Thresholds for merging, filled by the lead from the policy profile in force.

    Attributes
    ----------
    gap_m
        Compounds this close (m) count as adjacent (a lane or fence strip between them).
    min_households
        Smallest unit one property-management company can run; a compound this large stays alone.
    max_households, max_floor_area_m2, max_cost_yuan
        Caps on a merged unit (``None``: no cap), so units stay manageable and fundable in one go.
    include_conditional
        Merge ``conditional`` communities (admitted by an extension rule) as well as ``eligible`` ones; the caller
        leaves out those that are conditional only until their data is checked.
    cross_streets
        Allow units to span two streets (街道); off because a street plans its own list.
    scattered_attach_m
        Scattered old buildings this close (m) to a unit are renovated with it.
    """

    gap_m: float = 15.0
    min_households: int = 300
    max_households: int | None = 2000
    max_floor_area_m2: float | None = 200_000.0
    max_cost_yuan: int | None = None
    include_conditional: bool = True
    cross_streets: bool = False
    scattered_attach_m: float = 50.0


@dataclass(frozen=True)
class Pins:
    """A planner's decisions that the automatic merge and schedule must respect.

    Attributes
    ----------
    unit
        community id -> unit label: communities given the same label form exactly that unit (``unit_id`` = label).
    year
        community id -> year: the unit holding the community is scheduled in that year.
    exclude
        community ids kept out of every unit and of the plan.
    """

    unit: Mapping[object, str] = field(default_factory=dict)
    year: Mapping[object, int] = field(default_factory=dict)
    exclude: frozenset[object] = frozenset()


UNIT_COLUMNS = [
    "unit_id",
    "street",
    "members",
    "n_members",
    "households",
    "floor_area_m2",
    "cost_yuan",
    "residents_yuan",
    "subsidy_yuan",
    "score",
    "shared_boundary_m",
    "viable",
    "shortfall_households",
    "n_conditional",
    "conditional",
    "reason",
    "geometry",
]


def merge_units(
    communities: gpd.GeoDataFrame,
    *,
    roads: gpd.GeoDataFrame | None = None,
    rules: MergeRules,
    pins: Pins | None = None,
    lang: str = "zh",
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Group candidate communities into renovation units.

    Parameters
    ----------
    communities
        Candidates with ``id``, ``households``, ``floor_area_m2``, ``status``, ``score`` and the money columns
        (``cost_yuan``, ``residents_yuan``, ``subsidy_yuan``); ``street`` optional. Only ``eligible`` (and, with
        ``rules.include_conditional``, ``conditional``) communities are merged.
    roads
        Road lines; a ``major`` road between two compounds keeps them apart.
    rules
        Thresholds from the policy profile.
    pins
        Planner decisions: communities pinned to a unit label form that unit as pinned; excluded ones are left out.
    lang
        Language of ``reason``: ``"zh"`` (default) or ``"en"``.

    Returns
    -------
    units : geopandas.GeoDataFrame
        One row per unit in EPSG:4490 (columns :data:`UNIT_COLUMNS`), ordered by ``unit_id``. ``unit_id`` is
        ``"U-"`` + the smallest member id, so it stays the same while that member stays in the unit; the outline
        is the members' union closed over ``rules.gap_m`` (walls and gaps filled, no slivers); ``score`` is the
        households-weighted mean of member scores; ``shared_boundary_m`` the length of walls removed.
    membership : pandas.DataFrame
        ``community_id`` -> ``unit_id`` for every merged community (a community is in exactly one unit).
    """
    pins = pins or Pins()
    cand = _candidates(communities, rules=rules, pins=pins)
    metric = cand.geometry.to_crs(working_crs(cand)) if len(cand) else cand.geometry
    pairs = adjacency(cand.set_geometry(metric), roads=roads, gap_m=rules.gap_m, cross_streets=rules.cross_streets)
    graph = _Graph(cand, pairs)
    groups = _pinned_groups(cand, graph, pins)
    taken = {i for members, _label in groups for i in members}
    kinds = ["pinned"] * len(groups)

    households = cand["households"].to_numpy(dtype=np.int64)
    small = households < rules.min_households
    for i in graph.priority:
        if i not in taken and not small[i]:
            groups.append(([i], None))
            kinds.append("alone")
            taken.add(i)
    merged = _grow(graph, cand, rules=rules, small=small, taken=taken, keep_short=False)
    _absorb(graph, cand, rules=rules, small=small, taken=taken, merged=merged)
    merged += _grow(graph, cand, rules=rules, small=small, taken=taken, keep_short=True)
    for members in merged:
        groups.append((members, None))
        kinds.append("merged")
    for i in graph.priority:
        if i not in taken:
            groups.append(([i], None))
            kinds.append("short" if any(small[n] for n in graph.neighbours[i]) else "isolated")
            taken.add(i)
    return _build(
        cand,
        metric,
        graph,
        groups=[members for members, _label in groups],
        labels=[label for _members, label in groups],
        kinds=kinds,
        rules=rules,
        lang=lang,
    )


def closed_outline(geometry: gpd.GeoSeries, *, by: pd.Series | np.ndarray, gap_m: float) -> gpd.GeoSeries:
    """Outline of each group: the union of its parts buffered out by ``gap_m / 2`` and back in.

    This morphological closing removes the walls between parts and fills gaps up to ``gap_m`` wide, without
    slivers, while leaving convex corners where they were. ``geometry`` must be in a metric CRS; the result is
    indexed by the sorted group keys. Each group becomes one geometry collection and GEOS buffers (and so unions)
    all groups in one vectorised call.
    """
    half = gap_m / 2.0
    codes, keys = pd.factorize(np.asarray(by), sort=True)
    order = np.argsort(codes, kind="stable")
    groups = shapely.geometrycollections(np.asarray(geometry.values, dtype=object)[order], indices=codes[order])
    closed = _valid_polygons(_on_two_cores(_closing, groups, half))
    return gpd.GeoSeries(closed, index=pd.Index(keys), crs=geometry.crs)


def _closing(groups: np.ndarray, half: float) -> np.ndarray:
    grown = shapely.buffer(groups, half, join_style="mitre")
    return shapely.buffer(grown, -half, join_style="mitre")


def _on_two_cores(func: Callable[..., np.ndarray], geoms: np.ndarray, *args: Any) -> np.ndarray:
    """Run a vectorised shapely function on two halves at once: GEOS releases the GIL, so both cores work."""
    if len(geoms) < 2_000:
        return func(geoms, *args)
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(lambda part: func(part, *args), np.array_split(geoms, 2)))
    return np.concatenate(parts)


def _valid_polygons(geoms: np.ndarray) -> np.ndarray:
    """Repair outlines that buffering or reprojection left self-touching, keeping only their polygonal parts."""
    geoms = np.asarray(geoms, dtype=object).copy()
    bad = ~shapely.is_valid(geoms)
    geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    return geoms


class _Graph:
    """Neighbour lists over candidate positions, with the shared length of each pair and the seed order."""

    def __init__(self, cand: gpd.GeoDataFrame, pairs: pd.DataFrame) -> None:
        index = pd.Index(cand["id"])
        self.i = index.get_indexer(pairs["i_id"])
        self.j = index.get_indexer(pairs["j_id"])
        self.shared = pairs["shared_length_m"].to_numpy(dtype=float)
        self.neighbours: list[dict[int, float]] = [{} for _ in range(len(cand))]
        for a, b, s in zip(self.i.tolist(), self.j.tolist(), self.shared.tolist(), strict=True):
            self.neighbours[a][b] = s
            self.neighbours[b][a] = s
        score = cand["score"].fillna(0.0).to_numpy(dtype=float)
        self.key = cand["id"].astype(str).to_numpy()
        self.score = score
        #: Highest score first; ties by id, so the result does not depend on row order.
        self.priority: list[int] = sorted(range(len(cand)), key=lambda k: (-score[k], self.key[k]))
        #: Plain lists for the per-step lookups of the greedy loops (numpy scalar access is slow there).
        self.score_of: list[float] = score.tolist()
        self.key_of: list[str] = self.key.tolist()


class _Totals:
    """Running sums (households, floor area, cost) of a unit, checked against the caps before a compound joins."""

    def __init__(self, cand: gpd.GeoDataFrame, rules: MergeRules) -> None:
        self.households = cand["households"].astype("int64").tolist()
        self.area = cand["floor_area_m2"].astype(float).tolist()
        self.cost = cand["cost_yuan"].astype("int64").tolist()
        self.rules = rules

    def of(self, members: list[int]) -> tuple[int, float, int]:
        return (
            sum(self.households[k] for k in members),
            sum(self.area[k] for k in members),
            sum(self.cost[k] for k in members),
        )

    def plus(self, sums: tuple[int, float, int], k: int) -> tuple[int, float, int]:
        return (sums[0] + self.households[k], sums[1] + self.area[k], sums[2] + self.cost[k])

    def fits(self, sums: tuple[int, float, int]) -> bool:
        hh, area, cost = sums
        r = self.rules
        return (
            (r.max_households is None or hh <= r.max_households)
            and (r.max_floor_area_m2 is None or area <= r.max_floor_area_m2)
            and (r.max_cost_yuan is None or cost <= r.max_cost_yuan)
        )


def _candidates(communities: gpd.GeoDataFrame, *, rules: MergeRules, pins: Pins) -> gpd.GeoDataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in communities.columns]
    if missing:
        raise DataError(f"小区数据缺少列：{', '.join(missing)}", f"communities lack columns: {', '.join(missing)}")
    ids = communities["id"]
    if ids.duplicated().any():
        raise DataError("小区编号重复", "duplicate community ids", rows=ids[ids.duplicated()].unique().tolist())
    known = set(ids)
    unknown = sorted({*pins.unit, *pins.year, *pins.exclude} - known, key=str)
    if unknown:
        raise DataError("指定的小区不存在", "pinned communities do not exist", rows=unknown)
    statuses = {"eligible", "conditional"} if rules.include_conditional else {"eligible"}
    keep = communities["status"].isin(statuses) & ~ids.isin(list(pins.exclude))
    not_candidates = sorted(set(pins.unit) - set(ids[keep]), key=str)
    if not_candidates:
        raise DataError(
            "指定合并的小区不是改造候选（不符合条件或已排除）",
            "communities pinned to a unit are not candidates (not eligible, or excluded)",
            rows=not_candidates,
        )
    cand = communities[keep].reset_index(drop=True)
    for column in ("households", "floor_area_m2", *MONEY_COLUMNS):
        blank = cand[column].isna()
        if blank.any():
            raise DataError(
                f"改造候选小区缺少{column}数值",
                f"candidate communities lack a {column} value",
                rows=cand["id"][blank].tolist(),
            )
    if "street" not in cand.columns:
        cand["street"] = ""
    cand["street"] = cand["street"].fillna("").astype(str)
    return cand


def _pinned_groups(cand: gpd.GeoDataFrame, graph: _Graph, pins: Pins) -> list[tuple[list[int], str | None]]:
    """Units the planner fixed, each checked to be contiguous (a unit is never split by other land)."""
    by_label: dict[str, list[int]] = {}
    position = {cid: k for k, cid in enumerate(cand["id"])}
    for cid, label in pins.unit.items():
        by_label.setdefault(str(label), []).append(position[cid])
    groups: list[tuple[list[int], str | None]] = []
    for label in sorted(by_label):
        members = sorted(by_label[label], key=lambda k: graph.key[k])
        if not _connected(members, graph):
            raise DataError(
                f"指定合并为 {label} 的小区互不相邻，不能组成连片单元",
                f"communities pinned to {label} are not adjacent to each other and cannot form one contiguous unit",
                rows=[cand["id"].iloc[k] for k in members],
            )
        groups.append((members, label))
    return groups


def _connected(members: list[int], graph: _Graph) -> bool:
    inside = set(members)
    seen = {members[0]}
    stack = [members[0]]
    while stack:
        k = stack.pop()
        for n in graph.neighbours[k]:
            if n in inside and n not in seen:
                seen.add(n)
                stack.append(n)
    return seen == inside


def _grow(
    graph: _Graph,
    cand: gpd.GeoDataFrame,
    *,
    rules: MergeRules,
    small: np.ndarray,
    taken: set[int],
    keep_short: bool,
) -> list[list[int]]:
    """Steps 2 and 4: seed by score, grow by the longest shared boundary while the caps hold, until viable.

    Step 2 (``keep_short`` False) keeps only units that reach ``min_households``; step 4 (``keep_short`` True)
    also keeps units of two or more compounds that stay below it.
    """
    totals = _Totals(cand, rules)
    merged: list[list[int]] = []
    for seed in graph.priority:
        if seed in taken or not small[seed]:
            continue
        members = [seed]
        inside = {seed}
        sums = totals.of(members)
        frontier: dict[int, float] = {}
        _extend(frontier, graph, seed, inside=inside, taken=taken, small=small)
        while sums[0] < rules.min_households and frontier:
            pick = min(frontier, key=lambda k: (-frontier[k], -graph.score_of[k], graph.key_of[k]))
            del frontier[pick]
            grown = totals.plus(sums, pick)
            if not totals.fits(grown):
                continue
            members.append(pick)
            inside.add(pick)
            sums = grown
            _extend(frontier, graph, pick, inside=inside, taken=taken, small=small)
        if sums[0] >= rules.min_households or (keep_short and len(members) > 1):
            merged.append(members)
            taken.update(members)
    return merged


def _extend(
    frontier: dict[int, float], graph: _Graph, k: int, *, inside: set[int], taken: set[int], small: np.ndarray
) -> None:
    for n, shared in graph.neighbours[k].items():
        if n not in inside and n not in taken and small[n]:
            frontier[n] = frontier.get(n, 0.0) + shared


def _absorb(
    graph: _Graph,
    cand: gpd.GeoDataFrame,
    *,
    rules: MergeRules,
    small: np.ndarray,
    taken: set[int],
    merged: list[list[int]],
) -> None:
    """Step 3: leftover small compounds join the adjacent merged unit they share most boundary with, caps allowing.

    Compounds are tried highest priority first; when one joins, its leftover neighbours are tried again, because
    they may now touch that unit.
    """
    totals = _Totals(cand, rules)
    unit_of = {k: u for u, members in enumerate(merged) for k in members}
    sums = [totals.of(members) for members in merged]
    rank = {k: r for r, k in enumerate(graph.priority)}
    pending = [(rank[k], k) for k in graph.priority if k not in taken and small[k]]
    heapq.heapify(pending)
    queued = {k for _r, k in pending}
    while pending:
        _r, k = heapq.heappop(pending)
        queued.discard(k)
        if k in taken:
            continue
        shared_with: dict[int, float] = {}
        for n, s in graph.neighbours[k].items():
            if n in unit_of:
                shared_with[unit_of[n]] = shared_with.get(unit_of[n], 0.0) + s
        for u in sorted(shared_with, key=lambda u: (-shared_with[u], u)):
            grown = totals.plus(sums[u], k)
            if totals.fits(grown):
                merged[u].append(k)
                sums[u] = grown
                unit_of[k] = u
                taken.add(k)
                for n in graph.neighbours[k]:
                    if n not in taken and small[n] and n not in queued:
                        heapq.heappush(pending, (rank[n], n))
                        queued.add(n)
                break


def _build(
    cand: gpd.GeoDataFrame,
    metric: gpd.GeoSeries,
    graph: _Graph,
    *,
    groups: list[list[int]],
    labels: list[str | None],
    kinds: list[str],
    rules: MergeRules,
    lang: str,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Totals, outline and reason of every unit, computed per group with pandas rather than a loop per unit."""
    if len(cand) == 0:
        empty = gpd.GeoDataFrame({c: [] for c in UNIT_COLUMNS if c != "geometry"}, geometry=[], crs=STORAGE_EPSG)
        return empty, pd.DataFrame({"community_id": [], "unit_id": []})
    position = np.empty(len(cand), dtype=np.int64)
    for u, members in enumerate(groups):
        position[members] = u
    hh = cand["households"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame(
        {
            "conditional": (cand["status"] == "conditional").to_numpy(dtype=np.int64),
            "u": position,
            "id": cand["id"].to_numpy(),
            "key": graph.key,
            "street": cand["street"].to_numpy(),
            "households": hh,
            "floor_area_m2": cand["floor_area_m2"].to_numpy(dtype=float),
            **{c: cand[c].to_numpy(dtype=np.int64) for c in MONEY_COLUMNS},
            "score": graph.score,
            "weighted": graph.score * hh,
        }
    ).sort_values(["u", "key"], kind="stable")
    by_unit = frame.groupby("u", sort=True)
    totals = by_unit[["households", "floor_area_m2", *MONEY_COLUMNS, "weighted", "conditional"]].sum()
    mean_score = by_unit["score"].mean()
    score = np.where(totals["households"] > 0, totals["weighted"] / totals["households"].clip(lower=1), mean_score)
    # The unit's street is the street of its largest member (ties: the smallest id).
    street = (
        frame.sort_values(["u", "households", "key"], ascending=[True, False, True]).groupby("u")["street"].first()
    )
    first_key = by_unit["key"].first().tolist()
    unit_ids = [label if label is not None else f"U-{first_key[u]}" for u, label in enumerate(labels)]
    clash = pd.Index(unit_ids)
    if not clash.is_unique:
        raise DataError(
            "指定的单元名称与自动生成的单元编号重复",
            "a pinned unit label equals an automatically generated unit id",
            rows=clash[clash.duplicated()].unique().tolist(),
        )
    same = position[graph.i] == position[graph.j]
    shared = np.bincount(position[graph.i][same], weights=graph.shared[same], minlength=len(groups))

    # Single-member units keep their stored outline; merged outlines are closed in metres and converted back.
    n_members = by_unit.size().to_numpy()
    geometry = np.empty(len(groups), dtype=object)
    single = n_members[position] == 1
    geometry[position[single]] = cand.geometry.to_crs(STORAGE_EPSG).values[single]
    if (~single).any():
        outline = closed_outline(metric[~single], by=position[~single], gap_m=rules.gap_m).to_crs(STORAGE_EPSG)
        geometry[outline.index.to_numpy()] = _valid_polygons(outline.values)
    units = gpd.GeoDataFrame(
        {
            "unit_id": unit_ids,
            "street": street.to_numpy(),
            "members": _split(frame["id"].to_numpy(), n_members),
            "n_members": n_members,
            "households": totals["households"].to_numpy(),
            "floor_area_m2": totals["floor_area_m2"].round(1).to_numpy(),
            **{c: totals[c].to_numpy() for c in MONEY_COLUMNS},
            "score": np.round(score, 2),
            "shared_boundary_m": np.round(shared, 1),
            "viable": totals["households"].to_numpy() >= rules.min_households,
            "shortfall_households": np.maximum(rules.min_households - totals["households"].to_numpy(), 0),
            "n_conditional": totals["conditional"].to_numpy(),
            "conditional": totals["conditional"].to_numpy() > 0,
            "reason": [
                _reason(kind, n=int(n), households=int(h), rules=rules, lang=lang)
                for kind, n, h in zip(kinds, n_members, totals["households"], strict=True)
            ],
        },
        geometry=gpd.GeoSeries(geometry, crs=STORAGE_EPSG),
    )
    units = units.sort_values("unit_id", kind="stable").reset_index(drop=True)
    membership = pd.DataFrame(
        {"community_id": cand["id"].to_numpy(), "unit_id": np.asarray(unit_ids, dtype=object)[position]}
    )
    return units[UNIT_COLUMNS], membership


def _split(values: np.ndarray, sizes: np.ndarray) -> list[list[object]]:
    """Consecutive runs of ``values`` of the given sizes, as lists."""
    return [part.tolist() for part in np.split(values, np.cumsum(sizes)[:-1])]


def _reason(kind: str, *, n: int, households: int, rules: MergeRules, lang: str) -> str:
    scale = rules.min_households
    short = max(scale - households, 0)
    en = lang == "en"
    if short:
        lacking = (
            f"below the property-management scale (≥ {scale}) by {short} households: not viable alone"
            if en
            else f"不足物业管理规模（需≥{scale}户，差{short}户），单独难以维持物业管理"
        )
    if kind == "pinned":
        if en:
            head = f"{n} communities merged as pinned by the planner, {households} households"
            return f"{head}; {lacking}" if short else head
        head = f"{n}个小区按规划人员指定合并，合计{households}户"
        return f"{head}，{lacking}" if short else head
    if kind == "alone":
        if en:
            return f"viable alone: {households} households reach the property-management scale (≥ {scale})"
        return f"单独达到物业管理规模（{households}户，≥{scale}户），不需合并"
    if kind == "merged":
        if short:
            if en:
                return f"{n} adjacent communities merged (walls removed), {households} households together, {lacking}"
            return f"{n}个相邻小区拆墙连片，合计{households}户，{lacking}"
        if en:
            return (
                f"{n} adjacent communities merged (walls removed), {households} households together reach the "
                f"property-management scale (≥ {scale})"
            )
        return f"{n}个相邻小区拆墙连片，合计{households}户达到物业管理规模（≥{scale}户）"
    if kind == "isolated":
        if en:
            return f"{households} households, {lacking}; no adjacent small candidate community to merge with"
        return f"{households}户，{lacking}；且无相邻可合并的改造小区"
    if en:
        return f"{households} households, {lacking}; merging with an adjacent community would break a unit cap"
    return f"{households}户，{lacking}；与相邻小区合并将超过单元上限"
