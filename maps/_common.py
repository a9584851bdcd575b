"""Pieces both maps share: labels in both languages, the street filter, outline layers, titles, panel HTML, and
the :class:`View` that draws the part every map has (streets, zones, roads, title bar, extent)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo.analysis import City
from geo.crs import metric_crs
from geo.errors import NotFoundError
from geo.model import ZONE_KINDS
from geo.policy.profiles import Profile
from geo.reports.labels import policy_text
from maps._encode import StringTable, encode_lines, encode_polygons
from maps._page import PageSpec, render_page
from maps.basemaps import Basemap
from maps.basemaps import basemap as get_basemap

_UI: dict[str, dict[str, Any]] = {
    "zh": {
        "street": "街道",
        "all_streets": "全部街道",
        "search": "搜索小区名称或编号",
        "not_found": "未找到",
        "cancel": "清除",
        "score": "评分",
        "rank": "排名",
        "households": "户数",
        "cost": "估算投资",
        "residents": "居民出资",
        "subsidy": "财政补助",
        "yuan": "元",
        "unit": "改造单元",
        "package": "项目包",
        "stage": "当前阶段",
        "no_stage": "未开始",
        "date": "日期",
        "plan_year": "计划年度",
        "not_planned": "未列入规划",
        "in_plan": "已列入规划",
        "status": {
            "eligible": "符合改造条件",
            "conditional": "有条件纳入",
            "excluded": "不纳入改造",
            "overdue": "已逾期",
            "due_soon": "即将到期",
            "on_track": "按期推进",
        },
        "factors": ["缺项", "优先项目", "房龄", "户数规模", "居民意愿", "资金到位"],
        "streets": "街道边界",
        "zones": "排除片区（斜线）",
        "roads": "道路",
        "communities": "小区",
        "legend": "图例",
    },
    "en": {
        "street": "Street",
        "all_streets": "All streets",
        "search": "Search a community by name or id",
        "not_found": "Not found",
        "cancel": "Clear",
        "score": "Score",
        "rank": "rank",
        "households": "Households",
        "cost": "Estimated cost",
        "residents": "Residents pay",
        "subsidy": "Subsidy",
        "yuan": "yuan",
        "unit": "Merged unit",
        "package": "Package",
        "stage": "Current stage",
        "no_stage": "not started",
        "date": "Date",
        "plan_year": "Plan year",
        "not_planned": "not in the plan",
        "in_plan": "in the plan",
        "status": {
            "eligible": "eligible",
            "conditional": "conditional",
            "excluded": "excluded",
            "overdue": "overdue",
            "due_soon": "due soon",
            "on_track": "on track",
        },
        "factors": ["deficiencies", "priority items", "age", "households", "support", "funds"],
        "streets": "Street outlines",
        "zones": "Excluded zones (hatched)",
        "roads": "Roads",
        "communities": "Communities",
        "legend": "Legend",
    },
}
FACTORS = ("deficiencies", "priority_items", "age", "households", "support", "funds")
STREET_STYLE = {"color": "#3d3d3d", "weight": 2.5, "fill": False}
ROAD_STYLE = {"color": "#8c8c8c", "opacity": 0.9}
ROAD_WEIGHTS = {"major": 3.5, "minor": 1.8}
ZONE_STYLE = {"color": "#b2182b", "weight": 1, "dashArray": "2 3", "fillOpacity": 0.55}
#: Layers with more shapes than this draw on a canvas: SVG is crisper and prints, canvas keeps a big city fluid.
CANVAS_FROM = 3000


def ui(lang: str) -> dict[str, Any]:
    """The page's words in ``lang`` (Chinese unless ``en``); the runtime gets them too, for popups."""
    return _UI["en" if lang == "en" else "zh"]


def select_street(city: City, street: str | None) -> gpd.GeoDataFrame:
    """The streets to draw (one when ``street`` is given), refusing a street the city does not have."""
    if street is None:
        return city.streets
    names = city.street_names()
    if street not in set(names):
        raise NotFoundError(
            f"没有街道“{street}”（本市街道：{'、'.join(names)}）",
            f"no street {street!r} (the city's streets: {', '.join(names)})",
        )
    return city.streets[city.streets["name"] == street]


