"""The synthetic sample city: a deterministic, scalable generator of every input layer.

The demo, the tests and the benchmarks need a city that holds the awkward cases real data has (single-building
家属院 compounds wall to wall, narrow gaps, estates, scattered old buildings, buildings with no community id,
demolition and urban-village zones, a consent vote at exactly 2/3), at any size from a county town to a large city,
without shipping anyone's real data. :func:`make_city` builds it in memory; :func:`write_sample` writes the
default city to ``data/boundaries/`` (``python -m geo.synthetic.city [OUT_DIR]``).

Layout: a grid of city blocks separated by street corridors (a road line down the middle of each). A block is a
6 × 4 grid of cells whose sizes vary per block; a block template groups the cells into lots (one lot, one
community: 1 cell is a small 家属楼 compound, 2–6 cells a mid-size community, 12–16 cells a large estate).
Neighbouring lots share a wall or leave a 1–12 m gap. Buildings are slab rectangles in rows inside their lot.
Everything is built with vectorised shapely constructors in the metric Gauss–Krüger zone of ``origin`` and
converted to EPSG:4490 once.
"""

from __future__ import annotations

import argparse
import io
import math
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from geo.crs import gk_zone_epsg
from geo.model import (
    BUILDINGS,
    COMMUNITIES,
    DEFICIENCY_ITEMS,
    NEIGHBOURHOODS,
    ROADS,
    STORAGE_EPSG,
    STREETS,
    SURVEY,
    ZONE_KINDS,
    ZONES,
)

#: Seed of the shipped sample city: the date of 楚市政办通〔2020〕5号 (2020-03-07), the policy of the town it sits in.
SAMPLE_SEED = 20200307
#: Where the sample city sits: the centre of 楚雄市 (Chuxiong, Yunnan), longitude and latitude in CGCS2000.
CHUXIONG = (101.5460, 25.0330)
DISTRICT = "楚雄市"
DEFAULT_OUT_DIR = Path(__file__).resolve().parents[2] / "data" / "boundaries"

SMALL, MID, LARGE = 0, 1, 2
_COLS, _ROWS = 6, 4
#: Block templates, one letter per lot, rows listed south to north. Template 3 also hosts the zones.
_BLOCK_TEMPLATES: tuple[tuple[str, ...], ...] = (
    ("abcdef", "ghijkl", "mnopqr", "stuvwx"),
    ("aabbcc", "aabbcc", "ddeeff", "ddeeff"),
    ("aaabbc", "aaabbd", "aaaeef", "aaaeeg"),
    ("abcdef", "ghijkl", "mmnnoo", "mmnnoo"),
    ("abbbbc", "dbbbbe", "fbbbbg", "hbbbbi"),
    ("aabbcc", "ddeeff", "ghijkl", "ghijkl"),
    ("aabccd", "aabccd", "eefghh", "eeijhh"),
    ("aaabbb", "aaabbb", "cccddd", "cccddd"),
)
_TEMPLATE_WEIGHTS = np.array([0.08, 0.12, 0.10, 0.18, 0.09, 0.13, 0.20, 0.10])
_ZONE_TEMPLATE = 3
_ESTATE_TEMPLATES = (2, 4, 2)
#: Zones sit on the 2 × 2 south-west cells (all small lots) of a template-3 block, in this order of kinds.
_ZONE_KINDS = ("demolition", "urban_village", "shantytown")

#: Smallest slot a building row/column needs inside a lot: a 20 m × 10 m slab with 3 m all round, plus spacing.
_SLOT_W, _SLOT_H, _MARGIN = 26.0, 22.0, 3.0
#: Share of the spare room in mid-size communities and estates that is built on, unless a total is asked for.
_FILL = 0.75

_PLACE_FIRST = "东西南北鹿龙凤青紫福兴阳永安和康盛金玉彝翠峨云华新春桂梅兰竹松柏明光泰丰平文德"
_PLACE_SECOND = "城山湖江阳兴盛泉园林河秀华景宁安和福康祥瑞源峰川岭溪桥湾坊庭锦荣"
_PLACES = np.array([a + b for a in _PLACE_FIRST for b in dict.fromkeys(_PLACE_SECOND) if a != b])
_WORK_UNITS = [
    "财政局",
    "税务局",
    "供电局",
    "交通局",
    "粮食局",
    "水务局",
    "林业局",
    "公安局",
    "卫生局",
    "教育局",
    "气象局",
    "邮电局",
    "建设局",
    "农业局",
    "工商局",
    "商业局",
    "物资局",
    "民政局",
    "文化局",
    "烟草公司",
    "人民医院",
    "第一中学",
    "水泥厂",
    "糖厂",
    "化肥厂",
    "机械厂",
    "印刷厂",
    "纺织厂",
    "百货公司",
    "供销社",
    "运输公司",
    "地质队",
    "建筑公司",
    "自来水公司",
    "电信局",
    "农机厂",
    "酒厂",
    "卷烟厂",
    "茶厂",
    "食品公司",
]
_UNIT_SUFFIXES = ("家属院", "宿舍", "家属楼", "职工住宅")
_OLD_SUFFIXES = np.array(["新村", "小区"])
_NEW_SUFFIXES = np.array(["小区", "花园", "苑", "家园"])
_ESTATE_SUFFIXES = np.array(["花园", "家园"])
_CN_DIGITS = "〇一二三四五六七八九"

