"""Implausible input for the layer: the wrong file imported as this layer, caught before it is stored.

``renewal import communities streets.geojson`` used to store four sub-district polygons as compounds. Each row is
now tested against what a feature of the layer looks like (size, name, how many of the store's compounds it
holds); the signs are counted over the whole file. When at least half the rows show one, the file is refused and
the layer it probably is named; when a few do — a real compound layer has its odd giant, such as an OSM landuse
polygon drawn over a whole estate — they are imported and named in a warning.

The limits are deliberately far from real features of the layer (a compound of 3 km² is ten times Hangzhou's 99th
percentile; no street is smaller than 10 ha), so they flag another layer's file, not an unusual feature.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely

from geo.crs import area_m2
from geo.errors import DataError
from geo.model import LAYERS

_STREET_NAMES = ("街道", "办事处", "街办", "镇", "乡")
_COMPOUND_NAMES = ("小区", "花园", "家属院", "家属区", "宿舍", "公寓")


@dataclass(frozen=True)
class Sign:
    """One sign that a row of ``layer`` belongs to another layer (``likely``)."""

    layer: str
    test: Literal["larger", "smaller", "name", "holds"]
    limit: float | tuple[str, ...]
    likely: tuple[str, ...]


SIGNS = (
    Sign("communities", "larger", 3e6, ("streets", "neighbourhoods")),
    Sign("communities", "name", _STREET_NAMES, ("streets",)),
    Sign("communities", "holds", 10, ("streets", "neighbourhoods")),
    Sign("neighbourhoods", "name", _STREET_NAMES, ("streets",)),
    Sign("neighbourhoods", "smaller", 2e4, ("communities",)),
    Sign("streets", "smaller", 1e5, ("communities",)),
    Sign("streets", "name", _COMPOUND_NAMES, ("communities",)),
    Sign("buildings", "larger", 2e4, ("communities",)),
)
#: Rows named in a refusal or warning.
SHOWN = 5


@dataclass(frozen=True)
class Found:
    """A row showing a sign: its number, how it is named, why (zh, en), and the layer it probably is."""

    row: object
    label: str
    zh: str
    en: str
    likely: tuple[str, ...]


@dataclass
class LayerCheck:
    """Signs of the wrong layer, gathered batch by batch (:meth:`add`) and judged once at the end (:meth:`verdict`).

    ``compounds`` are the store's communities (``id`` and geometry, EPSG:4490) for the "holds" sign.
    """

    layer: str
    compounds: gpd.GeoDataFrame | None = None
    total: int = 0
    found: list[Found] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._signs = [s for s in SIGNS if s.layer == self.layer]
        self._points: shapely.STRtree | None = None
        if self.compounds is not None and len(self.compounds) and any(s.test == "holds" for s in self._signs):
            self._points = shapely.STRtree(shapely.point_on_surface(self.compounds.geometry.values))
            self._point_ids = self.compounds["id"].to_numpy()

    def add(self, frame: gpd.GeoDataFrame) -> None:
        """Test the rows of one batch (storage CRS, typed columns, index = row number in the file)."""
        self.total += len(frame)
        if not self._signs or frame.empty:
            return
        ids = frame["id"].astype(object)
        names = frame["name"].astype(object).fillna("").astype(str) if "name" in frame else None
        labels = ids if names is None else names.where(names != "", ids)
        area = area_m2(frame).to_numpy()
        rows = frame.index.to_numpy()
        for sign in self._signs:
            if sign.test in ("larger", "smaller"):
                hit = area > sign.limit if sign.test == "larger" else area < sign.limit
                reasons = [_size(a) for a in area[hit]]
            elif sign.test == "name":
                hit = np.zeros(len(frame), bool) if names is None else names.str.endswith(sign.limit).to_numpy(bool)
                reasons = [
                    ("名称像" + _what(sign.likely, "zh"), "named like " + _what(sign.likely, "en"))
                ] * hit.sum()
            else:
                held = self._held(frame)
                hit = held >= sign.limit
                reasons = [
                    (f"包含数据库中已有的 {n} 个小区", f"holds {n} compounds already in the store") for n in held[hit]
                ]
            self.found += [
                Found(r, str(labels[r]), zh, en, sign.likely) for r, (zh, en) in zip(rows[hit], reasons, strict=True)
            ]

    def _held(self, frame: gpd.GeoDataFrame) -> np.ndarray:
        """How many of the store's compounds (other than the file's own ids) each polygon holds."""
        if self._points is None:
            return np.zeros(len(frame), int)
        poly, point = self._points.query(frame.geometry.values, predicate="contains")
        own = np.isin(self._point_ids[point], frame["id"].dropna().to_numpy())
        return np.bincount(poly[~own], minlength=len(frame))

    def verdict(self, *, source: str) -> list[str]:
        """Refuse the file when at least half its rows look like another layer; else warnings naming the few.

        Raises
        ------
        DataError
            Naming the share of rows, examples with their reasons, and the command for the layer it probably is.
        """
        rows = {f.row for f in self.found}
        if not rows:
            return []
        zh_layer = LAYERS[self.layer].zh
        likely = Counter(f.likely for f in self.found).most_common(1)[0][0]
        shown = sorted(self.found, key=lambda f: f.row if isinstance(f.row, (int, np.integer)) else 0)[:SHOWN]
        examples_zh = "；".join(f"第 {f.row} 行 {f.label}：{f.zh}" for f in shown)
        examples_en = "; ".join(f"row {f.row} {f.label}: {f.en}" for f in shown)
        if 2 * len(rows) >= self.total:
            raise DataError(
                f"{source} 看起来不是{zh_layer}图层：{len(rows)}/{self.total} 个要素像{_what(likely, 'zh')}"
                f"（{examples_zh}）。未导入任何数据；如确为{_what(likely, 'zh')}，请用 "
                f"renewal import {likely[0]} {source}",
                f"{source} does not look like a {self.layer} layer: {len(rows)} of {self.total} features look like "
                f"{_what(likely, 'en')} ({examples_en}). Nothing was imported; if they are, use "
                f"renewal import {likely[0]} {source}",
            )
        return [
            f"{len(rows)} 个要素不太像{zh_layer}（{examples_zh}），已导入，请核实 / "
            f"{len(rows)} features do not look like {self.layer} ({examples_en}); imported, please check"
        ]


def _size(area: float) -> tuple[str, str]:
    if area >= 1e6:
        return f"面积 {area / 1e6:.1f} 平方公里", f"{area / 1e6:.1f} km²"
    return f"面积 {area:,.0f} 平方米", f"{area:,.0f} m²"


def _what(likely: tuple[str, ...], lang: str) -> str:
    if lang == "en":
        return " or ".join({"streets": "sub-districts", "neighbourhoods": "neighbourhoods"}.get(k, k) for k in likely)
    return "或".join(f"{LAYERS[k].zh}" for k in likely)