def within(frame: gpd.GeoDataFrame, area: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows of ``frame`` touching ``area`` (all rows when ``area`` is empty)."""
    if area.empty or frame.empty:
        return frame
    hull = shapely.union_all(np.asarray(area.geometry.array))
    return frame[shapely.intersects(np.asarray(frame.geometry.array), hull)]


def bounds(frames: list[gpd.GeoDataFrame]) -> list[float]:
    """``[minx, miny, maxx, maxy]`` around every non-empty frame: the extent a page opens on."""
    boxes = [f.total_bounds for f in frames if len(f)]
    stacked = np.vstack(boxes)
    return [
        float(stacked[:, 0].min()),
        float(stacked[:, 1].min()),
        float(stacked[:, 2].max()),
        float(stacked[:, 3].max()),
    ]


def place_title(city: City, area: gpd.GeoDataFrame, street: str | None, lang: str) -> str:
    """The city or district (from the streets' ``district``) and the street shown, for a map's title."""
    districts = [d for d in dict.fromkeys(area["district"].dropna()) if d] if "district" in area else []
    if not districts and "district" in city.streets:
        districts = [d for d in dict.fromkeys(city.streets["district"].dropna()) if d]
    place = ("、" if lang != "en" else ", ").join(districts)
    if street:
        place = f"{place} {street}" if lang == "en" and place else f"{place}{street}"
    return place


def streets_layer(streets: gpd.GeoDataFrame, bm: Basemap, lang: str) -> dict[str, Any]:
    """Street outlines, drawn but never taking a click (it goes to the compound underneath)."""
    shown = bm.to_display(streets)
    return {
        "id": "streets",
        "name": ui(lang)["streets"],
        "type": "polygon",
        "geom": encode_polygons(shown.geometry.values),
        "style": STREET_STYLE,
        "interactive": False,
        "renderer": "svg",
    }


def street_labels(streets: gpd.GeoDataFrame, bm: Basemap) -> list[list[Any]]:
    """``[name, lat, lon]`` of each street's label point (inside the street)."""
    if streets.empty:
        return []
    metric = metric_crs(streets)
    points = streets.geometry.to_crs(metric).representative_point().to_crs(streets.crs)
    shown = bm.to_display(gpd.GeoDataFrame({"name": streets["name"].to_numpy()}, geometry=points.values))
    return [
        [name, round(p.y, 6), round(p.x, 6)] for name, p in zip(shown["name"], shown.geometry, strict=True) if name
    ]


def roads_layer(roads: gpd.GeoDataFrame, bm: Basemap, lang: str, strings: StringTable) -> dict[str, Any]:
    """Roads as thin grey lines (major roads wider), named on hover."""
    shown = bm.to_display(roads)
    classes = shown["class"].fillna("minor") if "class" in shown else None
    kinds = sorted(ROAD_WEIGHTS)
    return {
        "id": "roads",
        "name": ui(lang)["roads"],
        "type": "line",
        "geom": encode_lines(shown.geometry.values),
        "style": ROAD_STYLE,
        "strokes": [{"weight": ROAD_WEIGHTS[k]} for k in kinds],
        "stroke": [kinds.index(c) if c in ROAD_WEIGHTS else kinds.index("minor") for c in classes]
        if classes is not None
        else [kinds.index("minor")] * len(shown),
        "renderer": "svg",
        "tooltip": strings.column(shown["name"]),
    }


def zones_layer(zones: gpd.GeoDataFrame, bm: Basemap, lang: str, strings: StringTable) -> dict[str, Any]:
    """Excluded zones, hatched red, named with their kind on hover."""
    shown = bm.to_display(zones)
    kinds = [ZONE_KINDS.get(k, k) if lang != "en" else k for k in shown["kind"]]
    texts = [
        f"{n}（{k}）" if lang != "en" else f"{n} ({k})" for n, k in zip(shown["name"].fillna(""), kinds, strict=True)
    ]
    return {
        "id": "zones",
        "name": ui(lang)["zones"],
        "type": "polygon",
        "geom": encode_polygons(shown.geometry.values),
        "style": ZONE_STYLE,
        "hatch": True,
        "renderer": "svg",
        "tooltip": strings.column(texts),
    }


def outline_legend(lang: str) -> dict[str, dict[str, Any]]:
    """Legend items of the outlines every map draws (``streets``, ``roads``, ``zones``), styled as the layers are."""
    labels = ui(lang)
    return {
        "streets": {"swatch": {"stroke": STREET_STYLE["color"], "width": 2}, "label": labels["streets"]},
        "roads": {"swatch": {"stroke": ROAD_STYLE["color"], "width": 2, "fill": "#fff"}, "label": labels["roads"]},
        "zones": {"swatch": {"hatch": True, "stroke": ZONE_STYLE["color"], "dash": True}, "label": labels["zones"]},
    }


def renderer(n: int) -> str:
    """How a layer of ``n`` shapes is drawn (see :data:`CANVAS_FROM`)."""
    return "canvas" if n > CANVAS_FROM else "svg"


@dataclass(frozen=True)
class View:
    """What a map draws, whichever map it is: the basemap, the streets shown (one when a street is picked) and the
    compounds in them; it draws the layers and the page parts every map has around the map's own layers."""

    city: City
    street: str | None
    bm: Basemap
    area: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    lang: str

    @classmethod
    def of(cls, city: City, candidates: gpd.GeoDataFrame, *, street: str | None, basemap: str, lang: str) -> View:
        """The view of ``street`` (every street when None) on ``basemap``.

        Raises
        ------
        DataError
            Unknown basemap, or ``tianditu`` without a key.
        NotFoundError
            ``street`` is not a street of the city.
        """
        bm = get_basemap(basemap)
        area = select_street(city, street)
        if street is not None:
            candidates = candidates[candidates["street"] == street]
        return cls(city=city, street=street, bm=bm, area=area, candidates=candidates, lang=lang)

    def street_names(self) -> list[str]:
        """The streets shown, for the street filter and the side panel's sections."""
        names = self.area["name"].tolist() or sorted(self.candidates["street"].dropna().unique())
        return [s for s in names if s]

    def under_layers(self, strings: StringTable) -> list[dict[str, Any]]:
        """Street outlines and the excluded zones in the view, drawn beneath the compounds."""
        layers = [streets_layer(self.area, self.bm, self.lang)]
        zones = within(self.city.zones, self.area)
        if len(zones):
            layers.append(zones_layer(zones, self.bm, self.lang, strings))
        return layers

    def over_layers(self, strings: StringTable) -> list[dict[str, Any]]:
        """The roads in the view, drawn over the compounds."""
        roads = within(self.city.roads, self.area)
        return [roads_layer(roads, self.bm, self.lang, strings)] if len(roads) else []

    def render(
        self,
        *,
        kind: tuple[str, str],
        profile: Profile,
        subtitle: list[str],
        strings: StringTable,
        layers: list[dict[str, Any]],
        side: str,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """The page: titled with the place and ``kind`` (Chinese, English), the policy above ``subtitle``, the street
        filter listing the streets shown, framed on the streets and compounds."""
        en = self.lang == "en"
        place = place_title(self.city, self.area, self.street, self.lang)
        title = f"{place} — renovation {kind[1]}" if en else f"{place}城镇老旧小区改造{kind[0]}"
        spec = PageSpec(
            title=title,
            subtitle=[policy_text(profile, self.lang), *subtitle],
            lang=self.lang,
            bm=self.bm,
            strings=strings,
            streets=self.street_names(),
            layers=layers,
            extent=bounds([self.bm.to_display(f) for f in (self.area, self.candidates) if len(f)]),
            side=side,
            street_labels=street_labels(self.area, self.bm),
            labels=ui(self.lang),
            extra=extra or {},
        )
        return render_page(spec)


# --- side panel HTML ------------------------------------------------------------------------------------------


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def swatch(
    *, fill: str | None = None, stroke: str = "#666", width: float = 1, dash: bool = False, **extra: Any
) -> str:
    background = "repeating-linear-gradient(45deg,#b2182b 0 2px,transparent 2px 6px)" if extra.get("hatch") else fill
    css = f"background:{background or 'transparent'};border:{width}px {'dashed' if dash else 'solid'} {stroke}"
    if extra.get("dot"):
        css += ";border-radius:50%"
    return f"<span class='rn-swatch' style='{css}'></span>"


def legend_html(sections: Sequence[dict[str, Any]], lang: str) -> str:
    """The legend: sections of ``{"title", "items": [{"swatch": swatch() arguments, "label"}]}``."""
    parts = [f"<h2>{esc(ui(lang)['legend'])}</h2>"]
    for section in sections:
        items = "".join(
            f"<div class='rn-legend-item'>{swatch(**item['swatch'])}{esc(item['label'])}</div>"
            for item in section["items"]
        )
        parts.append(
            f"<div class='rn-note'><b>{esc(section['title'])}</b></div><div class='rn-legend-cols'>{items}</div>"
        )
    return "".join(parts)


def table_html(
    head: Sequence[str],
    rows: Iterable[tuple[Sequence[Any], dict[str, str]]],
    *,
    foot: Sequence[Any] | None = None,
) -> str:
    """A table; each row comes with its ``<tr>`` attributes (``data-street``, ``class``), cells already HTML."""
    out = ["<div class='rn-wide'><table><thead><tr>", *(f"<th>{esc(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for cells, attrs in rows:
        attr = "".join(f" {k}='{esc(v)}'" for k, v in attrs.items())
        out.append(f"<tr{attr}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</tbody>")
    if foot is not None:
        out.append("<tfoot><tr>" + "".join(f"<td>{c}</td>" for c in foot) + "</tr></tfoot>")
    out.append("</table></div>")
    return "".join(out)


def money(yuan: float | None, lang: str) -> str:
    """Yuan as 万元 with one decimal (what Chinese reports use), in English as million yuan; a dash if unknown."""
    if yuan is None or yuan != yuan:
        return "—"
    return f"{yuan / 1e6:,.2f}" if lang == "en" else f"{yuan / 10_000:,.1f}"


def money_unit(lang: str) -> str:
    return "million yuan" if lang == "en" else "万元"