#: Share of communities surveyed as lacking each item, for a community built before 1990 (scaled down for newer).
_ITEM_NEED = {
    "water_supply": 0.45,
    "drainage": 0.6,
    "power": 0.4,
    "gas": 0.55,
    "road": 0.5,
    "fire_safety": 0.5,
    "security": 0.45,
    "lighting": 0.5,
    "telecom": 0.35,
    "overhead_lines": 0.55,
    "waste_sorting": 0.6,
    "roof": 0.45,
    "facade": 0.5,
    "stairwell": 0.5,
    "heating": 0.02,
    "illegal_structures": 0.35,
    "greening": 0.45,
    "accessibility": 0.6,
    "parking": 0.65,
    "ev_charging": 0.55,
    "parcel_lockers": 0.5,
    "culture_sports": 0.35,
    "property_room": 0.4,
    "energy_saving": 0.3,
    "elevator": 0.25,
    "community_service": 0.25,
    "health_station": 0.15,
    "childcare": 0.15,
    "elderly_care": 0.3,
    "convenience": 0.2,
}
_RENOVATED_BEFORE = np.array(["water_supply", "power", "road", "roof", "lighting", "waste_sorting"])
_FIXED_TIME = datetime(2020, 3, 7)


def _template_lots() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lots of every template as rows (template, col, row, width, height), with per-template counts and offsets."""
    lots = []
    for t, grid in enumerate(_BLOCK_TEMPLATES):
        cells = np.array([list(line) for line in grid])
        for label in dict.fromkeys("".join(grid)):
            where = np.argwhere(cells == label)
            (r0, c0), (r1, c1) = where.min(axis=0), where.max(axis=0)
            lots.append((t, c0, r0, c1 - c0 + 1, r1 - r0 + 1))
    table = np.array(lots)
    counts = np.bincount(table[:, 0], minlength=len(_BLOCK_TEMPLATES))
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    n_cells = table[:, 3] * table[:, 4]
    kind = np.select([n_cells == 1, n_cells >= 9], [SMALL, LARGE], MID)
    crosses_middle = (table[:, 2] < 2) & (table[:, 2] + table[:, 4] > 2)
    lane_ok = np.bincount(table[:, 0], weights=crosses_middle, minlength=len(_BLOCK_TEMPLATES)) == 0
    return table, counts, first, kind, lane_ok


_LOTS, _LOTS_PER_TEMPLATE, _FIRST_LOT, _LOT_KIND, _LANE_OK = _template_lots()


@dataclass(frozen=True)
class _Grid:
    """City blocks and corridors in local metres (south-west corner of the city at 0, 0); blocks row-major."""

    nbx: int
    nby: int
    template: np.ndarray
    col_x: np.ndarray
    row_y: np.ndarray
    gap_x: np.ndarray
    gap_y: np.ndarray
    v_mid: np.ndarray
    v_major: np.ndarray
    h_mid: np.ndarray
    h_major: np.ndarray
    width: float
    height: float
    street_x: np.ndarray
    street_y: np.ndarray
    zone_kind: np.ndarray
    lanes: np.ndarray

    @property
    def bx(self) -> np.ndarray:
        return np.arange(self.nbx * self.nby) % self.nbx

    @property
    def by(self) -> np.ndarray:
        return np.arange(self.nbx * self.nby) // self.nbx


def _corridors(rng: np.random.Generator, sizes: np.ndarray, splits: np.ndarray) -> tuple[np.ndarray, ...]:
    """Corridors around ``len(sizes)`` blocks in one direction: block starts, centre lines, major flags, extent."""
    n = len(sizes) + 1
    major = np.isin(np.arange(n), splits) | (rng.random(n) < 0.35)
    widths = np.where(major, rng.uniform(20.0, 40.0, n), rng.uniform(12.0, 18.0, n))
    starts = np.concatenate([[0.0], np.cumsum(widths[:-1] + sizes)])
    return starts[:-1] + widths[:-1], starts + widths / 2.0, major, float(starts[-1] + widths[-1])


def _cell_edges(rng: np.random.Generator, start: np.ndarray, size: np.ndarray, n: int) -> np.ndarray:
    """Cell edges inside each block: ``n`` cells of 85–115 % of an even share, first and last at the block edges."""
    cum = np.cumsum(rng.uniform(0.85, 1.15, (len(start), n)), axis=1)
    return start[:, None] + size[:, None] * np.hstack([np.zeros((len(start), 1)), cum / cum[:, -1:]])


def _gaps(rng: np.random.Generator, n_blocks: int, n_edges: int) -> np.ndarray:
    """Gap at each cell edge: none (shared walls) or 1–12 m; none on the block's own edges (they face a corridor)."""
    gaps = np.where(rng.random((n_blocks, n_edges)) < 0.45, rng.uniform(1.0, 12.0, (n_blocks, n_edges)), 0.0)
    gaps[:, [0, -1]] = 0.0
    return gaps


def _grid(rng: np.random.Generator, n_lots: int, n_zones: int) -> _Grid:
    """Enough blocks for ``n_lots`` lots, on a near-square grid of at least 4 × 4 blocks."""
    sequence = rng.choice(len(_BLOCK_TEMPLATES), size=math.ceil(n_lots / 6) + 64, p=_TEMPLATE_WEIGHTS)
    # Estates and zones go among the first blocks, which the grid is sure to hold, before counting lots.
    low = max(16, math.ceil(n_lots / _LOTS_PER_TEMPLATE.max()))
    special = rng.choice(low, len(_ESTATE_TEMPLATES) + 3 * n_zones, replace=False)
    sequence[special] = [*_ESTATE_TEMPLATES, *[_ZONE_TEMPLATE] * (3 * n_zones)]
    zone_seq = np.full(len(sequence), -1)
    zone_seq[special[len(_ESTATE_TEMPLATES) :]] = np.repeat(np.arange(len(_ZONE_KINDS)), n_zones)
    needed = int(np.searchsorted(np.cumsum(_LOTS_PER_TEMPLATE[sequence]), n_lots)) + 1
    nbx = max(4, math.ceil(math.sqrt(needed)))
    nby = max(4, math.ceil(needed / nbx))
    n_blocks = nbx * nby
    # Shuffle the blocks over the grid, so estates and zones can be anywhere.
    shuffle = rng.permutation(n_blocks)
    template, zone_kind = sequence[:n_blocks][shuffle], zone_seq[:n_blocks][shuffle]
    zone_blocks = np.flatnonzero(zone_kind >= 0)

    street_x = np.linspace(0, nbx, max(2, round(nbx / 8)) + 1).round().astype(int)
    street_y = np.linspace(0, nby, max(2, round(nby / 8)) + 1).round().astype(int)
    block_w = rng.uniform(340.0, 460.0, nbx)
    block_h = rng.uniform(180.0, 250.0, nby)
    x0, v_mid, v_major, width = _corridors(rng, block_w, street_x)
    y0, h_mid, h_major, height = _corridors(rng, block_h, street_y)
    bx, by = np.arange(n_blocks) % nbx, np.arange(n_blocks) // nbx
    col_x = _cell_edges(rng, x0[bx], block_w[bx], _COLS)
    row_y = _cell_edges(rng, y0[by], block_h[by], _ROWS)
    gap_x = _gaps(rng, n_blocks, _COLS + 1)
    gap_y = _gaps(rng, n_blocks, _ROWS + 1)
    # A zone keeps at least 2 m clear of the lots beside it, so its outline touches none of them.
    gap_x[zone_blocks, 2] = np.maximum(gap_x[zone_blocks, 2], 4.0)
    gap_y[zone_blocks, 2] = np.maximum(gap_y[zone_blocks, 2], 4.0)
    lanes = _LANE_OK[template] & (rng.random(n_blocks) < 0.3)
    gap_y[lanes, 2] = rng.uniform(6.0, 10.0, int(lanes.sum()))
    return _Grid(
        nbx, nby, template, col_x, row_y, gap_x, gap_y, v_mid, v_major, h_mid, h_major, width, height,
        street_x, street_y, zone_kind, lanes,
    )  # fmt: skip


@dataclass(frozen=True)
class _Sites:
    """Lots that hold buildings: the communities and the sites of scattered buildings (no community polygon)."""

    block: np.ndarray
    kind: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    zone: np.ndarray
    scattered: np.ndarray


def _sites(rng: np.random.Generator, grid: _Grid, n_communities: int, n_scattered: int) -> _Sites:
    """Every lot of every block; drop spare small lots (open space) and turn some into scattered-building sites."""
    per_block = _LOTS_PER_TEMPLATE[grid.template]
    block = np.repeat(np.arange(len(per_block)), per_block)
    lot = (
        _FIRST_LOT[grid.template][block]
        + np.arange(len(block))
        - np.repeat(np.cumsum(per_block) - per_block, per_block)
    )
    _t, c0, r0, w, h = _LOTS[lot].T
    kind = _LOT_KIND[lot]
    x0 = grid.col_x[block, c0] + grid.gap_x[block, c0] / 2.0
    x1 = grid.col_x[block, c0 + w] - grid.gap_x[block, c0 + w] / 2.0
    y0 = grid.row_y[block, r0] + grid.gap_y[block, r0] / 2.0
    y1 = grid.row_y[block, r0 + h] - grid.gap_y[block, r0 + h] / 2.0
    zone = np.where((grid.zone_kind[block] >= 0) & (c0 < 2) & (r0 < 2), grid.zone_kind[block], -1)

    order = np.lexsort((rng.random(len(block)), kind))
    order = order[zone[order] < 0]
    n_drop = len(block) - n_communities - n_scattered
    if n_drop + n_scattered > len(order) or np.any(kind[order[:n_scattered]] != SMALL):
        raise ValueError(f"n_communities={n_communities} is too small for a city of at least 4 × 4 blocks")
    keep = np.ones(len(block), dtype=bool)
    keep[order[n_scattered : n_scattered + n_drop]] = False
    scattered = np.zeros(len(block), dtype=bool)
    scattered[order[:n_scattered]] = True
    return _Sites(block[keep], kind[keep], x0[keep], y0[keep], x1[keep], y1[keep], zone[keep], scattered[keep])


def _cn_numeral(n: np.ndarray) -> np.ndarray:
    """Chinese numerals for 1–99 (二, 十二, 四十五); larger numbers stay Arabic."""
    tens, ones = n // 10, n % 10
    ones_text = np.where(ones > 0, np.array(list(_CN_DIGITS))[ones], "")
    tens_text = np.where(tens > 1, np.array(list(_CN_DIGITS))[np.minimum(tens, 9)], "")
    text = np.char.add(np.char.add(tens_text, np.where(tens > 0, "十", "")), ones_text)
    return np.where(n < 100, text, n.astype(str))


def _place_names(rng: np.random.Generator, suffixes: np.ndarray, *, numbered: bool = True) -> np.ndarray:
    """One name per suffix from a two-character place stem; stems are numbered (二, 三 …) once they run out,
    unless ``numbered`` is false (the caller then tells repeats apart itself)."""
    index = np.arange(len(suffixes))
    stems = _PLACES[rng.permutation(len(_PLACES))][index % len(_PLACES)]
    rounds = index // len(_PLACES) if numbered else np.zeros(len(index), dtype=int)
    ordinal = np.where(rounds > 0, _cn_numeral(rounds + 1), "")
    return np.char.add(np.char.add(stems, ordinal), suffixes.astype(str))


def _community_names(rng: np.random.Generator, kind: np.ndarray, year: np.ndarray, road: np.ndarray) -> np.ndarray:
    """Plausible, unique compound names: 家属院 of work units for small ones, 小区/新村/花园 for the rest."""
    names = np.empty(len(kind), dtype=object)
    small = np.flatnonzero(kind == SMALL)
    combos = np.array([u + s for u in _WORK_UNITS for s in _UNIT_SUFFIXES])[rng.permutation(len(_WORK_UNITS) * 4)]
    by_unit = small[: len(combos)]
    names[by_unit] = combos[: len(by_unit)]
    by_address = small[len(combos) :]
    house = pd.Series(road[by_address]).groupby(road[by_address]).cumcount().to_numpy() * 2 + 1
    names[by_address] = np.char.add(np.char.add(road[by_address].astype(str), house.astype(str)), "号院")
    rest = np.flatnonzero(kind != SMALL)
    pick = rng.integers(0, 4, len(rest))
    suffix = np.where(
        kind[rest] == LARGE,
        _ESTATE_SUFFIXES[pick % 2],
        np.where(year[rest] < 1995, _OLD_SUFFIXES[pick % 2], _NEW_SUFFIXES[pick]),
    )
    names[rest] = _place_names(rng, suffix, numbered=False)
    repeat = pd.Series(names).groupby(names).cumcount().to_numpy()
    return np.where(repeat > 0, np.char.add(names.astype(str), np.char.add(_cn_numeral(repeat + 1), "期")), names)


def _building_counts(
    rng: np.random.Generator, kind: np.ndarray, width: np.ndarray, height: np.ndarray, total: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Buildings per site: 1 on small sites, 8–25 on estates, 2–24 on the rest, shared out by the room each has.

    ``total`` (all sites together) defaults to filling ``_FILL`` of the spare room. Returns the counts and the
    number of slot columns each site's lot has room for.
    """
    n_cols = np.maximum(1, np.floor(width / _SLOT_W)).astype(int)
    room = n_cols * np.maximum(1, np.floor(height / _SLOT_H)).astype(int)
    cap = np.select([kind == SMALL, kind == LARGE], [1, np.minimum(room, 25)], np.minimum(room, 24))
    low = np.select([kind == SMALL, kind == LARGE], [1, np.minimum(cap, 8)], np.minimum(cap, 2))
    spare = cap - low
    extra = round(_FILL * spare.sum()) if total is None else total - int(low.sum())
    if not 0 <= extra <= spare.sum():
        raise ValueError(f"n_buildings must lie between {low.sum()} and {cap.sum()} for this many communities")
    # Each spare slot gets a key; the ``extra`` lowest keys are filled, so bigger lots (heavier weights) fill first.
    weight = spare * rng.uniform(0.5, 1.5, len(kind))
    owner = np.repeat(np.arange(len(kind)), spare)
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(spare) - spare, spare)
    chosen = np.argsort((rank + 1) / weight[owner], kind="stable")[:extra]
    return low + np.bincount(owner[chosen], minlength=len(kind)), n_cols


def _pick(u: np.ndarray, choices: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    """Draw one of ``choices`` per row from the row's cumulative probabilities ``cdf`` (rows × choices)."""
    return choices[(u[:, None] > cdf[:, :-1]).sum(axis=1)]


def _buildings(
    rng: np.random.Generator,
    sites: _Sites,
    counts: np.ndarray,
    n_cols: np.ndarray,
    site_year: np.ndarray,
    hosts: np.ndarray,
) -> pd.DataFrame:
    """Slab buildings in rows inside each site, with attributes that follow their year of building.

    The first building of each host site is an old one kept among the new (built 1976–1990).
    """
    n = int(counts.sum())
    site = np.repeat(np.arange(len(counts)), counts)
    j = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
    rows = np.minimum(np.maximum(1, np.floor((sites.y1 - sites.y0) / _SLOT_H)), np.ceil(counts / n_cols))
    cols = np.ceil(counts / rows)
    slot_w = ((sites.x1 - sites.x0) / cols)[site]
    slot_h = ((sites.y1 - sites.y0) / rows)[site]
    small = sites.kind[site] == SMALL
    length = np.minimum(rng.uniform(20.0, np.where(small, 50.0, 70.0)), slot_w - 2 * _MARGIN)
    depth = np.minimum(rng.uniform(10.0, 15.0, n), slot_h - 2 * _MARGIN)
    x = sites.x0[site] + (j % cols[site]) * slot_w + _MARGIN + rng.random(n) * (slot_w - 2 * _MARGIN - length)
    y = sites.y0[site] + (j // cols[site]) * slot_h + _MARGIN + rng.random(n) * (slot_h - 2 * _MARGIN - depth)

    year = np.clip(site_year[site] + rng.integers(-2, 3, n), 1965, 2018)
    year[sites.scattered[site]] = rng.integers(1968, 1996, int(sites.scattered.sum()))
    old_in_new = np.isin(site, hosts) & (j == 0)
    year[old_in_new] = rng.integers(1976, 1991, int(old_in_new.sum()))
    old_floors = rng.choice(np.arange(2, 8), n, p=[0.03, 0.1, 0.27, 0.3, 0.2, 0.1])
    tall_old = (year >= 1995) & (sites.kind[site] != SMALL) & (rng.random(n) < 0.1)
    floors = np.select([year >= 2006, tall_old], [rng.integers(6, 19, n), rng.integers(8, 13, n)], old_floors)
    u = rng.random(n)
    structure = np.select(
        [floors >= 10, year >= 2006, year < 1980],
        ["剪力墙", "框架", np.where(u < 0.35, "砖木", "砖混")],
        np.where(u < 0.85, "砖混", "框架"),
    )
    grade_cdf = np.select(
        [year[:, None] < 1985, year[:, None] < 2006],
        [np.array([[0.3, 0.82, 0.96, 1.0]]), np.array([[0.6, 0.97, 1.0, 1.0]])],
        np.array([[0.92, 1.0, 1.0, 1.0]]),
    )
    grade = _pick(rng.random(n), np.array(["A", "B", "C", "D"]), grade_cdf)
    hollow = (year >= 1970) & (year <= 1989) & (structure == "砖混") & (rng.random(n) < 0.2)
    area = np.round(length * depth * floors * rng.uniform(0.92, 1.0, n), 1)
    unit_m2 = np.select([year < 1990, year < 2006], [rng.uniform(50, 70, n), rng.uniform(70, 100, n)], 0.0)
    unit_m2 = np.where(unit_m2 > 0, unit_m2, rng.uniform(90, 130, n))
    households = np.maximum(1, np.round(area / unit_m2)).astype(int)
    households = np.where(small, np.clip(households, 20, 60), households)
    # Estates hold 300–1500 households in all, and no community more than 1500.
    site_total = np.bincount(site, weights=households, minlength=len(counts))[site]
    factor = np.where(sites.kind[site] == LARGE, np.clip(site_total, 300, 1500), np.minimum(site_total, 1500))
    factor = factor / site_total
    households = np.select(
        [factor > 1, factor < 1], [np.ceil(households * factor), np.floor(households * factor)], households
    )
    return pd.DataFrame(
        {
            "site": site,
            "x0": x,
            "y0": y,
            "x1": x + length,
            "y1": y + depth,
            "year_built": year,
            "floors": floors,
            "households": households.astype(int),
            "floor_area_m2": area,
            "structure": structure,
            "safety_grade": grade,
            "hollow_core_slab": hollow,
        }
    )


def _ids(prefix: str, n: int, digits: int) -> np.ndarray:
    """Ids such as C0001, wide enough for ``n``."""
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), max(digits, len(str(n)))))


_Project = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _projector(origin: tuple[float, float], width: float, height: float) -> _Project:
    """Map local metres (city centred on ``origin``, laid out in its Gauss–Krüger zone) to EPSG:4490 lon/lat."""
    gk = pyproj.CRS.from_epsg(gk_zone_epsg(origin[0]))
    ox, oy = pyproj.Transformer.from_crs(STORAGE_EPSG, gk, always_xy=True).transform(*origin)
    inverse = pyproj.Transformer.from_crs(gk, STORAGE_EPSG, always_xy=True)

    def project(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        lon, lat = inverse.transform((x + (ox - width / 2.0)).ravel(), (y + (oy - height / 2.0)).ravel())
        return np.stack([lon.reshape(x.shape), lat.reshape(y.shape)], axis=-1)

    return project


def _rectangles(project: _Project, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """Axis-parallel rectangles in local metres as polygons in EPSG:4490 (counter-clockwise rings)."""
    x0, y0, x1, y1 = (np.asarray(a, dtype=float) for a in (x0, y0, x1, y1))
    xs = np.stack([x0, x1, x1, x0, x0], axis=-1)
    ys = np.stack([y0, y0, y1, y1, y0], axis=-1)
    n = len(xs)
    rings = (np.arange(0, 5 * n + 1, 5), np.arange(n + 1))
    return shapely.from_ragged_array(shapely.GeometryType.POLYGON, project(xs, ys).reshape(-1, 2), rings)


def _blank(rng: np.random.Generator, values: np.ndarray, share: float, dtype: str) -> pd.Series:
    """``values`` with about ``share`` of them left empty, as an importer must derive them."""
    series = pd.Series(values).astype(dtype)
    series[rng.random(len(values)) < share] = pd.NA
    return series


def _divisions(grid: _Grid) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """Street and neighbourhood of each block, and the block's tile (to the corridor centre lines) as bounds.

    Neighbourhoods are runs of up to 4 blocks along a snake path through each street, so each is connected and
    every street has at least 3.
    """
    bx, by = grid.bx, grid.by
    sx = np.searchsorted(grid.street_x, bx, side="right") - 1
    sy = np.searchsorted(grid.street_y, by, side="right") - 1
    street = sy * (len(grid.street_x) - 1) + sx
    span_x = grid.street_x[sx + 1] - grid.street_x[sx]
    local_x, local_y = bx - grid.street_x[sx], by - grid.street_y[sy]
    snake = local_y * span_x + np.where(local_y % 2 == 0, local_x, span_x - 1 - local_x)
    size = span_x * (grid.street_y[sy + 1] - grid.street_y[sy])
    groups = np.minimum(size, np.maximum(3, np.ceil(size / 4))).astype(int)
    _keys, neighbourhood = np.unique(street * 10_000 + snake * groups // size, return_inverse=True)

    def edges(mid: np.ndarray, extent: float) -> np.ndarray:
        return np.concatenate([[0.0], mid[1:-1], [extent]])

    ex, ey = edges(grid.v_mid, grid.width), edges(grid.h_mid, grid.height)
    return street, neighbourhood, (ex[bx], ey[by], ex[bx + 1], ey[by + 1])


def _roads(rng: np.random.Generator, grid: _Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre lines of every corridor (full length) and of the lanes in some blocks: end points, classes, suffixes."""
    nv, nh = len(grid.v_mid), len(grid.h_mid)
    v = np.stack([np.c_[grid.v_mid, np.zeros(nv)], np.c_[grid.v_mid, np.full(nv, grid.height)]], axis=1)
    h = np.stack([np.c_[np.zeros(nh), grid.h_mid], np.c_[np.full(nh, grid.width), grid.h_mid]], axis=1)
    lane = np.flatnonzero(grid.lanes)
    lane_y = grid.row_y[lane, 2]
    ln = np.stack([np.c_[grid.col_x[lane, 0], lane_y], np.c_[grid.col_x[lane, -1], lane_y]], axis=1)
    lines = np.concatenate([v, h, ln])
    cls = np.concatenate(
        [
            np.where(grid.v_major, "major", "minor"),
            np.where(grid.h_major, "major", "minor"),
            np.full(len(lane), "lane"),
        ]
    )
    suffix = np.select([cls == "major", cls == "minor"], ["路", "街"], "巷")
    return lines, cls, suffix


def make_city(
    *,
    n_communities: int = 180,
    n_buildings: int | None = None,
    seed: int = SAMPLE_SEED,
    origin: tuple[float, float] = CHUXIONG,
) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Generate a synthetic city: every input layer, with the columns of :mod:`geo.model`, in EPSG:4490.

    Parameters
    ----------
    n_communities
        Communities (小区) to make, at least 50. Other counts follow: about 12 communities per block, streets
        of up to ~64 blocks, neighbourhoods of up to 4 blocks, ``max(10, n // 50)`` scattered buildings, one zone of
        each kind per 1,000 communities.
    n_buildings
        Buildings in all (scattered ones included), so a benchmark can ask for a total; by default 3/4 of the
        room in the lots is built on (5–6 per community). Raises ``ValueError`` if the lots cannot hold that
        many or that few (small compounds hold 1, mid-size ones 2–24, estates 8–25).
    seed
        Seed of the numpy Generator: the same seed gives the same city, frame for frame.
    origin
        Longitude and latitude of the city centre; geometry is laid out in its Gauss–Krüger zone.

    Returns
    -------
    dict
        ``streets``, ``neighbourhoods``, ``communities``, ``buildings``, ``zones``, ``roads`` (GeoDataFrames in
        EPSG:4490) and ``survey`` (DataFrame, one row for most communities).
    """
    if n_communities < 50:
        raise ValueError("n_communities must be at least 50")
    rng = np.random.default_rng(seed)
    n_scattered = max(10, n_communities // 50)
    n_zones = max(1, n_communities // 1000)
    grid = _grid(rng, n_communities + n_scattered, n_zones)
    sites = _sites(rng, grid, n_communities, n_scattered)
    street_of_block, nbhd_of_block, tiles = _divisions(grid)
    road_ends, road_class, road_suffix = _roads(rng, grid)
    project = _projector(origin, grid.width, grid.height)

    year, hosts = _years(rng, sites, n_communities)
    counts, n_cols = _building_counts(rng, sites.kind, sites.x1 - sites.x0, sites.y1 - sites.y0, n_buildings)
    b = _buildings(rng, sites, counts, n_cols, year, hosts)
    names = _Names(
        road=_place_names(rng, road_suffix),
        street=_place_names(rng, np.full(street_of_block.max() + 1, "街道")),
        neighbourhood=_place_names(rng, np.full(nbhd_of_block.max() + 1, "社区")),
    )
    site_ids, households, c_year, communities = _community_frame(
        rng, grid, sites, b, year, hosts, names, street_of_block, nbhd_of_block, project
    )
    buildings = _building_frame(rng, b, site_ids, project)
    neighbourhoods, streets = _division_frames(project, tiles, street_of_block, nbhd_of_block, names)
    zones = _zone_frame(rng, grid, project)
    roads = gpd.GeoDataFrame(
        {"id": _ids("R", len(road_ends), 3), "name": names.road, "class": road_class},
        geometry=shapely.linestrings(project(road_ends[..., 0], road_ends[..., 1])),
        crs=STORAGE_EPSG,
    )
    survey = _survey(rng, communities, households, c_year)
    return {
        "streets": streets,
        "neighbourhoods": neighbourhoods,
        "communities": communities,
        "buildings": buildings,
        "zones": zones,
        "roads": roads,
        "survey": survey,
    }


@dataclass(frozen=True)
class _Names:
    """Generated place names: one per road line, street and neighbourhood."""

    road: np.ndarray
    street: np.ndarray
    neighbourhood: np.ndarray


def _years(rng: np.random.Generator, sites: _Sites, n_communities: int) -> tuple[np.ndarray, np.ndarray]:
    """Year built per site, and the sites of new communities that hold one old building.

    Mostly 1975–2005; estates 1988–2016; zones hold old communities (urban villages from 1992); a few new
    communities (2008–2016) host an old building, the scattered-building case inside a compound.
    """
    u = rng.random(len(sites.kind))
    year = np.select(
        [u < 0.06, u < 0.88],
        [rng.integers(1965, 1975, len(u)), rng.integers(1975, 2006, len(u))],
        rng.integers(2006, 2019, len(u)),
    )
    year = np.where(sites.kind == LARGE, rng.integers(1988, 2017, len(u)), year)
    zone_kind = np.array(_ZONE_KINDS)[np.maximum(sites.zone, 0)]
    year = np.where(
        sites.zone >= 0, np.where(zone_kind == "urban_village", 1992, 1965) + rng.integers(0, 16, len(u)), year
    )
    hosts = rng.choice(
        np.flatnonzero((sites.kind != SMALL) & (sites.zone < 0)), max(2, n_communities // 100), replace=False
    )
    year[hosts] = rng.integers(2008, 2017, len(hosts))
    return year, hosts


def _community_frame(
    rng: np.random.Generator,
    grid: _Grid,
    sites: _Sites,
    b: pd.DataFrame,
    year: np.ndarray,
    hosts: np.ndarray,
    names: _Names,
    street_of_block: np.ndarray,
    nbhd_of_block: np.ndarray,
    project: _Project,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, gpd.GeoDataFrame]:
    """The communities (the kept lots), with totals from all their buildings and some left blank to derive.

    Returns the community id of every site (None for scattered-building sites), the true households and year per
    community (the survey draws from them even where the frame leaves them blank), and the frame.
    """
    is_community = ~sites.scattered
    n = int(is_community.sum())
    site_ids = np.full(len(sites.kind), None, dtype=object)
    community_ids = np.array(_ids("C", n, 4), dtype=object)
    site_ids[is_community] = community_ids
    c_block = sites.block[is_community]
    c_year = year[is_community]
    c_kind = sites.kind[is_community]
    households = np.bincount(b["site"], weights=b["households"], minlength=len(sites.kind)).astype(int)[is_community]
    floor_area = np.round(np.bincount(b["site"], weights=b["floor_area_m2"], minlength=len(sites.kind)), 1)
    floor_area = floor_area[is_community]
    road_south = names.road[len(grid.v_mid) + grid.by[c_block]]
    new = c_year >= 2000
    # The year of a community holding an old building cannot be derived from its buildings: always give it.
    hosts_here = np.isin(np.flatnonzero(is_community), hosts)
    communities = gpd.GeoDataFrame(
        {
            "id": community_ids,
            "name": _community_names(rng, c_kind, c_year, road_south),
            "street": names.street[street_of_block[c_block]],
            "neighbourhood": names.neighbourhood[nbhd_of_block[c_block]],
            "year_built": _blank(rng, c_year, 0.1, "Int64").where(~hosts_here, c_year),
            "households": _blank(rng, households, 0.1, "Int64"),
            "low_income_households": rng.binomial(households, rng.uniform(0.0, 0.08, n)),
            "floor_area_m2": _blank(rng, floor_area, 0.1, "float64"),
            "building_type": np.where(rng.random(n) < np.where(c_year < 1980, 0.35, 0.1), "other", "unit"),
            "property_management": rng.random(n) < np.where(new, 0.9, 0.25),
            "owners_committee": rng.random(n) < np.where(new, 0.7, 0.35),
        },
        geometry=_rectangles(project, sites.x0, sites.y0, sites.x1, sites.y1)[is_community],
        crs=STORAGE_EPSG,
    )
    return site_ids, households, c_year, communities


def _building_frame(
    rng: np.random.Generator, b: pd.DataFrame, site_ids: np.ndarray, project: _Project
) -> gpd.GeoDataFrame:
    """Buildings with their community id, 5 % of them left without one (the importer assigns them by location)."""
    assigned = site_ids[b["site"]]
    assigned[rng.random(len(b)) < 0.05] = None
    return gpd.GeoDataFrame(
        {"id": _ids("B", len(b), 5), "community_id": assigned} | {c: b[c] for c in BUILDINGS.column_names[2:]},
        geometry=_rectangles(project, b["x0"], b["y0"], b["x1"], b["y1"]),
        crs=STORAGE_EPSG,
    )


def _division_frames(
    project: _Project,
    tiles: tuple[np.ndarray, ...],
    street_of_block: np.ndarray,
    nbhd_of_block: np.ndarray,
    names: _Names,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Neighbourhoods as unions of block tiles, streets as unions of neighbourhoods, so they nest exactly."""
    tile_frame = gpd.GeoDataFrame({"n": nbhd_of_block}, geometry=_rectangles(project, *tiles), crs=STORAGE_EPSG)
    nbhd_street = np.zeros(len(names.neighbourhood), dtype=int)
    nbhd_street[nbhd_of_block] = street_of_block
    neighbourhoods = gpd.GeoDataFrame(
        {
            "id": _ids("N", len(names.neighbourhood), 3),
            "name": names.neighbourhood,
            "street": names.street[nbhd_street],
        },
        geometry=tile_frame.dissolve(by="n", method="coverage").geometry.to_numpy(),
        crs=STORAGE_EPSG,
    )
    streets = gpd.GeoDataFrame(
        {"id": _ids("S", len(names.street), 2), "name": names.street, "district": DISTRICT},
        geometry=neighbourhoods.assign(s=nbhd_street).dissolve(by="s", method="coverage").geometry.to_numpy(),
        crs=STORAGE_EPSG,
    )
    return neighbourhoods, streets


def _zone_frame(rng: np.random.Generator, grid: _Grid, project: _Project) -> gpd.GeoDataFrame:
    """One zone per zone block, covering the block's lower-left 2 × 2 cells (where the template puts old lots)."""
    zone_blocks = np.flatnonzero(grid.zone_kind >= 0)
    kinds = np.array(_ZONE_KINDS)[grid.zone_kind[zone_blocks]]
    zone_boxes = _rectangles(
        project,
        grid.col_x[zone_blocks, 0] - 2.0,
        grid.row_y[zone_blocks, 0] - 2.0,
        grid.col_x[zone_blocks, 2] - 1.0,
        grid.row_y[zone_blocks, 2] - 1.0,
    )
    zone_stems = _place_names(rng, np.full(len(zone_blocks), ""))
    return gpd.GeoDataFrame(
        {
            "id": _ids("Z", len(zone_blocks), 2),
            "name": np.char.add(zone_stems, [ZONE_KINDS[k] for k in kinds]),
            "kind": kinds,
        },
        geometry=zone_boxes,
        crs=STORAGE_EPSG,
    )


def _survey(
    rng: np.random.Generator, communities: gpd.GeoDataFrame, households: np.ndarray, year: np.ndarray
) -> pd.DataFrame:
    """Survey rows for about 95 % of communities; one supports with exactly 2/3, one with one household less."""
    n = len(communities)
    rows = np.flatnonzero(rng.random(n) < 0.95)
    age = np.select([year < 1990, year < 2000], [1.0, 0.7], 0.35)[rows]
    need = np.array([_ITEM_NEED[code] for code in DEFICIENCY_ITEMS])
    lacks = rng.random((len(rows), len(need))) < need[None, :] * age[:, None]
    support = rng.binomial(households[rows], rng.uniform(0.4, 1.0, len(rows)))
    thirds = np.flatnonzero(
        (households[rows] % 3 == 0) & (households[rows] >= 30) & communities["households"].notna().to_numpy()[rows]
    )
    exact, below = rng.choice(thirds, 2, replace=False)
    support[exact] = households[rows][exact] * 2 // 3
    support[below] = households[rows][below] * 2 // 3 - 1
    first, second = rng.integers(0, len(_RENOVATED_BEFORE), (2, len(rows)))
    renovated = np.where(
        first == second,
        _RENOVATED_BEFORE[first],
        np.char.add(np.char.add(_RENOVATED_BEFORE[first], "、"), _RENOVATED_BEFORE[second]),
    )
    renovated = np.where(rng.random(len(rows)) < 0.12, renovated, None)
    return pd.DataFrame(
        {
            "community_id": communities["id"].to_numpy()[rows],
            "name": communities["name"].to_numpy()[rows],
            "street": communities["street"].to_numpy()[rows],
        }
        | {code: lacks[:, i] for i, code in enumerate(DEFICIENCY_ITEMS)}
        | {"support_households": support, "already_renovated": renovated}
    )


def _write_survey_xlsx(survey: pd.DataFrame, path: Path) -> None:
    """The survey as a spreadsheet with Chinese headers and 是/否, byte-identical on every run."""
    wb = Workbook()
    ws = wb.active
    ws.title = SURVEY.zh
    ws.append([SURVEY.column(c).zh for c in survey.columns])
    bool_cols = [SURVEY.column(c).type == "bool" for c in survey.columns]
    for row in survey.itertuples(index=False):
        ws.append(
            [("是" if v else "否") if is_bool else (None if pd.isna(v) else v.item() if hasattr(v, "item") else v)
             for v, is_bool in zip(row, bool_cols, strict=True)]
        )  # fmt: skip
    wb.properties.creator = "geo.synthetic.city"
    wb.properties.created = wb.properties.modified = _FIXED_TIME
    raw = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)).save()
    # Zip entries carry the time of writing; pin it so the file is the same on every run.
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME.timetuple()[:6])
            dst.writestr(entry, src.read(info), compress_type=zipfile.ZIP_DEFLATED)


def _readme(city: dict[str, gpd.GeoDataFrame | pd.DataFrame]) -> str:
    """README of the sample data: what it is (synthetic), where it sits, what it holds, how to regenerate it."""
    c, b = city["communities"], city["buildings"]
    blank = b[b["community_id"].isna()].geometry.to_numpy()
    located = np.unique(shapely.STRtree(c.geometry.to_numpy()).query(blank, predicate="within")[0])
    z = city["zones"]["kind"].value_counts()
    r = city["roads"]["class"].value_counts()
    rows = [
        ("streets.geojson", "街道 streets", len(city["streets"]), f"partition the city; district {DISTRICT}"),
        ("neighbourhoods.geojson", "社区 neighbourhoods", len(city["neighbourhoods"]), "partition the streets"),
        (
            "communities.geojson",
            "小区 communities",
            len(c),
            f"{c['year_built'].isna().sum()} without year_built, {c['households'].isna().sum()} without households, "
            f"{c['floor_area_m2'].isna().sum()} without floor_area_m2 (derive them from the buildings)",
        ),
        (
            "buildings.geojson",
            "楼栋 buildings",
            len(b),
            f"{len(blank)} without community_id: {len(blank) - len(located)} scattered old buildings (插花式) "
            f"outside every community, {len(located)} inside one (assign them by location)",
        ),
        ("zones.geojson", "片区 zones", len(city["zones"]), ", ".join(f"{k} {v}" for k, v in sorted(z.items()))),
        ("roads.geojson", "道路 roads", len(city["roads"]), ", ".join(f"{k} {v}" for k, v in sorted(r.items()))),
        (
            "survey.xlsx",
            "调查表 survey",
            len(city["survey"]),
            "one row per surveyed community; Chinese headers, 是/否",
        ),
    ]
    table = "\n".join(f"| `{f}` | {layer} | {count:,} | {note} |" for f, layer, count, note in rows)
    return f"""# Sample city (synthetic)

**Every feature here is synthetic.** No street, neighbourhood, community, building, zone, road or survey answer
in this folder exists: the layers are generated by `geo/synthetic/city.py` (`make_city`, seed `{SAMPLE_SEED}`,
{len(c)} communities). Names are made up from common Chinese name parts; any likeness to a real place is chance.

The city is placed at a real county town, 楚雄市 (Chuxiong, Yunnan), centred near {CHUXIONG[0]}°E {CHUXIONG[1]}°N,
because one of the seed policies, 楚市政办通〔2020〕5号, is that city's; the seed is the policy's date.
Geometry is laid out in metres in the CGCS2000 3° Gauss–Krüger zone (EPSG:{gk_zone_epsg(CHUXIONG[0])}) and stored
in CGCS2000 geographic coordinates (EPSG:4490), rounded to 7 decimals. Columns use the English names of
`geo/model.py`; the survey spreadsheet uses their Chinese aliases.

| file | layer | features | notes |
|---|---|---:|---|
{table}

What the city holds on purpose: single-building 家属院 compounds wall to wall or 1–12 m apart, mid-size
communities and a few large estates; buildings of 1965–2018 with safety grades A–D and some hollow-core slabs;
scattered old buildings (插花式) outside every community and a few old buildings inside communities built after
2005; a demolition zone, an urban village and a shantytown over old communities; lanes inside some blocks; and in
the survey one community whose support is exactly 2/3 of its households and one a household short of it.

Regenerate (byte-identical output):

```
python -m geo.synthetic.city data/boundaries
```
"""


def write_sample(out_dir: Path) -> list[Path]:
    """Write the default sample city: one GeoJSON per layer, ``survey.xlsx`` and this folder's README.

    GeoJSON is UTF-8 with readable Chinese and coordinates rounded to 7 decimals (about 1 cm); the output is
    byte-identical on every run, so the files can be kept under version control.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    city = make_city()
    paths = []
    for layer in (STREETS, NEIGHBOURHOODS, COMMUNITIES, BUILDINGS, ZONES, ROADS):
        path = out_dir / f"{layer.name}.geojson"
        path.unlink(missing_ok=True)
        pyogrio.write_dataframe(
            city[layer.name], path, layer=layer.name, driver="GeoJSON", layer_options={"COORDINATE_PRECISION": 7}
        )
        paths.append(path)
    survey_path = out_dir / "survey.xlsx"
    _write_survey_xlsx(city["survey"], survey_path)
    readme = out_dir / "README.md"
    readme.write_text(_readme(city), encoding="utf-8")
    return [*paths, survey_path, readme]


def main(argv: list[str] | None = None) -> None:
    """``python -m geo.synthetic.city [OUT_DIR]``: regenerate the sample city (default ``data/boundaries/``)."""
    parser = argparse.ArgumentParser(prog="python -m geo.synthetic.city", description=main.__doc__)
    parser.add_argument("out_dir", nargs="?", type=Path, default=DEFAULT_OUT_DIR)
    for path in write_sample(parser.parse_args(argv).out_dir):
        print(path)


if __name__ == "__main__":
    main()
